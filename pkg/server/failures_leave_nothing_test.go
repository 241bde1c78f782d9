package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/esia/esiasim"
	"github.com/diarybroker/broker/pkg/server"
)

// TestFailedLoginsLeaveNothingBehind: a login that fails after the client
// and redirect URI were validated stores its attempt and nothing else — no
// link, no code or token, no consent — and its login state is spent (the
// same callback a second time is the expired-session page). A later login
// of the same person then succeeds as if the failure had not happened.
func TestFailedLoginsLeaveNothingBehind(t *testing.T) {
	b := startBroker(t, true, func(s *server.Settings) { s.ESIA.Timeout = 300 * time.Millisecond })
	sim := b.comp.Simulator
	ctx := context.Background()
	tests := []struct {
		name  string
		oid   string
		fault *esiasim.Fault
	}{
		{"no diary record", oidNotInRoster, nil},
		{"SNILS typo in the roster", oidSNILSTypo, nil},
		{"ESIA person without SNILS", oidNoSNILS, nil},
		{"user refused at ESIA", oidRefuses, nil},
		{"ESIA token endpoint 5xx", oidTeacher, &esiasim.Fault{Endpoint: esiasim.EndpointToken, Status: 503, Times: 1}},
		{"ESIA token endpoint time-out", oidTeacher, &esiasim.Fault{Endpoint: esiasim.EndpointToken, Hang: true, Times: 1}},
		{"ESIA person endpoint 5xx", oidTeacher, &esiasim.Fault{Endpoint: esiasim.EndpointPerson, Status: 500, Times: 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault != nil {
				sim.InjectFault(*tc.fault)
				t.Cleanup(sim.ClearFaults)
			}
			d := newDiary(b)
			br := newBrowser(t)
			br.stopAt = b.URL + "/esia/callback"
			cb := br.get(d.authURL(oauth2.SetAuthURLParam("sim_person", tc.oid)))
			if cb.Redirect == nil || cb.Redirect.Path != "/esia/callback" {
				t.Fatalf("the simulator did not come back to the callback: %d %.300s", cb.Status, cb.Body)
			}
			br.stopAt = ""
			o := br.through(br.get(cb.Redirect.String()))
			if o.Redirect == nil || o.Redirect.Query().Get("error") == "" {
				if o.Redirect != nil || !strings.Contains(o.Body, "Вернуться в дневник") {
					t.Fatalf("the login did not fail: %d %v %.300s", o.Status, o.Redirect, o.Body)
				}
			}
			if links, err := b.comp.Store.LinksByOID(ctx, server.DevTenant, tc.oid); err != nil || len(links) != 0 {
				t.Fatalf("links after a failed login: %v, %v", links, err)
			}
			if again := br.get(cb.Redirect.String()); again.Status != http.StatusBadRequest || !strings.Contains(again.Body, "Сеанс входа устарел") {
				t.Fatalf("the failed login's state was not spent: %d %.300s", again.Status, again.Body)
			}
		})
	}
	// No code or token was issued by any of them: every OAuth record the
	// store holds would be removed by a sweep far in the future.
	if n, err := b.comp.Store.DeleteExpiredOAuth(ctx, time.Now().AddDate(100, 0, 0), 1000); err != nil || len(n) != 0 {
		t.Fatalf("failed logins left OAuth records %v (%v)", n, err)
	}
	// The teacher's failures did not stand in the way of her next login.
	d := newDiary(b)
	if _, claims := tokens(t, b, d, loginAs(t, b, d, oidTeacher)); claims["person_id"] != "t-0001" {
		t.Fatalf("claims after the failures: %v", claims)
	}
}
