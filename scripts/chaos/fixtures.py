#!/usr/bin/env python3
"""Fixtures of the fault campaign (scripts/chaos.sh): N synthetic adults for
the ESIA simulator (--esia-persons) and the diary's roster of them.

Person i has oid 2000000000+i, a unique SNILS with valid check digits and a
teacher record c-NNNN; every third person also has a parent record
c-NNNN-p, so that their logins show the role picker. The names are made up
and shared: the SNILS tells people apart.

Usage: fixtures.py N PERSONS_JSON ROSTER_NDJSON
"""
import json
import sys


def snils(n):
    digits = f"{n:09d}"
    s = sum(int(d) * (9 - i) for i, d in enumerate(digits))
    if s > 101:
        s %= 101
    check = 0 if s in (100, 101) else s
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]} {check:02d}"


def main():
    n, persons_path, roster_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    persons, roster = [], []
    for i in range(1, n + 1):
        oid, s = str(2000000000 + i), snils(200100000 + i * 7)
        persons.append({
            "oid": oid, "lvl": "PR",
            "sim": {"description": "участник нагрузочного прогона", "role": "учитель"},
            "stateFacts": ["EntityRoot"],
            "firstName": "Ирина", "lastName": "Нагрузова", "middleName": "Петровна",
            "birthDate": "01.02.1980", "gender": "F", "snils": s,
            "citizenship": "RUS", "trusted": True, "status": "REGISTERED",
            "documents": {"stateFacts": ["hasSize"], "size": 0, "elements": []},
            "contacts": {"stateFacts": ["hasSize"], "size": 0, "elements": []},
            "addresses": {"stateFacts": ["hasSize"], "size": 0, "elements": []},
        })
        row = {"type": "person", "external_id": f"c-{i:04d}", "role": "teacher",
               "last_name": "Нагрузова", "first_name": "Ирина", "middle_name": "Петровна",
               "birth_date": "1980-02-01", "snils": s, "school": "МБОУ СОШ № 1"}
        roster.append(row)
        if i % 3 == 0:
            roster.append(dict(row, external_id=f"c-{i:04d}-p", role="parent"))
    with open(persons_path, "w", encoding="utf-8") as f:
        json.dump(persons, f, ensure_ascii=False)
    with open(roster_path, "w", encoding="utf-8") as f:
        for row in roster:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
