package esiasim_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
)

func TestFaults(t *testing.T) {
	t.Run("status for n requests", func(t *testing.T) {
		e := newEnv(t)
		tok := e.login("1000100001", "openid fullname").AccessToken
		e.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointPerson, Status: http.StatusServiceUnavailable, Times: 2})
		for i, want := range []int{503, 503, 200} {
			resp := e.get("/rs/prns/1000100001", nil, tok)
			body(t, resp)
			if resp.StatusCode != want {
				t.Fatalf("request %d: status %d, want %d", i, resp.StatusCode, want)
			}
		}
	})
	t.Run("ESIA code at te", func(t *testing.T) {
		e := newEnv(t)
		code := e.authorize("1000100001", scopeBasic, "online")
		e.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointToken, Code: "ESIA-007008", Times: 1})
		status, tj := decodeToken(t, e.postForm("/aas/oauth2/v3/te", e.teParams(code, scopeBasic)))
		if status != http.StatusBadRequest || errCode(tj.ErrorDescription) != "ESIA-007008" || tj.Error != "temporarily_unavailable" {
			t.Fatalf("%d %+v", status, tj)
		}
	})
	t.Run("other endpoints unaffected, clear", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointToken, Status: 500})
		resp := e.get("/idp/ext/Logout", nil, "")
		body(t, resp)
		if resp.StatusCode == 500 {
			t.Fatal("fault hit another endpoint")
		}
		e.sim.ClearFaults()
		e.login("1000100001", "openid")
	})
	t.Run("hang until the client gives up", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointPerson, Hang: true})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.base+"/rs/prns/1000100001", nil)
		_, err := e.http.Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v, want deadline exceeded", err)
		}
	})
	t.Run("Close releases hung requests", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointLogout, Hang: true})
		done := make(chan int)
		go func() {
			resp, err := e.http.Get(e.base + "/idp/ext/Logout")
			if err != nil {
				done <- -1
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		e.sim.Close()
		if got := <-done; got != http.StatusOK {
			t.Fatalf("status %d after Close", got)
		}
	})
}
