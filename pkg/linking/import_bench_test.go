package linking_test

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/linking/rostergen"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// discardRoster accepts every write and keeps nothing: what the import
// costs before the store (read, parse, normalise, index, check).
type discardRoster struct{ store.Roster }

func (discardRoster) UpsertPersons(context.Context, string, []store.Person) error     { return nil }
func (discardRoster) UpsertRelations(context.Context, string, []store.Relation) error { return nil }
func (discardRoster) DeletePersons(context.Context, string, []string) error           { return nil }

func benchRoster(b *testing.B, persons int) []byte {
	var roster bytes.Buffer
	if _, err := rostergen.Generate(rostergen.Config{Persons: persons, Seed: 1}, &roster, nil, nil); err != nil {
		b.Fatal(err)
	}
	return roster.Bytes()
}

// BenchmarkImportParse is the importer without a store.
func BenchmarkImportParse(b *testing.B) {
	const persons = 20000
	roster := benchRoster(b, persons)
	ix := testPII(b)
	b.SetBytes(int64(len(roster)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := (&linking.Importer{Roster: discardRoster{}, Index: ix}).Import(context.Background(), "t", bytes.NewReader(roster)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*persons/b.Elapsed().Seconds(), "persons/s")
}

// BenchmarkImportPostgres imports a generated roster (IMPORT_PERSONS
// persons, default 100000, with their relations) into a fresh database
// per iteration. The figures of docs/performance.md come from
// scripts/bench-roster.sh, which imports 1,000,000 with the CLI.
func BenchmarkImportPostgres(b *testing.B) {
	persons := 100000
	if n, err := strconv.Atoi(os.Getenv("IMPORT_PERSONS")); err == nil && n > 0 {
		persons = n
	}
	roster := benchRoster(b, persons)
	ix := testPII(b)
	b.SetBytes(int64(len(roster)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		pool, err := postgres.Connect(context.Background(), pgtest.NewDatabase(b))
		if err != nil {
			b.Fatal(err)
		}
		st := postgres.New(pool, ix)
		if err := st.CreateTenant(context.Background(), store.Tenant{ID: "t"}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := (&linking.Importer{Roster: st, Index: ix}).Import(context.Background(), "t", bytes.NewReader(roster))
		if err != nil || len(rep.Errors) > 0 {
			b.Fatalf("%v %+v", err, rep.Errors)
		}
		b.StopTimer()
		pool.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N)*float64(persons)/b.Elapsed().Seconds(), "persons/s")
}
