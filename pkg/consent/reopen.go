package consent

import (
	"context"
	"errors"
	"fmt"

	"github.com/diarybroker/broker/pkg/store"
)

// Errors of Reopen.
var (
	// ErrConsentHolds: a parental consent is granted already; there is
	// nothing to ask the parents.
	ErrConsentHolds = errors.New("consent: a parental consent is granted already")
	// ErrNoParents: the roster relates no parent to the record, so nobody
	// could be asked.
	ErrNoParents = errors.New("consent: the roster relates no parent to the record")
)

// ChannelSupport is the evidence's channel of a request the support
// console opened.
const ChannelSupport = "support_console"

// Reopen asks the parents of a child again, for the support console after
// a request expired unanswered: it returns the child's open request when
// one is still in its time (created false), and otherwise opens a new one
// addressed to the parents the roster relates now, exactly as a login
// would — evidence «requested» (channel ChannelSupport), consent.requested
// for the diary — and returns it with created true. A child with a granted
// parental consent is ErrConsentHolds, one without a parent in the roster
// ErrNoParents.
func (s *Service) Reopen(ctx context.Context, t store.Tenant, personID string) (store.ConsentRequest, bool, error) {
	consents, err := s.Store.ConsentsOf(ctx, t.ID, personID)
	if err != nil {
		return store.ConsentRequest{}, false, fmt.Errorf("consent: reopen: %w", err)
	}
	for _, c := range consents {
		if c.Status == store.ConsentGranted && c.Kind == store.ConsentParental {
			return store.ConsentRequest{}, false, ErrConsentHolds
		}
	}
	rels, err := s.Store.RelationsOf(ctx, t.ID, personID)
	if err != nil {
		return store.ConsentRequest{}, false, fmt.Errorf("consent: reopen: %w", err)
	}
	parents := 0
	for _, r := range rels {
		if r.Student == personID {
			parents++
		}
	}
	if parents == 0 {
		return store.ConsentRequest{}, false, ErrNoParents
	}
	return s.request(ctx, t, Subject{TenantID: t.ID, PersonID: personID}, Policy(t), ChannelSupport)
}
