package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/sessions"
)

// demo is the tiny diary of dev mode: it logs in through the broker with
// golang.org/x/oauth2 and go-oidc, exactly as a diary vendor would, and
// shows the claims it received.
type demo struct {
	c      *Components
	oauth2 *oauth2.Config

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	provider *oidc.Provider
}

func newDemo(c *Components) *demo {
	iss := c.Settings.Issuer
	return &demo{c: c, oauth2: &oauth2.Config{
		ClientID: DevClientID, ClientSecret: DevClientSecret, RedirectURL: iss + "/demo/callback",
		Scopes:   []string{oidc.ScopeOpenID, "profile"},
		Endpoint: oauth2.Endpoint{AuthURL: iss + "/oauth2/auth", TokenURL: iss + "/oauth2/token"},
	}}
}

type demoPerson struct{ OID, Name, Description string }

func (d *demo) home(c echo.Context) error {
	var persons []demoPerson
	if d.c.Simulator != nil {
		for _, p := range d.c.Simulator.Persons() {
			name := strings.TrimSpace(p.LastName + " " + p.FirstName + " " + p.MiddleName)
			persons = append(persons, demoPerson{OID: p.OID, Name: name, Description: p.Sim.Description})
		}
	}
	return render(c, http.StatusOK, "demo", Page{Brand: "Демо-дневник", Title: "Демо-дневник",
		Data: map[string]any{"Persons": persons}})
}

type demoState struct {
	Verifier string `json:"v"`
	Nonce    string `json:"n"`
}

func (d *demo) login(c echo.Context) error {
	ctx := c.Request().Context()
	state, st := randomID(), demoState{Verifier: oauth2.GenerateVerifier(), Nonce: randomID()}
	b, _ := json.Marshal(st)
	if err := d.c.Sessions.Put(ctx, "demo:"+state, b, 15*time.Minute); err != nil {
		return err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce)}
	if p := c.QueryParam("person"); p != "" {
		opts = append(opts, oauth2.SetAuthURLParam("sim_person", p))
	}
	if r := c.QueryParam("role"); r != "" {
		opts = append(opts, oauth2.SetAuthURLParam("role", r))
	}
	return c.Redirect(http.StatusFound, d.oauth2.AuthCodeURL(state, opts...))
}

type demoClaim struct{ Name, Value string }

func (d *demo) idVerifier(c echo.Context) (*oidc.IDTokenVerifier, *oidc.Provider, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.verifier == nil {
		p, err := oidc.NewProvider(c.Request().Context(), d.c.Settings.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("demo: discovery: %w", err)
		}
		d.provider, d.verifier = p, p.Verifier(&oidc.Config{ClientID: DevClientID})
	}
	return d.verifier, d.provider, nil
}

func (d *demo) callback(c echo.Context) error {
	ctx := c.Request().Context()
	page := Page{Brand: "Демо-дневник", Title: "Демо-дневник"}
	if e := c.QueryParam("error"); e != "" {
		ref := c.QueryParam("ref")
		if r, err := login.ParseRef(ref); err == nil {
			ref = login.FormatRef(r)
		}
		page.Data = map[string]any{"Error": e, "Description": c.QueryParam("error_description"), "Ref": ref}
		return render(c, http.StatusOK, "demo_result", page)
	}
	raw, err := d.c.Sessions.Take(ctx, "demo:"+c.QueryParam("state"))
	if errors.Is(err, sessions.ErrNotFound) {
		return errorPage(c, http.StatusBadRequest, "Сеанс входа устарел", "Начните вход в демо-дневник заново.", "", "/demo")
	}
	if err != nil {
		return err
	}
	var st demoState
	if err := json.Unmarshal(raw, &st); err != nil {
		return err
	}
	tok, err := d.oauth2.Exchange(ctx, c.QueryParam("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return fmt.Errorf("demo: exchange: %w", err)
	}
	verifier, provider, err := d.idVerifier(c)
	if err != nil {
		return err
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(ctx, rawID)
	if err != nil {
		return fmt.Errorf("demo: id token: %w", err)
	}
	if idt.Nonce != st.Nonce {
		return errors.New("demo: id token nonce mismatch")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return err
	}
	var list []demoClaim
	for k, v := range claims {
		b, _ := json.Marshal(v)
		list = append(list, demoClaim{Name: k, Value: strings.Trim(string(b), `"`)})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	logout := d.c.Settings.Issuer + "/oauth2/logout?" + url.Values{"id_token_hint": {rawID},
		"post_logout_redirect_uri": {d.c.Settings.Issuer + "/demo"}, "state": {randomID()}}.Encode()
	data := map[string]any{"Claims": list, "Logout": logout}
	if ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		var m map[string]any
		if ui.Claims(&m) == nil {
			b, _ := json.MarshalIndent(m, "", "  ")
			data["Userinfo"] = string(b)
		}
	}
	page.Data = data
	return render(c, http.StatusOK, "demo_result", page)
}
