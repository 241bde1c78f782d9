package server_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// TestTicketResolutionEmailed: a person who left an e-mail address with
// «Сообщить о проблеме» gets the resolution by e-mail when support resolves
// the ticket (the form says it will go); one who left a phone number, or
// none, gets nothing; without SMTP settings nothing is written at all. The
// attempt's page shows the e-mail's outcome; no address reaches the logs.
func TestTicketResolutionEmailed(t *testing.T) {
	tests := []struct {
		name, contact string
		smtp          bool
		mailed        bool
	}{
		{"e-mail left", "Pavlov.I@example.ru", true, true},
		{"phone left", "+7 900 123-45-67", true, false},
		{"nothing left", "", true, false},
		{"no SMTP settings", "pavlov@example.ru", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := startSMTP(t)
			b := startBroker(t, true, func(s *server.Settings) {
				if tc.smtp {
					s.SMTP = server.SMTPSettings{Host: "127.0.0.1", Port: sink.Port, From: "Дневник <noreply@diary.example>", TLS: "none"}
				}
			})
			ctx := context.Background()
			br, page, ref := failedLogin(t, b, oidSNILSTypo, "not_found")
			if sent := report(t, br, page, tc.contact, "не могу войти"); sent.Status != 200 {
				t.Fatalf("report: %d %.500s", sent.Status, sent.Body)
			}
			all, err := b.comp.Store.TicketsInScope(ctx, store.Scope{Role: store.StaffOperator}, "", 0)
			if err != nil || len(all) != 1 {
				t.Fatalf("tickets: %+v %v", all, err)
			}
			id := all[0].ID
			admin, _ := signInSupport(t, b, oidSchoolAdmin)
			tp := consoleGet(admin, b, "/support/tickets/"+id)
			if hint := strings.Contains(tp.Body, "Решение уйдёт заявителю письмом"); hint != tc.mailed {
				t.Fatalf("the form's hint shown = %v, want %v: %.2000s", hint, tc.mailed, tp.Body)
			}
			resolution := "СНИЛС в вашей записи исправлен, школа № 1"
			if tp = admin.submit(tp, "/support/tickets/"+id, url.Values{"action": {"resolve"}, "text": {resolution}}); tp.Status != 200 {
				t.Fatalf("resolve: %d %.1000s", tp.Status, tp.Body)
			}
			b.comp.DeliverMail(ctx)
			if !tc.mailed {
				sink.none(t)
				return
			}
			m := sink.next(t)
			formatted := login.FormatRef(ref)
			if !strings.EqualFold(m.To, tc.contact) || !strings.Contains(m.Subject, formatted) || !strings.Contains(m.Body, resolution) ||
				!strings.Contains(m.Body, "Попробуйте войти") {
				t.Fatalf("e-mail: %+v", m)
			}
			b.comp.DeliverMail(ctx)
			sink.none(t)
			a, err := b.comp.Store.GetAttempt(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			var outcomes []string
			for _, ev := range a.Events {
				if ev.Step == "mail" {
					var d map[string]any
					_ = json.Unmarshal(ev.Detail, &d)
					outcomes = append(outcomes, d["kind"].(string)+":"+d["outcome"].(string))
				}
			}
			if strings.Join(outcomes, ",") != "ticket_resolved:sent" {
				t.Fatalf("the attempt's mail steps: %v", outcomes)
			}
			if ap := consoleGet(admin, b, "/support/attempts/"+ref); !strings.Contains(ap.Body, "письмо заявителю о том, что обращение решено: отправлено") {
				t.Fatalf("attempt page: %.3000s", ap.Body)
			}
			if strings.Contains(b.logs.String(), tc.contact) || strings.Contains(strings.ToLower(b.logs.String()), "pavlov.i@") {
				t.Fatal("the address is in the logs")
			}
		})
	}
}
