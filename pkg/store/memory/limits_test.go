package memory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
)

// clock is a test clock that each reading moves on by a millisecond, so
// that every row has a creation time of its own.
type clock struct{ t time.Time }

func (c *clock) now() time.Time {
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func newClock() *clock { return &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)} }

// code stores, in one write, an authorization code of request req: 'a'
// active, 'u' used (inactive, as its exchange leaves it), 'e' expired.
func code(ctx context.Context, t *testing.T, st *memory.Store, c *clock, req string, state rune) {
	t.Helper()
	now := c.now()
	r := store.OAuthRecord{Kind: store.OAuthCode, Signature: "sig-" + req, RequestID: req, ClientID: "demo", TenantID: "t1",
		Active: state != 'u', Data: []byte(`{"id":"` + req + `"}`), CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
	if state == 'e' {
		r.ExpiresAt = now.Add(-time.Second)
	}
	if err := st.CreateOAuthRecord(ctx, r); err != nil {
		t.Fatal(err)
	}
}

// grant stores a login's grant with a slim refresh token row, in one
// batch; expired makes both expired already.
func grant(t *testing.T, st *memory.Store, c *clock, req string, expired bool) {
	t.Helper()
	now := c.now()
	exp := now.Add(time.Hour)
	if expired {
		exp = now.Add(-time.Second)
	}
	err := st.ApplyOAuth(context.Background(), store.OAuthBatch{
		Grant: &store.OAuthGrant{RequestID: req, ClientID: "demo", TenantID: "t1", Subject: "sub", Data: []byte(`{}`),
			CreatedAt: now, ExpiresAt: exp},
		Create: []store.OAuthRecord{{Kind: store.OAuthRefresh, Signature: "rt-" + req, RequestID: req, ClientID: "demo",
			TenantID: "t1", Active: true, CreatedAt: now, ExpiresAt: exp}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// has reports whether the record is kept, active or not.
func has(ctx context.Context, t *testing.T, st *memory.Store, kind store.OAuthKind, sig string) bool {
	t.Helper()
	_, err := st.GetOAuthRecord(ctx, kind, sig)
	switch {
	case err == nil, errors.Is(err, store.ErrInactive):
		return true
	case errors.Is(err, store.ErrNotFound):
		return false
	}
	t.Fatal(err)
	return false
}

func hasGrant(t *testing.T, st *memory.Store, req string) bool {
	t.Helper()
	_, err := st.GetOAuthGrant(context.Background(), req)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// keptCodes is, read in ctx, a '1' for every code r0…r(n-1) still kept, a '0' for every
// one dropped.
func keptCodes(ctx context.Context, t *testing.T, st *memory.Store, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		if has(ctx, t, st, store.OAuthCode, fmt.Sprintf("sig-r%d", i)) {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return b.String()
}

// TestLimitsOAuthRecords: past the limit the expired records go first
// (all of them), then the inactive ones (used codes) oldest first; live
// ones only past four times the limit, oldest first; nothing goes while
// the table is within its limit, and a large limit is overrun by a
// sixteenth before a pass brings the table back to it.
func TestLimitsOAuthRecords(t *testing.T) {
	tests := []struct {
		name string
		rows string // in creation order: a active, u used, e expired
		max  int
		kept string // '1' for every row kept at the end
	}{
		{"within the limit nothing goes", "euaeua", 6, "111111"},
		{"expired first, all of them", "eaeaaa", 4, "010111"},
		{"then used codes, oldest first", "uauaua", 4, "010111"},
		{"live ones stay up to four times the limit", "aaaaaaaa", 2, "11111111"},
		{"then the oldest live ones go", "aaaaaaaaaa", 2, "0011111111"},
		{"dead before live, whatever their age", "aaeuuu", 2, "110000"},
		{"a sixteenth over the limit before a pass", strings.Repeat("u", 34), 32, strings.Repeat("1", 34)},
		{"the pass brings it back to the limit", strings.Repeat("u", 35), 32, "000" + strings.Repeat("1", 32)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			st := memory.NewLimited(c.now, memory.Limits{OAuthRecords: tc.max})
			for i, state := range tc.rows {
				code(context.Background(), t, st, c, fmt.Sprintf("r%d", i), state)
			}
			if got := keptCodes(context.Background(), t, st, len(tc.rows)); got != tc.kept {
				t.Fatalf("kept %s, want %s", got, tc.kept)
			}
		})
	}
}

// TestLimitsDropWholeRequests: a live request dropped past four times the
// limit takes its grant with it.
func TestLimitsDropWholeRequests(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := memory.NewLimited(c.now, memory.Limits{OAuthRecords: 1})
	grant(t, st, c, "r0", false) // a grant and its refresh token: 1 record
	for i := 1; i <= 4; i++ {
		code(ctx, t, st, c, fmt.Sprintf("r%d", i), 'a')
	}
	if has(ctx, t, st, store.OAuthRefresh, "rt-r0") || hasGrant(t, st, "r0") {
		t.Fatal("the oldest request's refresh token or grant is kept past four times the limit")
	}
	if got := keptCodes(ctx, t, st, 5); got != "01111" {
		t.Fatalf("codes kept %s, want 01111", got)
	}
}

// TestLimitsOAuthGrants: past the limit the expired grants go first, then
// the oldest live ones, each with its records.
func TestLimitsOAuthGrants(t *testing.T) {
	c := newClock()
	st := memory.NewLimited(c.now, memory.Limits{OAuthGrants: 3})
	for i, expired := range []bool{false, true, false, false, false} {
		grant(t, st, c, fmt.Sprintf("g%d", i), expired)
	}
	for i, want := range []bool{false, false, true, true, true} {
		req := fmt.Sprintf("g%d", i)
		if got := hasGrant(t, st, req); got != want {
			t.Errorf("grant %s kept: %v, want %v", req, got, want)
		}
	}
	if has(context.Background(), t, st, store.OAuthRefresh, "rt-g0") {
		t.Error("the dropped grant's refresh token is kept")
	}
	if !has(context.Background(), t, st, store.OAuthRefresh, "rt-g4") {
		t.Error("the newest grant's refresh token is dropped")
	}
}

// TestLimitsAttempts: past the limit the oldest finished attempts go; the
// attempts in progress stay however many they are, and support still
// finds the newest.
func TestLimitsAttempts(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := memory.NewLimited(c.now, memory.Limits{Attempts: 3})
	record := func(ref, outcome string) {
		t.Helper()
		a := store.Attempt{Ref: ref, TenantID: "t1", ClientID: "demo", ESIAOID: "1000100001", Outcome: outcome}
		if err := st.RecordAttempt(ctx, a, store.AttemptEvent{Step: "authorize"}); err != nil {
			t.Fatal(err)
		}
	}
	record("P0", store.OutcomeInProgress)
	record("P1", store.OutcomeInProgress)
	for i := range 5 {
		record(fmt.Sprintf("F%d", i), "linked")
	}
	for ref, want := range map[string]bool{"P0": true, "P1": true, "F0": false, "F1": false, "F2": true, "F3": true, "F4": true} {
		_, err := st.GetAttempt(ctx, ref)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if got := err == nil; got != want {
			t.Errorf("attempt %s kept: %v, want %v", ref, got, want)
		}
	}
	got, err := st.AttemptsByOID(ctx, "t1", "1000100001", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Ref != "F4" {
		t.Fatalf("newest attempt %+v, want F4", got)
	}
}

// TestLimitsAudit: past the limit the oldest audit entries go.
func TestLimitsAudit(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := memory.NewLimited(c.now, memory.Limits{Audit: 3})
	for i := range 5 {
		if err := st.AppendAudit(ctx, store.AuditEntry{TenantID: "t1", Actor: "support", Action: "read_attempt", Target: fmt.Sprintf("R%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.ListAudit(ctx, "t1", 0)
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, e := range got {
		targets = append(targets, e.Target)
	}
	if strings.Join(targets, ",") != "R4,R3,R2" {
		t.Fatalf("audit kept %v, want R4,R3,R2", targets)
	}
}

// TestLimitsTransactions: a transaction is bounded when it commits; one
// rolled back drops nothing.
func TestLimitsTransactions(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := memory.NewLimited(c.now, memory.Limits{OAuthRecords: 2})
	code(ctx, t, st, c, "r0", 'u')
	code(ctx, t, st, c, "r1", 'u')
	fail := errors.New("rolled back")
	err := st.InTx(ctx, func(ctx context.Context) error {
		code(ctx, t, st, c, "r2", 'u')
		code(ctx, t, st, c, "r3", 'u')
		return fail
	})
	if !errors.Is(err, fail) {
		t.Fatal(err)
	}
	if got := keptCodes(context.Background(), t, st, 4); got != "1100" {
		t.Fatalf("after a rollback kept %s, want 1100", got)
	}
	if err := st.InTx(ctx, func(ctx context.Context) error {
		code(ctx, t, st, c, "r2", 'u')
		code(ctx, t, st, c, "r3", 'u')
		if got := keptCodes(ctx, t, st, 4); got != "1111" {
			t.Errorf("inside the transaction kept %s, want 1111", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := keptCodes(context.Background(), t, st, 4); got != "0011" {
		t.Fatalf("after the commit kept %s, want 0011", got)
	}
}

// TestLimitsUnbounded: a negative limit keeps everything.
func TestLimitsUnbounded(t *testing.T) {
	c := newClock()
	st := memory.NewLimited(c.now, memory.Rows(-1))
	for i := range 40 {
		code(context.Background(), t, st, c, fmt.Sprintf("r%d", i), 'u')
	}
	if got := keptCodes(context.Background(), t, st, 40); got != strings.Repeat("1", 40) {
		t.Fatalf("kept %s", got)
	}
}
