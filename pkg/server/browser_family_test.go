package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/diarybroker/broker/pkg/server"
)

// TestReloadAndChildPageInChromium: in a real browser without JavaScript,
// the child's «Нужно согласие родителя» shows the parent's masked name,
// the parent page's link and its QR code (loaded under the strict CSP),
// and a reload shows the same page with the same reference code; so do
// «Ваш дневник не найден» and the consent page, whose answer still works
// after the reload.
func TestReloadAndChildPageInChromium(t *testing.T) {
	ctx := chromium(t)
	b := startBroker(t, true, nil)

	do(t, ctx, chromedp.Navigate(b.URL+"/demo/login?person="+oidChild))
	text := pageText(t, ctx)
	ref := refIn(t, text)
	if !strings.Contains(text, "Кузнецов А. С.") || !strings.Contains(text, b.URL+"/parent?tenant=demo") {
		t.Fatalf("child's page: %s", text)
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector("img.qr").naturalWidth`))
	if err != nil || width < 100 {
		t.Fatalf("QR image not shown: width %d, %v", width, err)
	}
	screenshot(t, ctx, "child-page-qr")
	do(t, ctx, chromedp.Reload())
	if again := pageText(t, ctx); again != text {
		t.Fatalf("reloaded child's page differs:\n%s\n---\n%s", text, again)
	}

	do(t, ctx, chromedp.Navigate(b.URL+"/demo/login?person="+oidNotInRoster))
	text = pageText(t, ctx)
	ref = refIn(t, text)
	do(t, ctx, chromedp.Reload())
	if again := pageText(t, ctx); !strings.Contains(again, ref) || again != text {
		t.Fatalf("reloaded «не найден» lost its code %s: %s", ref, again)
	}

	do(t, ctx, chromedp.Navigate(b.URL+"/demo/login?person="+oidTeacher), chromedp.Reload())
	if text = pageText(t, ctx); !strings.Contains(text, "Согласие на обработку персональных данных") {
		t.Fatalf("reloaded consent page: %s", text)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[value="accept"]`)), chromedp.WaitVisible(chromedp.CSS("table")))
	if text = pageText(t, ctx); !strings.Contains(text, "t-0001") {
		t.Fatalf("after a reloaded consent page: %s", text)
	}
}

// refIn finds the reference code in a page's text.
func refIn(t *testing.T, text string) string {
	t.Helper()
	_, after, ok := strings.Cut(text, "Код обращения: ")
	if !ok || len(after) < 11 {
		t.Fatalf("no reference code: %s", text)
	}
	return after[:11]
}

// TestEmailLinkInChromium: a child's consent request e-mails the parent
// (the in-process SMTP server gets it); the e-mail's link, opened in a
// browser without JavaScript, signs the parent in, the parent consents,
// and the child gets into the diary.
func TestEmailLinkInChromium(t *testing.T) {
	ctx := chromium(t)
	sink := startSMTP(t)
	b := startBroker(t, true, func(s *server.Settings) {
		s.SMTP = server.SMTPSettings{Host: "127.0.0.1", Port: sink.Port, From: "noreply@diary.example", TLS: "none"}
	})
	do(t, ctx, chromedp.Navigate(b.URL+"/demo/login?person="+oidChild))
	if text := pageText(t, ctx); !strings.Contains(text, "в письме на свою электронную почту") {
		t.Fatalf("child's page: %s", text)
	}
	b.comp.DeliverMail(context.Background())
	m := sink.next(t)
	link := linkInMail.FindString(m.Body)
	if link == "" || m.To != "a.kuznecov@example.com" {
		t.Fatalf("e-mail: %+v", m)
	}
	do(t, ctx, chromedp.Navigate(link+"&sim_person="+oidParent))
	if text := pageText(t, ctx); !strings.Contains(text, "Кузнецова Алиса") || !strings.Contains(text, "ждёт вашего согласия") {
		t.Fatalf("parent page from the e-mail: %s", text)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`form:has(input[name="child"][value="s-0001"]) button[value="accept"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)))
	if text := pageText(t, ctx); !strings.Contains(text, "Согласие дано") {
		t.Fatalf("after the grant: %s", text)
	}
	screenshot(t, ctx, "parent-page-from-email")
	do(t, ctx, chromedp.Navigate(b.URL+"/demo/login?person="+oidChild), chromedp.WaitVisible(chromedp.CSS("table")))
	if text := pageText(t, ctx); !strings.Contains(text, "s-0001") {
		t.Fatalf("child after the consent: %s", text)
	}
}
