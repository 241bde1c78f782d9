package esia_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/esia/esiasim"
)

func TestExchange(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		oid     string
		level   esia.Level
		trusted bool
		amr     []string
	}{
		{"1000100003", esia.LevelChild, false, []string{"PWD"}},
		{"1000100001", esia.LevelConfirmed, true, []string{"PWD"}},
		{"1000100005", esia.LevelSimplified, false, []string{"PWD"}},
		{"1000100015", esia.LevelConfirmed, true, []string{"DS"}},
	}
	for _, tc := range tests {
		t.Run(tc.oid, func(t *testing.T) {
			tok := w.login(tc.oid)
			id := tok.Identity
			if id.OID != tc.oid || id.Level != tc.level || id.Trusted != tc.trusted || !slices.Equal(id.AMR, tc.amr) {
				t.Errorf("identity %+v", id)
			}
			if id.SessionID == "" || id.SubjectType != "P" || !id.AuthTime.Equal(today) {
				t.Errorf("identity %+v", id)
			}
			if !slices.Equal(id.Scopes, allScopes) || !id.HasScope("kid_snils") {
				t.Errorf("scopes %v", id.Scopes)
			}
			if !tok.Expiry.Equal(today.Add(time.Hour)) || tok.TokenType != "Bearer" || tok.IDToken == "" || tok.RefreshToken != "" {
				t.Errorf("token %+v", tok)
			}
			if !tok.Valid(today) || tok.Valid(today.Add(time.Hour)) {
				t.Error("Valid")
			}
		})
	}
}

// fakeTokenEndpoint serves /aas/oauth2/v3/te with answer(form) and records
// the forms it got; the Config trusts k's old and current ESIA keys.
func fakeTokenEndpoint(t *testing.T, k testKeys, answer func(form url.Values) (int, any)) (*esia.Config, func() []url.Values) {
	t.Helper()
	var forms []url.Values
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != esia.PathToken || r.Method != http.MethodPost {
			http.NotFound(rw, r)
			return
		}
		_ = r.ParseForm()
		<-mu
		forms = append(forms, r.PostForm)
		mu <- struct{}{}
		status, body := answer(r.PostForm)
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(status)
		if s, ok := body.(string); ok {
			_, _ = rw.Write([]byte(s))
			return
		}
		_ = json.NewEncoder(rw).Encode(body)
	}))
	t.Cleanup(srv.Close)
	cfg := &esia.Config{
		BaseURL: srv.URL, ClientID: clientID, CertificateHash: hash64, RedirectURL: redirect,
		Scopes: []string{"openid", "fullname"}, Signer: &recordingSigner{},
		Issuer: "http://esia-portal1.test.gosuslugi.ru/",
		Keys:   esia.NewKeySet(cert(t, k.esiaOld.Certificate()), cert(t, k.esia.Certificate())),
		Now:    func() time.Time { return today },
	}
	return cfg, func() []url.Values {
		<-mu
		defer func() { mu <- struct{}{} }()
		return append([]url.Values(nil), forms...)
	}
}

func TestExchangeRequest(t *testing.T) {
	cfg, forms := fakeTokenEndpoint(t, keys(), func(url.Values) (int, any) {
		return 400, map[string]string{"error": "invalid_grant", "error_description": "ESIA-007011: The code is expired"}
	})
	signer := cfg.Signer.(*recordingSigner)
	_, err := cfg.Exchange(context.Background(), "CODE-JWT")
	if !errors.Is(err, esia.ErrCodeInvalid) {
		t.Fatalf("err %v, want ErrCodeInvalid", err)
	}
	fs := forms()
	if len(fs) != 1 {
		t.Fatalf("%d requests, want exactly 1 (never retried)", len(fs))
	}
	f := fs[0]
	want := map[string]string{
		"client_id": clientID, "code": "CODE-JWT", "grant_type": "authorization_code",
		"client_certificate_hash": hash64, "client_secret": secret86, "redirect_uri": redirect,
		"scope": "openid fullname", "timestamp": "2026.11.24 10:00:00 +0300", "token_type": "Bearer",
	}
	for k, v := range want {
		if f.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, f.Get(k), v)
		}
	}
	if _, err := uuid.Parse(f.Get("state")); err != nil || len(f.Get("state")) != 36 {
		t.Errorf("state %q is not a UUID", f.Get("state"))
	}
	wantMsg := clientID + "openid fullname" + "2026.11.24 10:00:00 +0300" + f.Get("state") + redirect + "CODE-JWT"
	if signer.last() != wantMsg {
		t.Errorf("signed %q, want %q", signer.last(), wantMsg)
	}
	var e *esia.Error
	if !errors.As(err, &e) || e.Code != "ESIA-007011" || e.HTTPStatus != 400 || e.OAuthError != "invalid_grant" || e.Retryable {
		t.Errorf("error %#v", e)
	}
	if !strings.HasPrefix(err.Error(), "esia: token exchange: ") {
		t.Errorf("error not wrapped with context: %v", err)
	}
}

// claimsAt returns valid access and ID token claims for oid at now.
func claimsAt(now time.Time) (access, id map[string]any) {
	access = map[string]any{
		"nbf": now.Unix(), "scope": "openid fullname?oid=1000100001", "iss": "http://esia-portal1.test.gosuslugi.ru/",
		"urn:esia:sid": "sid-1", "urn:esia:sbj_id": 1000100001, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
		"client_id": clientID,
	}
	id = map[string]any{
		"aud": clientID, "sub": 1000100001, "nbf": now.Unix(), "amr": "PWD", "auth_time": now.Unix(),
		"iss": "http://esia-portal1.test.gosuslugi.ru/", "urn:esia:sid": "sid-1", "exp": now.Add(time.Hour).Unix(),
		"iat": now.Unix(), "urn:esia:sbj": map[string]any{"urn:esia:sbj:typ": "P", "urn:esia:sbj:oid": 1000100001,
			"urn:esia:sbj:is_tru": true, "urn:esia:sbj:lvl": "PR"},
	}
	return access, id
}

// TestTokenVerification checks ESIA's tokens with both algorithms: the
// signature against the key set, issuer, audience and the time claims with
// their leeway.
func TestTokenVerification(t *testing.T) {
	for _, k := range keySets() {
		t.Run(k.name, func(t *testing.T) { testTokenVerification(t, k) })
	}
}

func testTokenVerification(t *testing.T, k testKeys) {
	// otherAlg names the other algorithm family over k's signatures.
	otherAlg := map[string]string{esia.AlgGOST: esia.AlgRS256, esia.AlgRS256: esia.AlgGOST}[k.alg]
	tests := []struct {
		name   string
		answer func(state string) map[string]any // nil: valid tokens
		reason string                            // "" for success
		target error
	}{
		{name: "valid"},
		{name: "signed by the older trusted key", answer: func(s string) map[string]any {
			a, i := claimsAt(today)
			return tokens(s, mint(k.esiaOld, "", a), mint(k.esiaOld, "", i))
		}},
		{name: "exp within leeway", answer: func(s string) map[string]any {
			a, i := claimsAt(today.Add(-time.Hour + -59*time.Second))
			return tokens(s, mint(k.esia, "", a), mint(k.esia, "", i))
		}},
		{name: "expired beyond leeway", reason: "access token invalid: expired", answer: func(s string) map[string]any {
			a, i := claimsAt(today.Add(-time.Hour + -61*time.Second))
			return tokens(s, mint(k.esia, "", a), mint(k.esia, "", i))
		}},
		{name: "not yet valid", reason: "access token invalid: not yet valid", answer: func(s string) map[string]any {
			a, i := claimsAt(today.Add(2 * time.Minute))
			a["iat"] = today.Unix()
			return tokens(s, mint(k.esia, "", a), mint(k.esia, "", i))
		}},
		{name: "issued in the future", reason: "id token invalid: issued in the future", answer: func(s string) map[string]any {
			a, i := claimsAt(today)
			i["iat"] = today.Add(2 * time.Minute).Unix()
			return tokens(s, mint(k.esia, "", a), mint(k.esia, "", i))
		}},
		{name: "no exp", reason: "access token invalid: no exp", answer: func(s string) map[string]any {
			a, i := claimsAt(today)
			delete(a, "exp")
			return tokens(s, mint(k.esia, "", a), mint(k.esia, "", i))
		}},
		{name: "tampered payload", reason: "access token invalid: signature does not verify with any ESIA key", answer: func(s string) map[string]any {
			a, i := claimsAt(today)
			good := mint(k.esia, "", a)
			a["urn:esia:sbj_id"] = 1000100002
			evil := mint(k.rogue, "", a)
			parts, evilParts := strings.Split(good, "."), strings.Split(evil, ".")
			return tokens(s, parts[0]+"."+evilParts[1]+"."+parts[2], mint(k.esia, "", i))
		}},
		{name: "untrusted key", reason: "id token invalid: signature does not verify with any ESIA key", answer: func(s string) map[string]any {
			a, i := claimsAt(today)
			return tokens(s, mint(k.esia, "", a), mint(k.rogue, "", i))
		}},
		{name: "alg none", reason: "access token invalid: unsupported alg", answer: func(s string) map[string]any {
			a, i := claimsAt(today)
			return tokens(s, mint(k.esia, "none", a), mint(k.esia, "", i))
		}},
		{name: "alg HS256", reason: "access token invalid: unsupported alg", answer: func(s string) map[string]any {
			a, i := claimsAt(today)
			return tokens(s, mint(k.esia, "HS256", a), mint(k.esia, "", i))
		}},
		{name: "the other family's alg over the signature", reason: "access token invalid: signature does not verify with any ESIA key", answer: func(s string) map[string]any {
			a, i := claimsAt(today)
			return tokens(s, mint(k.esia, otherAlg, a), mint(k.esia, "", i))
		}},
		{name: "wrong issuer", reason: "access token invalid: wrong issuer", answer: func(s string) map[string]any {
			a, i := claimsAt(today)
			a["iss"] = "http://esia.gosuslugi.ru/"
			return tokens(s, mint(k.esia, "", a), mint(k.esia, "", i))
		}},
		{name: "wrong client_id", reason: "access token invalid: wrong audience", answer: func(s string) map[string]any {
			a, i := claimsAt(today)
			a["client_id"] = "OTHER"
			return tokens(s, mint(k.esia, "", a), mint(k.esia, "", i))
		}},
		{name: "wrong aud", reason: "id token invalid: wrong audience", answer: func(s string) map[string]any {
			a, i := claimsAt(today)
			i["aud"] = []string{"OTHER"}
			return tokens(s, mint(k.esia, "", a), mint(k.esia, "", i))
		}},
		{name: "aud as a list", answer: func(s string) map[string]any {
			a, i := claimsAt(today)
			i["aud"] = []string{"OTHER", clientID}
			return tokens(s, mint(k.esia, "", a), mint(k.esia, "", i))
		}},
		{name: "no audience", reason: "access token invalid: no audience", answer: func(s string) map[string]any {
			a, i := claimsAt(today)
			delete(a, "client_id")
			return tokens(s, mint(k.esia, "", a), mint(k.esia, "", i))
		}},
		{name: "subjects differ", reason: "id token invalid: subject differs from the access token", answer: func(s string) map[string]any {
			a, i := claimsAt(today)
			i["sub"] = "1000100002"
			return tokens(s, mint(k.esia, "", a), mint(k.esia, "", i))
		}},
		{name: "malformed", reason: "access token invalid: malformed", answer: func(s string) map[string]any {
			_, i := claimsAt(today)
			return tokens(s, "not.a-jwt", mint(k.esia, "", i))
		}},
		{name: "ID token missing with openid", reason: "id token invalid: missing", answer: func(s string) map[string]any {
			a, _ := claimsAt(today)
			m := tokens(s, mint(k.esia, "", a), "")
			delete(m, "id_token")
			return m
		}},
		{name: "state mismatch", target: esia.ErrStateMismatch, answer: func(string) map[string]any {
			a, i := claimsAt(today)
			return tokens(uuid.NewString(), mint(k.esia, "", a), mint(k.esia, "", i))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := fakeTokenEndpoint(t, k, func(f url.Values) (int, any) {
				if tc.answer == nil {
					a, i := claimsAt(today)
					return 200, tokens(f.Get("state"), mint(k.esia, "", a), mint(k.esia, "", i))
				}
				return 200, tc.answer(f.Get("state"))
			})
			tok, err := cfg.Exchange(context.Background(), "CODE")
			switch {
			case tc.target != nil:
				if !errors.Is(err, tc.target) {
					t.Fatalf("err %v, want %v", err, tc.target)
				}
			case tc.reason != "":
				if !errors.Is(err, esia.ErrTokenInvalid) || !strings.HasSuffix(err.Error(), tc.reason) {
					t.Fatalf("err %v, want ErrTokenInvalid %q", err, tc.reason)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if tok.Identity.OID != "1000100001" || !tok.Identity.Trusted || !slices.Equal(tok.Identity.AMR, []string{"PWD"}) {
					t.Fatalf("identity %+v", tok.Identity)
				}
			}
		})
	}
}

// TestAlgorithmRegistry: only the algorithms of Config.Algorithms are
// accepted, and every key of the set is tried in turn.
func TestAlgorithmRegistry(t *testing.T) {
	for _, k := range keySets() {
		t.Run(k.name, func(t *testing.T) {
			cfg, _ := fakeTokenEndpoint(t, k, func(f url.Values) (int, any) {
				a, i := claimsAt(today)
				return 200, tokens(f.Get("state"), mint(k.esia, "", a), mint(k.esia, "", i))
			})
			verify := esia.DefaultAlgorithms()[k.alg]
			cfg.Algorithms = esia.DefaultAlgorithms()
			delete(cfg.Algorithms, k.alg)
			if _, err := cfg.Exchange(context.Background(), "CODE"); !errors.Is(err, esia.ErrTokenInvalid) || !strings.HasSuffix(err.Error(), "unsupported alg") {
				t.Fatalf("%s accepted by a registry without it: %v", k.alg, err)
			}
			var seen []string
			cfg.Algorithms = esia.Algorithms{k.alg: func(c *x509.Certificate, input, sig []byte) error {
				seen = append(seen, c.Subject.CommonName)
				return verify(c, input, sig)
			}}
			if _, err := cfg.Exchange(context.Background(), "CODE"); err != nil {
				t.Fatal(err)
			}
			// Keys are tried in turn: the old key first, then the current one.
			if !slices.Equal(seen, []string{"ESIA old", "ESIA", "ESIA old", "ESIA"}) {
				t.Fatalf("keys tried %v", seen)
			}
		})
	}
}

func tokens(state, access, id string) map[string]any {
	return map[string]any{"access_token": access, "id_token": id, "expires_in": 3600, "state": state, "token_type": "Bearer"}
}

func TestExchangeErrors(t *testing.T) {
	t.Run("code used twice", func(t *testing.T) {
		w := newWorld(t)
		code := w.code("1000100001")
		if _, err := w.cfg.Exchange(context.Background(), code); err != nil {
			t.Fatal(err)
		}
		_, err := w.cfg.Exchange(context.Background(), code)
		if !errors.Is(err, esia.ErrCodeInvalid) || esia.UserMessage(err) == "" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("code expired", func(t *testing.T) {
		w := newWorld(t)
		code := w.code("1000100001")
		w.clock.Advance(241 * time.Second)
		if _, err := w.cfg.Exchange(context.Background(), code); !errors.Is(err, esia.ErrCodeInvalid) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("signed with a wrong key", func(t *testing.T) {
		w := newWorld(t)
		code := w.code("1000100001")
		w.cfg.Signer = keys().stranger
		if _, err := w.cfg.Exchange(context.Background(), code); !errors.Is(err, esia.ErrClientSecretWrong) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("client clock skewed", func(t *testing.T) {
		w := newWorld(t)
		code := w.code("1000100001")
		w.cfg.Now = func() time.Time { return today.Add(10 * time.Minute) }
		if _, err := w.cfg.Exchange(context.Background(), code); !errors.Is(err, esia.ErrBadTimestamp) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("unknown client", func(t *testing.T) {
		w := newWorld(t)
		code := w.code("1000100001")
		w.cfg.ClientID = "NOSUCH"
		if _, err := w.cfg.Exchange(context.Background(), code); !errors.Is(err, esia.ErrClientAuthFailed) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("simulator key not trusted", func(t *testing.T) {
		w := newWorld(t)
		w.cfg.Keys = esia.NewKeySet(cert(t, keys().rogue.Certificate()))
		if _, err := w.cfg.Exchange(context.Background(), w.code("1000100001")); !errors.Is(err, esia.ErrTokenInvalid) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("no keys: the code is not spent", func(t *testing.T) {
		w := newWorld(t)
		code := w.code("1000100001")
		keys := w.cfg.Keys
		w.cfg.Keys = nil
		if _, err := w.cfg.Exchange(context.Background(), code); err == nil {
			t.Fatal("exchanged without keys")
		}
		w.cfg.Keys = keys
		if _, err := w.cfg.Exchange(context.Background(), code); err != nil {
			t.Fatalf("code spent by a request that was never sent: %v", err)
		}
	})
	t.Run("empty code", func(t *testing.T) {
		w := newWorld(t)
		if _, err := w.cfg.Exchange(context.Background(), ""); err == nil {
			t.Fatal("accepted")
		}
	})
}

func TestUnavailable(t *testing.T) {
	t.Run("5xx at te is not retried", func(t *testing.T) {
		w := newWorld(t)
		code := w.code("1000100001")
		w.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointToken, Status: 503, Times: 1})
		_, err := w.cfg.Exchange(context.Background(), code)
		var e *esia.Error
		if !errors.Is(err, esia.ErrUnavailable) || !errors.As(err, &e) || !e.Retryable || e.HTTPStatus != 503 {
			t.Fatalf("err %v", err)
		}
		if got := w.observations(); !slices.Equal(got, []string{"token 5xx"}) {
			t.Fatalf("calls %v, want one", got)
		}
		if esia.UserMessage(err) != esia.UserMessage(esia.ErrUnavailable) {
			t.Error("user message")
		}
	})
	t.Run("ESIA-007008 at te", func(t *testing.T) {
		w := newWorld(t)
		code := w.code("1000100001")
		w.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointToken, Code: "ESIA-007008", Times: 1})
		if _, err := w.cfg.Exchange(context.Background(), code); !errors.Is(err, esia.ErrUnavailable) {
			t.Fatalf("err %v", err)
		}
		if got := w.observations(); !slices.Equal(got, []string{"token ESIA-007008"}) {
			t.Fatalf("observed %v", got)
		}
	})
	t.Run("time-out at te", func(t *testing.T) {
		w := newWorld(t)
		w.cfg.Timeout = 50 * time.Millisecond
		code := w.code("1000100001")
		w.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointToken, Hang: true})
		_, err := w.cfg.Exchange(context.Background(), code)
		if !errors.Is(err, esia.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v", err)
		}
		if got := w.observations(); !slices.Equal(got, []string{"token timeout"}) {
			t.Fatalf("observed %v", got)
		}
	})
	t.Run("GET retried once on 5xx", func(t *testing.T) {
		w := newWorld(t)
		tok := w.login("1000100001")
		w.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointPerson, Status: 502, Times: 1})
		if _, err := w.cfg.Person(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		if got := w.observations(); !slices.Equal(got[:3], []string{"token 2xx", "person 5xx", "person 2xx"}) {
			t.Fatalf("observed %v", got)
		}
	})
	t.Run("GET gives up after one retry", func(t *testing.T) {
		w := newWorld(t)
		tok := w.login("1000100001")
		w.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointPerson, Status: 500, Times: 3})
		if _, err := w.cfg.Person(context.Background(), tok); !errors.Is(err, esia.ErrUnavailable) {
			t.Fatalf("err %v", err)
		}
		if got := w.observations(); len(got) != 3 {
			t.Fatalf("observed %v, want token + 2 attempts", got)
		}
	})
	t.Run("GET time-out retried once", func(t *testing.T) {
		w := newWorld(t)
		tok := w.login("1000100001")
		w.cfg.Timeout = 50 * time.Millisecond
		w.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointKids, Hang: true})
		_, err := w.cfg.Kids(context.Background(), tok)
		if !errors.Is(err, esia.ErrUnavailable) {
			t.Fatalf("err %v", err)
		}
		if got := w.observations(); !slices.Equal(got[1:], []string{"kids timeout", "kids timeout"}) {
			t.Fatalf("observed %v", got)
		}
	})
	t.Run("caller cancellation is not ErrUnavailable", func(t *testing.T) {
		w := newWorld(t)
		tok := w.login("1000100001")
		w.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointPerson, Hang: true})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		time.AfterFunc(20*time.Millisecond, cancel) // the person closes the tab
		_, err := w.cfg.Person(ctx, tok)
		if !errors.Is(err, context.Canceled) || errors.Is(err, esia.ErrUnavailable) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestRefresh(t *testing.T) {
	w := newWorld(t)
	w.cfg.AccessType = esia.AccessOffline
	first := w.login("1000100002")
	if first.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	w.clock.Advance(2 * time.Hour)
	second, err := w.cfg.Refresh(context.Background(), first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken || second.Identity.OID != "1000100002" || !second.Expiry.Equal(today.Add(3*time.Hour)) {
		t.Fatalf("refreshed %+v", second)
	}
	if _, err := w.cfg.Person(context.Background(), second); err != nil {
		t.Fatalf("person with refreshed token: %v", err)
	}
	if _, err := w.cfg.Refresh(context.Background(), first.RefreshToken); !errors.Is(err, esia.ErrCodeInvalid) {
		t.Fatalf("reused refresh token: %v", err)
	}
}
