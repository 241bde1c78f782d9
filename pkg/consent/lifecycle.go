package consent

import (
	"context"
	"fmt"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// Tenants looks tenants up (for their policies).
type Tenants interface {
	GetTenant(ctx context.Context, id string) (store.Tenant, error)
}

// sweepBatch is how many rows one transaction of Sweep claims.
const sweepBatch = 100

// Sweep does the consent workflow's scheduled work, safe on every replica
// (the store claims rows with FOR UPDATE SKIP LOCKED): consents past their
// term expire (their tokens are revoked and the diary told), requests past
// their time expire, and the consent-related personal data of withdrawn
// consents is destroyed after the tenant's period, leaving a destruction
// record. It returns how many items it handled.
func (s *Service) Sweep(ctx context.Context, tenants Tenants) (int, error) {
	now := s.now()
	n := 0
	for {
		var expired []store.Consent
		// The batch ends with its tokens revoked, or not at all: the next
		// run claims it again.
		err := s.Store.InTx(ctx, func(ctx context.Context) error {
			var err error
			if expired, err = s.Store.ExpireConsents(ctx, now, sweepBatch); err != nil {
				return err
			}
			for _, c := range expired {
				if err := s.noteEnded(ctx, c, store.ConsentExpired, "term", store.EvidenceDetails{Note: "term"}, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("consent: expire consents: %w", err)
		}
		n += len(expired)
		if len(expired) < sweepBatch {
			break
		}
	}
	for {
		var reqs []store.ConsentRequest
		err := s.Store.InTx(ctx, func(ctx context.Context) error {
			var err error
			if reqs, err = s.Store.ExpireRequests(ctx, now, sweepBatch); err != nil {
				return err
			}
			for _, r := range reqs {
				if err := s.noteRequestExpired(ctx, r, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("consent: expire requests: %w", err)
		}
		n += len(reqs)
		if len(reqs) < sweepBatch {
			break
		}
	}
	d, err := s.destroy(ctx, tenants, now)
	return n + d, err
}

// destroy wipes the personal data of evidence whose consent was withdrawn
// longer ago than the record's tenant keeps it, and records the destruction.
func (s *Service) destroy(ctx context.Context, tenants Tenants, now time.Time) (int, error) {
	// No tenant keeps it less than a day: those are the candidates; each
	// tenant's own period decides.
	due, err := s.Store.WithdrawnBefore(ctx, now.AddDate(0, 0, -1), 500)
	if err != nil {
		return 0, fmt.Errorf("consent: due for destruction: %w", err)
	}
	n := 0
	for _, ref := range due {
		t, err := tenants.GetTenant(ctx, ref.TenantID)
		if err != nil {
			return n, fmt.Errorf("consent: tenant: %w", err)
		}
		days := policyOf(t).DestroyAfterDay
		cs, err := s.Store.ConsentsOf(ctx, ref.TenantID, ref.PersonID)
		if err != nil {
			return n, fmt.Errorf("consent: %w", err)
		}
		if len(cs) == 0 || cs[0].Status != store.ConsentRevoked || cs[0].EndedAt.After(now.AddDate(0, 0, -days)) {
			continue // not yet, or consented again since
		}
		err = s.Store.InTx(ctx, func(ctx context.Context) error {
			wiped, err := s.Store.DestroyEvidence(ctx, ref.TenantID, ref.PersonID, now)
			if err != nil || wiped == 0 {
				return err
			}
			return s.Store.AppendEvidence(ctx, store.Evidence{TenantID: ref.TenantID, PersonID: ref.PersonID, Event: "destroyed", At: now,
				Details: store.EvidenceDetails{Note: fmt.Sprintf("personal data of %d evidence record(s) destroyed %d days after the withdrawal", wiped, days)}})
		})
		if err != nil {
			return n, fmt.Errorf("consent: destroy: %w", err)
		}
		n++
	}
	return n, nil
}

// Export is everything the operator keeps about one record's consents, for
// a person's request or an inspection.
type Export struct {
	Tenant    string           `json:"tenant"`
	PersonID  string           `json:"person_id"`
	Consents  []store.Consent  `json:"consents"`
	Evidence  []store.Evidence `json:"evidence"`
	Generated time.Time        `json:"generated_at"`
}

// Export returns a record's consents and evidence.
func (s *Service) Export(ctx context.Context, tenantID, personID string) (Export, error) {
	cs, err := s.Store.ConsentsOf(ctx, tenantID, personID)
	if err != nil {
		return Export{}, fmt.Errorf("consent: export: %w", err)
	}
	ev, err := s.Store.EvidenceOf(ctx, tenantID, personID)
	if err != nil {
		return Export{}, fmt.Errorf("consent: export: %w", err)
	}
	return Export{Tenant: tenantID, PersonID: personID, Consents: cs, Evidence: ev, Generated: s.now()}, nil
}
