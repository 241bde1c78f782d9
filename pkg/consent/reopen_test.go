package consent_test

import (
	"errors"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/store"
)

// TestReopen: support asks the parents again. With a request still in its
// time, that request (nothing new); after it expired, a new one to both
// parents with its evidence (channel support_console) and a
// consent.requested event; with a granted consent, or no parent in the
// roster, nothing is asked.
func TestReopen(t *testing.T) {
	f := newFixture(t)
	f.t.Consent.RequestDays = 7
	must(t, f.st.UpdateTenant(ctx, f.t))
	d, err := f.svc.Check(ctx, f.t, f.childSubject())
	must(t, err)
	first := d.Request.ID

	req, created, err := f.svc.Reopen(ctx, f.t, "s-1")
	if err != nil || created || req.ID != first {
		t.Fatalf("reopen of a live request = %s, %v, %v; want %s, not created", req.ID, created, err, first)
	}

	f.now = f.now.Add(8 * 24 * time.Hour)
	_, err = f.svc.Sweep(ctx, f.st)
	must(t, err)
	req, created, err = f.svc.Reopen(ctx, f.t, "s-1")
	if err != nil || !created || req.ID == first || req.Status != store.RequestOpen || len(req.Parents) != 2 || !req.CreatedAt.Equal(f.now) {
		t.Fatalf("reopen after expiry = %+v, %v, %v", req, created, err)
	}
	ev, err := f.st.EvidenceOf(ctx, "t1", "s-1")
	must(t, err)
	last := ev[len(ev)-1]
	if last.Event != "requested" || last.RequestID != req.ID || last.Details.Channel != consent.ChannelSupport {
		t.Fatalf("evidence = %+v", last)
	}
	events, err := f.st.ListEvents(ctx, "t1", "", 1)
	must(t, err)
	if len(events) != 1 || events[0].Type != "consent.requested" {
		t.Fatalf("webhook = %+v", events)
	}

	must(t, f.svc.Decide(ctx, f.t, f.mum, "s-1", true))
	if _, _, err := f.svc.Reopen(ctx, f.t, "s-1"); !errors.Is(err, consent.ErrConsentHolds) {
		t.Fatalf("reopen with a granted consent: %v", err)
	}
	if _, _, err := f.svc.Reopen(ctx, f.t, "p-mum"); !errors.Is(err, consent.ErrNoParents) {
		t.Fatalf("reopen of a record without parents: %v", err)
	}
}
