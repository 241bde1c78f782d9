package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/server"
)

// TestOAuthJanitorRemovesWhatIsOver: a revoked grant — its session and
// the refresh token it keeps — is removed
// by the next janitor run and counted by kind in broker_oauth_removed_total;
// another grant's tokens stay and work; the used codes stay until their
// expiry (a replay must still be recognised), then go too.
func TestOAuthJanitorRemovesWhatIsOver(t *testing.T) {
	b := startBroker(t, true, nil)
	ctx := context.Background()
	d1, d2 := newDiary(b), newDiary(b)
	revoked, _ := tokens(t, b, d1, loginAs(t, b, d1, oidTeacher))
	kept, _ := tokens(t, b, d2, loginAs(t, b, d2, oidTeacher))

	req, _ := http.NewRequest("POST", b.URL+"/oauth2/revoke", strings.NewReader(url.Values{"token": {revoked.RefreshToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(server.DevClientID, server.DevClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}

	b.clock.Advance(time.Second)
	// The access token is self-contained and the grant keeps the refresh
	// token: neither has a row to remove.
	if n := b.comp.RunOAuthJanitor(ctx); n != 1 {
		t.Fatalf("the janitor removed %d records, want the revoked grant", n)
	}
	metric(t, b, `broker_oauth_removed_total{kind="grant"} 1`)
	if r := call(t, "GET", b.URL+"/userinfo", kept.AccessToken, "", ""); r.Status != 200 {
		t.Fatalf("the other grant's token after the janitor: %d", r.Status)
	}
	if r := call(t, "GET", b.URL+"/userinfo", revoked.AccessToken, "", ""); r.Status != 401 {
		t.Fatalf("the revoked grant's token after the janitor: %d", r.Status)
	}
	if n := b.comp.RunOAuthJanitor(ctx); n != 0 {
		t.Fatalf("a second run removed %d", n)
	}
	// The used codes go once expired (code lifespan 10 minutes).
	b.clock.Advance(11 * time.Minute)
	b.comp.Sweep(ctx)
	metric(t, b, `broker_oauth_removed_total{kind="code"} 2`)
}
