package server_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/sessions/sessionstest"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// startServe runs `serve` on a fresh PostgreSQL database and Redis, with a
// standalone simulator as ESIA, configured the way an operator would:
// files for the GOST key, the system certificate and ESIA's certificate.
func startServe(t testing.TB) (*broker, *esiasim.Simulator) {
	t.Helper()
	dbURL := pgtest.NewDatabase(t)
	redis := sessionstest.NewRedis(t) // skips, or fails under CI=true, without Redis; cleans its prefix
	dir := t.TempDir()
	key, certDER, err := esiasim.SelfSignedGOST("Дневник-брокер (test)", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := gost.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyFile, certFile := write("system.key.pem", keyPEM), write("system.crt.pem", gost.MarshalCertificatePEM(certDER))

	// The simulator must know the broker's redirect URI, which depends on
	// the broker's port: build it behind an httptest server first.
	var sim *esiasim.Simulator
	simSrv := httptest.NewServer(nil)
	t.Cleanup(simSrv.Close)
	var b *broker
	b = startBroker(t, false, func(s *server.Settings) {
		signer, err := esiasim.NewGOSTSigner("ЕСИА (test)", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		sim, err = esiasim.New(esiasim.Config{BaseURL: simSrv.URL, TokenSigner: signer,
			Clients: []esiasim.Client{{ID: "DIARYTEST", RedirectURIs: []string{s.Issuer + "/esia/callback"}, Certificate: certDER}}})
		if err != nil {
			t.Fatal(err)
		}
		simSrv.Config.Handler = sim
		s.DatabaseURL = dbURL
		s.RedisURL = sessionstest.RedisURL()
		s.RedisPrefix = redis.Prefix()
		s.KEK = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
		s.ESIA = server.ESIASettings{BaseURL: simSrv.URL, ClientID: "DIARYTEST", Signer: "gost:" + keyFile,
			Certificate: certFile, Trust: trustDir(t, dir, sim.CertificatesPEM()), Issuer: sim.Issuer(),
			Scopes: server.DefaultESIAScopes, Timeout: 5 * time.Second}
	})
	t.Cleanup(sim.Close)
	// An operator would run `broker tenants create`, `broker clients create`
	// and `broker roster import`; the same calls here.
	ctx := context.Background()
	st := b.comp.Store
	if err := st.CreateTenant(ctx, server.DemoTenant()); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateClient(ctx, store.Client{ID: server.DevClientID, TenantID: server.DevTenant,
		SecretHash: oauth.HashSecret(server.DevClientSecret), RedirectURIs: []string{diaryRedirect},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"openid", "profile"}}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("demo/roster.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := (&linking.Importer{Roster: st, Index: b.comp.PII}).Import(ctx, server.DevTenant, f)
	if err != nil || len(rep.Errors) > 0 {
		t.Fatalf("roster: %+v %v", rep, err)
	}
	return b, sim
}

func TestLoginEndToEndServeOnPostgresAndRedis(t *testing.T) {
	b, _ := startServe(t)
	d := newDiary(b)
	br := newBrowser(t)
	// serve never passes simulator parameters: the person chooses on the
	// simulator's page, as on the real ESIA.
	page := br.get(d.authURL())
	o := br.chooseOnSimulator(page, oidTeacher)
	tok, claims := tokens(t, b, d, o)
	if claims["person_id"] != "t-0001" || claims["esia_trust"] != "confirmed" {
		t.Fatalf("claims = %v", claims)
	}
	// The refresh token rotates.
	tok.Expiry = time.Now().Add(-time.Minute)
	next, err := d.cfg.TokenSource(context.Background(), tok).Token()
	if err != nil || next.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %v", err)
	}
	// A replayed code fails and revokes the whole grant, refreshed tokens too.
	if _, err := d.cfg.Exchange(context.Background(), o.Redirect.Query().Get("code"), oauth2.VerifierOption(d.verifier)); err == nil {
		t.Fatal("code replay accepted")
	}
	next.Expiry = time.Now().Add(-time.Minute)
	if _, err := d.cfg.TokenSource(context.Background(), next).Token(); err == nil {
		t.Fatal("refresh token still works after its code was replayed")
	}
}

func TestServeFailuresOnPostgresAndRedis(t *testing.T) {
	b, sim := startServe(t)
	sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointToken, Status: 502, Times: 1})
	d := newDiary(b)
	br := newBrowser(t)
	o := br.chooseOnSimulator(br.get(d.authURL()), oidTeacher)
	ref := errorRedirect(t, o, d, "esia_unavailable")
	a, err := b.comp.Store.GetAttempt(context.Background(), ref)
	if err != nil || a.Reason != "esia_unavailable" {
		t.Fatalf("attempt %+v %v", a, err)
	}
	d2 := newDiary(b)
	br2 := newBrowser(t)
	errorRedirect(t, br2.chooseOnSimulator(br2.get(d2.authURL()), oidNotInRoster), d2, "not_found")
	// /readyz sees both services.
	r := newBrowser(t).get(b.URL + "/readyz")
	if r.Status != 200 || !strings.Contains(r.Body, `"postgres":"ok"`) || !strings.Contains(r.Body, `"redis":"ok"`) {
		t.Fatalf("readyz: %d %s", r.Status, r.Body)
	}
}

// TestWrongKEKIsAClearError: a replica started with another BROKER_KEK
// than the one that sealed the stored keys refuses to start, and says why.
func TestWrongKEKIsAClearError(t *testing.T) {
	db := pgtest.NewDatabase(t)
	build := func(kek string) error {
		s := server.DefaultSettings()
		s.Dev, s.DatabaseURL, s.KEK, s.Addr = true, db, kek, "127.0.0.1:0"
		s.Issuer = "http://127.0.0.1:1"
		c, err := server.Build(context.Background(), s, server.BuildOptions{Logger: discardLogger()})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := build("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="); err != nil {
		t.Fatal(err)
	}
	err := build("ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=")
	if err == nil || !strings.Contains(err.Error(), "BROKER_KEK") {
		t.Fatalf("wrong KEK: %v", err)
	}
	if err := build("too-short"); err == nil || !strings.Contains(err.Error(), "BROKER_KEK") {
		t.Fatalf("malformed KEK: %v", err)
	}
}

// trustDir makes the directory of ESIA certificates the broker trusts.
func trustDir(t testing.TB, dir string, pemData []byte) string {
	d := filepath.Join(dir, "esia-certs")
	if err := os.MkdirAll(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "esia.pem"), pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRotatedESIACertificateWithoutRestart: ESIA starts signing with a key
// the broker does not know yet; once the operator drops the new
// certificate into the trust directory, the next reload (every minute, or
// SIGHUP) picks it up — no restart.
func TestRotatedESIACertificateWithoutRestart(t *testing.T) {
	b, sim := startServe(t)
	dir := b.comp.Settings.ESIA.Trust
	// Replace the trusted certificate by an unrelated one (ESIA rotated).
	_, other, err := esiasim.SelfSignedGOST("old ESIA key", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "esia.pem"), gost.MarshalCertificatePEM(other), 0o600); err != nil {
		t.Fatal(err)
	}
	b.comp.ReloadESIATrust()
	d := newDiary(b)
	br := newBrowser(t)
	errorRedirect(t, br.chooseOnSimulator(br.get(d.authURL()), oidTeacher), d, "esia_token_invalid")

	// The operator adds ESIA's new certificate beside the old one.
	if err := os.WriteFile(filepath.Join(dir, "esia-2026.pem"), sim.CertificatesPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	b.comp.ReloadESIATrust()
	d2 := newDiary(b)
	br2 := newBrowser(t)
	tokens(t, b, d2, br2.chooseOnSimulator(br2.get(d2.authURL()), oidTeacher))
}

// TestSweepRemovesExpiredTokens: the janitor deletes tokens once expired
// (the clock is injected), and only those.
func TestSweepRemovesExpiredTokens(t *testing.T) {
	b, _ := startServe(t)
	d := newDiary(b)
	br := newBrowser(t)
	tokens(t, b, d, br.chooseOnSimulator(br.get(d.authURL()), oidTeacher))
	if n := b.comp.Sweep(context.Background()); n != 0 {
		t.Fatalf("swept %d live records", n)
	}
	b.clock.Advance(2 * time.Hour) // the code is past expiry (the access token has no row)
	if n := b.comp.Sweep(context.Background()); n < 1 {
		t.Fatalf("swept %d records, want the code", n)
	}
	b.clock.Advance(31 * 24 * time.Hour) // the refresh token (30 days), which its grant keeps, is over
	if n := b.comp.Sweep(context.Background()); n != 0 {
		t.Fatalf("swept %d records, want none: the grant outlives its last token by a tenth of the refresh lifespan", n)
	}
	b.clock.Advance(3 * 24 * time.Hour) // and the grant too
	if n := b.comp.Sweep(context.Background()); n < 1 {
		t.Fatalf("swept %d records, want the grant", n)
	}
}
