package main_test

import (
	"encoding/json"
	"html"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
	"github.com/diarybroker/broker/pkg/sessions/sessionstest"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// TestServeReloadsESIATrustOnSIGHUP runs `broker serve` and `broker
// esia-sim` as an operator would, the broker trusting another ESIA
// certificate than the simulator's. Logins fail until the operator puts the
// simulator's certificate (from --cert-out) into the trust file and sends
// SIGHUP; then they succeed — without a restart.
func TestServeReloadsESIATrustOnSIGHUP(t *testing.T) {
	db := pgtest.NewDatabase(t)       // skips, or fails under CI=true, without PostgreSQL
	redis := sessionstest.NewRedis(t) // the same for Redis; cleans its prefix
	dir := t.TempDir()
	sys := newSystem(t, dir)
	const kek = testKEK
	env := []string{"BROKER_DATABASE_URL=" + db, "BROKER_KEK=" + kek}

	// The operator's set-up: a tenant, a diary's client, the roster.
	for _, args := range [][]string{
		{"tenants", "create", "msk", "--name", "Дневник", "--operator", "ГБУ «Оператор»", "--operator-address", "Москва, ул. Тверская, 1"},
		{"roster", "import", "--tenant", "msk", "--quiet", writeFile(t, dir, "roster.ndjson", []byte(teacherRow+"\n"))},
	} {
		if out, errOut, code := broker(t, env, "", args...); code != 0 {
			t.Fatalf("broker %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	const diaryRedirect = "https://diary.example/cb"
	out, errOut, code := broker(t, env, "", "clients", "create", "--tenant", "msk", "--redirect-uri", diaryRedirect, "--json")
	var client struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &client); code != 0 || err != nil {
		t.Fatalf("clients create: exit %d %v\n%s%s", code, err, out, errOut)
	}

	// The broker's address goes into the simulator's --redirect-uri before
	// the broker starts: take a free port.
	brokerAddr := freeAddr(t)
	issuer := "http://" + brokerAddr
	certOut := filepath.Join(dir, "esia-sim.pem")
	sim := startSim(t, "--client-id", "DIARYTEST", "--client-cert", sys.certFile, "--redirect-uri", issuer+"/esia/callback",
		"--esia-persons", sys.personsFile, "--cert-out", certOut)

	// The broker trusts an unrelated ESIA certificate.
	_, stale, err := esiasim.SelfSignedGOST("ЕСИА, прежний ключ", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	trust := writeFile(t, dir, "esia-trust.pem", gost.MarshalCertificatePEM(stale))

	started := time.Now()
	srv := startBroker(t, append(env,
		"BROKER_ADDR="+brokerAddr, "BROKER_METRICS_ADDR="+freeAddr(t), "BROKER_ISSUER="+issuer, "BROKER_LOG_FORMAT=json", "BROKER_RATE_LIMIT=0",
		"BROKER_REDIS_URL="+sessionstest.RedisURL(), "BROKER_REDIS_PREFIX="+redis.Prefix(),
		"BROKER_ESIA_BASE_URL="+sim.base, "BROKER_ESIA_CLIENT_ID=DIARYTEST", "BROKER_ESIA_SIGNER=gost:"+sys.keyFile,
		"BROKER_ESIA_CERTIFICATE="+sys.certFile, "BROKER_ESIA_TRUST="+trust, "BROKER_ESIA_ISSUER="+sim.issuer,
	), "serve")
	// SIGHUP is handled from here on; the line names the redirect URI to register in ESIA.
	srv.waitFor(regexp.MustCompile(`"msg":"broker ready".*"esia_redirect_uri":"` + regexp.QuoteMeta(issuer+"/esia/callback") + `"`))

	d := &oauth2.Config{ClientID: client.ID, ClientSecret: client.Secret, RedirectURL: diaryRedirect, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: issuer + "/oauth2/auth", TokenURL: issuer + "/oauth2/token"}}
	refused := func(when string) {
		t.Helper()
		if code, failure := diaryLogin(t, sim, d, diaryRedirect, oidTeacher); code != "" || failure != "esia_token_invalid" {
			t.Fatalf("login %s: code %q, failure %q; want esia_token_invalid", when, code, failure)
		}
	}
	refused("with the stale certificate")

	// The operator replaces the trust file's contents (atomically, as the
	// file may be read at any moment). The file alone changes nothing ...
	next := writeFile(t, dir, "esia-trust.pem.new", readFile(t, certOut))
	if err := os.Rename(next, trust); err != nil {
		t.Fatal(err)
	}
	refused("before SIGHUP")
	// ... SIGHUP reloads it. The reload runs on the broker's background
	// goroutine: poll, boundedly.
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var got, failure string
	for i := 0; i < 50; i++ {
		if got, failure = diaryLogin(t, sim, d, diaryRedirect, oidTeacher); got != "" || failure != "esia_token_invalid" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got == "" {
		t.Fatalf("login after SIGHUP: failure %q\n%s", failure, srv.out)
	}
	// The periodic re-read (every minute, the first a minute after the
	// start) cannot have done it.
	if time.Since(started) >= time.Minute {
		t.Fatalf("the test took %v since the broker started: the reload may be the minute's, not SIGHUP's", time.Since(started))
	}
	select {
	case <-srv.done:
		t.Fatalf("broker exited after SIGHUP:\n%s", srv.out)
	default:
	}
}

// freeAddr returns a loopback address with a port free at the moment.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var (
	csrfField  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	loginField = regexp.MustCompile(`name="login" value="([^"]+)"`)
	// failureReason is the reason on a failure page's link back to the diary.
	failureReason = regexp.MustCompile(`error_description=([a-z_]+)`)
)

// diaryLogin is a person logging in to the diary d through the broker and
// the standalone simulator sim, choosing oid on the simulator's page and
// accepting the broker's consent page if it shows one. It returns the
// authorization code the diary got, or the reason of the broker's failure
// page.
func diaryLogin(t *testing.T, sim simulator, d *oauth2.Config, diaryRedirect, oid string) (code, failure string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), diaryRedirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	state := "state-" + oauth2.GenerateVerifier()[:16]
	page := answer(t)
	_, body := page(c.Get(d.AuthCodeURL(state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("nonce", "nonce-"+oauth2.GenerateVerifier()[:16]))))
	resp, body, _ := sim.choose(t, c, body, oid)
	if strings.Contains(body, `action="/consent"`) {
		csrf, id := csrfField.FindStringSubmatch(body), loginField.FindStringSubmatch(body)
		if csrf == nil || id == nil {
			t.Fatalf("consent page without its form fields: %.500s", body)
		}
		u := resp.Request.URL
		resp, body = page(c.PostForm(u.Scheme+"://"+u.Host+"/consent", url.Values{"csrf": {html.UnescapeString(csrf[1])},
			"login": {html.UnescapeString(id[1])}, "decision": {"accept"}}))
	}
	if loc, err := url.Parse(resp.Header.Get("Location")); err == nil && strings.HasPrefix(loc.String(), diaryRedirect) {
		if q := loc.Query(); q.Get("state") == state && q.Get("code") != "" {
			return q.Get("code"), ""
		}
		t.Fatalf("the diary got %s", loc)
	}
	if m := failureReason.FindStringSubmatch(body); m != nil {
		return "", m[1]
	}
	t.Fatalf("login ended on an unexpected page: %d %.800s", resp.StatusCode, body)
	return "", ""
}
