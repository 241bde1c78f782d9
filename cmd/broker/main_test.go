package main_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/esia/gost"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

var brokerBin string

func TestMain(m *testing.M) {
	// The tests' http.Get calls talk to broker processes they started: one
	// that accepts and never answers fails the test instead of hanging it.
	http.DefaultClient.Timeout = time.Minute
	dir, err := os.MkdirTemp("", "broker-cli")
	if err != nil {
		panic(err)
	}
	brokerBin = filepath.Join(dir, "broker")
	if out, err := exec.Command("go", "build", "-o", brokerBin, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// brokerRunLimit bounds one run of the command in broker: some tests run
// serve or dev expecting it to refuse a setting at once, and one that
// starts after all must fail the test, not hold go test until its limit.
const brokerRunLimit = 3 * time.Minute

// broker runs the command with env and stdin; it returns stdout, stderr
// and the exit code.
func broker(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), brokerRunLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, brokerBin, args...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("broker %s: still running after %s, stopped (stderr: %s)", strings.Join(args, " "), brokerRunLimit, errb.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// testKEK is the key-encryption key of the tests' databases.
const testKEK = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// operatorDB makes a throw-away database and the environment that points
// operator commands at it.
func operatorDB(t *testing.T) (string, []string) {
	t.Helper()
	db := pgtest.NewDatabase(t)
	return db, []string{"BROKER_DATABASE_URL=" + db, "BROKER_KEK=" + testKEK}
}

func TestOperatorCommandsOnPostgres(t *testing.T) {
	db, env := operatorDB(t)
	run := func(want int, stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := broker(t, env, stdin, args...)
		if code != want {
			t.Fatalf("broker %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out + errOut
	}
	run(0, "", "migrate", "up")
	if out := run(0, "", "migrate", "status"); !strings.Contains(out, "true") {
		t.Fatalf("migrate status: %s", out)
	}
	out := run(0, "", "tenants", "create", "msk", "--name", "Дневник Москвы", "--operator", "ГБУ «Оператор»", "--operator-address", "Москва, ул. Тверская, 1", "--allow-name-match")
	// The secret in the Standard Webhooks form the libraries take.
	if !strings.Contains(out, "webhook secret") || !regexp.MustCompile(`secret \(shown once\): whsec_[A-Za-z0-9+/]{43}=`).MatchString(out) {
		t.Fatalf("tenants create: %s", out)
	}
	run(2, "", "tenants", "create", "bad", "--name", "x", "--operator", "x", "--operator-address", "x", "--time-zone", "Mars/Olympus")
	if out := run(0, "", "tenants", "list"); !strings.Contains(out, "msk") || !strings.Contains(out, "Europe/Moscow") {
		t.Fatalf("tenants list: %s", out)
	}
	var created struct{ ClientID, ClientSecret string }
	out = run(0, "", "clients", "create", "--json", "--redirect-uri", "https://diary.example/cb", "--tenant", "msk")
	if err := json.Unmarshal([]byte(out), &struct {
		ClientID     *string `json:"client_id"`
		ClientSecret *string `json:"client_secret"`
	}{&created.ClientID, &created.ClientSecret}); err != nil || created.ClientID == "" || len(created.ClientSecret) < 40 {
		t.Fatalf("clients create: %s", out)
	}
	run(2, "", "clients", "create", "--tenant", "msk") // authorization_code needs a redirect URI
	run(2, "", "clients", "create", "--tenant", "msk", "--grant", "password", "--redirect-uri", "https://x/cb")
	if out := run(0, "", "clients", "list", "--tenant", "msk"); !strings.Contains(out, created.ClientID) || strings.Contains(out, created.ClientSecret) {
		t.Fatalf("clients list: %s", out)
	}
	roster := strings.Join([]string{
		`{"type":"person","external_id":"s-1","role":"student","last_name":"Иванов","first_name":"Пётр","birth_date":"2013-05-14","snils":"112-233-445 95"}`,
		`{"type":"person","external_id":"p-1","role":"parent","last_name":"Иванова","first_name":"Анна","birth_date":"1985-01-02","snils":"123-456-789 00"}`,
		`{"type":"person","external_id":"bad","role":"student","last_name":"X","first_name":"Y","birth_date":"2013-02-30"}`,
		`not json`,
		`{"type":"relation","parent":"p-1","student":"s-1","kind":"mother"}`,
		`{"type":"relation","parent":"p-1","student":"ghost","kind":"mother"}`,
	}, "\n")
	out, _, code := broker(t, env, roster, "roster", "import", "-", "--tenant", "msk", "--quiet")
	var rep struct {
		Persons, Relations, Flagged int
		Errors                      []struct {
			Line  int
			Field string
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 {
		t.Fatalf("roster import: exit %d: %s", code, out)
	}
	if rep.Persons != 2 || rep.Relations != 1 || rep.Flagged != 1 || len(rep.Errors) != 3 {
		t.Fatalf("report = %+v", rep)
	}
	for _, secret := range []string{"Иванов", "112-233-445", "2013-02-30"} {
		if strings.Contains(out, secret) {
			t.Fatalf("import report quotes personal data %q", secret)
		}
	}
	// Flags may come before or after the positional argument.
	for _, tc := range []struct {
		name string
		args func(file string) []string
	}{
		{"flags before the file", func(f string) []string { return []string{"roster", "import", "--tenant", "msk", "--quiet", f} }},
		{"flags after the file", func(f string) []string { return []string{"roster", "import", f, "--tenant", "msk", "--quiet"} }},
		{"flags around the file", func(f string) []string { return []string{"roster", "import", "--quiet", f, "--tenant", "msk"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "order-" + strings.ReplaceAll(tc.name, " ", "-")
			file := filepath.Join(t.TempDir(), "roster.ndjson")
			row := `{"type":"person","external_id":"` + id + `","role":"teacher","last_name":"Петрова","first_name":"Ольга","birth_date":"1980-01-02"}`
			if err := os.WriteFile(file, []byte(row+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			out, errOut, code := broker(t, env, "", tc.args(file)...)
			var rep struct{ Persons, Relations int }
			if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Persons != 1 {
				t.Fatalf("broker %s: exit %d, report %s\nstderr: %s", strings.Join(tc.args(file), " "), code, out, errOut)
			}
			if !rosterHas(t, db, "msk", id) {
				t.Fatalf("%s: %s not in roster_persons", tc.name, id)
			}
		})
	}
	if out := run(0, "", "keys", "rotate", "--kind", "signing"); !strings.Contains(out, "new signing key") {
		t.Fatalf("keys rotate signing: %s", out)
	}
	if out := run(0, "", "keys", "rotate", "--kind", "pii"); !strings.Contains(out, "new personal-data key") {
		t.Fatalf("keys rotate pii: %s", out)
	}
	if out := run(0, "", "consents", "export", "s-1", "--tenant", "msk"); !strings.Contains(out, `"person_id": "s-1"`) || !strings.Contains(out, `"consents"`) {
		t.Fatalf("consents export: %s", out)
	}
	run(0, "", "clients", "delete", created.ClientID)
	run(2, "", "clients", "delete", created.ClientID)
	// The wrong KEK is refused with a clear message.
	_, errOut, code := broker(t, []string{"BROKER_DATABASE_URL=" + db, "BROKER_KEK=ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="}, "", "tenants", "list")
	if code == 0 || !strings.Contains(errOut, "BROKER_KEK") {
		t.Fatalf("wrong KEK: exit %d %s", code, errOut)
	}
}

// rosterHas reports whether the tenant's roster holds the record, read
// straight from the database rather than through the command under test.
func rosterHas(t *testing.T, dbURL, tenant, externalID string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM roster_persons WHERE tenant_id = $1 AND external_id = $2", tenant, externalID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestServeNamesMissingSettings(t *testing.T) {
	_, errOut, code := broker(t, []string{"BROKER_DATABASE_URL=", "BROKER_REDIS_URL=", "BROKER_KEK="}, "", "serve")
	if code == 0 || !strings.Contains(errOut, "BROKER_DATABASE_URL") || !strings.Contains(errOut, "BROKER_ESIA_SIGNER") {
		t.Fatalf("serve without settings: exit %d: %s", code, errOut)
	}
}

func TestGostCommands(t *testing.T) {
	dir := t.TempDir()
	key, err := gost.GenerateKey(gost.CryptoProA(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := gost.MarshalPrivateKeyPEM(key)
	_, certDER, err := esiasim.SelfSignedGOST("test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.pem")
	os.WriteFile(keyFile, keyPEM, 0o600)
	// A certificate for key: sign it with the key itself.
	tmpl := &gost.CertificateTemplate{SerialNumber: bigOne(), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := gost.CreateCertificate(rand.Reader, tmpl, nil, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, "cert.pem")
	os.WriteFile(certFile, gost.MarshalCertificatePEM(der), 0o600)
	otherFile := filepath.Join(dir, "other.pem")
	os.WriteFile(otherFile, gost.MarshalCertificatePEM(certDER), 0o600)

	msg := "DIARYBROKERopenid fullname2026.11.24 10:00:00 +0300a3b2c1d0-0000-4000-8000-000000000000https://id.example/esia/callback"
	sig, _, code := broker(t, nil, msg, "gost", "sign", "--key", keyFile)
	sig = strings.TrimSpace(sig)
	if code != 0 || len(sig) != 86 {
		t.Fatalf("gost sign: exit %d, %q", code, sig)
	}
	if _, _, code := broker(t, nil, msg, "gost", "verify", "--cert", certFile, "--sig="+sig); code != 0 {
		t.Fatal("own signature does not verify")
	}
	if _, _, code := broker(t, nil, msg+"x", "gost", "verify", "--cert", certFile, "--sig="+sig); code != 1 {
		t.Fatalf("tampered message: exit %d, want 1", code)
	}
	if _, _, code := broker(t, nil, msg, "gost", "verify", "--cert", otherFile, "--sig="+sig); code != 1 {
		t.Fatalf("other certificate: exit %d, want 1", code)
	}
	// One signature in 64 begins with '-' in base64url: as a separate
	// argument kong reads it as a flag (exit 80, "own signature does not
	// verify" once in a while), so the docs and this test write --sig=SIG.
	// Find such a signature and check it verifies written so.
	dash := ""
	for i := 0; i < 2000 && dash == ""; i++ {
		raw, err := gost.SignMessage(rand.Reader, key, []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		if s := base64.RawURLEncoding.EncodeToString(raw); s[0] == '-' {
			dash = s
		}
	}
	if dash == "" {
		t.Fatal("no signature beginning with '-' in 2000 tries")
	}
	if _, _, code := broker(t, nil, msg, "gost", "verify", "--cert", certFile, "--sig="+dash); code != 0 {
		t.Fatalf("signature %s… does not verify", dash[:8])
	}
	rev, _, _ := broker(t, nil, msg, "gost", "sign", "--key", keyFile, "--reversed", "--padded")
	if _, _, code := broker(t, nil, msg, "gost", "verify", "--cert", certFile, "--sig="+strings.TrimSpace(rev), "--reversed"); code != 0 {
		t.Fatal("CryptoPro-order signature does not verify with --reversed")
	}
	hash, _, code := broker(t, nil, "", "gost", "cert-hash", certFile)
	if code != 0 || strings.TrimSpace(hash) != gost.CertificateHash(der) || len(strings.TrimSpace(hash)) != 64 {
		t.Fatalf("cert-hash = %q", hash)
	}
}

// TestVersion: broker version prints the version, the commit and the build
// time — from -ldflags when the release build sets them, else from the Go
// build information and the binary's time.
func TestVersion(t *testing.T) {
	stamped := filepath.Join(t.TempDir(), "broker")
	ldflags := "-X main.version=v1.2.0 -X main.commit=0123456789abcdef -X main.buildTime=2026-12-07T04:00:00Z"
	if out, err := exec.Command("go", "build", "-ldflags", ldflags, "-o", stamped, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(stamped, "version").Output()
	if want := "broker v1.2.0\ncommit 0123456789abcdef\nbuilt 2026-12-07T04:00:00Z\n"; err != nil || string(out) != want {
		t.Fatalf("stamped version = %q (%v), want %q", out, err, want)
	}

	plain, _, code := broker(t, nil, "", "version")
	lines := strings.Split(strings.TrimSpace(plain), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "broker ") || !strings.HasPrefix(lines[1], "commit ") || !strings.HasPrefix(lines[2], "built ") {
		t.Fatalf("version: %d %q", code, plain)
	}
	if _, err := time.Parse(time.RFC3339, strings.TrimPrefix(lines[2], "built ")); err != nil {
		t.Fatalf("build time %q: %v", lines[2], err)
	}
}

// TestUnknownFlagSuggests: a mistyped flag gets one line naming the flag
// meant and the command's --help, not the whole usage.
func TestUnknownFlagSuggests(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"dev", "--adress", "127.0.0.1:1"}, "broker: error: unknown flag --adress, did you mean --addr? (see broker dev --help)"},
		{[]string{"serve", "--databse-url", "x"}, `broker: error: unknown flag --databse-url, did you mean "--database-url"? (see broker serve --help)`},
		{[]string{"tenants", "update", "demo", "--purpse", "x"}, `broker: error: unknown flag --purpse, did you mean "--purpose"? (see broker tenants update --help)`},
		{[]string{"dev", "--zzzz"}, "broker: error: unknown flag --zzzz (see broker dev --help)"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := broker(t, nil, "", tc.args...)
			if code != 80 || strings.TrimSpace(stderr) != tc.want {
				t.Fatalf("exit %d, stderr %q, want %q", code, stderr, tc.want)
			}
		})
	}
}
