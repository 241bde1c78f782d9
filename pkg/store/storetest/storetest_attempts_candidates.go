package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// RunRecords runs the conformance tests of what support and roster writes
// need of roster records: the links of several records at once with their
// evidence, the attempts that named a record, and relations only between a
// parent record and a student record.
func RunRecords(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"LinkEvidence", testLinkEvidence},
		{"LinksByRecords", testLinksByRecords},
		{"AttemptsByRecord", testAttemptsByRecord},
		{"AttemptsByRecordRollback", testAttemptsByRecordRollback},
		{"AttemptEventsInOneWrite", testAttemptEventsInOneWrite},
		{"RelationRoles", testRelationRoles},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

func testLinkEvidence(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	must(t, s.UpsertPersons(ctx(), "t1", []store.Person{mkPerson("t-1", store.RoleTeacher, "")}))
	l := store.Link{TenantID: "t1", ESIAOID: "1000", ExternalID: "t-1", Role: store.RoleTeacher, Rung: "snils", Status: store.LinkActive,
		SNILSIndex: "ix-snils-a", BirthDateIndex: "ix-bd-a", CreatedAt: base, UpdatedAt: base}
	must(t, s.CreateLink(ctx(), l))
	got, err := s.LinksByRecord(ctx(), "t1", "t-1")
	must(t, err)
	if len(got) != 1 || !reflect.DeepEqual(got[0], l) {
		t.Fatalf("link = %+v\nwant %+v", got, l)
	}
	l.SNILSIndex, l.BirthDateIndex, l.Status, l.Reason = "ix-snils-b", "", store.LinkSuspended, "snils_changed"
	must(t, s.UpdateLink(ctx(), l))
	got, err = s.LinksByOID(ctx(), "t1", "1000")
	must(t, err)
	if len(got) != 1 || got[0].SNILSIndex != "ix-snils-b" || got[0].BirthDateIndex != "" || got[0].Reason != "snils_changed" {
		t.Fatalf("updated link = %+v", got)
	}
}

func testLinksByRecords(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	for _, tn := range []string{"t1", "t2"} {
		must(t, s.UpsertPersons(ctx(), tn, []store.Person{mkPerson("a", store.RoleParent, ""), mkPerson("b", store.RoleParent, ""),
			mkPerson("c", store.RoleTeacher, "")}))
	}
	for _, l := range []store.Link{
		{TenantID: "t1", ESIAOID: "2", ExternalID: "a"}, {TenantID: "t1", ESIAOID: "1", ExternalID: "a"},
		{TenantID: "t1", ESIAOID: "1", ExternalID: "b"}, {TenantID: "t1", ESIAOID: "1", ExternalID: "c"},
		{TenantID: "t2", ESIAOID: "1", ExternalID: "a"},
	} {
		must(t, s.CreateLink(ctx(), l))
	}
	got, err := s.LinksByRecords(ctx(), "t1", []string{"b", "a", "ghost", "a"})
	must(t, err)
	var keys []string
	for _, l := range got {
		keys = append(keys, l.TenantID+"/"+l.ESIAOID+"/"+l.ExternalID)
	}
	// Ordered by oid, then record; each link once; nothing of t2 or of c.
	if want := []string{"t1/1/a", "t1/1/b", "t1/2/a"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("LinksByRecords = %v, want %v", keys, want)
	}
	got, err = s.LinksByRecords(ctx(), "t1", nil)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("LinksByRecords(nil) = %+v", got)
	}
}

// linkDetail is a link step's detail as the login writes it.
func linkDetail(manual string, candidates ...string) json.RawMessage {
	d := map[string]any{"outcome": "not_found", "candidates": []map[string]any{}}
	var cs []map[string]any
	for _, c := range candidates {
		cs = append(cs, map[string]any{"record": c, "role": "student", "fields": []any{}})
	}
	if cs != nil {
		d["candidates"] = cs
	}
	if manual != "" {
		d["manual_record"] = manual
	}
	b, _ := json.Marshal(d)
	return b
}

func refsOf(as []store.Attempt) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Ref)
	}
	return out
}

func testAttemptsByRecord(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	record := func(ref, tenant string, at time.Time, ev store.AttemptEvent) {
		t.Helper()
		ev.At = at
		must(t, s.RecordAttempt(ctx(), store.Attempt{Ref: ref, TenantID: tenant, ClientID: "diary", Outcome: "in_progress"}, ev))
	}
	// A failed login that compared s-1 and s-2, a second one that compared
	// s-1 twice over two events, a manual link naming s-1, a login of
	// another tenant with the same record id, and one that named nothing.
	record("REF0000001", "t1", base, store.AttemptEvent{Step: "authorize"})
	record("REF0000001", "t1", base.Add(time.Second), store.AttemptEvent{Step: "link", Detail: linkDetail("", "s-1", "s-2")})
	record("REF0000002", "t1", base.Add(time.Minute), store.AttemptEvent{Step: "link", Detail: linkDetail("", "s-1")})
	record("REF0000002", "t1", base.Add(time.Minute+time.Second), store.AttemptEvent{Step: "link", Detail: linkDetail("", "s-1")})
	record("REF0000003", "t1", base.Add(2*time.Minute), store.AttemptEvent{Step: "link", Detail: linkDetail("s-1")})
	record("REF0000004", "t2", base.Add(3*time.Minute), store.AttemptEvent{Step: "link", Detail: linkDetail("", "s-1")})
	record("REF0000005", "t1", base.Add(4*time.Minute), store.AttemptEvent{Step: "link", Detail: json.RawMessage(`{"outcome":"linked"}`)})
	// A summary update without an event keeps what the attempt named.
	must(t, s.RecordAttempt(ctx(), store.Attempt{Ref: "REF0000001", Outcome: "not_found", Reason: "not_found"}, store.AttemptEvent{At: base.Add(5 * time.Minute)}))

	got, err := s.AttemptsByRecord(ctx(), "t1", "s-1", 0)
	must(t, err)
	if want := []string{"REF0000003", "REF0000002", "REF0000001"}; !reflect.DeepEqual(refsOf(got), want) {
		t.Fatalf("AttemptsByRecord(s-1) = %v, want %v", refsOf(got), want)
	}
	if a := got[2]; a.TenantID != "t1" || a.ClientID != "diary" || a.Outcome != "not_found" || !a.CreatedAt.Equal(base) || len(a.Events) != 0 {
		t.Fatalf("attempt = %+v", a)
	}
	if got, err = s.AttemptsByRecord(ctx(), "t1", "s-1", 2); err != nil || !reflect.DeepEqual(refsOf(got), []string{"REF0000003", "REF0000002"}) {
		t.Fatalf("limit 2: %v %v", refsOf(got), err)
	}
	if got, err = s.AttemptsByRecord(ctx(), "t1", "s-2", 0); err != nil || !reflect.DeepEqual(refsOf(got), []string{"REF0000001"}) {
		t.Fatalf("s-2: %v %v", refsOf(got), err)
	}
	if got, err = s.AttemptsByRecord(ctx(), "t2", "s-1", 0); err != nil || !reflect.DeepEqual(refsOf(got), []string{"REF0000004"}) {
		t.Fatalf("t2: %v %v", refsOf(got), err)
	}
	if got, err = s.AttemptsByRecord(ctx(), "t1", "nobody", 0); err != nil || len(got) != 0 {
		t.Fatalf("nobody: %v %v", refsOf(got), err)
	}
}

func testAttemptsByRecordRollback(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	err := s.InTx(ctx(), func(ctx context.Context) error {
		if err := s.RecordAttempt(ctx, store.Attempt{Ref: "REF0000001", TenantID: "t1"},
			store.AttemptEvent{Step: "link", At: base, Detail: linkDetail("", "s-1")}); err != nil {
			return err
		}
		return errAbort
	})
	wantErr(t, err, errAbort)
	got, err := s.AttemptsByRecord(ctx(), "t1", "s-1", 0)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("rolled-back attempt found: %v", refsOf(got))
	}
	// The same reference recorded again afterwards is found once.
	for i := range 2 {
		must(t, s.RecordAttempt(ctx(), store.Attempt{Ref: "REF0000001", TenantID: "t1"},
			store.AttemptEvent{Step: "link", At: base.Add(time.Duration(i) * time.Second), Detail: linkDetail("", "s-1")}))
	}
	got, err = s.AttemptsByRecord(ctx(), "t1", "s-1", 0)
	must(t, err)
	if fmt.Sprint(refsOf(got)) != "[REF0000001]" {
		t.Fatalf("after rollback: %v", refsOf(got))
	}
}

// testAttemptEventsInOneWrite: one RecordAttempt with several events (a
// request's journal) appends them in order, takes the last event's time as
// the attempt's, skips events without a step, remembers the records any of
// them names, and writes nothing when one of them is bad.
func testAttemptEventsInOneWrite(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	must(t, s.RecordAttempt(ctx(), store.Attempt{Ref: "REF0000001", TenantID: "t1", ClientID: "diary", Outcome: "in_progress"},
		store.AttemptEvent{Step: "authorize", At: base}))
	must(t, s.RecordAttempt(ctx(), store.Attempt{Ref: "REF0000001", ESIAOID: "1000", Outcome: "issued"},
		store.AttemptEvent{Step: "esia", At: base.Add(time.Second), Detail: json.RawMessage(`{"level":"CONFIRMED"}`)},
		store.AttemptEvent{Step: "link", At: base.Add(2 * time.Second), Detail: linkDetail("s-1", "s-2")},
		store.AttemptEvent{At: base.Add(3 * time.Second)}, // a summary-only step: no event
		store.AttemptEvent{Step: "issued", At: base.Add(4 * time.Second)}))
	// A new attempt written whole in one go starts at its first event.
	must(t, s.RecordAttempt(ctx(), store.Attempt{Ref: "REF0000002", TenantID: "t1", Outcome: "not_found"},
		store.AttemptEvent{Step: "authorize", At: base.Add(time.Minute)},
		store.AttemptEvent{Step: "link", At: base.Add(time.Minute + time.Second), Detail: linkDetail("", "s-3")}))

	a, err := s.GetAttempt(ctx(), "REF0000001")
	must(t, err)
	var steps []string
	for _, ev := range a.Events {
		steps = append(steps, ev.Step)
	}
	if want := []string{"authorize", "esia", "link", "issued"}; !reflect.DeepEqual(steps, want) {
		t.Fatalf("steps = %v, want %v", steps, want)
	}
	if a.TenantID != "t1" || a.ClientID != "diary" || a.ESIAOID != "1000" || a.Outcome != "issued" ||
		!a.CreatedAt.Equal(base) || !a.UpdatedAt.Equal(base.Add(4*time.Second)) || !a.Events[2].At.Equal(base.Add(2*time.Second)) {
		t.Fatalf("attempt = %+v", a)
	}
	b, err := s.GetAttempt(ctx(), "REF0000002")
	must(t, err)
	if len(b.Events) != 2 || !b.CreatedAt.Equal(base.Add(time.Minute)) || !b.UpdatedAt.Equal(base.Add(time.Minute+time.Second)) {
		t.Fatalf("new attempt = %+v", b)
	}
	for rec, want := range map[string][]string{"s-1": {"REF0000001"}, "s-2": {"REF0000001"}, "s-3": {"REF0000002"}} {
		got, err := s.AttemptsByRecord(ctx(), "t1", rec, 0)
		if err != nil || !reflect.DeepEqual(refsOf(got), want) {
			t.Fatalf("AttemptsByRecord(%s) = %v %v, want %v", rec, refsOf(got), err, want)
		}
	}

	// A bad event anywhere in the write, or too many events: nothing of it
	// is kept.
	bad := []struct {
		name string
		evs  []store.AttemptEvent
	}{
		{"bad detail last", []store.AttemptEvent{{Step: "link", At: base.Add(time.Hour)}, {Step: "issued", At: base.Add(time.Hour), Detail: json.RawMessage(`{"x":`)}}},
		{"NUL in a step", []store.AttemptEvent{{Step: "link", At: base.Add(time.Hour)}, {Step: "is\x00sued", At: base.Add(time.Hour)}}},
		{"too many", make([]store.AttemptEvent, store.MaxAttemptEventsPerWrite+1)},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.RecordAttempt(ctx(), store.Attempt{Ref: "REF0000001", Outcome: "failed"}, tc.evs...); !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			a, err := s.GetAttempt(ctx(), "REF0000001")
			must(t, err)
			if len(a.Events) != 4 || a.Outcome != "issued" || !a.UpdatedAt.Equal(base.Add(4*time.Second)) {
				t.Fatalf("after a rejected write: %+v", a)
			}
		})
	}
}
