// Package cms verifies CMS SignedData (RFC 5652, PKCS#7) detached signatures
// made with RSA or GOST R 34.10-2012 256-bit keys: the client_secret of
// ESIA's legacy v1 endpoints, where a system signs
// scope + timestamp + client_id + state (ESIA.md). Package cmstest builds
// such signatures for tests.
package cms
