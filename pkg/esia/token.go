package esia

import "time"

// Token is the result of a code exchange or a refresh, with its tokens
// verified. AccessToken authorises the REST calls (Person, Kids).
type Token struct {
	AccessToken string
	// RefreshToken is set when AccessType was offline.
	RefreshToken string
	// IDToken is the verified ID token as received.
	IDToken string
	// TokenType is "Bearer".
	TokenType string
	// Expiry is the exp of the access token.
	Expiry time.Time
	// Identity is what the verified tokens say about the person.
	Identity Identity
}

// Valid reports whether the access token has not expired at now.
func (t *Token) Valid(now time.Time) bool {
	return t != nil && t.AccessToken != "" && now.Before(t.Expiry)
}
