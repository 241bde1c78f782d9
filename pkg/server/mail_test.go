package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/diarybroker/broker/pkg/server"
)

// received is one e-mail the in-process SMTP server took.
type received struct {
	From, To, Subject, Body string
}

// smtpSink is an in-process SMTP server (go-smtp) that keeps what it gets.
type smtpSink struct {
	Port int
	got  chan received
}

type sinkSession struct {
	sink     *smtpSink
	from, to string
}

func (s *sinkSession) Reset()        {}
func (s *sinkSession) Logout() error { return nil }
func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = to
	return nil
}
func (s *sinkSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(msg.Body)
	if err != nil {
		return err
	}
	body, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return err
	}
	s.sink.got <- received{From: s.from, To: s.to, Subject: subject, Body: string(body)}
	return nil
}

func startSMTP(t *testing.T) *smtpSink {
	t.Helper()
	sink := &smtpSink{got: make(chan received, 16)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: sink}, nil }))
	srv.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	sink.Port = l.Addr().(*net.TCPAddr).Port
	return sink
}

// next is the next e-mail, or fails the test.
func (s *smtpSink) next(t *testing.T) received {
	t.Helper()
	select {
	case m := <-s.got:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no e-mail arrived")
	}
	return received{}
}

func (s *smtpSink) none(t *testing.T) {
	t.Helper()
	select {
	case m := <-s.got:
		t.Fatalf("unexpected e-mail: %+v", m)
	default:
	}
}

var linkInMail = regexp.MustCompile(`http://\S+/parent\?tenant=\S+`)

// TestParentsGetEmail: with BROKER_SMTP_* set, a child's consent request
// sends the parent whose roster record has an e-mail a short e-mail — the
// child's first name, the parent page's link, nothing else personal —
// and a reminder before the request expires; the outcome is in the
// metric and among the attempt's events (no address in the logs); the
// link works: the parent opens it, signs in and consents.
func TestParentsGetEmail(t *testing.T) {
	sink := startSMTP(t)
	b := startBroker(t, true, func(s *server.Settings) {
		s.SMTP = server.SMTPSettings{Host: "127.0.0.1", Port: sink.Port, From: "Дневник <noreply@diary.example>", TLS: "none"}
	})
	ctx := context.Background()
	o := loginAs(t, b, newDiary(b), oidChild)
	ref := refOnPage.FindStringSubmatch(o.Body)
	if ref == nil || !strings.Contains(o.Body, "в письме на свою электронную почту") {
		t.Fatalf("child's page: %.800s", o.Body)
	}
	b.comp.DeliverMail(ctx)
	m := sink.next(t)
	link := b.URL + "/parent?tenant=" + server.DevTenant
	if m.To != "a.kuznecov@example.com" || m.From != "noreply@diary.example" || !strings.Contains(m.Subject, "Алиса") ||
		!strings.Contains(m.Body, "Алиса") || !strings.Contains(m.Body, link) {
		t.Fatalf("e-mail: %+v", m)
	}
	for _, bad := range []string{"Кузнецова", "Андреевна", "2016", "163-527", "s-0001"} {
		if strings.Contains(m.Body+m.Subject, bad) {
			t.Errorf("e-mail names %q", bad)
		}
	}
	sink.none(t)
	b.comp.DeliverMail(ctx) // nothing more due
	sink.none(t)

	// The reminder, three days before the request's 30 days end.
	b.clock.Advance(28 * 24 * time.Hour)
	b.comp.DeliverMail(ctx)
	r := sink.next(t)
	if !strings.Contains(r.Subject, "Напоминание") || !strings.Contains(r.Body, link) {
		t.Fatalf("reminder: %+v", r)
	}

	// Outcomes: the metric, the attempt's events; no address in the logs.
	metrics := newBrowser(t).get(b.URL + "/metrics").Body
	for _, want := range []string{`broker_mail_total{kind="requested",outcome="sent"} 1`, `broker_mail_total{kind="reminder",outcome="sent"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	code := strings.ReplaceAll(ref[1], "-", "")
	a, err := b.comp.Store.GetAttempt(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	var sent []string
	for _, ev := range a.Events {
		if ev.Step == "mail" {
			var d map[string]any
			_ = json.Unmarshal(ev.Detail, &d)
			sent = append(sent, d["kind"].(string)+":"+d["outcome"].(string)+":"+d["parent"].(string))
		}
	}
	if strings.Join(sent, ",") != "requested:sent:p-0001,reminder:sent:p-0001" {
		t.Errorf("attempt's mail events = %v", sent)
	}
	if strings.Contains(b.logs.String(), "a.kuznecov@example.com") {
		t.Error("the address is in the logs")
	}

	// The link works: the parent signs in and consents; the child gets in.
	found := linkInMail.FindString(r.Body)
	if found != link {
		t.Fatalf("link in the e-mail %q, want %q", found, link)
	}
	br := newBrowser(t)
	page := br.get(found + "&sim_person=" + oidParent)
	if !strings.Contains(page.Body, "Кузнецова Алиса") || !strings.Contains(page.Body, "ждёт вашего согласия") {
		t.Fatalf("parent page from the e-mail: %d %.600s", page.Status, page.Body)
	}
	done := br.submit(page, "/parent/consent", map[string][]string{"tenant": {server.DevTenant}, "child": {"s-0001"}, "decision": {"accept"},
		"text_version": {field(page.Body, "text_version")}, "text_hash": {field(page.Body, "text_hash")}})
	if !strings.Contains(done.Body, "Согласие дано") {
		t.Fatalf("after consenting: %d %.600s", done.Status, done.Body)
	}
	// (The clock is 28 days on, past what fosite accepts of a login's
	// auth_time: the consent itself is what the link was for.)
	cs, err := b.comp.Consent.Store.ConsentsOf(ctx, server.DevTenant, "s-0001")
	if err != nil || len(cs) != 1 || cs[0].Status != "granted" {
		t.Fatalf("consents after the link: %+v %v", cs, err)
	}
}

// field is the value of a hidden input of a page.
func field(body, name string) string {
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return htmlUnescape(m[1])
}

// TestNoEmailWithoutSMTP: without BROKER_SMTP_* nothing is queued and the
// child's page promises no e-mail.
func TestNoEmailWithoutSMTP(t *testing.T) {
	b := startBroker(t, true, nil)
	o := loginAs(t, b, newDiary(b), oidChild)
	if strings.Contains(o.Body, "в письме") {
		t.Fatalf("child's page promises an e-mail: %.600s", o.Body)
	}
	reqs, err := b.comp.Consent.Store.OpenRequestsFor(context.Background(), server.DevTenant, "p-0001")
	if err != nil || len(reqs) != 1 {
		t.Fatalf("requests: %v %v", reqs, err)
	}
	if jobs, _ := b.comp.Store.MailOfRequest(context.Background(), server.DevTenant, reqs[0].ID); len(jobs) != 0 {
		t.Fatalf("mail jobs without SMTP: %+v", jobs)
	}
	if b.comp.Mail != nil {
		t.Fatal("a mailer without SMTP settings")
	}
}
