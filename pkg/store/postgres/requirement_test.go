package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres"
)

// withdrawalFixture is a tenant with a student linked to an ESIA person,
// a parental consent granted for them, and a code of the person's.
type withdrawalFixture struct {
	s   *postgres.Store
	now time.Time
	req store.OAuthRequirement
}

const (
	wfTenant, wfOID, wfPerson, wfConsent = "t1", "1000100001", "s-1", "consent-1"
	wfSubject, wfRequest, wfCode         = "pairwise-sub", "req-1", "code-sig"
)

func newWithdrawalFixture(t *testing.T) withdrawalFixture {
	t.Helper()
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	const tenant, oid, person, consentID, subject, req = wfTenant, wfOID, wfPerson, wfConsent, wfSubject, wfRequest
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
	code := store.OAuthRecord{Kind: store.OAuthCode, Signature: wfCode, RequestID: req, ClientID: "diary", TenantID: tenant,
		Subject: subject, Active: true, Data: []byte(`{"x":1}`), CreatedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
	if err := s.CreateOAuthRecord(ctx, code); err != nil {
		t.Fatal(err)
	}
	return withdrawalFixture{s: s, now: now,
		req: store.OAuthRequirement{TenantID: tenant, ESIAOID: oid, PersonID: person, ConsentID: consentID}}
}

// exchange is the code's exchange with its requirement.
func (f withdrawalFixture) exchange(ctx context.Context) error {
	return f.s.ApplyOAuth(ctx, store.OAuthBatch{
		Require: &f.req,
		Gate:    &store.OAuthRef{Kind: store.OAuthCode, Signature: wfCode},
		Grant: &store.OAuthGrant{RequestID: wfRequest, ClientID: "diary", TenantID: wfTenant, Subject: wfSubject, Data: []byte(`{"x":1}`),
			CreatedAt: f.now, ExpiresAt: f.now.Add(time.Hour), Access: "nonce", Refresh: "refresh-key", RefreshAt: f.now,
			RefreshExpiresAt: f.now.Add(time.Hour)},
	})
}

// withdraw ends the consent and revokes the person's tokens in one
// transaction, as consent.Service does; between the two it sends on ended
// and waits for release, when they are given.
func (f withdrawalFixture) withdraw(ctx context.Context, ended chan<- error, release <-chan struct{}) error {
	return f.s.InTx(ctx, func(ctx context.Context) error {
		err := f.s.EndConsent(ctx, wfTenant, wfConsent, store.ConsentRevoked, "", f.now)
		if ended != nil {
			ended <- err
			<-release
		}
		if err != nil {
			return err
		}
		_, err = f.s.RevokeOAuthSubject(ctx, wfTenant, wfSubject)
		return err
	})
}

// TestExchangeWaitsForWithdrawal: a code exchanged while a consent
// withdrawal is in flight — its transaction has ended the consent but not
// yet revoked the person's codes and tokens, nor committed — waits for it,
// then fails with ErrUnmet and writes no grant; the withdrawal goes through
// (the exchange takes the consent's row before the code's, as the
// withdrawal does, so neither deadlocks the other). This is the case of a
// code written just after a withdrawal's revocation ran: only its
// requirement stops it becoming a grant.
func TestExchangeWaitsForWithdrawal(t *testing.T) {
	f := newWithdrawalFixture(t)
	s, ctx := f.s, context.Background()
	ended, release := make(chan error, 1), make(chan struct{})
	withdrawn := make(chan error, 1)
	go func() { withdrawn <- f.withdraw(ctx, ended, release) }()
	if err := <-ended; err != nil {
		close(release)
		t.Fatalf("withdrawal: %v", err)
	}
	exchanged := make(chan error, 1)
	go func() { exchanged <- f.exchange(ctx) }()
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
	if _, err := s.GetOAuthGrant(ctx, wfRequest); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("grant after the withdrawal: %v, want ErrNotFound", err)
	}
}

// TestWithdrawalWaitsForExchange: the other order. An exchange whose
// transaction has written its grant, holding the consent's row, makes the
// withdrawal wait on that row; once the exchange commits, the withdrawal
// goes on and revokes the grant it wrote.
func TestWithdrawalWaitsForExchange(t *testing.T) {
	f := newWithdrawalFixture(t)
	s, ctx := f.s, context.Background()
	applied, release, exchanged := heldTx(s, f.exchange)
	if err := <-applied; err != nil {
		close(release)
		t.Fatalf("exchange: %v", err)
	}
	withdrawn := make(chan error, 1)
	go func() { withdrawn <- f.withdraw(ctx, nil, nil) }()
	if !awaitLockWait(t, s, "%UPDATE consents%") {
		close(release)
		t.Fatalf("the withdrawal never waited on the exchange's consent row (it answered %v)", drain(withdrawn))
	}
	close(release)
	if err := <-exchanged; err != nil {
		t.Fatalf("exchange commit: %v", err)
	}
	if err := <-withdrawn; err != nil {
		t.Fatalf("the withdrawal failed: %v", err)
	}
	g, err := s.GetOAuthGrant(ctx, wfRequest)
	if err != nil {
		t.Fatal(err)
	}
	if g.RevokedAt.IsZero() {
		t.Fatal("the grant the exchange committed during the withdrawal is live")
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
