// Package oauth is the broker's downstream OAuth 2.0 / OpenID Connect
// provider for diaries, built on ory/fosite: authorization code with
// mandatory PKCE S256, refresh tokens with rotation, ES256 ID tokens,
// userinfo, revocation, introspection and client credentials for the
// broker's own APIs. Clients and tokens live in the store.
package oauth
