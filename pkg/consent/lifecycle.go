package consent

import (
	"context"
	"fmt"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// Tenants lists the tenants (for their policies).
type Tenants interface {
	ListTenants(ctx context.Context) ([]store.Tenant, error)
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

// destroy wipes the personal data of evidence (and the ESIA oids beside
// it) whose consent was withdrawn longer ago than the record's tenant keeps
// it, and records the destruction. Each tenant's due records are claimed
// in batches (FOR UPDATE SKIP LOCKED), each destroyed in its transaction,
// until none remain.
func (s *Service) destroy(ctx context.Context, tenants Tenants, now time.Time) (int, error) {
	list, err := tenants.ListTenants(ctx)
	if err != nil {
		return 0, fmt.Errorf("consent: tenants: %w", err)
	}
	n := 0
	for _, t := range list {
		days := Policy(t).DestroyAfterDay
		for {
			claimed, destroyed := 0, 0
			err := s.Store.InTx(ctx, func(ctx context.Context) error {
				refs, err := s.Store.ClaimWithdrawn(ctx, t.ID, now.AddDate(0, 0, -days), sweepBatch)
				if err != nil {
					return err
				}
				claimed, destroyed = len(refs), 0
				for _, ref := range refs {
					// A parent may have granted again since the claim: take
					// the record's decision lock, as grants do, and destroy
					// only while its newest consent is still the withdrawn one.
					if err := s.Store.LockConsents(ctx, ref.TenantID, ref.PersonID); err != nil {
						return err
					}
					cs, err := s.Store.ConsentsOf(ctx, ref.TenantID, ref.PersonID)
					if err != nil {
						return err
					}
					if len(cs) == 0 || cs[0].Status != store.ConsentRevoked || !cs[0].EndedAt.Before(now.AddDate(0, 0, -days)) {
						continue
					}
					wiped, err := s.Store.DestroyEvidence(ctx, ref.TenantID, ref.PersonID, now)
					if err != nil {
						return err
					}
					if wiped == 0 {
						continue // another replica destroyed it just now
					}
					if err := s.Store.AppendEvidence(ctx, store.Evidence{TenantID: ref.TenantID, PersonID: ref.PersonID, Event: "destroyed", At: now,
						Details: store.EvidenceDetails{Note: fmt.Sprintf("personal data of %d evidence record(s) destroyed %d days after the withdrawal", wiped, days)}}); err != nil {
						return err
					}
					destroyed++
				}
				return nil
			})
			if err != nil {
				return n, fmt.Errorf("consent: destroy: %w", err)
			}
			n += destroyed
			if claimed < sweepBatch || destroyed == 0 {
				break
			}
		}
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
