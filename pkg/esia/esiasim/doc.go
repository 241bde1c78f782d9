// Package esiasim is an ESIA (Госуслуги) simulator: an http.Handler that
// speaks ESIA's wire protocol (authorization, token and REST endpoints,
// logout), checks requests the way ESIA does and answers with ESIA's error
// codes, serves fixture persons, and injects faults for tests.
//
// It can be mounted under any prefix (http.StripPrefix); every URL it
// generates starts with Config.BaseURL, its external address.
package esiasim
