// Package retention keeps the broker's data from piling up: logins that
// never came back from ESIA are marked abandoned once the login time-out
// has passed, and what a tenant keeps only for a while — login attempts
// (the reference codes support resolves) and webhook events, delivered or
// dead — is destroyed after the tenant's period (store.RetentionPolicy).
package retention
