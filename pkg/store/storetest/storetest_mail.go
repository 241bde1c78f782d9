package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// testMail: mail jobs are claimed when due, oldest first, leased so that
// a second claim does not take them, end once (sent, skipped or dead),
// retry later, are listed per request and tenant, and are undone with
// their transaction; bad fields are refused.
func testMail(t *testing.T, s store.Store) {
	mkTenant(t, s, "t1")
	mkTenant(t, s, "t2")
	job := func(id, tenant, req string, kind store.MailKind, due time.Time) store.MailJob {
		return store.MailJob{ID: id, TenantID: tenant, RequestID: req, ChildRecord: "s-1", ParentRecord: "p-" + id,
			AttemptRef: "ABCDE12345", Kind: kind, CreatedAt: base, NextAttemptAt: due}
	}
	must(t, s.EnqueueMail(ctx(), job("m1", "t1", "r1", store.MailRequested, base)))
	must(t, s.EnqueueMail(ctx(), job("m2", "t1", "r1", store.MailReminder, base.Add(48*time.Hour))))
	must(t, s.EnqueueMail(ctx(), job("m3", "t2", "r1", store.MailRequested, base.Add(time.Second))))
	wantErr(t, s.EnqueueMail(ctx(), job("m1", "t1", "r1", store.MailRequested, base)), store.ErrAlreadyExists)
	for name, bad := range map[string]store.MailJob{
		"no request": {ID: "x1", TenantID: "t1", ParentRecord: "p", Kind: store.MailRequested},
		"bad kind":   {ID: "x2", TenantID: "t1", RequestID: "r", ParentRecord: "p", Kind: "spam"},
		"control":    {ID: "x3", TenantID: "t1", RequestID: "r\x00", ParentRecord: "p", Kind: store.MailRequested},
	} {
		if err := s.EnqueueMail(ctx(), bad); !errors.Is(err, store.ErrInvalidField) {
			t.Errorf("%s: %v", name, err)
		}
	}

	got, err := s.ClaimMail(ctx(), base.Add(time.Minute), time.Minute, 10)
	must(t, err)
	if len(got) != 2 || got[0].ID != "m1" || got[1].ID != "m3" || got[0].Status != store.MailPending || got[0].AttemptRef != "ABCDE12345" {
		t.Fatalf("claimed %+v", got)
	}
	if again, _ := s.ClaimMail(ctx(), base.Add(time.Minute), time.Minute, 10); len(again) != 0 {
		t.Fatalf("leased jobs claimed again: %+v", again)
	}
	must(t, s.FinishMail(ctx(), "m1", store.MailSent, base.Add(time.Minute), ""))
	wantErr(t, s.FinishMail(ctx(), "m1", store.MailSent, base.Add(time.Minute), ""), store.ErrInactive)
	wantErr(t, s.FinishMail(ctx(), "nope", store.MailSent, base, ""), store.ErrNotFound)
	wantErr(t, s.FinishMail(ctx(), "m3", store.MailPending, base, ""), store.ErrInvalid)
	must(t, s.RetryMail(ctx(), "m3", base.Add(time.Hour), "smtp: 451"))
	if due, _ := s.ClaimMail(ctx(), base.Add(30*time.Minute), time.Minute, 10); len(due) != 0 {
		t.Fatalf("a retried job claimed before its time: %+v", due)
	}
	due, err := s.ClaimMail(ctx(), base.Add(time.Hour), time.Minute, 10)
	must(t, err)
	if len(due) != 1 || due[0].ID != "m3" || due[0].Attempts != 1 || due[0].LastError != "smtp: 451" {
		t.Fatalf("retried job: %+v", due)
	}
	must(t, s.FinishMail(ctx(), "m3", store.MailSkipped, base.Add(time.Hour), "no_address"))

	list, err := s.MailOfRequest(ctx(), "t1", "r1")
	must(t, err)
	if len(list) != 2 || list[0].ID != "m1" || list[0].Status != store.MailSent || list[0].Attempts != 1 ||
		!list[0].DoneAt.Equal(base.Add(time.Minute)) || list[1].Kind != store.MailReminder || !list[1].NextAttemptAt.Equal(base.Add(48*time.Hour)) {
		t.Fatalf("mail of t1/r1: %+v", list)
	}
	other, err := s.MailOfRequest(ctx(), "t2", "r1")
	must(t, err)
	if len(other) != 1 || other[0].ID != "m3" || other[0].Status != store.MailSkipped || other[0].LastError != "no_address" {
		t.Fatalf("mail of t2/r1: %+v", other)
	}

	// Undone with the transaction that enqueued it.
	failed := errors.New("roll back")
	err = s.InTx(ctx(), func(ctx context.Context) error {
		if err := s.EnqueueMail(ctx, job("m4", "t1", "r2", store.MailRequested, base)); err != nil {
			return err
		}
		return failed
	})
	wantErr(t, err, failed)
	if l, _ := s.MailOfRequest(ctx(), "t1", "r2"); len(l) != 0 {
		t.Fatalf("rolled-back job kept: %+v", l)
	}
}
