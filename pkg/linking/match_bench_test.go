package linking_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/linking/rostergen"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/migrations"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// matchEnv is a roster of MATCH_PERSONS generated persons (default
// 1,000,000; seed MATCH_SEED, default 1) in a PostgreSQL database that is
// kept between runs: it is named after the size, the seed and the schema,
// and made (generated and imported, a minute or two) only when missing.
type matchEnv struct {
	store   *postgres.Store
	tenant  store.Tenant
	ladder  *linking.Ladder
	persons []matchCase
}

type matchCase struct {
	person linking.Person
	want   rostergen.Entry
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// schemaHash names the migrations, so that a kept database is rebuilt when
// they change.
func schemaHash() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(migrations.FS, path)
			h.Write([]byte(path))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:8]
}

func openMatchEnv(b *testing.B) *matchEnv {
	b.Helper()
	ctx := context.Background()
	persons, seed, sample := envInt("MATCH_PERSONS", 1_000_000), envInt("MATCH_SEED", 1), envInt("MATCH_SAMPLE", 2000)
	cfg := rostergen.Config{Persons: persons, Seed: uint64(seed), ErrorShare: 0.05, ESIASample: sample, AllowNameMatch: true}
	name := fmt.Sprintf("broker_bench_match_%d_%d_%s", persons, seed, schemaHash())

	admin, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		b.Skipf("PostgreSQL: %v", err)
	}
	defer admin.Close(ctx)
	u, _ := url.Parse(pgtest.ServerURL())
	u.Path = "/" + name
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		b.Fatal(err)
	}
	kek, _ := keyring.NewKEK(bytes.Repeat([]byte{9}, 32))
	tenant := store.Tenant{ID: "region", Matching: store.MatchingPolicy{AllowNameMatch: true}, Consent: store.DefaultConsentPolicy(),
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	ready := false
	if exists {
		pool, err := postgres.Connect(ctx, u.String())
		if err != nil {
			b.Fatal(err)
		}
		_ = pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'bench_ready')`).Scan(&ready)
		pool.Close()
	}
	if !ready {
		b.Logf("making %s: %d persons, seed %d", name, persons, seed)
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			b.Fatal(err)
		}
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			b.Fatal(err)
		}
		// Kept databases of older schemas of the same roster go.
		rows, _ := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE $1 AND datname <> $2`,
			fmt.Sprintf("broker\\_bench\\_match\\_%d\\_%d\\_%%", persons, seed), name)
		old, _ := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, n := range old {
			_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)")
		}
	}
	pool, err := postgres.Connect(ctx, u.String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if !ready {
		if _, err := postgres.Migrate(ctx, pool, nil); err != nil {
			b.Fatal(err)
		}
	}
	pii, err := keyring.OpenPII(ctx, postgres.New(pool, nil), kek, nil)
	if err != nil {
		b.Fatal(err)
	}
	st := postgres.New(pool, pii)
	var esia, manifest bytes.Buffer
	if !ready {
		if err := st.CreateTenant(ctx, tenant); err != nil {
			b.Fatal(err)
		}
		pr, pw := io.Pipe()
		go func() {
			_, err := rostergen.Generate(cfg, pw, &esia, &manifest)
			pw.CloseWithError(err)
		}()
		start := time.Now()
		rep, err := (&linking.Importer{Roster: st, Index: pii}).Import(ctx, tenant.ID, pr)
		if err != nil || len(rep.Errors) > 0 {
			b.Fatalf("import: %v %+v", err, rep.Errors)
		}
		b.Logf("imported %d persons and %d relations in %v", rep.Persons, rep.Relations, time.Since(start).Round(time.Second))
		if _, err := pool.Exec(ctx, `VACUUM ANALYZE roster_persons`); err != nil {
			b.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `CREATE TABLE bench_ready ()`); err != nil {
			b.Fatal(err)
		}
	} else {
		if _, err := rostergen.Generate(cfg, nil, &esia, &manifest); err != nil {
			b.Fatal(err)
		}
	}
	people, err := esiasim.LoadPersons(&esia)
	if err != nil {
		b.Fatal(err)
	}
	byOID := map[string]esiasim.Person{}
	for _, p := range people {
		byOID[p.OID] = p
	}
	entries, err := rostergen.ReadManifest(&manifest)
	if err != nil {
		b.Fatal(err)
	}
	env := &matchEnv{store: st, tenant: tenant, ladder: &linking.Ladder{Roster: st, Links: st, Index: pii}}
	for _, e := range entries {
		if e.OID == "" {
			continue
		}
		lp, err := rostergen.LinkingPerson(byOID[e.OID])
		if err != nil {
			b.Fatal(err)
		}
		env.persons = append(env.persons, matchCase{lp, e})
	}
	return env
}

func (env *matchEnv) deleteLinks(b *testing.B) {
	if _, err := env.store.Pool().Exec(context.Background(), `DELETE FROM links WHERE tenant_id = $1`, env.tenant.ID); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkMatch runs linking.Ladder.Match against the kept roster for the
// ESIA persons of its sample, one at a time, and reports the latency
// percentiles and PostgreSQL round trips per match. "first" is a first
// login (no links: the rungs of the ladder, with the mix of outcomes of the
// manifest — about 93 % linked); "returning" is a later login of a linked
// person (rung 1: the link and its record). Every outcome is checked
// against the manifest.
//
//	go test ./pkg/linking -run '^$' -bench Match -benchtime 20000x
func BenchmarkMatch(b *testing.B) {
	env := openMatchEnv(b)
	ctx := context.Background()
	run := func(b *testing.B, cases []matchCase, check func(b *testing.B, c matchCase, res linking.Result)) {
		lat := make([]time.Duration, 0, b.N)
		outcomes := map[linking.Outcome][]time.Duration{}
		q0 := env.store.Queries()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			c := cases[i%len(cases)]
			start := time.Now()
			res, err := env.ladder.Match(ctx, env.tenant, c.person, "")
			d := time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			check(b, c, res)
			lat = append(lat, d)
			outcomes[res.Outcome] = append(outcomes[res.Outcome], d)
		}
		b.StopTimer()
		b.ReportMetric(float64(env.store.Queries()-q0)/float64(b.N), "queries/op")
		b.ReportMetric(percentile(lat, 0.50), "p50-ms")
		b.ReportMetric(percentile(lat, 0.99), "p99-ms")
		for _, o := range []linking.Outcome{linking.OutcomeLinked, linking.OutcomeConflict, linking.OutcomeNotFound, linking.OutcomeAmbiguous} {
			if len(outcomes[o]) > 0 && len(outcomes) > 1 {
				b.ReportMetric(percentile(outcomes[o], 0.99), "p99-"+string(o)+"-ms")
			}
		}
	}
	b.Run("first", func(b *testing.B) {
		env.deleteLinks(b)
		run(b, env.persons, func(b *testing.B, c matchCase, res linking.Result) {
			if res.Outcome != c.want.Outcome || res.Rung != c.want.Rung {
				b.Fatalf("%s: %s/%s, manifest %s/%s", c.person.OID, res.Outcome, res.Rung, c.want.Outcome, c.want.Rung)
			}
		})
	})
	b.Run("returning", func(b *testing.B) {
		env.deleteLinks(b)
		b.Cleanup(func() { env.deleteLinks(b) })
		var linked []matchCase
		for _, c := range env.persons {
			res, err := env.ladder.Match(ctx, env.tenant, c.person, "")
			if err != nil {
				b.Fatal(err)
			}
			if res.Outcome == linking.OutcomeLinked {
				if _, err := env.ladder.Link(ctx, env.tenant.ID, c.person, res); err != nil {
					b.Fatal(err)
				}
				linked = append(linked, c)
			}
		}
		if _, err := env.store.Pool().Exec(ctx, `ANALYZE links`); err != nil {
			b.Fatal(err)
		}
		run(b, linked, func(b *testing.B, c matchCase, res linking.Result) {
			if res.Outcome != linking.OutcomeLinked || res.Rung != linking.RungLink || !slices.Contains(c.want.Records, res.Records[0].ExternalID) {
				b.Fatalf("%s: %s/%s, want a link", c.person.OID, res.Outcome, res.Rung)
			}
		})
	})
}

// percentile returns the q-th percentile of ds in milliseconds.
func percentile(ds []time.Duration, q float64) float64 {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s)-1) + 0.5)
	return float64(s[i]) / float64(time.Millisecond)
}
