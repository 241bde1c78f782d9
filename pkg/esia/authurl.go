package esia

import (
	"context"
	"fmt"
	"net/url"

	"github.com/google/uuid"
)

// protocolParams are the query parameters AuthURL sets itself; extra values
// may not override them.
var protocolParams = map[string]bool{
	"client_id": true, "client_certificate_hash": true, "client_secret": true,
	"redirect_uri": true, "scope": true, "scope_org": true, "response_type": true,
	"state": true, "timestamp": true, "access_type": true,
}

// NewState returns a fresh random UUID v4 for the state parameter.
func NewState() (string, error) {
	u, err := uuid.NewRandom()
	if err != nil {
		return "", fmt.Errorf("esia: new state: %w", err)
	}
	return u.String(), nil
}

// isUUID reports whether s is a UUID in canonical 36-character form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// AuthURL returns the URL of ESIA's authorization endpoint (GET
// /aas/oauth2/v2/ac) to which the person's browser is redirected.
//
// state must be a fresh UUID (see NewState) that the caller keeps and compares
// with the state of the callback. extra is passed through as is (the dev
// server passes sim_person/sim_error to the simulator); it may not set a
// protocol parameter. The client_secret signs
// client_id + scope + [scope_org] + timestamp + state + redirect_uri (ESIA.md).
// AuthURL makes no HTTP call; ctx is passed to the Signer.
func (c *Config) AuthURL(ctx context.Context, state string, extra url.Values) (string, error) {
	if err := c.check(); err != nil {
		return "", fmt.Errorf("esia: auth URL: %w", err)
	}
	if !isUUID(state) {
		return "", fmt.Errorf("esia: auth URL: state must be a UUID")
	}
	q := url.Values{}
	for k, vs := range extra {
		if protocolParams[k] {
			return "", fmt.Errorf("esia: auth URL: extra parameter %q would override a protocol parameter", k)
		}
		q[k] = append([]string(nil), vs...)
	}
	ts := c.now().Format(TimestampLayout)
	scope, scopeOrg := c.scope(), c.scopeOrg()
	secret, err := c.clientSecret(ctx, c.ClientID, scope, scopeOrg, ts, state, c.RedirectURL)
	if err != nil {
		return "", fmt.Errorf("esia: auth URL: %w", err)
	}
	q.Set("client_id", c.ClientID)
	q.Set("client_certificate_hash", c.CertificateHash)
	q.Set("client_secret", secret)
	q.Set("redirect_uri", c.RedirectURL)
	q.Set("scope", scope)
	if scopeOrg != "" {
		q.Set("scope_org", scopeOrg)
	}
	q.Set("response_type", "code")
	q.Set("state", state)
	q.Set("timestamp", ts)
	q.Set("access_type", string(c.accessType()))
	return c.endpoint(PathAuthorize) + "?" + q.Encode(), nil
}
