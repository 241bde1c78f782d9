package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
)

// maxKept bounds an accepted request as the login keeps it (JSON without
// HTML escaping, as login.Service stores it): with the pending login's own
// fields it stays within the 4 KiB an unauthenticated request may store.
const maxKept = 3584

const fuzzRedirect = "http://127.0.0.1:9/cb"

// FuzzAuthorizeParameters drives ParseAuthorize with a valid request
// whose parameters the fuzzer replaces or adds to (two named parameters
// and a raw tail of the query). Whatever comes in: no panic, never a
// server error, and an accepted request is clean text within its limits,
// small when kept, and rebuilds into the fosite request it was parsed from.
func FuzzAuthorizeParameters(f *testing.F) {
	p := fuzzProvider(f)
	ctx := context.Background()
	f.Add("state", "state-12345678", "nonce", "nonce-12345678", "")
	f.Add("link_person_id", "t-0001\x00", "role", "parent", "")
	f.Add("state", "\xff\xfe", "login_hint", "a\u0085b", "&junk=1")
	f.Add("scope", "openid profile", "prompt", "login", "&max_age=60")
	f.Add("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method", "S256", "&state=again")
	f.Add("redirect_uri", fuzzRedirect+"?x", "client_id", "diary\x00", "%zz")
	f.Add("nonce", "<<<<<<<<<<", "state", `""""""""""`, "&acr_values=%5C%5C")
	f.Add("max_age", "9999999999", "role", "teacher", "&request=x")
	f.Fuzz(func(t *testing.T, name1, value1, name2, value2, tail string) {
		q := url.Values{
			"response_type": {"code"}, "client_id": {"diary"}, "redirect_uri": {fuzzRedirect},
			"scope": {"openid"}, "state": {"state-12345678"}, "nonce": {"nonce-12345678"},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
		}
		q.Set(name1, value1)
		q.Set(name2, value2)
		r := httptest.NewRequest(http.MethodGet, "/oauth2/auth", nil)
		r.URL.RawQuery = q.Encode() + tail
		req, err := p.ParseAuthorize(ctx, r)
		if err != nil {
			ae, ok := IsAuthorizeError(err)
			if !ok {
				t.Fatalf("not an authorization error (a 500): %v", err)
			}
			if ae.Err.CodeField >= 500 {
				t.Fatalf("server error for %q: %v", r.URL.RawQuery, ae)
			}
			if ae.Redirectable {
				w := httptest.NewRecorder()
				p.WriteAuthorizeError(ctx, w, ae)
				if w.Code >= 500 {
					t.Fatalf("error redirect answered %d", w.Code)
				}
			}
			return
		}
		for field, v := range map[string]string{"state": req.State, "nonce": req.Nonce, "role": req.Role,
			"link_person_id": req.LinkPersonID, "redirect_uri": req.RedirectURI, "client_id": req.ClientID,
			"code_challenge": req.CodeChallenge, "prompt": req.Prompt, "max_age": req.MaxAge} {
			if len(v) > authorizeParams[field].max || !cleanText(v) {
				t.Fatalf("accepted %s %q", field, v)
			}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(req); err != nil {
			t.Fatal(err)
		}
		if buf.Len() > maxKept {
			t.Fatalf("kept %d bytes: %s", buf.Len(), buf.Bytes())
		}
		ar, err := p.reparse(ctx, req)
		if err != nil {
			t.Fatalf("an accepted request does not rebuild: %v", err)
		}
		if ar.GetState() != req.State || ar.GetRequestForm().Get("nonce") != req.Nonce ||
			ar.GetRedirectURI().String() != req.RedirectURI || ar.GetRequestForm().Get("code_challenge") != req.CodeChallenge {
			t.Fatalf("rebuilt differently: %v from %+v", ar.GetRequestForm(), req)
		}
	})
}

// fuzzProvider is a provider over the memory store with one diary client.
func fuzzProvider(tb testing.TB) *Provider {
	ctx := context.Background()
	st := memory.New(nil)
	kek, err := keyring.NewKEK(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	signing, err := keyring.OpenSigning(ctx, st, kek, "ES256", nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.CreateTenant(ctx, store.Tenant{ID: "demo"}); err != nil {
		tb.Fatal(err)
	}
	err = st.CreateClient(ctx, store.Client{ID: "diary", TenantID: "demo", SecretHash: HashSecret("s3cret"),
		RedirectURIs: []string{fuzzRedirect}, GrantTypes: []string{"authorization_code", "refresh_token"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid", "profile", "offline_access"}})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := New(Config{Issuer: "http://127.0.0.1:9", Store: st, Signing: signing, HMACSecret: bytes.Repeat([]byte{2}, 32)})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
