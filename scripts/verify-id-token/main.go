// Command verify-id-token checks an OpenID Connect ID token the way a diary
// would, with github.com/coreos/go-oidc: it reads the broker's discovery
// document, fetches the published JWKS, and verifies the token's signature,
// issuer, audience, expiry and (when given) nonce. scripts/dev-login.sh uses
// it after a plain-curl login.
//
// Usage:
//
//	verify-id-token -issuer http://127.0.0.1:18080 -client-id demo-diary [-nonce N] < token-response.json
//
// The standard input is the token endpoint's JSON answer. On success it prints
// the verified claims as JSON; otherwise it prints the error and exits 1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

func main() {
	issuer := flag.String("issuer", "", "the broker's issuer URL")
	clientID := flag.String("client-id", "", "the audience the token must name")
	nonce := flag.String("nonce", "", "the nonce sent in the authorization request")
	flag.Parse()
	claims, err := verify(os.Stdin, *issuer, *clientID, *nonce)
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify-id-token:", err)
		os.Exit(1)
	}
	os.Stdout.Write(append(claims, '\n'))
}

func verify(r io.Reader, issuer, clientID, nonce string) ([]byte, error) {
	if issuer == "" || clientID == "" {
		return nil, errors.New("-issuer and -client-id are required")
	}
	var resp struct {
		IDToken   string `json:"id_token"`
		TokenType string `json:"token_type"`
	}
	if err := json.NewDecoder(r).Decode(&resp); err != nil {
		return nil, fmt.Errorf("token response: %w", err)
	}
	if resp.IDToken == "" {
		return nil, errors.New("token response has no id_token")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	tok, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctx, resp.IDToken)
	if err != nil {
		return nil, fmt.Errorf("id_token: %w", err)
	}
	if nonce != "" && tok.Nonce != nonce {
		return nil, errors.New("id_token: nonce does not match")
	}
	var claims json.RawMessage
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("id_token claims: %w", err)
	}
	return claims, nil
}
