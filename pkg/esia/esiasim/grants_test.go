package esiasim_test

import (
	"net/http"
	"testing"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
)

// TestMaxGrantsForgetsTheOldest: with MaxGrants 2, a third login's tokens
// make the simulator forget the first's — its access token is refused like
// an expired one — while the newest work; a code issued before two newer
// ones can no longer be exchanged.
func TestMaxGrantsForgetsTheOldest(t *testing.T) {
	e := newEnv(t, func(c *esiasim.Config) { c.MaxGrants = 2 })
	var toks []string
	for range 3 {
		toks = append(toks, e.login("1000100001", scopeBasic).AccessToken)
	}
	for i, want := range []int{http.StatusUnauthorized, http.StatusOK, http.StatusOK} {
		resp := e.get("/rs/prns/1000100001", nil, toks[i])
		body(t, resp)
		if resp.StatusCode != want {
			t.Fatalf("access token %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}
	codes := []string{e.authorize("1000100001", scopeBasic, "online"), e.authorize("1000100001", scopeBasic, "online"),
		e.authorize("1000100001", scopeBasic, "online")}
	for i, want := range []int{http.StatusBadRequest, http.StatusOK, http.StatusOK} {
		if status, tj := decodeToken(t, e.postForm("/aas/oauth2/v3/te", e.teParams(codes[i], scopeBasic))); status != want {
			t.Fatalf("code %d: status %d (%s), want %d", i, status, tj.ErrorDescription, want)
		}
	}
}
