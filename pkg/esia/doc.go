// Package esia is the client side of ESIA (Госуслуги, the state identity
// provider): it builds the signed authorization URL, exchanges and refreshes
// authorization codes, verifies ESIA's tokens against a rotating key set, and
// reads a person's data and children from ESIA's REST API.
//
// A Config is read-only once set up and safe for concurrent use; every call
// takes a context and makes at most the HTTP calls its documentation states.
// The wire protocol is described in ESIA.md; message layouts are cited there.
package esia
