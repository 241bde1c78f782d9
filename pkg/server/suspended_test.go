package server_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/server"
)

var refCode = regexp.MustCompile(`Код обращения: <strong>[0-9A-Z]{5}-[0-9A-Z]{5}</strong>`)

// TestDisabledTenantAndClientLogins: a login through a client of a
// disabled tenant, or through a disabled client, ends on a Russian page
// that says so with a reference code (so does the parent's page of a
// disabled tenant); another tenant's API keeps working; enabling undoes it.
func TestDisabledTenantAndClientLogins(t *testing.T) {
	b := startBroker(t, true, nil)
	ctx := context.Background()
	secondTenantClient(t, b, "roster")
	st := b.comp.Store
	setTenant := func(disabled bool) {
		tn, err := st.GetTenant(ctx, server.DevTenant)
		if err != nil {
			t.Fatal(err)
		}
		tn.DisabledAt = time.Time{}
		if disabled {
			tn.DisabledAt = b.clock.Now()
		}
		if err := st.UpdateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
		b.comp.OAuth.ForgetTenant(server.DevTenant)
	}
	setClient := func(disabled bool) {
		c, err := st.GetClient(ctx, server.DevClientID)
		if err != nil {
			t.Fatal(err)
		}
		c.DisabledAt = time.Time{}
		if disabled {
			c.DisabledAt = b.clock.Now()
		}
		if err := st.UpdateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		b.comp.OAuth.ForgetClient(server.DevClientID)
	}
	refused := func(o outcome, title string) {
		t.Helper()
		if o.Status != http.StatusForbidden || o.Redirect != nil || !strings.Contains(o.Body, title) || !refCode.MatchString(o.Body) {
			t.Fatalf("want the page %q with a reference code, got %d %v: %.400s", title, o.Status, o.Redirect, o.Body)
		}
	}
	loginThrough(t, b, server.DevClientID, server.DevClientSecret, "openid")

	setTenant(true)
	refused(loginAs(t, b, newDiary(b), oidTeacher), "Сервис приостановлен")
	refused(newBrowser(t).get(b.URL+"/parent?tenant="+server.DevTenant), "Сервис приостановлен")
	apiToken(t, b, "other-api", "other-secret", "roster") // the other tenant is untouched
	setTenant(false)
	loginThrough(t, b, server.DevClientID, server.DevClientSecret, "openid")

	setClient(true)
	refused(loginAs(t, b, newDiary(b), oidTeacher), "Вход через это приложение отключён")
	setClient(false)
	loginThrough(t, b, server.DevClientID, server.DevClientSecret, "openid")

	// A login under way when its tenant is disabled: ESIA's answer gets
	// the page, not a code.
	br := newBrowser(t)
	br.stopAt = b.URL + "/esia/callback"
	d := newDiary(b)
	atCallback := br.get(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacher)))
	if atCallback.Redirect == nil || !strings.HasPrefix(atCallback.Redirect.String(), br.stopAt) {
		t.Fatalf("the login did not reach ESIA's callback: %d %v", atCallback.Status, atCallback.Redirect)
	}
	setTenant(true)
	br.stopAt = ""
	refused(br.through(br.get(atCallback.Redirect.String())), "Сервис приостановлен")
}
