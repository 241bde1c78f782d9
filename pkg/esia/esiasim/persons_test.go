package esiasim_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
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
	if len(persons) < 30 {
		t.Fatalf("%d fixture persons, want at least 30", len(persons))
	}
	day := store.Date{Year: 2026, Month: 11, Day: 24}
	byOID := map[string]esiasim.Person{}
	// own accounts by ФИО + birth date, to find a kid's own account
	own := map[string]esiasim.Person{}
	key := func(last, first, birth string) string { return last + " " + first + " " + birth }
	for _, p := range persons {
		byOID[p.OID] = p
		own[key(p.LastName, p.FirstName, p.BirthDate)] = p
		if p.SNILS != "" && !snilsValid(p.SNILS) {
			t.Errorf("%s: invalid SNILS check digits", p.OID)
		}
		if !cyrillic(p.Sim.Description) {
			t.Errorf("%s: no Russian description", p.OID)
		}
		if (p.Level == "PR") != p.Trusted {
			t.Errorf("%s: lvl %s but trusted %v", p.OID, p.Level, p.Trusted)
		}
	}
	// Kids without SNILS on purpose: Сабина (foreign birth certificate).
	kidWithoutSNILS := map[string]bool{"1000100032/Сабина": true}
	for _, p := range persons {
		if p.Kids == nil {
			continue
		}
		for _, k := range p.Kids.Elements {
			switch {
			case k.SNILS == "" && !kidWithoutSNILS[p.OID+"/"+k.FirstName]:
				t.Errorf("%s kid %s: no SNILS", p.OID, k.ID)
			case k.SNILS != "" && !snilsValid(k.SNILS):
				t.Errorf("%s kid %s: invalid SNILS", p.OID, k.ID)
			}
			if k.Documents == nil || len(k.Documents.Elements) == 0 || !birthCertTypes[k.Documents.Elements[0].Type] {
				t.Errorf("%s kid %s: no birth certificate", p.OID, k.ID)
			}
			// A kid with an own account carries the same SNILS and birth
			// certificate in the parent's list.
			acc, ok := own[key(k.LastName, k.FirstName, k.BirthDate)]
			if !ok {
				continue
			}
			if acc.SNILS != k.SNILS {
				t.Errorf("kid %s of %s: SNILS differs from own account %s", k.ID, p.OID, acc.OID)
			}
			if c := birthCert(acc.Documents); c == nil || *c != *birthCert(k.Documents) {
				t.Errorf("kid %s of %s: birth certificate differs from own account %s", k.ID, p.OID, acc.OID)
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
	// The roles the broker's tests rely on. Ages as of 24.11.2026; the
	// 14–17-year-olds and the children under 14 stay in their group until
	// at least autumn 2027.
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
		{"1000100020", "PR", 18, 99, 1}, // kids list lacks Ульяна
		{"1000100021", "PR", 14, 14, 0}, // 14, own confirmed account, not in the mother's list
		{"1000100022", "PR", 18, 99, 1}, // father of Милана
		{"1000100023", "PR", 18, 99, 1}, // mother of Милана
		{"1000100024", "KD", 0, 10, 0},  // Милана, listed by both parents
		{"1000100025", "PR", 18, 99, 3}, // mother of Ева and the twins
		{"1000100026", "KD", 0, 8, 0},   // twin Лев
		{"1000100027", "KD", 0, 8, 0},   // twin Марк
		{"1000100028", "PR", 18, 99, 1}, // father of Варвара
		{"1000100029", "KD", 0, 10, 0},  // Варвара, birth certificate only
		{"1000100030", "PR", 18, 99, 0}, // teacher, ФИО + birth date only
		{"1000100031", "PR", 18, 99, 1}, // teacher in one school, parent in another
		{"1000100032", "PR", 18, 99, 1}, // father of a kid with a foreign certificate, no SNILS
		{"1000100033", "P", 14, 14, 0},  // 14, unconfirmed, no SNILS
		{"1000100034", "P", 18, 99, 0},  // ESIA-007055
		{"1000100035", "PR", 18, 99, 0}, // ESIA-007008
		{"1000100036", "PR", 18, 99, 0}, // ESIA-007007 at the token endpoint
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
	for _, oid := range []string{"1000100008", "1000100033"} {
		if byOID[oid].SNILS != "" {
			t.Errorf("%s, the person without SNILS, has one", oid)
		}
	}
	if byOID["1000100014"].MiddleName != "" {
		t.Error("the person without patronymic has one")
	}
	if byOID["1000100009"].Documents.Elements[0].Type != "FID_BRTH_CERT" ||
		byOID["1000100032"].Kids.Elements[0].Documents.Elements[0].Type != "FID_BRTH_CERT" {
		t.Error("foreign birth certificate missing")
	}
	if !strings.Contains(byOID["1000100013"].LastName, "-") || !strings.ContainsRune(byOID["1000100011"].LastName, 'ё') {
		t.Error("double surname or ё missing")
	}
	// Twins: same parent, same birth date, own child accounts.
	tk := byOID["1000100025"].Kids.Elements
	if tk[1].BirthDate != tk[2].BirthDate || tk[1].SNILS == tk[2].SNILS || byOID["1000100026"].BirthDate != byOID["1000100027"].BirthDate {
		t.Error("twins expected")
	}
	// One kid in two parents' lists.
	if byOID["1000100022"].Kids.Elements[0].SNILS != byOID["1000100023"].Kids.Elements[0].SNILS {
		t.Error("Милана must be in both parents' lists")
	}
	for oid, want := range map[string]string{"1000100016": "ESIA-007004", "1000100034": "ESIA-007055", "1000100035": "ESIA-007008"} {
		if byOID[oid].Sim.Error != want {
			t.Errorf("%s: sim.error %q, want %s", oid, byOID[oid].Sim.Error, want)
		}
	}
	if byOID["1000100036"].Sim.TokenError != "ESIA-007007" {
		t.Error("1000100036: sim.tokenError ESIA-007007 expected")
	}
}

var birthCertTypes = map[string]bool{"RF_BRTH_CERT": true, "FID_BRTH_CERT": true, "OLD_BRTH_CERT": true}

// birthCert returns the first birth certificate of docs (type, series,
// number), or nil.
func birthCert(docs *esiasim.Collection[esiasim.Document]) *[3]string {
	if docs == nil {
		return nil
	}
	for _, d := range docs.Elements {
		if birthCertTypes[d.Type] {
			return &[3]string{d.Type, d.Series, d.Number}
		}
	}
	return nil
}

func cyrillic(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Cyrillic, r) {
			return true
		}
	}
	return false
}

// demoRoster reads pkg/server/demo/roster.ndjson with the roster parser of
// pkg/linking: every row must be valid.
func demoRoster(t *testing.T) (people []linking.RosterRow, relations []linking.RosterRow, raw []byte) {
	t.Helper()
	raw, err := os.ReadFile("../../server/demo/roster.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		r, err := linking.ParseRosterRow(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		switch r.Type {
		case "person":
			p, err := r.Person(plainIndex{})
			if err != nil || ids[r.ExternalID] {
				t.Errorf("line %d: %v (or duplicate id)", n, err)
			}
			if len(p.Flags) > 0 && r.ExternalID != "st-0001" { // st-0001: the deliberate SNILS typo
				t.Errorf("line %d: flagged %v", n, p.Flags)
			}
			ids[r.ExternalID] = true
			people = append(people, r)
		case "relation":
			if _, err := r.Relation(); err != nil {
				t.Errorf("line %d: %v", n, err)
			}
			relations = append(relations, r)
		default:
			t.Errorf("line %d: type %q", n, r.Type)
		}
	}
	for _, r := range relations {
		if !ids[r.Parent] || !ids[r.Student] {
			t.Errorf("relation %s → %s to an unknown record", r.Parent, r.Student)
		}
	}
	return people, relations, raw
}

// plainIndex is an Indexer without a key: tests need equality, not secrecy.
type plainIndex struct{}

func (plainIndex) Index(kind store.IndexKind, v string) string { return string(kind) + ":" + v }

// TestDemoRoster checks that the dev-mode roster parses and fits the
// fixtures: the SNILS typo record differs in exactly one digit, and the
// relations say who is whose parent as the parents' «Семья и дети» lists
// do, except for the deliberate gap (Ульяна is not in her mother's list).
func TestDemoRoster(t *testing.T) {
	people, relations, _ := demoRoster(t)
	byID := map[string]linking.RosterRow{}
	for _, r := range people {
		byID[r.ExternalID] = r
	}
	persons, _ := esiasim.DefaultPersons()
	var pavlov esiasim.Person
	for _, p := range persons {
		if p.OID == "1000100007" {
			pavlov = p
		}
	}
	if got := byID["st-0001"].SNILS; got == pavlov.SNILS || digitDiff(got, pavlov.SNILS) != 1 {
		t.Error("the SNILS typo record must differ in exactly one digit")
	}
	has := func(rel string) bool {
		for _, r := range relations {
			if r.Parent+"→"+r.Student == rel {
				return true
			}
		}
		return false
	}
	for _, rel := range []string{"p-0008→s-0013", "p-0008→s-0014", "p-0009→s-0015", "p-0010→s-0015",
		"p-0011→s-0016", "p-0011→s-0017", "p-0011→s-0018", "p-0012→s-0019", "p-0013→s-0020", "p-0014→s-0021"} {
		if !has(rel) {
			t.Errorf("relation %s missing", rel)
		}
	}
	if byID["t-0007"].School == byID["p-0013"].School {
		t.Error("Алексеева teaches in another school than her son's")
	}
}

// TestDemoRosterLadder runs the matching ladder of pkg/linking over the
// demo roster for every fixture person: the record and rung each one is
// meant to find (docs/esia-persons-format.md), with and without name
// matching.
func TestDemoRosterLadder(t *testing.T) {
	_, _, raw := demoRoster(t)
	ctx := context.Background()
	st := memory.New(func() time.Time { return today })
	if err := st.CreateTenant(ctx, store.Tenant{ID: "demo", DisplayName: "Демо", TimeZone: "Europe/Moscow",
		Consent: store.DefaultConsentPolicy()}); err != nil {
		t.Fatal(err)
	}
	if rep, err := (&linking.Importer{Roster: st, Index: plainIndex{}}).Import(ctx, "demo", bytes.NewReader(raw)); err != nil || len(rep.Errors) > 0 {
		t.Fatalf("import: %v %+v", err, rep.Errors)
	}
	ladder := &linking.Ladder{Roster: st, Links: st, Index: plainIndex{}, Now: func() time.Time { return today }}
	type want struct {
		outcome linking.Outcome
		rung    string
		records string // comma-separated external ids
	}
	linked := func(rung, records string) want { return want{linking.OutcomeLinked, rung, records} }
	notFound := want{outcome: linking.OutcomeNotFound}
	conflict := want{outcome: linking.OutcomeConflict}
	// without name matching (the demo tenant), and where it differs, with
	expect := map[string]want{
		"1000100001": linked("snils", "t-0001"),
		"1000100002": linked("snils", "p-0001"),
		"1000100003": linked("snils", "s-0001"),
		"1000100004": linked("snils", "s-0003"),
		"1000100005": linked("snils", "s-0006"),
		"1000100006": linked("snils", "p-0002"),
		"1000100007": notFound, // SNILS typo
		"1000100008": notFound, // no SNILS, no certificate
		"1000100009": linked("snils", "s-0007"),
		"1000100010": linked("snils", "p-0004"),
		"1000100011": linked("snils", "p-0005,t-0002"),
		"1000100012": linked("snils", "s-0008"),
		"1000100013": linked("snils", "p-0006"),
		"1000100014": linked("snils", "t-0003"),
		"1000100015": notFound,
		"1000100016": linked("snils", "t-0004"),
		"1000100017": linked("snils", "s-0012"),
		"1000100018": conflict, // day and month swapped
		"1000100019": linked("snils", "p-0007"),
		"1000100020": linked("snils", "p-0008"),
		"1000100021": linked("snils", "s-0014"),
		"1000100022": linked("snils", "p-0009"),
		"1000100023": linked("snils", "p-0010"),
		"1000100024": linked("snils", "s-0015"),
		"1000100025": linked("snils", "p-0011"),
		"1000100026": linked("snils", "s-0016"),
		"1000100027": linked("birth_cert", "s-0017"),
		"1000100028": linked("snils", "p-0012"),
		"1000100029": linked("birth_cert", "s-0019"),
		"1000100030": notFound, // ФИО + birth date only
		"1000100031": linked("snils", "p-0013,t-0007"),
		"1000100032": linked("snils", "p-0014"),
		"1000100033": linked("birth_cert", "s-0022"),
		"1000100034": notFound,
		"1000100035": notFound,
		"1000100036": notFound,
		"1000100037": notFound, // support staff, not in the roster (dev: tenant_support of demo)
		"1000100038": notFound, // deputy head, not in the roster (dev: school_admin of МБОУ СОШ № 1)
	}
	withNames := map[string]want{
		"1000100007": conflict, // the name matches, the SNILS contradicts
		"1000100008": linked("name", "p-0003"),
		"1000100030": linked("name", "t-0006"),
	}
	persons, _ := esiasim.DefaultPersons()
	for _, names := range []bool{false, true} {
		tenant := store.Tenant{ID: "demo", Matching: store.MatchingPolicy{AllowNameMatch: names}}
		for _, p := range persons {
			w, ok := expect[p.OID]
			if !ok {
				t.Errorf("%s: no expectation", p.OID)
				continue
			}
			if v, ok := withNames[p.OID]; ok && names {
				w = v
			}
			res, err := ladder.Match(ctx, tenant, linkingPerson(p), "")
			if err != nil {
				t.Fatal(err)
			}
			var recs []string
			for _, r := range res.Records {
				recs = append(recs, r.ExternalID)
			}
			got := want{res.Outcome, res.Rung, strings.Join(recs, ",")}
			if w.outcome != linking.OutcomeLinked {
				got.rung, got.records = "", ""
			}
			if got != w {
				t.Errorf("%s (names %v): %+v, want %+v", p.OID, names, got, w)
			}
		}
	}
}

// linkingPerson is the fixture person as the broker hands it to the ladder
// (pkg/login), with every field and document visible.
func linkingPerson(p esiasim.Person) linking.Person {
	bd, _ := store.ParseDate(p.BirthDate)
	lp := linking.Person{OID: p.OID, Identity: linking.Identity{
		Name:      linking.FullName{Last: p.LastName, First: p.FirstName, Patronymic: p.MiddleName},
		BirthDate: bd, SNILS: p.SNILS,
	}}
	if p.Documents != nil {
		for _, d := range p.Documents.Elements {
			if birthCertTypes[d.Type] {
				lp.BirthCerts = append(lp.BirthCerts, linking.BirthCert{Type: linking.BirthCertType(d.Type), Series: d.Series, Number: d.Number})
			}
		}
	}
	return lp
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
