package esiasim_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
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

func TestFaultRateDropBody(t *testing.T) {
	t.Run("rate spreads evenly", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointLogout, Status: http.StatusServiceUnavailable, Rate: 0.25})
		var got []int
		for i := 0; i < 8; i++ {
			resp := e.get("/idp/ext/Logout", nil, "")
			body(t, resp)
			got = append(got, resp.StatusCode)
		}
		want := []int{400, 400, 400, 503, 400, 400, 400, 503} // 400: no client_id
		if !slices.Equal(got, want) {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	})
	t.Run("rate with times counts affected requests", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointLogout, Status: 502, Rate: 0.5, Times: 1})
		var got []int
		for i := 0; i < 4; i++ {
			resp := e.get("/idp/ext/Logout", nil, "")
			body(t, resp)
			got = append(got, resp.StatusCode)
		}
		if !slices.Equal(got, []int{400, 502, 400, 400}) {
			t.Fatalf("statuses %v", got)
		}
		if n := len(e.sim.Faults()); n != 0 {
			t.Fatalf("%d faults left", n)
		}
	})
	t.Run("drop closes the connection", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointToken, Drop: true, Times: 1})
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		_, err := hc.PostForm(e.base+"/aas/oauth2/v3/te", url.Values{})
		if err == nil {
			t.Fatal("an answer came through a dropped connection")
		}
		status, _ := decodeToken(t, e.postForm("/aas/oauth2/v3/te", url.Values{"client_id": {clientID}}))
		if status != http.StatusBadRequest {
			t.Fatalf("after the drop: %d", status)
		}
	})
	t.Run("body: a maintenance page where JSON is expected", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointToken, Body: "<html><body>Технические работы</body></html>", Times: 1})
		resp := e.postForm("/aas/oauth2/v3/te", url.Values{})
		b := body(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(b, "Технические работы") {
			t.Fatalf("%d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	})
	t.Run("Faults lists what is left", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(esiasim.Fault{Endpoint: esiasim.EndpointPerson, Status: 500, Times: 3})
		e.sim.InjectFault(esiasim.Fault{Code: "ESIA-007008"})
		resp := e.get("/rs/prns/1", nil, "")
		body(t, resp)
		f := e.sim.Faults()
		if len(f) != 2 || f[0].Times != 2 || f[1].Times != 0 || f[1].Code != "ESIA-007008" {
			t.Fatalf("faults %+v", f)
		}
		e.sim.SetLatency(time.Millisecond)
		if e.sim.Latency() != time.Millisecond {
			t.Fatal("latency not kept")
		}
	})
}

// TestControlAPI drives faults and latency over HTTP, as a load test
// against `broker esia-sim` does.
func TestControlAPI(t *testing.T) {
	e := newEnv(t)
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, e.base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	if status, b := do(http.MethodPost, "/sim/faults", `{"endpoint":"logout","status":503,"times":1,"delay":"1ms"}`); status != http.StatusCreated ||
		!strings.Contains(b, `"delay":"1ms"`) || !strings.Contains(b, `"times":1`) {
		t.Fatalf("POST: %d %s", status, b)
	}
	if status, _ := do(http.MethodGet, "/idp/ext/Logout", ""); status != http.StatusServiceUnavailable {
		t.Fatalf("fault not applied: %d", status)
	}
	if status, b := do(http.MethodGet, "/sim/faults", ""); status != http.StatusOK || !strings.Contains(b, `"faults":[]`) {
		t.Fatalf("GET: %d %s", status, b)
	}
	if status, _ := do(http.MethodPost, "/sim/faults", `{"code":"ESIA-007008","endpoint":"te","rate":0.5}`); status != http.StatusCreated {
		t.Fatalf("POST code: %d", status)
	}
	if status, _ := do(http.MethodDelete, "/sim/faults", ""); status != http.StatusNoContent || len(e.sim.Faults()) != 0 {
		t.Fatalf("DELETE: %d", status)
	}
	if status, b := do(http.MethodPut, "/sim/latency", `{"latency":"2ms"}`); status != http.StatusOK || e.sim.Latency() != 2*time.Millisecond || !strings.Contains(b, `"latency":"2ms"`) {
		t.Fatalf("PUT latency: %d %s", status, b)
	}
	for _, bad := range []string{`{"endpoint":"nope"}`, `{"code":"oops"}`, `{"status":42}`, `{"rate":2}`, `{"times":-1}`, `{"delay":"soon"}`, `{"colour":"red"}`, `not json`} {
		if status, _ := do(http.MethodPost, "/sim/faults", bad); status != http.StatusBadRequest {
			t.Errorf("%s: status %d", bad, status)
		}
	}
	if status, _ := do(http.MethodPut, "/sim/latency", `{"latency":"-1s"}`); status != http.StatusBadRequest {
		t.Errorf("negative latency: %d", status)
	}
	if status, _ := do(http.MethodPatch, "/sim/faults", ""); status != http.StatusMethodNotAllowed {
		t.Errorf("PATCH: %d", status)
	}

	off := newEnv(t, func(c *esiasim.Config) { c.DisableControl = true })
	resp := off.get("/sim/faults", nil, "")
	body(t, resp)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("DisableControl: %d", resp.StatusCode)
	}
}
