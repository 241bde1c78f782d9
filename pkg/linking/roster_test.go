package linking_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/linking/rostergen"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

func testPII(t testing.TB) *keyring.PII {
	t.Helper()
	kek, err := keyring.NewKEK(bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	p, err := keyring.OpenPII(context.Background(), memory.New(nil), kek, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// eachStore runs fn on the memory store and on PostgreSQL: the import must
// behave the same on both (PostgreSQL takes the COPY path).
func eachStore(t *testing.T, fn func(t *testing.T, st store.Store, ix *keyring.PII)) {
	t.Run("memory", func(t *testing.T) {
		ix := testPII(t)
		st := memory.New(nil)
		mustTenant(t, st)
		fn(t, st, ix)
	})
	t.Run("postgres", func(t *testing.T) {
		ix := testPII(t)
		st := postgres.New(pgtest.NewPool(t), ix)
		mustTenant(t, st)
		fn(t, st, ix)
	})
}

func mustTenant(t *testing.T, st store.Store) {
	t.Helper()
	if err := st.CreateTenant(context.Background(), store.Tenant{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
}

func person(id, role, last, birth, snils string) string {
	return fmt.Sprintf(`{"type":"person","external_id":%q,"role":%q,"last_name":%q,"first_name":"Анна","birth_date":%q,"snils":%q}`,
		id, role, last, birth, snils)
}

func relation(parent, student, kind string) string {
	return fmt.Sprintf(`{"type":"relation","parent":%q,"student":%q,"kind":%q}`, parent, student, kind)
}

type errAt struct {
	line  int
	field string
}

func errorsOf(rep linking.ImportReport) []errAt {
	var out []errAt
	for _, e := range rep.Errors {
		out = append(out, errAt{e.Line, e.Field})
	}
	return out
}

func relationsOf(t *testing.T, st store.Store, id string) []string {
	t.Helper()
	rels, err := st.RelationsOf(context.Background(), "t1", id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rels {
		out = append(out, r.Parent+">"+r.Student+":"+r.Kind)
	}
	return out
}

// TestImportReportsRowsByLine covers what an import does with each kind of
// row: good rows land, bad rows are reported by line and field, duplicates
// are reported with the first line, relations to records further down the
// file wait for them, relations to unknown records are reported, deletions
// happen at the end.
func TestImportReportsRowsByLine(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store, ix *keyring.PII) {
		ctx := context.Background()
		im := &linking.Importer{Roster: st, Index: ix}
		// Records the file refers to without containing them.
		pre := strings.Join([]string{
			person("old-parent", "parent", "Старова", "1980-01-01", ""),
			person("gone", "teacher", "Уходящая", "1970-01-01", ""),
			person("s-9", "student", "Девятая", "2014-01-01", ""),
			relation("old-parent", "s-9", "mother"),
		}, "\n")
		if rep, err := im.Import(ctx, "t1", strings.NewReader(pre)); err != nil || len(rep.Errors) > 0 || rep.Relations != 1 {
			t.Fatalf("setup: %+v %v", rep, err)
		}
		roster := strings.Join([]string{
			person("s-1", "student", "Иванова", "2013-05-14", "112-233-445 95"), // 1
			person("p-1", "parent", "Иванова", "1985-01-02", "123-456-789 00"),  // 2: wrong check digits, flagged
			person("bad", "student", "Плохая", "2013-02-30", ""),                // 3: no such day
			`not json`,                         // 4
			relation("p-1", "s-1", "mother"),   // 5
			relation("p-1", "ghost", "mother"), // 6: unknown student
			person("s-1", "student", "Двойник", "2013-05-14", ""),                     // 7: second row of s-1
			relation("p-2", "s-1", "father"),                                          // 8: p-2 comes later
			person("p-2", "parent", "Иванов", "1984-03-03", ""),                       // 9
			`{"type":"person","op":"delete","external_id":"gone"}`,                    // 10
			relation("old-parent", "s-1", "guardian"),                                 // 11: to a record already stored
			`{"type":"relation","op":"delete","parent":"old-parent","student":"s-9"}`, // 12
			`{"type":"teacher"}`, // 13
			`{"type":"person","op":"merge","external_id":"x"}`, // 14
			``,                              // 15: blank
			relation("p-1", "s-1", "other"), // 16: replaces line 5's kind
		}, "\n")
		var lines atomic.Int64
		im.Progress = func(n int) { lines.Store(int64(n)) }
		rep, err := im.Import(ctx, "t1", strings.NewReader(roster))
		if err != nil {
			t.Fatal(err)
		}
		want := []errAt{{3, "birth_date"}, {4, ""}, {6, "student"}, {7, "external_id"}, {13, "type"}, {14, "op"}}
		if got := errorsOf(rep); !slices.Equal(got, want) {
			t.Fatalf("errors = %v, want %v (%+v)", got, want, rep.Errors)
		}
		if !strings.Contains(rep.Errors[3].Message, "first on line 1") || rep.Errors[2].ExternalID != "ghost" {
			t.Fatalf("errors: %+v", rep.Errors)
		}
		if rep.Persons != 3 || rep.Relations != 4 || rep.Deleted != 1 || rep.Flagged != 1 {
			t.Fatalf("report = %+v", rep)
		}
		if lines.Load() != 16 {
			t.Fatalf("last progress %d, want 16", lines.Load())
		}
		got, err := st.GetPerson(ctx, "t1", "s-1")
		if err != nil || got.LastName != "Иванова" {
			t.Fatalf("s-1 = %+v %v: the first row must win", got, err)
		}
		// A SNILS with wrong check digits is accepted and flagged, and kept
		// as the school wrote it: never "fixed".
		if p1, err := st.GetPerson(ctx, "t1", "p-1"); err != nil || p1.SNILS != "12345678900" || !slices.Equal(p1.Flags, []string{linking.FlagSNILSChecksum}) {
			t.Fatalf("p-1: SNILS %q, flags %v, %v", p1.SNILS, p1.Flags, err)
		}
		if s1 := got; s1.SNILS != "11223344595" || len(s1.Flags) != 0 {
			t.Fatalf("s-1: SNILS %q, flags %v", s1.SNILS, s1.Flags)
		}
		if _, err := st.GetPerson(ctx, "t1", "gone"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("gone: %v", err)
		}
		if got, want := relationsOf(t, st, "s-1"), []string{"old-parent>s-1:guardian", "p-1>s-1:other", "p-2>s-1:father"}; !slices.Equal(got, want) {
			t.Fatalf("relations of s-1 = %v, want %v", got, want)
		}
		if got := relationsOf(t, st, "s-9"); len(got) != 0 {
			t.Fatalf("deleted relation remains: %v", got)
		}
	})
}

// rejecting fails every batch that holds the record "bad", the way a
// database refuses a row it cannot store.
type rejecting struct {
	store.Store
	batches atomic.Int64
}

func (r *rejecting) UpsertPersons(ctx context.Context, tenantID string, ps []store.Person) error {
	r.batches.Add(1)
	for _, p := range ps {
		if p.ExternalID == "bad" {
			return fmt.Errorf("%w: refused", store.ErrInvalid)
		}
	}
	return r.Store.UpsertPersons(ctx, tenantID, ps)
}

// rejectingCopier also has the bulk paths of the store it wraps.
type rejectingCopier struct{ *rejecting }

func (r rejectingCopier) CopyPersons(ctx context.Context, tenantID string, ps []store.Person) error {
	for _, p := range ps {
		if p.ExternalID == "bad" {
			return fmt.Errorf("%w: refused", store.ErrInvalid)
		}
	}
	return r.Store.(store.PersonCopier).CopyPersons(ctx, tenantID, ps)
}

func (r rejectingCopier) UpsertKnownRelations(ctx context.Context, tenantID string, rs []store.Relation) ([]int, error) {
	return r.Store.(store.KnownRelations).UpsertKnownRelations(ctx, tenantID, rs)
}

// TestImportRetriesRejectedBatchRowByRow checks that one row the store
// refuses costs only itself, with and without the bulk paths.
func TestImportRetriesRejectedBatchRowByRow(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store, ix *keyring.PII) {
		var rows []string
		for i := 0; i < 25; i++ {
			id := fmt.Sprintf("s-%d", i)
			if i == 12 {
				id = "bad"
			}
			rows = append(rows, person(id, "student", "Петрова", "2012-01-01", ""))
		}
		rows = append(rows, person("p-1", "parent", "Петров", "1980-01-01", ""), relation("p-1", "bad", "father"), relation("p-1", "s-3", "father"))
		_, copier := st.(store.PersonCopier)
		for _, roster := range []store.Roster{&rejecting{Store: st}, rejectingCopier{&rejecting{Store: st}}} {
			if _, ok := roster.(rejectingCopier); ok && !copier {
				continue
			}
			im := &linking.Importer{Roster: roster, Index: ix, BatchSize: 10}
			rep, err := im.Import(context.Background(), "t1", strings.NewReader(strings.Join(rows, "\n")))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := errorsOf(rep), []errAt{{13, ""}, {27, "student"}}; !slices.Equal(got, want) {
				t.Fatalf("%T: errors = %+v", roster, rep.Errors)
			}
			if rep.Errors[0].Message != "rejected by the store" || rep.Persons != 25 || rep.Relations != 1 {
				t.Fatalf("%T: report = %+v", roster, rep)
			}
		}
	})
}

// TestImportStreamsRelationsInBoundedMemory imports a generated roster with
// every relation before the records it names, through a spill file, with
// small batches and several parsing workers.
func TestImportStreamsRelationsInBoundedMemory(t *testing.T) {
	var buf bytes.Buffer
	sum, err := rostergen.Generate(rostergen.Config{Persons: 3000, Seed: 3}, &buf, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var persons, relations []string
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"type":"relation"`) {
			relations = append(relations, sc.Text())
		} else {
			persons = append(persons, sc.Text())
		}
	}
	roster := strings.Join(append(relations, persons...), "\n")
	eachStore(t, func(t *testing.T, st store.Store, ix *keyring.PII) {
		dir := t.TempDir()
		im := &linking.Importer{Roster: st, Index: ix, BatchSize: 97, Workers: 3, MemoryRows: 100, SpillDir: dir}
		rep, err := im.Import(context.Background(), "t1", strings.NewReader(roster))
		if err != nil || len(rep.Errors) > 0 {
			t.Fatalf("%v %+v", err, rep.Errors)
		}
		if rep.Persons != sum.Persons || rep.Relations != sum.Relations {
			t.Fatalf("report %+v, generated %+v", rep, sum)
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
			t.Fatalf("spill files left behind: %v", left)
		}
		n, err := st.CountPersons(context.Background(), "t1")
		if err != nil || n != sum.Persons {
			t.Fatalf("CountPersons = %d %v", n, err)
		}
		// Importing the same roster again changes nothing and reports the same.
		rep, err = im.Import(context.Background(), "t1", strings.NewReader(roster))
		if err != nil || len(rep.Errors) > 0 || rep.Persons != sum.Persons || rep.Relations != sum.Relations {
			t.Fatalf("again: %+v %v", rep, err)
		}
	})
}

func TestImportLimits(t *testing.T) {
	ix := testPII(t)
	st := memory.New(nil)
	mustTenant(t, st)
	var rows []string
	for i := 0; i < 30; i++ {
		rows = append(rows, `{"type":"person","external_id":"x"`) // broken JSON
	}
	rows = append(rows, person("ok", "teacher", "Верная", "1990-01-01", ""), `{"type":"person","last_name":"`+strings.Repeat("я", linking.MaxRowBytes)+`"}`,
		person("after", "teacher", "Поздняя", "1990-01-01", ""))
	rep, err := (&linking.Importer{Roster: st, Index: ix, MaxErrors: 10}).Import(context.Background(), "t1", strings.NewReader(strings.Join(rows, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 10 || !rep.ErrorsTruncated || rep.Persons != 2 {
		t.Fatalf("report: persons %d, %d errors, truncated %v", rep.Persons, len(rep.Errors), rep.ErrorsTruncated)
	}
	// A line over MaxRowBytes is a row error; the rows after it land.
	rep, err = (&linking.Importer{Roster: st, Index: ix}).Import(context.Background(), "t1", strings.NewReader(strings.Join(rows[30:], "\n")))
	if err != nil || len(rep.Errors) != 1 || rep.Errors[0].Line != 2 || !strings.Contains(rep.Errors[0].Message, "longer than") || rep.Persons != 2 {
		t.Fatalf("long line: %+v %v", rep, err)
	}
	if _, err := st.GetPerson(context.Background(), "t1", "after"); err != nil {
		t.Fatalf("the row after the long line: %v", err)
	}
}

// failing loses its database after a few batches.
type failing struct {
	store.Store
	n atomic.Int64
}

var errDown = errors.New("database down")

func (f *failing) UpsertPersons(ctx context.Context, tenantID string, ps []store.Person) error {
	if f.n.Add(1) > 3 {
		return errDown
	}
	return f.Store.UpsertPersons(ctx, tenantID, ps)
}

// TestImportStopsOnStoreError checks that a store error ends the import
// with that error, at once, and that a cancelled context does too.
func TestImportStopsOnStoreError(t *testing.T) {
	var buf bytes.Buffer
	if _, err := rostergen.Generate(rostergen.Config{Persons: 5000, Seed: 4}, &buf, nil, nil); err != nil {
		t.Fatal(err)
	}
	ix := testPII(t)
	st := memory.New(nil)
	mustTenant(t, st)
	f := &failing{Store: st}
	_, err := (&linking.Importer{Roster: f, Index: ix, BatchSize: 100}).Import(context.Background(), "t1", bytes.NewReader(buf.Bytes()))
	if !errors.Is(err, errDown) {
		t.Fatalf("err = %v", err)
	}
	if n := f.n.Load(); n > 10 {
		t.Fatalf("%d batches tried after the store failed", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (&linking.Importer{Roster: st, Index: ix}).Import(ctx, "t1", bytes.NewReader(buf.Bytes())); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// TestImportSpillDirMissing checks that a spill file that cannot be made
// stops the import with an error.
func TestImportSpillDirMissing(t *testing.T) {
	ix := testPII(t)
	st := memory.New(nil)
	mustTenant(t, st)
	roster := relation("later-p", "later-s", "mother") + "\n" + relation("later-p", "other-s", "mother")
	im := &linking.Importer{Roster: st, Index: ix, MemoryRows: 1, SpillDir: filepath.Join(t.TempDir(), "missing")}
	if _, err := im.Import(context.Background(), "t1", strings.NewReader(roster)); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

// TestPersonIndexIsTheLoginIndex checks that the blind indexes of an
// imported row are those a login computes from the same values, however
// they are written.
func TestPersonIndexIsTheLoginIndex(t *testing.T) {
	ix := testPII(t)
	for _, line := range []string{
		`{"external_id":"a","role":"student","last_name":"Сeмёнова","first_name":"алёна","birth_date":"03.02.2013","snils":"112 233 445 95","birth_cert":{"series":"1V ak","number":"№ 512345","issue_date":"2013-02-20"}}`,
		`{"external_id":"b","role":"student","last_name":"Римская – Корсакова","first_name":"Анна","birth_date":"2013-02-03","birth_cert":{"type":"FID_BRTH_CERT","series":"AB","number":"x-77 1","issue_date":"2013-02-20"}}`,
		`{"external_id":"c","role":"teacher","last_name":"ХАН","first_name":"Елизавета","birth_date":"1993-11-11"}`,
	} {
		row, err := linking.ParseRosterRow([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		p, err := row.Person(ix)
		if err != nil {
			t.Fatal(err)
		}
		if want := linking.IndexOf(ix, linking.IdentityOfRecord(p)); p.Index != want {
			t.Errorf("%s: index %+v, login computes %+v", p.ExternalID, p.Index, want)
		}
		if p.Index.NameBirth == "" || p.Index.BirthDate == "" || (p.BirthCert != nil && p.Index.BirthCert == "") {
			t.Errorf("%s: missing index: %+v", p.ExternalID, p.Index)
		}
	}
}
