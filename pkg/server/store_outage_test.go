package server_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/sessions/sessionstest"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

const testKEK = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

var shownRef = regexp.MustCompile(`Код обращения: <strong>([0-9A-Z]{5}-[0-9A-Z]{5})</strong>`)

// unavailablePage checks the «Сервис временно недоступен» page of a store
// outage — 503, Retry-After, a reference code, nothing about Госуслуги —
// and returns the code.
func unavailablePage(t *testing.T, o outcome) string {
	t.Helper()
	if o.Status != http.StatusServiceUnavailable || !strings.Contains(o.Body, "<h1>Сервис временно недоступен</h1>") {
		t.Fatalf("page %d: %.800s", o.Status, o.Body)
	}
	if strings.Contains(o.Body, "Госуслуги недоступны") || strings.Contains(o.Body, "Неверный запрос") {
		t.Fatalf("the outage is blamed on ESIA or the diary: %.800s", o.Body)
	}
	m := shownRef.FindStringSubmatch(o.Body)
	if m == nil {
		t.Fatalf("no reference code: %.800s", o.Body)
	}
	ref, err := login.ParseRef(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// getWithHeaders is browser.get that also returns Retry-After.
func (b *browser) getRetryAfter(u string) (outcome, string) {
	b.t.Helper()
	resp, err := b.client.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	ra := resp.Header.Get("Retry-After")
	return b.outcome(resp), ra
}

func metricsOf(t *testing.T, b *broker) string { return newBrowser(t).get(b.URL + "/metrics").Body }

func wantMetrics(t *testing.T, m string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(m, w) {
			t.Errorf("metrics lack %s in %s", w, grepLines(m, "broker_store_unavailable_total"))
		}
	}
	if strings.Contains(m, `outcome="esia_unavailable"`) {
		t.Error("a store outage counted as esia_unavailable")
	}
}

// TestRedisDownIsNotAnESIAOutage: with Redis refusing connections (a real
// URL to a closed port, a real PostgreSQL), a login ends on the
// «Сервис временно недоступен» page — 503, Retry-After, a reference code,
// the way back to the diary with session_store_unavailable — the attempt
// is in the database under that reason, the ERROR line names the cause,
// and the metrics say session_store_unavailable, never esia_unavailable.
// A callback that cannot reach its pending login gets the same page with a
// new reference code, also recorded.
func TestRedisDownIsNotAnESIAOutage(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	b := startBroker(t, true, func(s *server.Settings) {
		s.DatabaseURL, s.KEK = pgtest.NewDatabase(t), testKEK
		s.RedisURL = "redis://" + closed + "/0?max_retries=-1"
	})
	ctx := context.Background()

	d := newDiary(b)
	o, retry := newBrowser(t).getRetryAfter(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacher)))
	ref := unavailablePage(t, o)
	if retry != "30" {
		t.Errorf("Retry-After %q", retry)
	}
	if back := errorRedirect(t, o, d, "session_store_unavailable"); back != ref {
		t.Fatalf("the way back carries %s, the page %s", back, ref)
	}
	a, err := b.comp.Store.GetAttempt(ctx, ref)
	if err != nil || a.Reason != "session_store_unavailable" || a.Outcome != "session_store_unavailable" || a.ClientID != server.DevClientID {
		t.Fatalf("attempt %s: %+v %v", ref, a, err)
	}
	if logs := b.logs.String(); !strings.Contains(logs, `"level":"ERROR","msg":"login could not start","ref":"`+ref+`","reason":"session_store_unavailable"`) ||
		!strings.Contains(logs, "connection refused") {
		t.Fatalf("no ERROR line with the reference code and the cause: %s", logs)
	}

	o = newBrowser(t).get(b.URL + "/esia/callback?state=" + url.QueryEscape("8c0f6f1e-1d0e-4c59-9d39-3f3c2c7d2a10") + "&code=c")
	ref2 := unavailablePage(t, o)
	if strings.Contains(o.Body, "Вернуться в дневник") {
		t.Error("a way back to a diary the broker cannot know")
	}
	if a, err := b.comp.Store.GetAttempt(ctx, ref2); err != nil || a.Reason != "session_store_unavailable" {
		t.Fatalf("callback attempt %s: %+v %v", ref2, a, err)
	}
	// The parent's page: the same, recorded for the parent's page.
	o = newBrowser(t).get(b.URL + "/parent?tenant=" + server.DevTenant)
	ref3 := unavailablePage(t, o)
	if a, err := b.comp.Store.GetAttempt(ctx, ref3); err != nil || a.Reason != "session_store_unavailable" || a.TenantID != server.DevTenant {
		t.Fatalf("parent's page attempt %s: %+v %v", ref3, a, err)
	}
	wantMetrics(t, metricsOf(t, b),
		`broker_store_unavailable_total{route="/parent",store="session_store"} 1`,
		`broker_logins_total{outcome="session_store_unavailable"} 2`,
		`broker_store_unavailable_total{route="/oauth2/auth",store="session_store"} 1`,
		`broker_store_unavailable_total{route="/esia/callback",store="session_store"} 1`)
}

// TestDatabaseDownIsNotAWrongClient: with PostgreSQL cut off (its
// connections terminated, none let in), the token endpoint answers 503
// temporarily_unavailable with Retry-After — not 401 invalid_client — to
// the diary's standard OAuth client; /oauth2/auth shows
// «Сервис временно недоступен» (503, a reference code in the ERROR line)
// whether the client was cached or not; the metrics say
// database_unavailable. When the database is back, logins work again.
func TestDatabaseDownIsNotAWrongClient(t *testing.T) {
	db := pgtest.NewDatabase(t)
	redis := sessionstest.NewRedis(t)
	b := startBroker(t, true, func(s *server.Settings) {
		s.DatabaseURL, s.KEK = db, testKEK
		s.RedisURL, s.RedisPrefix = sessionstest.RedisURL(), redis.Prefix()
	})
	ctx := context.Background()
	d := newDiary(b)
	held := loginAs(t, b, d, oidTeacher) // a code the diary has not exchanged yet
	if held.Redirect == nil || held.Redirect.Query().Get("code") == "" {
		t.Fatalf("login before the outage: %d %.300s", held.Status, held.Body)
	}
	api := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	restore := pgtest.Cut(t, db)

	// The API: its bearer token cannot be read — a 503 problem, not a 401.
	if r := call(t, http.MethodGet, b.URL+"/api/v1/roster/persons/t-0001/links", api, "", ""); r.Status != http.StatusServiceUnavailable ||
		!strings.Contains(r.Body, "database_unavailable") {
		t.Fatalf("API: %d %s", r.Status, r.Body)
	}

	cfg := *d.cfg
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInHeader // one request (auto-detection retries a failure)
	exchange := func(cached bool) {
		t.Helper()
		_, err := cfg.Exchange(ctx, held.Redirect.Query().Get("code"), oauth2.VerifierOption(d.verifier))
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusServiceUnavailable || re.ErrorCode != "temporarily_unavailable" ||
			re.Response.Header.Get("Retry-After") != "30" {
			t.Fatalf("token endpoint (client cached: %v): %v", cached, err)
		}
	}
	exchange(true)

	// The client is cached: the login reaches ESIA and fails after it.
	d2 := newDiary(b)
	o := loginAs(t, b, d2, oidTeacher)
	ref := unavailablePage(t, o)
	errorRedirect(t, o, d2, "database_unavailable")
	if !strings.Contains(b.logs.String(), `"msg":"login failed: store unavailable","ref":"`+ref+`","step":"tenant","reason":"database_unavailable"`) {
		t.Fatalf("no ERROR line with %s: %s", ref, b.logs)
	}

	// The client is not cached: the same answer at the token endpoint, and
	// at /oauth2/auth the page at once, with no way back (the client is not
	// validated).
	b.comp.OAuth.ForgetClient(server.DevClientID)
	exchange(false)
	o, retry := newBrowser(t).getRetryAfter(newDiary(b).authURL())
	ref = unavailablePage(t, o)
	if retry != "30" || strings.Contains(o.Body, "Вернуться в дневник") {
		t.Fatalf("Retry-After %q, page %.600s", retry, o.Body)
	}
	logs := b.logs.String()
	if !strings.Contains(logs, `"msg":"login could not start","ref":"`+ref+`","reason":"database_unavailable"`) ||
		!strings.Contains(logs, "not currently accepting connections") {
		t.Fatalf("no ERROR line with %s and the cause: %s", ref, logs)
	}
	wantMetrics(t, metricsOf(t, b),
		`broker_logins_total{outcome="database_unavailable"} 2`,
		`broker_store_unavailable_total{route="/oauth2/token",store="database"} 2`,
		`broker_store_unavailable_total{route="/esia/callback",store="database"} 1`,
		`broker_store_unavailable_total{route="/oauth2/auth",store="database"} 1`,
		`broker_store_unavailable_total{route="/api/v1/roster/persons/:id/links",store="database"} 1`)

	restore()
	if _, err := d.cfg.Exchange(ctx, held.Redirect.Query().Get("code"), oauth2.VerifierOption(d.verifier)); err != nil {
		t.Fatalf("the code held through the outage: %v", err)
	}
	d3 := newDiary(b)
	tokens(t, b, d3, loginAs(t, b, d3, oidTeacher))
}

// TestESIAGarbageIsAnInvalidAnswer: ESIA answering 200 with something that
// is not the protocol — a maintenance page at the token endpoint, a
// truncated person — ends on its own page with a reference code, goes back
// to the diary as esia_invalid_answer, is stored and counted under it, not
// as esia_unavailable.
func TestESIAGarbageIsAnInvalidAnswer(t *testing.T) {
	b := startBroker(t, true, nil)
	for _, f := range []esiasim.Fault{
		{Endpoint: esiasim.EndpointToken, Body: "<html><body>Технические работы</body></html>", Times: 1},
		{Endpoint: esiasim.EndpointPerson, Body: `{"firstName":"Ел`, ContentType: "application/json", Times: 2},
	} {
		b.comp.Simulator.InjectFault(f)
		d := newDiary(b)
		o := loginAs(t, b, d, oidTeacher)
		if !strings.Contains(o.Body, "<h1>Госуслуги прислали непонятный ответ</h1>") {
			t.Fatalf("%s: page %.600s", f.Endpoint, o.Body)
		}
		ref := errorRedirect(t, o, d, "esia_invalid_answer")
		if a, err := b.comp.Store.GetAttempt(context.Background(), ref); err != nil || a.Reason != "esia_invalid_answer" {
			t.Fatalf("%s: attempt %+v %v", f.Endpoint, a, err)
		}
	}
	wantMetrics(t, metricsOf(t, b), `broker_logins_total{outcome="esia_invalid_answer"} 2`)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
