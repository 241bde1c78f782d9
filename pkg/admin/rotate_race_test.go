package admin_test

import (
	"context"
	"crypto/subtle"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/admin"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// TestConcurrentSecretRotations: two rotations of one client at once —
// two operators, or a retried API call — follow each other in the store
// (the client's row is locked for the change): the secret that ends up
// current keeps the other rotation's secret as its previous one, so no
// secret that was handed out stops working before its grace period.
func TestConcurrentSecretRotations(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) admin.Store
	}{
		{"memory", func(t *testing.T) admin.Store { return memory.New(nil) }},
		{"postgres", func(t *testing.T) admin.Store { return postgres.New(pgtest.NewPool(t), nil) }},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			st := be.open(t)
			if err := st.CreateTenant(ctx, store.Tenant{ID: "t1", DisplayName: "Д", OperatorName: "О", OperatorAddress: "А",
				TimeZone: "Europe/Moscow", Consent: store.DefaultConsentPolicy()}); err != nil {
				t.Fatal(err)
			}
			if err := st.CreateClient(ctx, store.Client{ID: "c1", TenantID: "t1", Name: "diary", SecretHash: oauth.HashSecret("s0"),
				GrantTypes: []string{"client_credentials"}, Scopes: []string{"roster"}}); err != nil {
				t.Fatal(err)
			}
			svc := &admin.Service{Store: st}
			for round := 0; round < 10; round++ {
				var wg sync.WaitGroup
				secrets := make([]string, 2)
				for i := range secrets {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, s, err := svc.RotateSecret(ctx, admin.Actor{ID: "broker-cli"}, "c1", time.Hour)
						if err != nil {
							t.Error(err)
						}
						secrets[i] = s
					}()
				}
				wg.Wait()
				c, err := st.GetClient(ctx, "c1")
				if err != nil {
					t.Fatal(err)
				}
				is := func(hash []byte, secret string) bool {
					return subtle.ConstantTimeCompare(hash, oauth.HashSecret(secret)) == 1
				}
				ok := (is(c.SecretHash, secrets[0]) && is(c.PreviousSecretHash, secrets[1])) ||
					(is(c.SecretHash, secrets[1]) && is(c.PreviousSecretHash, secrets[0]))
				if !ok {
					t.Fatalf("round %d: one of the two new secrets was lost (current and previous are not the two)", round)
				}
			}
		})
	}
}
