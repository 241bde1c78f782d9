package esiasim_test

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/store"
)

// snilsValid checks the SNILS check digits: weights 9..1 over the first nine
// digits; sum < 100 → sum, 100 and 101 → 00, else sum mod 101 (100 → 00).
func snilsValid(s string) bool {
	var d []int
	for _, r := range s {
		if r >= '0' && r <= '9' {
			d = append(d, int(r-'0'))
		}
	}
	if len(d) != 11 {
		return false
	}
	sum := 0
	for i := 0; i < 9; i++ {
		sum += d[i] * (9 - i)
	}
	var check int
	switch {
	case sum < 100:
		check = sum
	case sum == 100 || sum == 101:
		check = 0
	default:
		check = sum % 101
		if check == 100 {
			check = 0
		}
	}
	return check == d[9]*10+d[10]
}

func TestSNILSValid(t *testing.T) {
	for s, want := range map[string]bool{"112-233-445 95": true, "112-233-445 96": false, "127-845-012 65": true, "127-845-012 56": false} {
		if snilsValid(s) != want {
			t.Errorf("snilsValid(%q) = %v", s, !want)
		}
	}
}

func TestDefaultPersons(t *testing.T) {
	persons, err := esiasim.DefaultPersons()
	if err != nil {
		t.Fatal(err)
	}
	day := store.Date{Year: 2026, Month: 11, Day: 24}
	byOID := map[string]esiasim.Person{}
	snilsByName := map[string]string{}
	for _, p := range persons {
		byOID[p.OID] = p
		if p.SNILS != "" && !snilsValid(p.SNILS) {
			t.Errorf("%s: invalid SNILS check digits", p.OID)
		}
		if p.Sim.Description == "" {
			t.Errorf("%s: no description", p.OID)
		}
		if (p.Level == "PR") != p.Trusted {
			t.Errorf("%s: lvl %s but trusted %v", p.OID, p.Level, p.Trusted)
		}
		snilsByName[p.LastName+" "+p.FirstName] = p.SNILS
		if p.Kids != nil {
			for _, k := range p.Kids.Elements {
				if !snilsValid(k.SNILS) {
					t.Errorf("%s kid %s: invalid SNILS", p.OID, k.ID)
				}
				if k.Documents == nil || len(k.Documents.Elements) == 0 {
					t.Errorf("%s kid %s: no birth certificate", p.OID, k.ID)
				}
			}
		}
	}
	age := func(oid string) int {
		d, err := store.ParseDate(byOID[oid].BirthDate)
		if err != nil {
			t.Fatalf("%s: %v", oid, err)
		}
		return d.AgeOn(day)
	}
	// The roles the broker's tests rely on.
	checks := []struct {
		oid, lvl string
		minAge   int
		maxAge   int
		kids     int
	}{
		{"1000100001", "PR", 18, 99, 0}, // teacher
		{"1000100002", "PR", 18, 99, 2}, // parent of two
		{"1000100003", "KD", 0, 13, 0},  // child account
		{"1000100004", "PR", 15, 15, 0}, // 15, own confirmed account
		{"1000100005", "P", 16, 16, 0},  // 16, unconfirmed
		{"1000100006", "PR", 18, 99, 3}, // parent of three
		{"1000100008", "P", 18, 99, 0},  // no SNILS
		{"1000100009", "KD", 0, 13, 0},  // foreign birth certificate
		{"1000100011", "PR", 18, 99, 1}, // teacher and parent
		{"1000100014", "PR", 18, 99, 0}, // no patronymic
		{"1000100015", "PR", 18, 99, 0}, // in no roster
	}
	for _, c := range checks {
		p, ok := byOID[c.oid]
		if !ok {
			t.Errorf("%s missing", c.oid)
			continue
		}
		kids := 0
		if p.Kids != nil {
			kids = len(p.Kids.Elements)
		}
		if a := age(c.oid); p.Level != c.lvl || a < c.minAge || a > c.maxAge || kids != c.kids {
			t.Errorf("%s: lvl %s age %d kids %d", c.oid, p.Level, a, kids)
		}
	}
	if byOID["1000100008"].SNILS != "" {
		t.Error("the person without SNILS has one")
	}
	if byOID["1000100014"].MiddleName != "" {
		t.Error("the person without patronymic has one")
	}
	if byOID["1000100009"].Documents.Elements[0].Type != "FID_BRTH_CERT" {
		t.Error("foreign birth certificate missing")
	}
	if !strings.Contains(byOID["1000100013"].LastName, "-") || !strings.ContainsRune(byOID["1000100011"].LastName, 'ё') {
		t.Error("double surname or ё missing")
	}
	// A kid with an own account carries the same SNILS in the parent's list.
	for _, p := range persons {
		if p.Kids == nil {
			continue
		}
		for _, k := range p.Kids.Elements {
			if own, ok := snilsByName[k.LastName+" "+k.FirstName]; ok && own != k.SNILS {
				t.Errorf("kid %s %s: SNILS differs from own account", k.LastName, k.FirstName)
			}
		}
	}
}

// TestDemoRoster checks that the dev-mode roster matches the fixtures: every
// fixture person but one has a record, SNILS equal except the typo fixture.
func TestDemoRoster(t *testing.T) {
	f, err := os.Open("../../server/demo/roster.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type row struct {
		Type, ExternalID, Role, LastName, FirstName, MiddleName, BirthDate, SNILS string
		Parent, Student, Kind                                                     string
	}
	var rows []row
	ids := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		str := func(k string) string { s, _ := raw[k].(string); return s }
		r := row{Type: str("type"), ExternalID: str("external_id"), Role: str("role"), LastName: str("last_name"),
			FirstName: str("first_name"), MiddleName: str("middle_name"), BirthDate: str("birth_date"), SNILS: str("snils"),
			Parent: str("parent"), Student: str("student"), Kind: str("kind")}
		switch r.Type {
		case "person":
			if _, err := store.ParseDate(r.BirthDate); err != nil || ids[r.ExternalID] {
				t.Errorf("line %d: bad birth date or duplicate id", n)
			}
			ids[r.ExternalID] = true
		case "relation":
			if !ids[r.Parent] || !ids[r.Student] {
				t.Errorf("line %d: relation to an unknown record", n)
			}
		default:
			t.Errorf("line %d: type %q", n, r.Type)
		}
		rows = append(rows, r)
	}
	persons, _ := esiasim.DefaultPersons()
	fold := strings.NewReplacer("ё", "е", "Ё", "Е", "–", "-", "E", "Е")
	for _, p := range persons {
		var found []row
		for _, r := range rows {
			if r.Type == "person" && fold.Replace(r.LastName) == fold.Replace(p.LastName) && fold.Replace(r.FirstName) == fold.Replace(p.FirstName) {
				found = append(found, r)
			}
		}
		switch p.OID {
		case "1000100015":
			if len(found) != 0 {
				t.Error("the person in no roster is in the roster")
			}
			continue
		case "1000100007":
			if len(found) != 1 || found[0].SNILS == p.SNILS || digitDiff(found[0].SNILS, p.SNILS) != 1 {
				t.Error("the SNILS typo record must differ in exactly one digit")
			}
			continue
		}
		if len(found) == 0 {
			t.Errorf("%s has no roster record", p.OID)
		}
		for _, r := range found {
			if r.SNILS != p.SNILS {
				t.Errorf("%s: roster SNILS differs", p.OID)
			}
		}
	}
}

func digitDiff(a, b string) int {
	if len(a) != len(b) {
		return -1
	}
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

func TestLoadPersonsRejects(t *testing.T) {
	tests := map[string]string{
		"not an array":     `{}`,
		"unknown field":    `[{"oid":"1","lvl":"PR","sim":{},"nickname":"x"}]`,
		"oid not digits":   `[{"oid":"abc","lvl":"PR","sim":{}}]`,
		"bad lvl":          `[{"oid":"1","lvl":"X","sim":{}}]`,
		"bad birth date":   `[{"oid":"1","lvl":"PR","sim":{},"birthDate":"2010-01-01"}]`,
		"duplicate oid":    `[{"oid":"1","lvl":"PR","sim":{}},{"oid":"1","lvl":"P","sim":{}}]`,
		"bad sim.error":    `[{"oid":"1","lvl":"PR","sim":{"error":"oops"}}]`,
		"duplicate doc id": `[{"oid":"1","lvl":"PR","sim":{},"documents":{"size":2,"elements":[{"id":5,"type":"RF_PASSPORT"},{"id":5,"type":"RF_PASSPORT"}]}}]`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := esiasim.LoadPersons(strings.NewReader(in)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	ok := `[{"oid":"42","lvl":"P","sim":{"description":"x"},"firstName":"Иван","birthDate":"01.02.2003"}]`
	if p, err := esiasim.LoadPersons(strings.NewReader(ok)); err != nil || len(p) != 1 {
		t.Fatalf("LoadPersons: %v", err)
	}
}

// TestExtraPersonsFile loads a replacement set from testdata, as
// `broker dev --esia-persons FILE` does.
func TestExtraPersonsFile(t *testing.T) {
	f, err := os.Open("../../../testdata/esia/persons-twins.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	persons, err := esiasim.LoadPersons(f)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *esiasim.Config) { c.Persons = persons })
	if got := len(e.sim.Persons()); got != 2 {
		t.Fatalf("%d persons", got)
	}
	kids := persons[0].Kids.Elements
	if len(kids) != 2 || kids[0].BirthDate != kids[1].BirthDate || kids[0].SNILS == kids[1].SNILS {
		t.Fatal("twins expected")
	}
	for _, k := range kids {
		if !snilsValid(k.SNILS) {
			t.Errorf("kid %s: SNILS check digits", k.ID)
		}
	}
	e.login("1000900002", "openid fullname")
}
