package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"
)

// fakeAdmin is Hydra's admin API as far as the app uses it: it answers the
// consent request with requested scopes and audience, and records every
// accept's challenge and body.
type fakeAdmin struct {
	accepted map[string]map[string]any // "login:<challenge>" → body
}

func (f *fakeAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/admin/oauth2/auth/requests/consent" && q.Get("consent_challenge") == "c-1":
		_ = json.NewEncoder(w).Encode(map[string]any{
			"requested_scope": []string{"openid", "offline_access"}, "requested_access_token_audience": []string{"aud-1"}})
	case r.Method == http.MethodPut && r.URL.Path == "/admin/oauth2/auth/requests/login/accept" && q.Get("login_challenge") == "l-1",
		r.Method == http.MethodPut && r.URL.Path == "/admin/oauth2/auth/requests/consent/accept" && q.Get("consent_challenge") == "c-1":
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		kind := map[bool]string{true: "login", false: "consent"}[q.Has("login_challenge")]
		f.accepted[kind+":"+q.Get(kind+"_challenge")] = body
		_ = json.NewEncoder(w).Encode(map[string]string{"redirect_to": "http://hydra.test/oauth2/auth?" + kind + "_verifier=v"})
	default:
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "Not Found"})
	}
}

// TestAppAcceptsEveryChallenge: a login is accepted as the subject and a
// consent grants what was requested, each answered with a redirect to
// Hydra's redirect_to; a challenge Hydra does not know is an error page,
// not a redirect.
func TestAppAcceptsEveryChallenge(t *testing.T) {
	fake := &fakeAdmin{accepted: map[string]map[string]any{}}
	admin := httptest.NewServer(fake)
	defer admin.Close()
	a := &app{admin: admin.URL, subject: "bench", client: &http.Client{Timeout: 5 * time.Second}}
	for _, tc := range []struct {
		name, path   string
		status       int
		location     string
		acceptedKey  string
		acceptedBody map[string]any
	}{
		{"login", "/login?login_challenge=l-1", http.StatusFound, "http://hydra.test/oauth2/auth?login_verifier=v",
			"login:l-1", map[string]any{"subject": "bench"}},
		{"consent", "/consent?consent_challenge=c-1", http.StatusFound, "http://hydra.test/oauth2/auth?consent_verifier=v",
			"consent:c-1", map[string]any{"grant_scope": []any{"openid", "offline_access"}, "grant_access_token_audience": []any{"aud-1"}}},
		{"unknown login challenge", "/login?login_challenge=other", http.StatusBadGateway, "", "", nil},
		{"unknown consent challenge", "/consent?consent_challenge=other", http.StatusBadGateway, "", "", nil},
		{"no challenge", "/login", http.StatusBadRequest, "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			a.routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if rec.Code != tc.status || rec.Header().Get("Location") != tc.location {
				t.Fatalf("GET %s = %d Location %q; want %d %q", tc.path, rec.Code, rec.Header().Get("Location"), tc.status, tc.location)
			}
			if tc.acceptedKey != "" && !reflect.DeepEqual(fake.accepted[tc.acceptedKey], tc.acceptedBody) {
				t.Errorf("accepted %s with %v; want %v", tc.acceptedKey, fake.accepted[tc.acceptedKey], tc.acceptedBody)
			}
		})
	}
}
