package esia

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// tokenResponse is the JSON answer of /aas/oauth2/v3/te.
type tokenResponse struct {
	AccessToken  string     `json:"access_token"`
	IDToken      string     `json:"id_token"`
	RefreshToken string     `json:"refresh_token"`
	ExpiresIn    flexString `json:"expires_in"`
	State        string     `json:"state"`
	TokenType    string     `json:"token_type"`
}

// Exchange trades an authorization code for tokens at POST /aas/oauth2/v3/te
// and verifies them. It sends a new state and a client_secret over
// client_id + scope + [scope_org] + timestamp + state + redirect_uri + code
// (ESIA.md), checks that the answer echoes the state, and verifies both
// tokens (signature, iss, audience, exp/nbf/iat).
//
// The code is single-use and lives about 240 s: Exchange is never retried,
// not even after a time-out, and callers must not retry it either.
func (c *Config) Exchange(ctx context.Context, code string) (*Token, error) {
	if code == "" {
		return nil, errors.New("esia: token exchange: empty code")
	}
	tok, err := c.requestToken(ctx, "token", func(form url.Values) []string {
		form.Set("grant_type", "authorization_code")
		form.Set("code", code)
		return []string{code}
	})
	if err != nil {
		return nil, fmt.Errorf("esia: token exchange: %w", err)
	}
	return tok, nil
}

// Refresh obtains new tokens with a refresh token (AccessType offline). The
// client_secret signs client_id + scope + [scope_org] + timestamp + state +
// redirect_uri. The returned Token carries the new refresh token, or the old
// one if ESIA sent none. Refresh is not retried.
func (c *Config) Refresh(ctx context.Context, refreshToken string) (*Token, error) {
	if refreshToken == "" {
		return nil, errors.New("esia: token refresh: empty refresh token")
	}
	tok, err := c.requestToken(ctx, "refresh", func(form url.Values) []string {
		form.Set("grant_type", "refresh_token")
		form.Set("refresh_token", refreshToken)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("esia: token refresh: %w", err)
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = refreshToken
	}
	return tok, nil
}

// requestToken posts one token request. grant sets the grant's own form
// fields and returns what is appended to the signed message after
// redirect_uri.
func (c *Config) requestToken(ctx context.Context, label string, grant func(url.Values) []string) (*Token, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	// Fail before spending the single-use code on tokens that could not be
	// verified anyway.
	if c.Issuer == "" || len(c.Keys.Certificates()) == 0 {
		return nil, fmt.Errorf("%w: Issuer and Keys are needed to verify tokens", errConfig)
	}
	state, err := NewState()
	if err != nil {
		return nil, err
	}
	form := url.Values{}
	tail := grant(form)
	ts := c.now().Format(TimestampLayout)
	scope, scopeOrg := c.scope(), c.scopeOrg()
	parts := append([]string{c.ClientID, scope, scopeOrg, ts, state, c.RedirectURL}, tail...)
	secret, err := c.clientSecret(ctx, parts...)
	if err != nil {
		return nil, err
	}
	form.Set("client_id", c.ClientID)
	form.Set("client_certificate_hash", c.CertificateHash)
	form.Set("client_secret", secret)
	form.Set("state", state)
	form.Set("redirect_uri", c.RedirectURL)
	form.Set("scope", scope)
	if scopeOrg != "" {
		form.Set("scope_org", scopeOrg)
	}
	form.Set("timestamp", ts)
	form.Set("token_type", "Bearer")
	body := form.Encode()

	raw, err := c.do(ctx, call{label: label, newRequest: func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(PathToken), strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		return req, nil
	}})
	if err != nil {
		return nil, err
	}
	var tr tokenResponse
	if err := json.Unmarshal(raw, &tr); err != nil {
		return nil, invalidAnswer("answer is not token JSON")
	}
	if tr.State != state {
		return nil, ErrStateMismatch
	}
	if tr.AccessToken == "" {
		return nil, &TokenError{Token: "access", Reason: "missing"}
	}
	if tt := tr.TokenType; tt != "" && !strings.EqualFold(tt, "Bearer") {
		return nil, &TokenError{Token: "access", Reason: "token_type is not Bearer"}
	}
	access, err := c.verifyToken(tr.AccessToken, "access")
	if err != nil {
		return nil, err
	}
	var id *claims
	if tr.IDToken != "" {
		if id, err = c.verifyToken(tr.IDToken, "id"); err != nil {
			return nil, err
		}
	} else if label == "token" && slices.Contains(c.Scopes, "openid") {
		return nil, &TokenError{Token: "id", Reason: "missing"}
	}
	ident, err := identity(access, id)
	if err != nil {
		return nil, err
	}
	return &Token{
		AccessToken:  tr.AccessToken,
		RefreshToken: tr.RefreshToken,
		IDToken:      tr.IDToken,
		TokenType:    "Bearer",
		Expiry:       access.expiry(),
		Identity:     ident,
	}, nil
}
