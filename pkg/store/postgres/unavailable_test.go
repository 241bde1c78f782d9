package postgres_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// closedPort returns 127.0.0.1:<a port nobody listens on>.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestOutageIsUnavailable: when the database cannot be used — a server
// that refuses connections, a database whose connections were terminated
// and that lets no new one in — every call the login and the token
// endpoint make fails with store.ErrUnavailable (the cause kept), never
// with ErrNotFound or a bare driver error; while it is up, a missing
// client is still ErrNotFound and a duplicate still ErrAlreadyExists.
func TestOutageIsUnavailable(t *testing.T) {
	ctx := context.Background()
	pii, err := keyring.OpenPII(ctx, memory.New(nil), testKEK(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	open := func(t *testing.T, url string) *postgres.Store {
		pool, err := postgres.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		return postgres.New(pool, nil).WithSealer(pii)
	}
	calls := []struct {
		name string
		call func(ctx context.Context, s *postgres.Store) error
	}{
		{"GetClient", func(ctx context.Context, s *postgres.Store) error { _, err := s.GetClient(ctx, "diary"); return err }},
		{"GetTenant", func(ctx context.Context, s *postgres.Store) error { _, err := s.GetTenant(ctx, "t1"); return err }},
		{"RecordAttempt", func(ctx context.Context, s *postgres.Store) error {
			return s.RecordAttempt(ctx, store.Attempt{Ref: "ABCDE12345", Outcome: "in_progress"}, store.AttemptEvent{Step: "authorize"})
		}},
		{"GetOAuthRecord", func(ctx context.Context, s *postgres.Store) error {
			_, err := s.GetOAuthRecord(ctx, store.OAuthAccess, "sig")
			return err
		}},
		{"GetOAuthRecordSet", func(ctx context.Context, s *postgres.Store) error {
			_, err := s.GetOAuthRecordSet(ctx, "sig", []store.OAuthKind{store.OAuthCode, store.OAuthPKCE})
			return err
		}},
		{"ApplyOAuth", func(ctx context.Context, s *postgres.Store) error {
			return s.ApplyOAuth(ctx, store.OAuthBatch{Delete: []store.OAuthRef{{Kind: store.OAuthAccess, Signature: "sig"}}})
		}},
		{"DeactivateOAuthRequest", func(ctx context.Context, s *postgres.Store) error {
			return s.DeactivateOAuthRequest(ctx, store.OAuthAccess, "req")
		}},
		{"InTx", func(ctx context.Context, s *postgres.Store) error {
			return s.InTx(ctx, func(ctx context.Context) error { _, err := s.GetTenant(ctx, "t1"); return err })
		}},
		{"Ping", func(ctx context.Context, s *postgres.Store) error { return s.Ping(ctx) }},
	}
	outages := []struct {
		name string
		down func(t *testing.T) *postgres.Store
	}{
		{"server refuses connections", func(t *testing.T) *postgres.Store {
			return open(t, "postgres://postgres@"+closedPort(t)+"/broker?sslmode=disable&connect_timeout=5")
		}},
		{"connections terminated, none let in", func(t *testing.T) *postgres.Store {
			url := pgtest.NewDatabase(t)
			s := open(t, url)
			if err := s.CreateTenant(ctx, store.Tenant{ID: "t1"}); err != nil { // the pool holds a live connection
				t.Fatal(err)
			}
			pgtest.Cut(t, url)
			return s
		}},
	}
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			s := o.down(t)
			for _, c := range calls {
				ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				err := c.call(ctx, s)
				cancel()
				if !errors.Is(err, store.ErrUnavailable) {
					t.Errorf("%s: %v, want store.ErrUnavailable", c.name, err)
				}
				if errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: an outage reads as not found: %v", c.name, err)
				}
			}
		})
	}
	t.Run("up", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.GetClient(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("missing client: %v", err)
		}
		if err := s.CreateTenant(ctx, store.Tenant{ID: "t1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateTenant(ctx, store.Tenant{ID: "t1"}); !errors.Is(err, store.ErrAlreadyExists) || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("duplicate tenant: %v", err)
		}
	})
}
