package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/server"
)

// corsCall sends a request as a browser app on origin would and returns
// the status, the body and the answer's headers.
func corsCall(t *testing.T, method, u, origin string, form url.Values, header http.Header) (int, string, http.Header) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	for k, v := range header {
		req.Header[k] = v
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestCORSForPublicClients: the dev SPA client (public, PKCE) signs in and
// uses the token, userinfo and revocation endpoints from the origins of its
// redirect URIs — and only from them; a confidential client's requests
// and tokens get no CORS from any origin; preflights are answered for the
// public clients' origins only; discovery and the JWKS are readable from
// any origin.
func TestCORSForPublicClients(t *testing.T) {
	b := startBroker(t, true, nil)
	spa := newDiary(b)
	spa.cfg.ClientID, spa.cfg.ClientSecret = server.DevSPAClientID, ""
	spa.cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	const (
		own   = "http://127.0.0.1:8089" // the origin of the SPA's redirect URI
		also  = "http://localhost:5173" // another of its redirect URIs' origins
		other = "https://evil.example"
	)
	o := loginAs(t, b, spa, oidTeacher)
	if o.Redirect == nil || o.Redirect.Query().Get("code") == "" {
		t.Fatalf("SPA login: %d %.300s", o.Status, o.Body)
	}
	acao := func(h http.Header) string { return h.Get("Access-Control-Allow-Origin") }

	// The code exchange from the SPA's origin: readable there.
	status, body, h := corsCall(t, "POST", b.URL+"/oauth2/token", own, url.Values{"grant_type": {"authorization_code"},
		"code": {o.Redirect.Query().Get("code")}, "redirect_uri": {diaryRedirect}, "client_id": {server.DevSPAClientID},
		"code_verifier": {spa.verifier}}, nil)
	if status != 200 || acao(h) != own || !strings.Contains(h.Get("Vary"), "Origin") {
		t.Fatalf("token from %s: %d ACAO %q Vary %q %s", own, status, acao(h), h.Get("Vary"), body)
	}
	if h.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("credentials allowed")
	}
	var tok struct{ AccessToken, RefreshToken string }
	var raw map[string]any
	_ = json.Unmarshal([]byte(body), &raw)
	tok.AccessToken, _ = raw["access_token"].(string)
	tok.RefreshToken, _ = raw["refresh_token"].(string)
	if tok.AccessToken == "" {
		t.Fatalf("no access token: %s", body)
	}

	// A confidential client's token, for the cases below.
	d := newDiary(b)
	conf, _ := tokens(t, b, d, loginAs(t, b, d, oidTeacher))

	bearer := func(tk string) http.Header { return http.Header{"Authorization": {"Bearer " + tk}} }
	// The SPA's userinfo from its origin answers the person's claims.
	if status, body, _ := corsCall(t, "GET", b.URL+"/userinfo", own, nil, bearer(tok.AccessToken)); status != 200 || !strings.Contains(body, `"sub"`) {
		t.Fatalf("userinfo: %d %s", status, body)
	}
	// (The revocations come last: they end the access token too.)
	cases := []struct {
		name, method, path, origin string
		form                       url.Values
		header                     http.Header
		want                       string // the Access-Control-Allow-Origin wanted
	}{
		{"userinfo, own origin", "GET", "/userinfo", own, nil, bearer(tok.AccessToken), own},
		{"userinfo, another of its origins", "GET", "/userinfo", also, nil, bearer(tok.AccessToken), also},
		{"userinfo, foreign origin", "GET", "/userinfo", other, nil, bearer(tok.AccessToken), ""},
		{"userinfo, confidential client's token", "GET", "/userinfo", own, nil, bearer(conf.AccessToken), ""},
		{"userinfo, no token: the error is readable", "GET", "/userinfo", own, nil, nil, own},
		{"userinfo, no token, foreign origin", "GET", "/userinfo", other, nil, nil, ""},
		{"token, foreign origin", "POST", "/oauth2/token", other, url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {tok.RefreshToken}, "client_id": {server.DevSPAClientID}}, nil, ""},
		{"token, confidential client", "POST", "/oauth2/token", own, url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {conf.RefreshToken}, "client_id": {server.DevClientID}}, nil, ""},
		{"revoke, own origin", "POST", "/oauth2/revoke", own, url.Values{"token": {tok.RefreshToken},
			"client_id": {server.DevSPAClientID}}, nil, own},
		{"revoke, foreign origin", "POST", "/oauth2/revoke", other, url.Values{"token": {tok.RefreshToken},
			"client_id": {server.DevSPAClientID}}, nil, ""},
		{"jwks, any origin", "GET", "/.well-known/jwks.json", other, nil, nil, "*"},
		{"discovery, any origin", "GET", "/.well-known/openid-configuration", other, nil, nil, "*"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body, h := corsCall(t, c.method, b.URL+c.path, c.origin, c.form, c.header)
			if acao(h) != c.want {
				t.Errorf("Access-Control-Allow-Origin %q, want %q (status %d %.200s)", acao(h), c.want, status, body)
			}
			if c.want != "" && c.want != "*" && !strings.Contains(h.Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
				t.Errorf("WWW-Authenticate not exposed")
			}
		})
	}

	preflights := []struct {
		name, path, origin, reqHeaders string
		want, methods, headers         string
	}{
		{"token", "/oauth2/token", own, "content-type", own, "POST", "Content-Type"},
		{"token, foreign origin", "/oauth2/token", other, "content-type", "", "", ""},
		{"revoke", "/oauth2/revoke", also, "content-type", also, "POST", "Content-Type"},
		{"userinfo", "/userinfo", own, "authorization", own, "GET, POST", "Authorization"},
		{"userinfo, foreign origin", "/userinfo", other, "authorization", "", "", ""},
		{"jwks", "/.well-known/jwks.json", other, "", "*", "GET", ""},
	}
	for _, p := range preflights {
		t.Run("preflight "+p.name, func(t *testing.T) {
			hdr := http.Header{"Access-Control-Request-Method": {"POST"}}
			if p.reqHeaders != "" {
				hdr.Set("Access-Control-Request-Headers", p.reqHeaders)
			}
			status, _, h := corsCall(t, "OPTIONS", b.URL+p.path, p.origin, nil, hdr)
			if status != http.StatusNoContent || acao(h) != p.want || h.Get("Access-Control-Allow-Methods") != p.methods ||
				!strings.Contains(h.Get("Access-Control-Allow-Headers"), p.headers) {
				t.Errorf("preflight: %d ACAO %q methods %q headers %q", status, acao(h), h.Get("Access-Control-Allow-Methods"), h.Get("Access-Control-Allow-Headers"))
			}
		})
	}
}
