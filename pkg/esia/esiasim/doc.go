// Package esiasim is an ESIA (Госуслуги) simulator: an http.Handler that
// speaks ESIA's wire protocol (the v2/ac and v3/te endpoints with raw GOST
// or RSA client_secret signatures, the legacy v1 /ac and /te with CMS
// detached signatures, PKCE, the REST endpoints, logout), checks requests
// the way ESIA does and answers with ESIA's error codes, serves fixture
// persons, produces any ESIA error on demand, injects faults and latency,
// and rotates its token key without notice.
//
// It can be mounted under any prefix (http.StripPrefix); every URL it
// generates starts with Config.BaseURL, its external address.
package esiasim
