package rostergen_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/linking/rostergen"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
)

type output struct {
	roster, esia, manifest bytes.Buffer
	sum                    rostergen.Summary
}

func generate(t *testing.T, cfg rostergen.Config) *output {
	t.Helper()
	var o output
	sum, err := rostergen.Generate(cfg, &o.roster, &o.esia, &o.manifest)
	if err != nil {
		t.Fatal(err)
	}
	o.sum = sum
	return &o
}

func pii(t *testing.T) *keyring.PII {
	t.Helper()
	kek, err := keyring.NewKEK(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	p, err := keyring.OpenPII(context.Background(), memory.New(nil), kek, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRowsParse checks every roster row against the roster format and the
// import's validation, and that the world looks like a region's: roles in
// proportion, valid SNILS, ё, double surnames and people without a
// patronymic.
func TestRowsParse(t *testing.T) {
	o := generate(t, rostergen.Config{Persons: 5000, Seed: 1})
	ix := pii(t)
	var persons, relations, yo, double, noPatronymic, badChecksum int
	roles := map[store.Role]int{}
	sc := bufio.NewScanner(&o.roster)
	for line := 1; sc.Scan(); line++ {
		row, err := linking.ParseRosterRow(sc.Bytes())
		if err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		switch row.Type {
		case "person":
			p, err := row.Person(ix)
			if err != nil {
				t.Fatalf("line %d: %v", line, err)
			}
			persons++
			roles[p.Role]++
			if strings.ContainsAny(p.LastName+p.FirstName+p.MiddleName, "ёЁ") {
				yo++
			}
			if strings.Contains(p.LastName, "-") {
				double++
			}
			if p.MiddleName == "" {
				noPatronymic++
			}
			if len(p.Flags) > 0 {
				badChecksum++
			}
			if p.Role == store.RoleStudent && (p.BirthCert == nil || p.Class == "") {
				t.Fatalf("line %d: a student without certificate or class", line)
			}
		case "relation":
			if _, err := row.Relation(); err != nil {
				t.Fatalf("line %d: %v", line, err)
			}
			relations++
		default:
			t.Fatalf("line %d: type %q", line, row.Type)
		}
	}
	if persons != 5000 || persons != o.sum.Persons || relations != o.sum.Relations {
		t.Fatalf("persons %d relations %d, summary %+v", persons, relations, o.sum)
	}
	share := func(n int) float64 { return float64(n) / float64(persons) }
	if s := share(roles[store.RoleStudent]); s < 0.4 || s > 0.65 {
		t.Errorf("students are %.2f of the roster", s)
	}
	if s := share(roles[store.RoleParent]); s < 0.3 || s > 0.55 {
		t.Errorf("parents are %.2f of the roster", s)
	}
	if roles[store.RoleTeacher] == 0 || roles[store.RoleStaff] == 0 {
		t.Errorf("roles: %v", roles)
	}
	if share(yo) < 0.05 || double == 0 || noPatronymic == 0 {
		t.Errorf("ё in %d names, %d double surnames, %d without patronymic", yo, double, noPatronymic)
	}
	if badChecksum != 0 {
		t.Errorf("%d SNILS with wrong check digits in a clean roster", badChecksum)
	}
	if relations < roles[store.RoleStudent] {
		t.Errorf("%d relations for %d students", relations, roles[store.RoleStudent])
	}
}

func TestDeterministic(t *testing.T) {
	cfg := rostergen.Config{Persons: 800, Seed: 42, ErrorShare: 0.2, ESIASample: 100}
	a, b := generate(t, cfg), generate(t, cfg)
	if !bytes.Equal(a.roster.Bytes(), b.roster.Bytes()) || !bytes.Equal(a.esia.Bytes(), b.esia.Bytes()) ||
		!bytes.Equal(a.manifest.Bytes(), b.manifest.Bytes()) {
		t.Fatal("the same seed gave different files")
	}
	cfg.Seed = 43
	if c := generate(t, cfg); bytes.Equal(a.roster.Bytes(), c.roster.Bytes()) {
		t.Fatal("another seed gave the same roster")
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []rostergen.Config{{ErrorShare: 1.5}, {Errors: []rostergen.ErrorClass{"typo"}}} {
		if _, err := rostergen.Generate(cfg, nil, nil, nil); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

// TestLadderOutcomesMatchManifest imports a generated roster with errors
// into the memory store, logs every ESIA person of the sample in through
// the ladder, and compares each outcome with the manifest's.
func TestLadderOutcomesMatchManifest(t *testing.T) {
	for _, allowName := range []bool{true, false} {
		t.Run(map[bool]string{true: "name_matching", false: "no_name_matching"}[allowName], func(t *testing.T) {
			cfg := rostergen.Config{Persons: 3000, Seed: 7, ErrorShare: 0.4, ESIASample: 3000, Strangers: 20, AllowNameMatch: allowName}
			o := generate(t, cfg)
			ctx := context.Background()
			st := memory.New(nil)
			tenant := store.Tenant{ID: "region", Matching: store.MatchingPolicy{AllowNameMatch: allowName}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
			if err := st.CreateTenant(ctx, tenant); err != nil {
				t.Fatal(err)
			}
			ix := pii(t)
			rep, err := (&linking.Importer{Roster: st, Index: ix}).Import(ctx, tenant.ID, &o.roster)
			if err != nil || len(rep.Errors) > 0 {
				t.Fatalf("import: %v %+v", err, rep.Errors)
			}
			if rep.Persons != o.sum.Persons || rep.Relations != o.sum.Relations {
				t.Fatalf("imported %d persons and %d relations, generated %+v", rep.Persons, rep.Relations, o.sum)
			}
			if want := o.sum.Errors[rostergen.ErrSNILSTypo] + o.sum.Errors[rostergen.ErrSNILSTransposition]; rep.Flagged > want {
				t.Fatalf("%d records flagged, at most %d SNILS typos", rep.Flagged, want)
			}
			people, err := esiasim.LoadPersons(&o.esia)
			if err != nil {
				t.Fatal(err)
			}
			if len(people) != o.sum.ESIA || o.sum.Strangers != 20 {
				t.Fatalf("%d ESIA persons, summary %+v", len(people), o.sum)
			}
			byOID := map[string]esiasim.Person{}
			for _, p := range people {
				byOID[p.OID] = p
			}
			entries, err := rostergen.ReadManifest(&o.manifest)
			if err != nil {
				t.Fatal(err)
			}
			ladder := &linking.Ladder{Roster: st, Links: st, Index: ix}
			classes := map[rostergen.ErrorClass]int{}
			outcomes := map[linking.Outcome]int{}
			for _, e := range entries {
				if e.OID == "" {
					continue
				}
				lp, err := rostergen.LinkingPerson(byOID[e.OID])
				if err != nil {
					t.Fatal(err)
				}
				res, err := ladder.Match(ctx, tenant, lp, "")
				if err != nil {
					t.Fatal(err)
				}
				classes[e.Error]++
				outcomes[res.Outcome]++
				checkEntry(t, e, res)
			}
			for _, c := range rostergen.AllErrors {
				if classes[c] == 0 {
					t.Errorf("no sampled person with error %s", c)
				}
			}
			t.Logf("errors %v, outcomes %v", classes, outcomes)
		})
	}
}

func checkEntry(t *testing.T, e rostergen.Entry, res linking.Result) {
	t.Helper()
	var ids []string
	for _, r := range res.Records {
		ids = append(ids, r.ExternalID)
	}
	if res.Outcome == linking.OutcomeAmbiguous {
		for _, c := range res.Candidates {
			ids = append(ids, c.ExternalID)
		}
		slices.Sort(ids)
	}
	if res.Outcome != e.Outcome || res.Rung != e.Rung || (e.Reason != "" && res.Reason != e.Reason) || !slices.Equal(ids, e.Records) {
		b, _ := json.Marshal(e)
		t.Errorf("%s: got %s/%s/%s %v\nmanifest %s", e.OID, res.Outcome, res.Rung, res.Reason, ids, b)
		return
	}
	if e.Field == "" {
		return
	}
	for _, c := range res.Candidates {
		if c.ExternalID != e.ExternalID {
			continue
		}
		for _, f := range c.Fields {
			if f.Field == e.Field {
				if f.Result != e.FieldResult || f.Difference != e.Difference {
					t.Errorf("%s (%s): %v, manifest wants %s %s", e.OID, e.Error, f, e.FieldResult, e.Difference)
				}
				return
			}
		}
	}
	t.Errorf("%s (%s): no explanation of %s for %s in %+v", e.OID, e.Error, e.Field, e.ExternalID, res.Candidates)
}
