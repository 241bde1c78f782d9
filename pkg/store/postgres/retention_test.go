package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/storetest"
)

func TestRetentionConformance(t *testing.T) {
	storetest.RunRetention(t, func(t *testing.T) store.Store { return newStore(t) })
}

// TestAuditStaysAppendOnly: the audit log's trigger lets an entry of an
// attempt's reading go only once the attempt is gone and in a transaction
// that says it destroys attempts; every other change is refused.
func TestAuditStaysAppendOnly(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	if err := s.RecordAttempt(ctx, store.Attempt{Ref: "A1", TenantID: "t1", Outcome: "linked"}, store.AttemptEvent{Step: "link", At: at}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []store.AuditEntry{
		{TenantID: "t1", Action: store.AuditReadAttempt, Target: "A1"},
		{TenantID: "t1", Action: "unlink", Target: "GONE"},
		{TenantID: "t1", Action: store.AuditReadAttempt, Target: "GONE"},
	} {
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	const destroying = `SELECT set_config('broker.retention', 'destroy_attempts', true)`
	tests := []struct {
		name, sql string
		marked    bool // in a transaction marked as destroying attempts
		allowed   bool
	}{
		{"update", `UPDATE audit_log SET actor = 'x'`, true, false},
		{"delete the reading of an attempt that exists", `DELETE FROM audit_log WHERE target = 'A1'`, true, false},
		{"delete another action", `DELETE FROM audit_log WHERE action = 'unlink'`, true, false},
		{"delete the reading of an attempt that is gone, unmarked", `DELETE FROM audit_log WHERE action = 'read_attempt' AND target = 'GONE'`, false, false},
		{"delete the reading of an attempt that is gone", `DELETE FROM audit_log WHERE action = 'read_attempt' AND target = 'GONE'`, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := s.Pool().Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tc.marked {
				if _, err := tx.Exec(ctx, destroying); err != nil {
					t.Fatal(err)
				}
			}
			_, err = tx.Exec(ctx, tc.sql)
			if (err == nil) != tc.allowed {
				t.Fatalf("%s: error %v, allowed %v", tc.sql, err, tc.allowed)
			}
			if err == nil {
				err = tx.Commit(ctx)
			} else {
				err = tx.Rollback(ctx)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	if es, err := s.ListAudit(ctx, "t1", 0); err != nil || len(es) != 2 {
		t.Fatalf("audit left = %+v (%v), want the two refused deletions", es, err)
	}
}
