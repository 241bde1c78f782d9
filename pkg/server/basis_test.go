package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// TestCodeRestsOnTheLoginsConsentAndLink: the code a login gets rests on
// the consent the consent step found and on the person's link. Ending
// either after the code is issued — as a withdrawal or a suspension
// racing the login leaves it: the row changed, the code written after the
// revocation ran — makes its exchange invalid_grant; the same login run
// again, on what holds then, gets its tokens. The consent is the one the
// consent page just granted (first login) and the one the consent step
// found (a later one). The login's attempt then says why the diary got no
// tokens. Memory and PostgreSQL + Redis.
func TestCodeRestsOnTheLoginsConsentAndLink(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			b := startBroker(t, true, be.edit(t))
			ctx := context.Background()
			st := b.comp.Store
			refused := func(d *diary, o outcome) {
				t.Helper()
				if o.Redirect == nil || o.Redirect.Query().Get("code") == "" {
					t.Fatalf("login ended on a page (status %d): %.300s", o.Status, o.Body)
				}
				_, err := d.cfg.Exchange(ctx, o.Redirect.Query().Get("code"), oauth2.VerifierOption(d.verifier))
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || !strings.Contains(re.ErrorDescription, "consent or the link") {
					t.Fatalf("exchange: %v, want invalid_grant naming the consent or the link", err)
				}
				// The login's attempt, the newest of the person's, says why
				// the diary got no tokens, and what support should do.
				as, err := st.AttemptsByOID(ctx, server.DevTenant, oidTeacher, 1)
				if err != nil || len(as) != 1 {
					t.Fatalf("attempts: %+v, %v", as, err)
				}
				a, err := st.GetAttempt(ctx, as[0].Ref)
				if err != nil {
					t.Fatal(err)
				}
				last, failed := a.Events[len(a.Events)-1], 0
				for _, ev := range a.Events {
					if ev.Step == "failed" {
						failed++
					}
				}
				if a.Outcome != login.ReasonCodeRefused || last.Step != "failed" || !strings.Contains(string(last.Detail), login.ReasonCodeRefused) {
					t.Fatalf("attempt after the refused exchange: outcome %q, last step %q %s", a.Outcome, last.Step, last.Detail)
				}
				// x/oauth2 sent the refused exchange twice (it probes the
				// authentication style): the attempt notes it once.
				if failed != 1 {
					t.Fatalf("%d «failed» steps, want 1", failed)
				}
				if v := support.ViewOfAttempt(a); !strings.Contains(strings.Join(v.Advice, " "), "Дневник не получил вход") {
					t.Fatalf("support's advice: %q", v.Advice)
				}
			}

			// First login: the consent page grants the consent; it is
			// revoked before the code is exchanged.
			d := newDiary(b)
			o := loginAs(t, b, d, oidTeacher)
			cs, err := st.ConsentsOf(ctx, server.DevTenant, "t-0001")
			if err != nil || len(cs) != 1 || cs[0].Status != store.ConsentGranted {
				t.Fatalf("consents after the first login: %+v, %v", cs, err)
			}
			if err := st.EndConsent(ctx, server.DevTenant, cs[0].ID, store.ConsentRevoked, "", time.Now()); err != nil {
				t.Fatal(err)
			}
			refused(d, o)

			// Asked again, granted again: the login goes through.
			d = newDiary(b)
			tokens(t, b, d, loginAs(t, b, d, oidTeacher))

			// A later login finds that consent (no page); the link is
			// suspended before the code is exchanged.
			d = newDiary(b)
			o = loginAs(t, b, d, oidTeacher)
			links, err := st.LinksByOID(ctx, server.DevTenant, oidTeacher)
			if err != nil || len(links) != 1 {
				t.Fatalf("links: %+v, %v", links, err)
			}
			l := links[0]
			l.Status, l.Reason = store.LinkSuspended, "snils_changed"
			if err := st.UpdateLink(ctx, l); err != nil {
				t.Fatal(err)
			}
			refused(d, o)
		})
	}
}
