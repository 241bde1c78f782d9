package server_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// TestConcurrentFirstLoginsMakeOneConsent: an adult's first logins, many
// at once (two tabs, a diary's retries, a double click), each reach the
// consent page and accept at the same moment, on PostgreSQL. Every login
// goes on to the diary, and the record ends with one granted consent, one
// "granted" evidence record and one consent.granted webhook — the logins
// that lost the race found the consent granted.
func TestConcurrentFirstLoginsMakeOneConsent(t *testing.T) {
	db := pgtest.NewDatabase(t)
	b := startBroker(t, true, func(s *server.Settings) {
		s.DatabaseURL, s.KEK = db, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	})
	const logins = 8
	for _, person := range []struct{ oid, record string }{
		{oidTeacher, "t-0001"},
		{oidAdultStudent, ""},
	} {
		t.Run(person.oid, func(t *testing.T) {
			// Every login is on the consent page before anyone answers.
			type login struct {
				br   *browser
				d    *diary
				page outcome
			}
			var ls []login
			for range logins {
				br, d := newBrowser(t), newDiary(b)
				page := br.get(d.authURL(oauth2.SetAuthURLParam("sim_person", person.oid)))
				if !strings.Contains(page.Body, `action="/consent"`) {
					t.Fatalf("no consent page: %d %.300s", page.Status, page.Body)
				}
				ls = append(ls, login{br, d, page})
			}
			answers := make([]outcome, logins)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, l := range ls {
				wg.Go(func() {
					csrf, id := csrfField.FindStringSubmatch(l.page.Body), loginField.FindStringSubmatch(l.page.Body)
					form := url.Values{"csrf": {htmlUnescape(csrf[1])}, "login": {htmlUnescape(id[1])}, "decision": {"accept"}}
					<-start
					resp, err := l.br.client.PostForm(l.page.URL+"/consent", form)
					if err != nil {
						t.Errorf("login %d: %v", i, err)
						return
					}
					answers[i] = l.br.outcome(resp)
				})
			}
			close(start)
			wg.Wait()
			if t.Failed() {
				return
			}
			var record string
			for i, l := range ls {
				o := l.br.through(answers[i])
				if o.Redirect == nil || o.Redirect.Query().Get("code") == "" {
					t.Fatalf("login %d did not reach the diary: %d %v %.300s", i, o.Status, o.Redirect, o.Body)
				}
				_, claims := tokens(t, b, l.d, o)
				record, _ = claims["person_id"].(string)
			}
			if person.record != "" && record != person.record {
				t.Fatalf("person_id = %q, want %q", record, person.record)
			}
			ctx := context.Background()
			cs, err := b.comp.Consent.Store.ConsentsOf(ctx, server.DevTenant, record)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != 1 || cs[0].Status != store.ConsentGranted || cs[0].Kind != store.ConsentSelf {
				t.Fatalf("%s has %d consents, want one granted", record, len(cs))
			}
			ev, err := b.comp.Consent.Store.EvidenceOf(ctx, server.DevTenant, record)
			if err != nil {
				t.Fatal(err)
			}
			if len(ev) != 1 || ev[0].Event != "granted" || ev[0].ConsentID != cs[0].ID {
				t.Fatalf("evidence of %s: %+v, want one grant", record, ev)
			}
			es, err := b.comp.Consent.Store.ListEvents(ctx, server.DevTenant, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			var granted []string
			for _, e := range es {
				var data struct {
					PersonID  string `json:"person_id"`
					ConsentID string `json:"consent_id"`
				}
				if err := json.Unmarshal(e.Data, &data); err != nil {
					t.Fatal(err)
				}
				if e.Type == "consent.granted" && data.PersonID == record {
					granted = append(granted, data.ConsentID)
				}
			}
			if len(granted) != 1 || granted[0] != cs[0].ID {
				t.Fatalf("consent.granted webhooks of %s: %v, want one of %s", record, granted, cs[0].ID)
			}
		})
	}
}
