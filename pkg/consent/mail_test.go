package consent_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/store"
)

// fakeMailer keeps what it is asked to send, or fails.
type fakeMailer struct {
	to, bodies []string
	fail       error
}

func (m *fakeMailer) Send(_ context.Context, to, subject, body string) error {
	if m.fail != nil {
		return errors.New(m.fail.Error() + " <" + to + ">")
	}
	m.to, m.bodies = append(m.to, to), append(m.bodies, subject+"\n"+body)
	return nil
}

// mailFixture is the fixture with e-mail on: mum has an address, dad none.
func mailFixture(t *testing.T) (*fixture, *fakeMailer, *consent.Notifier, map[string]int) {
	f := newFixture(t)
	f.svc.Mail = true
	mum, err := f.st.GetPerson(ctx, "t1", "p-mum")
	must(t, err)
	mum.Contacts = []store.Contact{{Type: "phone", Value: "+79001234567"}, {Type: "email", Value: "mum@example.ru"}}
	must(t, f.st.UpsertPersons(ctx, "t1", []store.Person{mum}))
	m := &fakeMailer{}
	outcomes := map[string]int{}
	n := &consent.Notifier{Store: f.st, Mailer: m, Now: func() time.Time { return f.now },
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		ParentURL: func(id string) string { return "https://id.example/parent?tenant=" + id },
		Observe:   func(k store.MailKind, o string) { outcomes[string(k)+":"+o]++ }}
	return f, m, n, outcomes
}

// TestNotifierSendsAndReminds: a request writes one job per parent and
// kind; the parent with an address gets the e-mail (child's first name
// and link only), the one without is skipped; the reminder comes three
// days before the end, and not at all once the request is granted.
func TestNotifierSendsAndReminds(t *testing.T) {
	f, m, n, outcomes := mailFixture(t)
	d, err := f.svc.Check(ctx, f.t, f.childSubject())
	must(t, err)
	jobs, err := f.st.MailOfRequest(ctx, "t1", d.Request.ID)
	must(t, err)
	if len(jobs) != 4 {
		t.Fatalf("jobs = %+v", jobs)
	}
	if _, err := n.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if len(m.to) != 1 || m.to[0] != "mum@example.ru" || !strings.Contains(m.bodies[0], "Ася") ||
		!strings.Contains(m.bodies[0], "https://id.example/parent?tenant=t1") || strings.Contains(m.bodies[0], "Иванова") {
		t.Fatalf("sent %v %q", m.to, m.bodies)
	}
	if outcomes["requested:sent"] != 1 || outcomes["requested:no_address"] != 1 {
		t.Fatalf("outcomes %v", outcomes)
	}
	// A second check of the same child opens nothing and writes nothing.
	_, err = f.svc.Check(ctx, f.t, f.childSubject())
	must(t, err)
	if again, _ := f.st.MailOfRequest(ctx, "t1", d.Request.ID); len(again) != 4 {
		t.Fatalf("jobs after a second login: %d", len(again))
	}

	f.now = f.now.Add(26 * 24 * time.Hour)
	if k, _ := n.RunOnce(ctx); k != 0 {
		t.Fatalf("reminder before its day: %d jobs", k)
	}
	f.now = f.now.Add(24 * time.Hour) // 27 days: 3 before the end
	if _, err := n.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if len(m.to) != 2 || !strings.HasPrefix(m.bodies[1], "Напоминание") {
		t.Fatalf("reminder: %q", m.bodies)
	}

	// Granted: another child's request, granted before its reminder.
	f2, m2, n2, outcomes2 := mailFixture(t)
	_, err = f2.svc.Check(ctx, f2.t, f2.childSubject())
	must(t, err)
	must(t, f2.svc.Decide(ctx, f2.t, f2.dad, "s-1", true))
	f2.now = f2.now.Add(28 * 24 * time.Hour)
	if _, err := n2.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if len(m2.to) != 0 || outcomes2["requested:closed"] != 2 || outcomes2["reminder:closed"] != 2 {
		t.Fatalf("after the grant: sent %v, outcomes %v", m2.to, outcomes2)
	}
}

// TestNotifierRateLimitAndFailures: an address over its limit is skipped;
// a failing server is retried with backoff and the job dies after six
// tries; the failure kept says nothing of the address.
func TestNotifierRateLimitAndFailures(t *testing.T) {
	f, m, n, outcomes := mailFixture(t)
	keys := map[string]bool{}
	n.Allow = func(_ context.Context, key string) (bool, error) {
		keys[key] = true
		return false, nil
	}
	d, err := f.svc.Check(ctx, f.t, f.childSubject())
	must(t, err)
	if _, err := n.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if len(m.to) != 0 || outcomes["requested:rate_limited"] != 1 {
		t.Fatalf("over the limit: sent %v outcomes %v", m.to, outcomes)
	}
	for k := range keys {
		if strings.Contains(k, "mum") || strings.Contains(k, "@") {
			t.Fatalf("rate limit key holds the address: %s", k)
		}
	}

	f2, m2, n2, outcomes2 := mailFixture(t)
	m2.fail = errors.New("451 try later")
	d, err = f2.svc.Check(ctx, f2.t, f2.childSubject())
	must(t, err)
	for i := range 6 {
		if _, err := n2.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		f2.now = f2.now.Add(time.Duration(5<<i) * time.Minute)
	}
	if outcomes2["requested:failed"] != 5 || outcomes2["requested:dead"] != 1 {
		t.Fatalf("outcomes %v", outcomes2)
	}
	jobs, err := f2.st.MailOfRequest(ctx, "t1", d.Request.ID)
	must(t, err)
	for _, j := range jobs {
		if j.Kind == store.MailRequested && j.ParentRecord == "p-mum" {
			if j.Status != store.MailDead || j.Attempts != 6 || !strings.Contains(j.LastError, "451") || strings.Contains(j.LastError, "mum@") {
				t.Fatalf("dead job %+v", j)
			}
		}
	}
}
