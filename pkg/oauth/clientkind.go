package oauth

import (
	"errors"
	"fmt"
	"slices"

	"github.com/diarybroker/broker/pkg/store"
)

// APIScopes are the scopes of the broker's own APIs (DESIGN.md §4). Only
// API clients hold them, and only their client_credentials tokens call
// /api/v1.
var APIScopes = []string{ScopeRoster, ScopeConsentRead, ScopeSupport, ScopeAdmin}

// ErrAPIScopeOnLoginClient refuses an API scope on a login client: a
// person's token must never be an API credential.
var ErrAPIScopeOnLoginClient = errors.New("oauth: API scopes are for client_credentials clients, not login (authorization_code) clients")

// IsLoginClient reports whether a client logs people in (it has the
// authorization_code grant).
func IsLoginClient(c store.Client) bool { return slices.Contains(c.GrantTypes, "authorization_code") }

// IsAPIClient reports whether a client is an API client: it has the
// client_credentials grant and logs nobody in.
func IsAPIClient(c store.Client) bool {
	return slices.Contains(c.GrantTypes, "client_credentials") && !IsLoginClient(c)
}

// CheckClientScopes refuses API scopes on a login client.
func CheckClientScopes(c store.Client) error {
	if !IsLoginClient(c) {
		return nil
	}
	for _, s := range c.Scopes {
		if slices.Contains(APIScopes, s) {
			return fmt.Errorf("scope %q: %w", s, ErrAPIScopeOnLoginClient)
		}
	}
	return nil
}
