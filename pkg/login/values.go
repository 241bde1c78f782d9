package login

import (
	"context"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
)

// keepValues keeps what ESIA said about the person of a login that found
// no record, as the ladder took it, with the attempt (sealed by the
// store) so that support can re-check the login against a corrected
// roster («Проверить снова») until the tenant's period ends. A failure to
// keep them never fails the login.
func (s *Service) keepValues(ctx context.Context, a store.Attempt, p linking.Person) {
	if s.cfg.Values == nil {
		return
	}
	data, err := linking.EncodePerson(p)
	if err == nil {
		err = s.cfg.Values.KeepAttemptValues(ctx, store.AttemptValues{Ref: a.Ref, TenantID: a.TenantID, Data: data, KeptAt: s.cfg.Now().UTC()})
	}
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "keeping the values for a re-check failed", "ref", a.Ref, "error", err)
	}
}
