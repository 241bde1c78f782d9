// Package server wires the broker together: it turns Settings into
// components (store, sessions, keys, ESIA client, OAuth provider, login),
// serves them over HTTP with echo — routes, middleware, Russian HTML pages —
// and, in dev mode, mounts the ESIA simulator and a demo diary.
package server
