package linking_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// pausingLinks is a store whose DeleteLink of one link waits, before it
// deletes, until the test lets it go.
type pausingLinks struct {
	*postgres.Store
	record  string
	reached chan struct{}
	release chan struct{}
	once    sync.Once
}

func (p *pausingLinks) DeleteLink(ctx context.Context, tenantID, oid, externalID string) error {
	if externalID == p.record {
		p.once.Do(func() { close(p.reached); <-p.release })
	}
	return p.Store.DeleteLink(ctx, tenantID, oid, externalID)
}

type storeRevoker struct{ s *postgres.Store }

func (r storeRevoker) RevokeSubject(ctx context.Context, tenantID, subject string) (int, error) {
	return r.s.RevokeOAuthSubject(ctx, tenantID, subject)
}

type subjectOf struct{}

func (subjectOf) Subject(_, oid string) string { return "sub-" + oid }

// TestUnlinkRecordsBeforeRevoking: a roster delete of two records of one
// person, in one transaction, while a code of that person resting on the
// second record's link (t-1; p-1's goes first) is exchanged. The
// unlinking removes both links before it revokes the person's codes, so
// the exchange — which takes its link's row before its code's — either
// finishes first (its grant is then revoked with the rest) or finds the
// link gone. It never waits on a code the unlinking holds while the
// unlinking waits on its link: that deadlock (one side killed after
// deadlock_timeout) is what revoking after each link led to.
func TestUnlinkRecordsBeforeRevoking(t *testing.T) {
	ctx := context.Background()
	st := postgres.New(pgtest.NewPool(t), testPII(t))
	mustTenant(t, st)
	const oid = "1000100001"
	now := time.Now().UTC()
	must(t, st.UpsertPersons(ctx, "t1", []store.Person{
		{ExternalID: "t-1", Role: store.RoleTeacher, LastName: "Иванова", FirstName: "Анна"},
		{ExternalID: "p-1", Role: store.RoleParent, LastName: "Иванова", FirstName: "Анна"},
	}))
	for _, r := range []string{"t-1", "p-1"} {
		must(t, st.CreateLink(ctx, store.Link{TenantID: "t1", ESIAOID: oid, ExternalID: r, Role: store.RoleTeacher, Rung: "snils"}))
		must(t, st.CreateConsent(ctx, store.Consent{ID: "consent-" + r, TenantID: "t1", PersonID: r, Kind: store.ConsentSelf,
			GrantorOID: oid, TextVersion: "1", TextHash: "9f86d081884c7d65", Status: store.ConsentGranted, GrantedAt: now}))
	}
	must(t, st.CreateOAuthRecord(ctx, store.OAuthRecord{Kind: store.OAuthCode, Signature: "code-sig", RequestID: "req-1",
		ClientID: "diary", TenantID: "t1", Subject: "sub-" + oid, Active: true, Data: []byte(`{"x":1}`), CreatedAt: now,
		ExpiresAt: now.Add(5 * time.Minute)}))

	links := &pausingLinks{Store: st, record: "t-1", reached: make(chan struct{}), release: make(chan struct{})}
	admin := &linking.LinkAdmin{Links: links, Tokens: storeRevoker{st}, Subjects: subjectOf{}}
	unlinked := make(chan error, 1)
	go func() {
		unlinked <- st.InTx(ctx, func(ctx context.Context) error {
			_, err := admin.UnlinkRecords(ctx, "t1", []string{"t-1", "p-1"})
			return err
		})
	}()
	select {
	case <-links.reached: // p-1's link is gone (uncommitted); t-1's is next
	case err := <-unlinked:
		t.Fatalf("the unlinking ended before t-1's link: %v", err)
	}
	exchanged := make(chan error, 1)
	go func() {
		exchanged <- st.ApplyOAuth(ctx, store.OAuthBatch{
			Require: &store.OAuthRequirement{TenantID: "t1", ESIAOID: oid, PersonID: "t-1", ConsentID: "consent-t-1"},
			Gate:    &store.OAuthRef{Kind: store.OAuthCode, Signature: "code-sig"},
			Grant: &store.OAuthGrant{RequestID: "req-1", ClientID: "diary", TenantID: "t1", Subject: "sub-" + oid,
				Data: []byte(`{"x":1}`), CreatedAt: now, ExpiresAt: now.Add(time.Hour), Refresh: "refresh-key", RefreshAt: now,
				RefreshExpiresAt: now.Add(time.Hour)},
		})
	}()
	// Nothing of the unlinking holds the code or t-1's link yet (links go
	// in their records' order: p-1 first): the exchange goes through.
	select {
	case err := <-exchanged:
		if err != nil {
			close(links.release)
			t.Fatalf("exchange during the unlinking: %v", err)
		}
	case <-time.After(20 * time.Second):
		close(links.release)
		t.Fatal("the exchange waited on the unlinking, which had revoked the person's codes before removing all their links")
	}
	close(links.release)
	if err := <-unlinked; err != nil {
		t.Fatalf("unlinking: %v", err)
	}
	g, err := st.GetOAuthGrant(ctx, "req-1")
	must(t, err)
	if g.RevokedAt.IsZero() {
		t.Fatal("the grant the exchange wrote during the unlinking is live")
	}
	for _, r := range []string{"t-1", "p-1"} {
		if ls, err := st.LinksByRecord(ctx, "t1", r); err != nil || len(ls) != 0 {
			t.Fatalf("links of %s after the unlinking: %+v, %v", r, ls, err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
