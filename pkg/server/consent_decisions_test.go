package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// Personal data of the fixture family (Кузнецов Андрей and his daughter
// Алиса, pkg/esia/esiasim/fixtures and the demo roster) that must never
// reach logs or webhooks.
var familyPII = []string{
	"Кузнецов", "Кузнецова", "Андрей", "Алиса", "Андреевна", "Сергеевич",
	"127-845-012 65", "12784501265", "163-527-840 77", "16352784077",
	"1982-07-09", "09.07.1982", "2016-05-12", "12.05.2016", "512345", "IV-МЮ", "a.kuznecov@example.com",
}

// childWaitsForParent starts a broker whose webhooks h receives, where
// Алиса tried to log in and was stopped, and her father has the parent's
// page open.
func childWaitsForParent(t *testing.T) (*broker, *hooks, *browser, outcome) {
	t.Helper()
	b := startBroker(t, true, nil)
	h := newHooks(t, b)
	d := newDiary(b)
	errorRedirect(t, loginAs(t, b, d, oidChild), d, "consent_required")
	br, page := parentPage(t, b, oidParent)
	return b, h, br, page
}

// TestParentDeniesEndToEnd: a parent's refusal is recorded, the diary
// hears consent.denied, the child's page says a parent refused and the
// other can still consent, and the refusing parent is not offered to
// refuse again.
func TestParentDeniesEndToEnd(t *testing.T) {
	b, h, br, page := childWaitsForParent(t)
	if !strings.Contains(page.Body, `value="decline"`) {
		t.Fatalf("no «Отказать» while the child waits: %.800s", page.Body)
	}
	page = decide(t, b, br, page, "s-0001", "decline")
	if !strings.Contains(page.Body, "Отказ записан") || !strings.Contains(page.Body, "вы отказали") || strings.Contains(page.Body, `value="decline"`) {
		t.Fatalf("after the refusal: %.800s", page.Body)
	}
	decide(t, b, br, page, "s-0001", "decline") // a double submit: recorded once

	d2 := newDiary(b)
	o := loginAs(t, b, d2, oidChild)
	errorRedirect(t, o, d2, "consent_required")
	if !strings.Contains(o.Body, "Один из родителей отказал") {
		t.Fatalf("the child's page: %.800s", o.Body)
	}
	if got := strings.Join(h.types(t, b), ","); got != "consent.requested,consent.denied" {
		t.Fatalf("webhooks = %s", got)
	}
	if cs, _ := b.comp.Consent.Store.ConsentsOf(context.Background(), server.DevTenant, "s-0001"); len(cs) != 0 {
		t.Fatalf("consents = %+v", cs)
	}
}

// TestParentFormForgedOrStale: /parent/consent refuses a form without the
// cookie-bound CSRF token, and an answer to a request that has expired
// meanwhile records nothing.
func TestParentFormForgedOrStale(t *testing.T) {
	b, h, br, _ := childWaitsForParent(t)

	t.Run("forged csrf", func(t *testing.T) {
		for _, token := range []string{"", "forged"} {
			resp, err := br.client.PostForm(b.URL+"/parent/consent", url.Values{"csrf": {token}, "tenant": {server.DevTenant},
				"child": {"s-0001"}, "decision": {"accept"}})
			if err != nil {
				t.Fatal(err)
			}
			if o := br.outcome(resp); o.Status != http.StatusForbidden {
				t.Fatalf("csrf %q: %d", token, o.Status)
			}
		}
		// A valid token of another browser does not fit this one's cookie.
		_, other := parentPage(t, b, oidParent)
		if o := br.submit(other, "/parent/consent", url.Values{"tenant": {server.DevTenant}, "child": {"s-0001"}, "decision": {"accept"}}); o.Status != http.StatusForbidden {
			t.Fatalf("another browser's token: %d", o.Status)
		}
		if cs, _ := b.comp.Consent.Store.ConsentsOf(context.Background(), server.DevTenant, "s-0001"); len(cs) != 0 {
			t.Fatalf("a forged form made a consent: %+v", cs)
		}
	})

	t.Run("the request expired meanwhile", func(t *testing.T) {
		b.clock.Advance(31 * 24 * time.Hour) // request_days: 30
		b.comp.Sweep(context.Background())
		// The parent's page session has ended too; logged in again, the
		// page no longer offers to refuse, but an old form still can.
		br, fresh := parentPage(t, b, oidParent)
		if strings.Contains(fresh.Body, `value="decline"`) {
			t.Fatalf("«Отказать» offered for an expired request: %.800s", fresh.Body)
		}
		o := decide(t, b, br, fresh, "s-0001", "decline")
		if o.Status != http.StatusConflict || !strings.Contains(o.Body, "Запрос согласия уже не действует") {
			t.Fatalf("decline of an expired request: %d %.600s", o.Status, o.Body)
		}
		if got := strings.Join(h.types(t, b), ","); got != "consent.requested,consent.expired" {
			t.Fatalf("webhooks = %s", got)
		}
		// A grant still counts, and opens no request.
		if o := decide(t, b, br, fresh, "s-0001", "accept"); !strings.Contains(o.Body, "Согласие дано") {
			t.Fatalf("grant: %d %.600s", o.Status, o.Body)
		}
		if _, err := b.comp.Consent.Store.OpenRequestOf(context.Background(), server.DevTenant, "s-0001"); err == nil {
			t.Fatal("a request was opened")
		}
	})
}

// TestSelfConsentRecordsTheTextShown: when the tenant's text changes
// while the consent page is open, the answer is not recorded and the page
// asks to read the new text; the consent then names the text shown.
func TestSelfConsentRecordsTheTextShown(t *testing.T) {
	tests := []struct {
		name string
		edit func(*store.Tenant)
	}{
		{"new text version", func(tn *store.Tenant) { tn.Consent.TextVersion = "2" }},
		{"same version, another operator", func(tn *store.Tenant) { tn.OperatorName = "ГБУ «Другой оператор»" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, true, nil)
			ctx := context.Background()
			d := newDiary(b)
			br := newBrowser(t)
			page := br.get(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacher)))
			tn, _ := b.comp.Store.GetTenant(ctx, server.DevTenant)
			tc.edit(&tn)
			if err := b.comp.Store.UpdateTenant(ctx, tn); err != nil {
				t.Fatal(err)
			}
			o := br.submit(page, "/consent", url.Values{"decision": {"accept"}})
			if o.Status != http.StatusConflict || !strings.Contains(o.Body, "Текст согласия изменился") || !strings.Contains(o.Body, tn.OperatorName) {
				t.Fatalf("answer to the old text: %d %.600s", o.Status, o.Body)
			}
			if cs, _ := b.comp.Consent.Store.ConsentsOf(ctx, server.DevTenant, "t-0001"); len(cs) != 0 {
				t.Fatalf("a consent to a text not shown: %+v", cs)
			}
			tokens(t, b, d, br.submit(o, "/consent", url.Values{"decision": {"accept"}}))
			want := consent.TextForRole(tn, store.ConsentSelf, store.RoleTeacher) // t-0001 is a teacher
			cs, _ := b.comp.Consent.Store.ConsentsOf(ctx, server.DevTenant, "t-0001")
			if len(cs) != 1 || cs[0].TextVersion != want.Version || cs[0].TextHash != want.Hash {
				t.Fatalf("consents = %+v, want text %s %s", cs, want.Version, want.Hash)
			}
		})
	}
}

// TestSelfConsentReplayed: the consent form submitted twice records one
// consent; the replay gets «Сеанс входа устарел».
func TestSelfConsentReplayed(t *testing.T) {
	b := startBroker(t, true, nil)
	h := newHooks(t, b)
	d := newDiary(b)
	br := newBrowser(t)
	page := br.get(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacher)))
	first := br.submit(page, "/consent", url.Values{"decision": {"accept"}})
	again := br.submit(page, "/consent", url.Values{"decision": {"accept"}})
	if again.Status != http.StatusBadRequest || !strings.Contains(again.Body, "Сеанс входа устарел") {
		t.Fatalf("replay: %d %.400s", again.Status, again.Body)
	}
	tokens(t, b, d, br.through(first))
	if cs, _ := b.comp.Consent.Store.ConsentsOf(context.Background(), server.DevTenant, "t-0001"); len(cs) != 1 {
		t.Fatalf("consents = %+v", cs)
	}
	if got := strings.Join(h.types(t, b), ","); got != "consent.granted" {
		t.Fatalf("webhooks = %s", got)
	}
}

// TestNoPersonalDataInLogsOrWebhooks: the whole parental workflow — the
// child blocked, the parent's page, a refusal, a grant, a revocation, a
// new grant and its expiry by the janitor — logs and sends no name, SNILS,
// birth date or document of the family, and the webhooks no ESIA oid.
func TestNoPersonalDataInLogsOrWebhooks(t *testing.T) {
	b := startBroker(t, true, nil)
	ctx := context.Background()
	tn, _ := b.comp.Store.GetTenant(ctx, server.DevTenant)
	tn.Consent.TermDays = 30
	_ = b.comp.Store.UpdateTenant(ctx, tn)
	h := newHooks(t, b)
	d := newDiary(b)
	errorRedirect(t, loginAs(t, b, d, oidChild), d, "consent_required")
	b.logs.Reset() // the ESIA login itself is another test's business
	br, page := parentPage(t, b, oidParent)
	page = decide(t, b, br, page, "s-0001", "decline")
	page = decide(t, b, br, page, "s-0001", "accept")
	page = decide(t, b, br, page, "s-0001", "revoke")
	decide(t, b, br, page, "s-0001", "accept")
	b.clock.Advance(31 * 24 * time.Hour)
	b.comp.Sweep(ctx)
	got := strings.Join(h.types(t, b), ",")
	if got != "consent.requested,consent.denied,consent.granted,consent.revoked,consent.granted,consent.expired" {
		t.Fatalf("webhooks = %s", got)
	}
	logs := b.logs.String()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, secret := range familyPII {
		if strings.Contains(logs, secret) {
			t.Errorf("logs hold %q", secret)
		}
		for _, e := range h.events {
			if strings.Contains(string(e.Data), secret) {
				t.Errorf("webhook %s holds %q: %s", e.Type, secret, e.Data)
			}
		}
	}
	for _, e := range h.events {
		for _, oid := range []string{oidChild, oidParent} {
			if strings.Contains(string(e.Data), oid) {
				t.Errorf("webhook %s holds the ESIA oid %s: %s", e.Type, oid, e.Data)
			}
		}
	}
}
