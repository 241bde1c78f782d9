// Command bench-hydra is the login and consent app that scripts/bench-hydra.sh
// puts beside Ory Hydra: it accepts every login and consent challenge through
// Hydra's admin API and sends the browser on, so that cmd/broker-load can
// drive Hydra's authorization code flow without pages. It is a benchmark
// fixture, not an example of a login app: it authenticates no one.
//
// Hydra itself is built by the same module (go.mod's tool directive: go build
// github.com/ory/hydra/v2), fetched through the Go module proxy.
//
//	bench-hydra -addr 127.0.0.1:4446 -admin http://127.0.0.1:4445 -subject bench
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4446", "address to listen on (Hydra's urls.login and urls.consent point here)")
	admin := flag.String("admin", "http://127.0.0.1:4445", "Hydra's admin API base URL")
	subject := flag.String("subject", "bench", "the subject every login is accepted as")
	flag.Parse()
	a := &app{admin: *admin, subject: *subject, client: &http.Client{Timeout: 30 * time.Second}}
	srv := &http.Server{Addr: *addr, Handler: a.routes(), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-hydra:", err)
		os.Exit(1)
	}
}

// app accepts Hydra's challenges as subject through the admin API at admin.
type app struct {
	admin, subject string
	client         *http.Client
}

// routes serves /login and /consent.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /consent", a.consent)
	return mux
}

// login accepts the login challenge as a.subject and redirects to where
// Hydra says.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	challenge := r.URL.Query().Get("login_challenge")
	if challenge == "" {
		http.Error(w, "no login_challenge", http.StatusBadRequest)
		return
	}
	to, err := a.accept("login", "login_challenge", challenge, map[string]any{"subject": a.subject})
	if err != nil {
		log.Printf("login: %v", err)
		http.Error(w, "login not accepted", http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// consent reads the consent request (the scopes and audience asked for),
// grants all of it and redirects to where Hydra says.
func (a *app) consent(w http.ResponseWriter, r *http.Request) {
	challenge := r.URL.Query().Get("consent_challenge")
	if challenge == "" {
		http.Error(w, "no consent_challenge", http.StatusBadRequest)
		return
	}
	var req struct {
		RequestedScope    []string `json:"requested_scope"`
		RequestedAudience []string `json:"requested_access_token_audience"`
	}
	if err := a.get("consent", "consent_challenge", challenge, &req); err != nil {
		log.Printf("consent: %v", err)
		http.Error(w, "consent request unreadable", http.StatusBadGateway)
		return
	}
	to, err := a.accept("consent", "consent_challenge", challenge, map[string]any{
		"grant_scope":                 req.RequestedScope,
		"grant_access_token_audience": req.RequestedAudience,
	})
	if err != nil {
		log.Printf("consent: %v", err)
		http.Error(w, "consent not accepted", http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// requestURL is the admin API's URL of a login or consent request, with
// suffix ("" or "/accept").
func (a *app) requestURL(kind, param, challenge, suffix string) string {
	return a.admin + "/admin/oauth2/auth/requests/" + kind + suffix + "?" + url.Values{param: {challenge}}.Encode()
}

// get reads a login or consent request into out.
func (a *app) get(kind, param, challenge string, out any) error {
	resp, err := a.client.Get(a.requestURL(kind, param, challenge, ""))
	if err != nil {
		return fmt.Errorf("get %s request: %w", kind, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s request: status %d", kind, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("get %s request: %w", kind, err)
	}
	return nil
}

// accept accepts a login or consent request with body and returns the URL
// Hydra sends the browser to next.
func (a *app) accept(kind, param, challenge string, body any) (string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("accept %s: %w", kind, err)
	}
	req, err := http.NewRequest(http.MethodPut, a.requestURL(kind, param, challenge, "/accept"), bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("accept %s: %w", kind, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("accept %s: %w", kind, err)
	}
	defer resp.Body.Close()
	var out struct {
		RedirectTo string `json:"redirect_to"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("accept %s: status %d: %w", kind, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || out.RedirectTo == "" {
		return "", fmt.Errorf("accept %s: status %d", kind, resp.StatusCode)
	}
	if _, err := url.Parse(out.RedirectTo); err != nil {
		return "", errors.Join(fmt.Errorf("accept %s: bad redirect_to", kind), err)
	}
	return out.RedirectTo, nil
}
