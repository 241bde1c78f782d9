package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/webhook"
)

// Fixture persons of the consent tests (pkg/esia/esiasim/fixtures).
const (
	oidUnconfirmed16 = "1000100005" // Волкова Дарья, 16, simplified account
	oidMotherOfThree = "1000100006" // Морозова Ольга: Даниил (15), Софья, Артём
	oidAdultStudent  = "1000100017" // Лебедев Никита, 18
)

// hooks is a diary's webhook receiver: it verifies every signature, the
// Standard Webhooks one and the older X-Broker-Signature, and checks each
// body against the webhooks section of api/openapi.yaml.
type hooks struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []webhook.Payload
	bad    int
}

func newHooks(t *testing.T, b *broker) *hooks {
	h := &hooks{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := webhook.Verify([]byte("whsec-test"), r.Header.Get(webhook.Header), body, b.clock.Now(), 5*time.Minute); err != nil {
			h.bad++
			http.Error(w, "bad signature", 401)
			return
		}
		if err := webhook.VerifyStandard(webhook.SecretKey("whsec-test"), r.Header, body, b.clock.Now(), 5*time.Minute); err != nil {
			h.bad++
			http.Error(w, "bad signature", 401)
			return
		}
		if err := server.ValidateWebhook(body); err != nil {
			t.Errorf("api/openapi.yaml: webhook: %v: %s", err, body)
		}
		var p webhook.Payload
		_ = json.Unmarshal(body, &p)
		h.events = append(h.events, p)
	}))
	t.Cleanup(h.srv.Close)
	ctx := context.Background()
	tn, _ := b.comp.Store.GetTenant(ctx, server.DevTenant)
	tn.WebhookURL, tn.WebhookSecret = h.srv.URL, "whsec-test"
	if err := b.comp.Store.UpdateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	return h
}

// types delivers the due events and returns the consent.* types received
// so far; all returns every type.
func (h *hooks) types(t *testing.T, b *broker) []string {
	var out []string
	for _, typ := range h.all(t, b) {
		if strings.HasPrefix(typ, "consent.") {
			out = append(out, typ)
		}
	}
	return out
}

func (h *hooks) all(t *testing.T, b *broker) []string {
	b.comp.DeliverWebhooks(context.Background())
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.bad > 0 {
		t.Fatalf("%d webhooks with a bad signature", h.bad)
	}
	var out []string
	for _, e := range h.events {
		out = append(out, e.Type)
	}
	return out
}

// parentPage logs a parent in to /parent (through ESIA with kid scopes).
func parentPage(t *testing.T, b *broker, oid string) (*browser, outcome) {
	br := newBrowser(t)
	o := br.get(b.URL + "/parent?tenant=" + server.DevTenant + "&sim_person=" + oid)
	if o.Status != 200 || !strings.Contains(o.Body, "Согласия для родителей") {
		t.Fatalf("parent page: %d %.400s", o.Status, o.Body)
	}
	// The text a parent consents to stands above the buttons that give it.
	if text, button := strings.Index(o.Body, "Текст согласия"), strings.Index(o.Body, `name="decision"`); button >= 0 && (text < 0 || text > button) {
		t.Fatalf("the consent text (at %d) is not above the decision buttons (at %d)", text, button)
	}
	return br, o
}

// decide posts a parent's decision for a child on the parent page.
func decide(t *testing.T, b *broker, br *browser, page outcome, child, decision string) outcome {
	t.Helper()
	form := url.Values{"tenant": {server.DevTenant}, "child": {child}, "decision": {decision}}
	if m := textVersionField.FindStringSubmatch(page.Body); m != nil {
		form.Set("text_version", htmlUnescape(m[1]))
	}
	if m := textHashField.FindStringSubmatch(page.Body); m != nil {
		form.Set("text_hash", htmlUnescape(m[1]))
	}
	o := br.submit(page, "/parent/consent", form)
	if o.Redirect == nil {
		return o
	}
	return br.get(b.URL + o.Redirect.String())
}

var (
	textVersionField = regexp.MustCompile(`name="text_version" value="([^"]*)"`)
	textHashField    = regexp.MustCompile(`name="text_hash" value="([^"]*)"`)
)

// TestParentGrantNamesTheTextShown: a grant from a page that showed an older
// consent text is refused with a page saying so, and records nothing; from
// the page showing the new text it is taken.
func TestParentGrantNamesTheTextShown(t *testing.T) {
	b, _, br, page := childWaitsForParent(t)
	ctx := context.Background()
	tn, err := b.comp.Store.GetTenant(ctx, server.DevTenant)
	if err != nil {
		t.Fatal(err)
	}
	// The wording changes under the same version: refused as well.
	tn.Consent.Purpose = "ведение электронного дневника и журнала успеваемости"
	if err := b.comp.Store.UpdateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	if o := decide(t, b, br, page, "s-0001", "accept"); o.Status != http.StatusConflict {
		t.Fatalf("grant on the old wording: %d %.400s", o.Status, o.Body)
	}
	tn.Consent.TextVersion = "2027-01"
	if err := b.comp.Store.UpdateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	o := decide(t, b, br, page, "s-0001", "accept")
	if o.Status != http.StatusConflict || !strings.Contains(o.Body, "Текст согласия изменился") {
		t.Fatalf("grant on the old text: %d %.400s", o.Status, o.Body)
	}
	if cs, _ := b.comp.Consent.Store.ConsentsOf(ctx, server.DevTenant, "s-0001"); len(cs) != 0 {
		t.Fatalf("a grant on the old text made a consent: %+v", cs)
	}
	fresh := br.get(b.URL + "/parent?tenant=" + server.DevTenant)
	if !strings.Contains(fresh.Body, "Версия текста 2027-01") {
		t.Fatalf("the page does not show the new text: %.400s", fresh.Body)
	}
	if o := decide(t, b, br, fresh, "s-0001", "accept"); !strings.Contains(o.Body, "Согласие дано") {
		t.Fatalf("grant on the new text: %d %.400s", o.Status, o.Body)
	}
	cs, err := b.comp.Consent.Store.ConsentsOf(ctx, server.DevTenant, "s-0001")
	if err != nil || len(cs) != 1 || cs[0].TextVersion != "2027-01" {
		t.Fatalf("consents %+v, %v", cs, err)
	}
}

// TestParentalConsentEndToEnd: a child under 14 is blocked, the parents
// are asked, a parent proves parenthood through ESIA, grants, the child
// logs in; the parent revokes and the child is out at once — and the diary
// heard of every step by a signed webhook.
func TestParentalConsentEndToEnd(t *testing.T) {
	b := startBroker(t, true, nil)
	h := newHooks(t, b)

	d := newDiary(b)
	o := loginAs(t, b, d, oidChild)
	ref := errorRedirect(t, o, d, "consent_required")
	if !strings.Contains(o.Body, "Для входа в дневник нужно согласие одного из родителей") || !strings.Contains(o.Body, "Кузнецов А. С.") {
		t.Fatalf("block page: %.600s", o.Body)
	}
	if got := h.types(t, b); strings.Join(got, ",") != "consent.requested" {
		t.Fatalf("webhooks = %v", got)
	}
	// Trying again does not ask twice.
	d2 := newDiary(b)
	errorRedirect(t, loginAs(t, b, d2, oidChild), d2, "consent_required")
	if got := h.types(t, b); len(got) != 1 {
		t.Fatalf("a second attempt asked again: %v", got)
	}
	a, _ := b.comp.Store.GetAttempt(context.Background(), ref)
	if a.Reason != "consent_required" {
		t.Fatalf("attempt = %+v", a)
	}

	// The father logs in to the diary: he sees the notice and goes on.
	dp := newDiary(b)
	brp := newBrowser(t)
	notice := brp.get(dp.authURL(oauth2.SetAuthURLParam("sim_person", oidParent)))
	if strings.Contains(notice.Body, `action="/consent"`) { // his own consent first, as an adult
		notice = brp.submit(notice, "/consent", url.Values{"decision": {"accept"}})
	}
	if !strings.Contains(notice.Body, "Вас просят дать согласие") || !strings.Contains(notice.Body, "Алиса") {
		t.Fatalf("no notice for the parent: %d %.400s", notice.Status, notice.Body)
	}
	tokens(t, b, dp, brp.through(notice))

	// On the parent's page he proves parenthood (ESIA kids) and grants.
	br, page := parentPage(t, b, oidParent)
	if !strings.Contains(page.Body, "Кузнецова Алиса") || !strings.Contains(page.Body, "ждёт вашего согласия") {
		t.Fatalf("parent page: %.800s", page.Body)
	}
	page = decide(t, b, br, page, "s-0001", "accept")
	if !strings.Contains(page.Body, "Согласие дано") {
		t.Fatalf("after grant: %.600s", page.Body)
	}
	// A double submit changes nothing.
	decide(t, b, br, page, "s-0001", "accept")

	d3 := newDiary(b)
	tok, claims := tokens(t, b, d3, loginAs(t, b, d3, oidChild))
	if claims["person_id"] != "s-0001" || claims["age_group"] != "under14" {
		t.Fatalf("claims = %v", claims)
	}
	consents, _ := b.comp.Consent.Store.ConsentsOf(context.Background(), server.DevTenant, "s-0001")
	if len(consents) != 1 || consents[0].GrantorOID != oidParent || consents[0].Kind != store.ConsentParental {
		t.Fatalf("consents = %+v", consents)
	}

	// Revocation: the child's tokens die at once, the next login is refused.
	br, page = parentPage(t, b, oidParent)
	page = decide(t, b, br, page, "s-0001", "revoke")
	if !strings.Contains(page.Body, "Согласие отозвано") {
		t.Fatalf("after revoke: %.600s", page.Body)
	}
	if call(t, "GET", b.URL+"/userinfo", tok.AccessToken, "", "").Status != 401 {
		t.Fatal("the child's token survived the revocation")
	}
	d4 := newDiary(b)
	errorRedirect(t, loginAs(t, b, d4, oidChild), d4, "consent_required")
	got := strings.Join(h.types(t, b), ",")
	// The father's own consent (his first login), then the child's.
	if got != "consent.requested,consent.granted,consent.granted,consent.revoked,consent.requested" {
		t.Fatalf("webhooks = %s", got)
	}
	// The links made on the way were reported too (the child's, the father's).
	if all := strings.Join(h.all(t, b), ","); strings.Count(all, "link.created") != 2 {
		t.Fatalf("webhooks = %s", all)
	}
	// The diary reads the state through the consent API.
	api := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "consent:read")
	r := call(t, "GET", b.URL+"/api/v1/consents?person_id=s-0001", api, "", "")
	if r.Status != 200 || !strings.Contains(r.Body, `"state":"requested"`) || !strings.Contains(r.Body, `"revoked"`) {
		t.Fatalf("consents api: %d %s", r.Status, r.Body)
	}
}

func TestTeenWithOwnAccountNeedsAParent(t *testing.T) {
	b := startBroker(t, true, nil)
	d := newDiary(b)
	errorRedirect(t, loginAs(t, b, d, oid15), d, "consent_required")
	br, page := parentPage(t, b, oidMotherOfThree)
	decide(t, b, br, page, "s-0003", "accept")
	d2 := newDiary(b)
	_, claims := tokens(t, b, d2, loginAs(t, b, d2, oid15))
	if claims["age_group"] != "14to17" || claims["esia_trust"] != "confirmed" {
		t.Fatalf("claims = %v", claims)
	}
}

func TestUnconfirmedTeenIsRefused(t *testing.T) {
	b := startBroker(t, true, nil)
	d := newDiary(b)
	o := loginAs(t, b, d, oidUnconfirmed16)
	errorRedirect(t, o, d, "account_not_confirmed")
	if !strings.Contains(o.Body, "подтверждённая учётная запись") {
		t.Fatalf("page: %.400s", o.Body)
	}
}

func TestAdultSelfConsent(t *testing.T) {
	b := startBroker(t, true, nil)
	h := newHooks(t, b)
	t.Run("decline", func(t *testing.T) {
		d := newDiary(b)
		br := newBrowser(t)
		page := br.get(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacher)))
		if !strings.Contains(page.Body, "Согласие на обработку персональных данных") || !strings.Contains(page.Body, "Версия текста") {
			t.Fatalf("no consent page: %d %.300s", page.Status, page.Body)
		}
		o := br.submit(page, "/consent", url.Values{"decision": {"decline"}})
		if o.Redirect == nil || o.Redirect.Query().Get("error") != "access_denied" || o.Redirect.Query().Get("error_description") != "consent_denied" {
			t.Fatalf("decline: %d %v", o.Status, o.Redirect)
		}
	})
	t.Run("forged form", func(t *testing.T) {
		d := newDiary(b)
		page := newBrowser(t).get(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacher)))
		if o := newBrowser(t).submit(page, "/consent", url.Values{"decision": {"accept"}}); o.Status != http.StatusForbidden {
			t.Fatalf("forged: %d", o.Status)
		}
	})
	t.Run("accept once, not asked again", func(t *testing.T) {
		d := newDiary(b)
		tokens(t, b, d, loginAs(t, b, d, oidTeacher))
		d2 := newDiary(b)
		page := newBrowser(t).get(d2.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacher)))
		if page.Redirect == nil {
			t.Fatalf("asked again: %d %.200s", page.Status, page.Body)
		}
	})
	t.Run("a new text version asks again", func(t *testing.T) {
		ctx := context.Background()
		tn, _ := b.comp.Store.GetTenant(ctx, server.DevTenant)
		tn.Consent.TextVersion = "2"
		if err := b.comp.Store.UpdateTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
		d := newDiary(b)
		page := newBrowser(t).get(d.authURL(oauth2.SetAuthURLParam("sim_person", oidTeacher)))
		if !strings.Contains(page.Body, "Версия текста 2") {
			t.Fatalf("not asked for version 2: %.300s", page.Body)
		}
		cs, _ := b.comp.Consent.Store.ConsentsOf(ctx, server.DevTenant, "t-0001")
		if cs[len(cs)-1].Status != store.ConsentSuperseded {
			t.Fatalf("old consent = %+v", cs)
		}
	})
	if got := strings.Join(h.types(t, b), ","); !strings.Contains(got, "consent.denied") || !strings.Contains(got, "consent.granted") || !strings.Contains(got, "consent.expired") {
		t.Fatalf("webhooks = %s", got)
	}
}

// TestConsentExpiry: a tenant's consents last 30 days; after that the
// janitor expires it, the diary is told, the child's tokens are dead and
// the child is blocked again.
func TestConsentExpiry(t *testing.T) {
	// Tokens outlive the consent's term here, so that only the expiry
	// can end them.
	b := startBroker(t, true, func(s *server.Settings) {
		s.AccessTokenLifespan, s.RefreshTokenLifespan = 90*24*time.Hour, 90*24*time.Hour
	})
	ctx := context.Background()
	tn, _ := b.comp.Store.GetTenant(ctx, server.DevTenant)
	tn.Consent.TermDays = 30
	_ = b.comp.Store.UpdateTenant(ctx, tn)
	h := newHooks(t, b)
	br, page := parentPage(t, b, oidParent)
	decide(t, b, br, page, "s-0001", "accept")
	d := newDiary(b)
	tok, _ := tokens(t, b, d, loginAs(t, b, d, oidChild))
	if call(t, "GET", b.URL+"/userinfo", tok.AccessToken, "", "").Status != 200 {
		t.Fatal("the child's token does not work within the term")
	}
	b.clock.Advance(29 * 24 * time.Hour)
	b.comp.Sweep(ctx)
	if call(t, "GET", b.URL+"/userinfo", tok.AccessToken, "", "").Status != 200 {
		t.Fatal("the child's token died within the term")
	}
	b.clock.Advance(2 * 24 * time.Hour)
	b.comp.Sweep(ctx)
	cs, _ := b.comp.Consent.Store.ConsentsOf(ctx, server.DevTenant, "s-0001")
	if len(cs) != 1 || cs[0].Status != store.ConsentExpired {
		t.Fatalf("consent = %+v", cs)
	}
	if got := strings.Join(h.types(t, b), ","); !strings.Contains(got, "consent.expired") {
		t.Fatalf("webhooks = %s", got)
	}
	if call(t, "GET", b.URL+"/userinfo", tok.AccessToken, "", "").Status != 401 {
		t.Fatal("the child's token survived the expiry")
	}
	d2 := newDiary(b)
	errorRedirect(t, loginAs(t, b, d2, oidChild), d2, "consent_required")
}

// TestChildWithoutParentsInTheRoster: nobody can be asked; the page says
// what to do and support sees why.
func TestChildWithoutParentsInTheRoster(t *testing.T) {
	b := startBroker(t, true, nil)
	token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster", "support")
	if r := call(t, "POST", b.URL+"/api/v1/roster", token, "application/x-ndjson",
		`{"type":"relation","op":"delete","parent":"p-0001","student":"s-0001"}`); r.Status != 200 {
		t.Fatalf("delete relation: %d %s", r.Status, r.Body)
	}
	d := newDiary(b)
	o := loginAs(t, b, d, oidChild)
	ref := errorRedirect(t, o, d, "consent_required")
	if !strings.Contains(o.Body, "не указан ни один твой родитель") || strings.Contains(o.Body, "qr.png") {
		t.Fatalf("page: %.600s", o.Body)
	}
	r := call(t, "GET", b.URL+"/api/v1/support/attempts/"+ref, token, "", "")
	if !strings.Contains(r.Body, `"no_parents":true`) {
		t.Fatalf("support does not see why: %s", r.Body)
	}
}

// TestParentWithoutTheChildInESIA: the roster relates a child to the
// parent but the parent's ESIA kids do not list it: no grant.
func TestParentWithoutTheChildInESIA(t *testing.T) {
	b := startBroker(t, true, nil)
	token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	// Make the roster say the teacher-father (Соловьёв, p-0005) is Алиса's father too.
	if r := call(t, "POST", b.URL+"/api/v1/roster", token, "application/x-ndjson",
		`{"type":"relation","parent":"p-0005","student":"s-0001","kind":"father"}`); r.Status != 200 {
		t.Fatalf("relation: %d", r.Status)
	}
	br, page := parentPage(t, b, oidTeacherParent)
	if !strings.Contains(page.Body, "не найден в вашем разделе «Семья и дети»") {
		t.Fatalf("parent page: %.800s", page.Body)
	}
	o := decide(t, b, br, page, "s-0001", "accept")
	if o.Status != http.StatusForbidden {
		t.Fatalf("grant for someone else's child: %d", o.Status)
	}
	cs, _ := b.comp.Consent.Store.ConsentsOf(context.Background(), server.DevTenant, "s-0001")
	if len(cs) != 0 {
		t.Fatalf("consent made: %+v", cs)
	}
}

// TestAdultStudentConsentsHimself: an 18-year-old student is an adult.
func TestAdultStudentConsentsHimself(t *testing.T) {
	b := startBroker(t, true, nil)
	d := newDiary(b)
	_, claims := tokens(t, b, d, loginAs(t, b, d, oidAdultStudent))
	if claims["age_group"] != "adult" {
		t.Fatalf("claims = %v", claims)
	}
	cs, _ := b.comp.Consent.Store.ConsentsOf(context.Background(), server.DevTenant, claims["person_id"].(string))
	if len(cs) != 1 || cs[0].Kind != store.ConsentSelf {
		t.Fatalf("consents = %+v", cs)
	}
}

// TestWebhookDeadLetters: a receiver that keeps failing makes the event a
// dead letter after the last attempt; support sees it and sends it again.
func TestWebhookDeadLetters(t *testing.T) {
	b := startBroker(t, true, nil)
	b.comp.Webhooks.MaxAttempts = 3
	b.comp.Webhooks.Backoff = func(int) time.Duration { return time.Minute }
	var mu sync.Mutex
	fail, calls := true, 0
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if fail {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer recv.Close()
	ctx := context.Background()
	tn, _ := b.comp.Store.GetTenant(ctx, server.DevTenant)
	tn.WebhookURL, tn.WebhookSecret = recv.URL, "s"
	_ = b.comp.Store.UpdateTenant(ctx, tn)
	d := newDiary(b)
	loginAs(t, b, d, oidChild) // consent.requested (and link.created)
	for i := 0; i < 3; i++ {
		b.comp.DeliverWebhooks(ctx)
		b.clock.Advance(2 * time.Minute)
	}
	token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "support")
	r := call(t, "GET", b.URL+"/api/v1/support/webhooks?status=dead", token, "", "")
	var list struct {
		Webhooks []struct {
			ID, Type, Status string
			LastError        string `json:"last_error"`
			Attempts         int
		}
	}
	r.json(t, &list)
	if r.Status != 200 || len(list.Webhooks) != 2 || list.Webhooks[0].Attempts != 3 || !strings.Contains(list.Webhooks[0].LastError, "503") {
		t.Fatalf("dead letters: %d %s", r.Status, r.Body)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	for _, w := range list.Webhooks {
		if r := call(t, "POST", b.URL+"/api/v1/support/webhooks/"+w.ID+"/retry", token, "", ""); r.Status != 202 {
			t.Fatalf("retry: %d %s", r.Status, r.Body)
		}
	}
	r = call(t, "GET", b.URL+"/api/v1/support/webhooks?status=delivered", token, "", "")
	r.json(t, &list)
	if len(list.Webhooks) != 2 {
		t.Fatalf("after retry: %s", r.Body)
	}
	if r := call(t, "POST", b.URL+"/api/v1/support/webhooks/"+list.Webhooks[0].ID+"/retry", token, "", ""); r.Status != 409 {
		t.Fatalf("retry of a delivered event: %d", r.Status)
	}
}
