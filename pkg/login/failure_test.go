package login_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/sessions"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
)

// upstream is an ESIA that always lets the person in; it keeps the state
// of the last AuthURL.
type upstream struct{ state string }

func (u *upstream) AuthURL(_ context.Context, state string, _ url.Values) (string, error) {
	u.state = state
	return "https://esia.example/aas/oauth2/v2/ac?state=" + state, nil
}

func (u *upstream) Exchange(context.Context, string) (*esia.Token, error) {
	return &esia.Token{AccessToken: "a", Identity: esia.Identity{OID: "1000100001"}}, nil
}

func (u *upstream) Person(context.Context, *esia.Token) (*esia.Person, error) {
	return &esia.Person{LastName: "Иванова"}, nil
}

// brokenSessions is a sessions store whose calls fail with an error that
// does not say it is an outage (a store breaking its contract must not
// make the login blame ESIA either).
type brokenSessions struct{ sessions.Store }

var errDial = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

func (brokenSessions) Put(context.Context, string, []byte, time.Duration) error { return errDial }
func (brokenSessions) Get(context.Context, string) ([]byte, error)              { return nil, errDial }
func (brokenSessions) Take(context.Context, string) ([]byte, error)             { return nil, errDial }

// downStore is the memory store whose tenants and attempts fail, once down,
// as PostgreSQL's do when it cannot be reached.
type downStore struct {
	*memory.Store
	mu   sync.Mutex
	down bool
}

func (d *downStore) fault(op string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down {
		return fmt.Errorf("postgres: %s: %w: failed to connect to `database=broker`: connection refused", op, store.ErrUnavailable)
	}
	return nil
}

func (d *downStore) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	if err := d.fault("get tenant"); err != nil {
		return store.Tenant{}, err
	}
	return d.Store.GetTenant(ctx, id)
}

func (d *downStore) RecordAttempt(ctx context.Context, a store.Attempt, evs ...store.AttemptEvent) error {
	if err := d.fault("record attempt"); err != nil {
		return err
	}
	return d.Store.RecordAttempt(ctx, a, evs...)
}

type fixture struct {
	svc  *login.Service
	st   *downStore
	up   *upstream
	logs *bytes.Buffer
}

func newFixture(t *testing.T, ss sessions.Store) *fixture {
	f := &fixture{st: &downStore{Store: memory.New(nil)}, up: &upstream{}, logs: &bytes.Buffer{}}
	if err := f.st.CreateTenant(context.Background(), store.Tenant{ID: "t1"}); err != nil {
		t.Fatal(err)
	}
	if ss == nil {
		ss = sessions.NewMemory(nil)
	}
	f.svc = login.New(login.Config{ESIA: f.up, Sessions: ss, Attempts: f.st, Tenants: f.st, Roster: f.st,
		Logger: slog.New(slog.NewJSONHandler(f.logs, nil))})
	return f
}

var diaryRequest = &oauth.AuthorizeRequest{ClientID: "diary", TenantID: "t1", RedirectURI: "https://diary.example/cb", State: "state-12345678"}

// TestStoreFailuresAreNotESIAs: a login that fails because a store of the
// broker could not be used is classified by that store — never
// esia_unavailable — carries a reference code, and is kept where it can
// be: in the database when the session store is down, in an ERROR log
// line when the database is down.
func TestStoreFailuresAreNotESIAs(t *testing.T) {
	ctx := context.Background()
	t.Run("session store down when the login starts", func(t *testing.T) {
		f := newFixture(t, brokenSessions{})
		started, err := f.svc.Begin(ctx, diaryRequest, nil)
		ref := started.Ref
		if reason, m := login.Classify(err); reason != login.ReasonSessionStoreUnavailable || m.Title != "Сервис временно недоступен" {
			t.Fatalf("Begin: %v classified %q %q", err, reason, m.Title)
		}
		if !errors.Is(err, errDial) {
			t.Fatalf("the cause is lost: %v", err)
		}
		a, gerr := f.st.GetAttempt(ctx, ref)
		if gerr != nil || a.Reason != login.ReasonSessionStoreUnavailable || a.TenantID != "t1" {
			t.Fatalf("attempt %s: %+v %v", ref, a, gerr)
		}
	})
	t.Run("session store down when ESIA sends the person back", func(t *testing.T) {
		f := newFixture(t, brokenSessions{})
		res, err := f.svc.Callback(ctx, url.Values{"state": {"0b5c3e1a-0000-4000-8000-000000000000"}, "code": {"c"}}, "")
		if err != nil || res.Reason != login.ReasonSessionStoreUnavailable || len(res.Pending.Ref) != 10 {
			t.Fatalf("Callback: %+v %v", res, err)
		}
		a, gerr := f.st.GetAttempt(ctx, res.Pending.Ref)
		if gerr != nil || a.Reason != login.ReasonSessionStoreUnavailable || len(a.Events) != 1 || a.Events[0].Step != "callback" {
			t.Fatalf("attempt %s: %+v %v", res.Pending.Ref, a, gerr)
		}
		if !strings.Contains(f.logs.String(), `"level":"ERROR"`) || !strings.Contains(f.logs.String(), res.Pending.Ref) {
			t.Fatalf("no ERROR line with the reference code: %s", f.logs)
		}
	})
	t.Run("database down when ESIA sends the person back", func(t *testing.T) {
		f := newFixture(t, nil)
		started, err := f.svc.Begin(ctx, diaryRequest, nil)
		if err != nil {
			t.Fatal(err)
		}
		ref := started.Ref
		f.st.mu.Lock()
		f.st.down = true
		f.st.mu.Unlock()
		res, err := f.svc.Callback(ctx, url.Values{"state": {f.up.state}, "code": {"c"}}, started.Binding.Value)
		if err != nil || res.Reason != login.ReasonDatabaseUnavailable || res.Pending.Ref != ref ||
			res.Message.Title != "Сервис временно недоступен" {
			t.Fatalf("Callback: %+v %v", res, err)
		}
		logs := f.logs.String()
		if !strings.Contains(logs, `"msg":"login failed: store unavailable","ref":"`+ref+`"`) || !strings.Contains(logs, "connection refused") {
			t.Fatalf("no ERROR line with the reference code and the cause: %s", logs)
		}
	})
	t.Run("ESIA's garbage is ESIA's, not an outage", func(t *testing.T) {
		err := fmt.Errorf("esia: person: %w", esia.ErrInvalidAnswer)
		if reason, _ := login.Classify(err); reason != login.ReasonESIAInvalidAnswer {
			t.Fatalf("classified %q", reason)
		}
	})
}
