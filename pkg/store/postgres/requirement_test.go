package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// TestExchangeWaitsForWithdrawal: a code exchanged while a consent
// withdrawal is in flight — its transaction has ended the consent but not
// yet revoked the person's codes and tokens, nor committed — waits for it,
// then fails with ErrUnmet and writes no grant; the withdrawal goes through
// (the exchange takes the consent's row before the code's, as the
// withdrawal does, so neither deadlocks the other). This is the case of a
// code written just after a withdrawal's revocation ran: only its
// requirement stops it becoming a grant.
func TestExchangeWaitsForWithdrawal(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	const tenant, oid, person, consentID, subject, req = "t1", "1000100001", "s-1", "consent-1", "pairwise-sub", "req-1"
	if err := s.CreateTenant(ctx, store.Tenant{ID: tenant, DisplayName: "Дневник", OperatorName: "ГБУ «Оператор»",
		OperatorAddress: "Москва", TimeZone: "Europe/Moscow", Consent: store.DefaultConsentPolicy(), CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertPersons(ctx, tenant, []store.Person{{ExternalID: person, Role: store.RoleStudent, LastName: "Иванов",
		FirstName: "Пётр", BirthDate: store.Date{Year: 2012, Month: 5, Day: 14}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLink(ctx, store.Link{TenantID: tenant, ESIAOID: oid, ExternalID: person, Role: store.RoleStudent, Rung: "snils"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConsent(ctx, store.Consent{ID: consentID, TenantID: tenant, PersonID: person, Kind: store.ConsentParental,
		GrantorOID: "1000100002", TextVersion: "1", TextHash: "9f86d081884c7d65", Status: store.ConsentGranted, GrantedAt: now}); err != nil {
		t.Fatal(err)
	}
	code := store.OAuthRecord{Kind: store.OAuthCode, Signature: "code-sig", RequestID: req, ClientID: "diary", TenantID: tenant,
		Subject: subject, Active: true, Data: []byte(`{"x":1}`), CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
	if err := s.CreateOAuthRecord(ctx, code); err != nil {
		t.Fatal(err)
	}

	ended, release := make(chan error, 1), make(chan struct{})
	withdrawn := make(chan error, 1)
	go func() {
		withdrawn <- s.InTx(ctx, func(ctx context.Context) error {
			err := s.EndConsent(ctx, tenant, consentID, store.ConsentRevoked, "", now)
			ended <- err
			<-release
			if err != nil {
				return err
			}
			_, err = s.RevokeOAuthSubject(ctx, tenant, subject)
			return err
		})
	}()
	if err := <-ended; err != nil {
		close(release)
		t.Fatalf("withdrawal: %v", err)
	}
	exchanged := make(chan error, 1)
	go func() {
		exchanged <- s.ApplyOAuth(ctx, store.OAuthBatch{
			Require: &store.OAuthRequirement{TenantID: tenant, ESIAOID: oid, PersonID: person, ConsentID: consentID},
			Gate:    &store.OAuthRef{Kind: store.OAuthCode, Signature: code.Signature},
			Grant: &store.OAuthGrant{RequestID: req, ClientID: "diary", TenantID: tenant, Subject: subject, Data: []byte(`{"x":1}`),
				CreatedAt: now, ExpiresAt: now.Add(time.Hour), Access: "nonce", Refresh: "refresh-key", RefreshAt: now,
				RefreshExpiresAt: now.Add(time.Hour)},
		})
	}()
	// The exchange must be waiting on the consent's row before the
	// withdrawal goes on.
	if !awaitLockWait(t, s, "%FOR SHARE OF l, c%") {
		close(release)
		t.Fatalf("the exchange never waited on the consent's row (it answered %v)", drain(exchanged))
	}
	close(release)
	if err := <-withdrawn; err != nil {
		t.Fatalf("the withdrawal failed: %v", err)
	}
	if err := <-exchanged; !errors.Is(err, store.ErrUnmet) {
		t.Fatalf("exchange = %v, want ErrUnmet", err)
	}
	if _, err := s.GetOAuthGrant(ctx, req); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("grant after the withdrawal: %v, want ErrNotFound", err)
	}
}

// drain returns what c holds now, nil when nothing.
func drain(c <-chan error) error {
	select {
	case err := <-c:
		return err
	default:
		return nil
	}
}
