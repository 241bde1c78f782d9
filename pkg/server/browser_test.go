package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/testenv"
)

// chromium starts Debian's Chromium headless (as root it needs
// --no-sandbox) with JavaScript switched off: every page must work
// without it. Missing Chromium skips the test, or fails it under CI=true.
func chromium(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("BROKER_CHROMIUM")
	if path == "" {
		p, err := exec.LookPath("chromium")
		if err != nil {
			testenv.Unavailable(t, "chromium", err)
		}
		path = p
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.WindowSize(1000, 1400),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// The first call starts the browser and must not carry a time-out (the
	// browser would end with it); a browser that starts but never answers
	// is cancelled instead after a minute, which ends the call with an
	// error rather than holding the package until go test's own limit.
	startLimit := time.AfterFunc(time.Minute, cancel)
	_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	startLimit.Stop()
	if err != nil {
		cancel()
		cancelAlloc()
		testenv.Unavailable(t, "chromium", err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancel(); cancelAlloc() })
	return tctx
}

// screenshot keeps a PNG of the page as a test artefact (artifacts/screenshots
// by default, or $BROKER_ARTIFACTS).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("BROKER_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	dir = filepath.Join(dir, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// do runs browser actions; an error fails the test.
func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// page reads the main text and the language of the current page.
func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatalf("read page: %v", err)
	}
	lang, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("html"), "lang"))
	if err != nil || lang.Value != "ru" {
		t.Fatalf("page language %q: %v", lang.Value, err)
	}
	return text
}

// TestPagesInChromium walks the consent pages in a real browser without
// JavaScript: the child's block page, the adult's consent page, and the
// parent's page where the parent grants — then the child gets in.
func TestPagesInChromium(t *testing.T) {
	ctx := chromium(t)
	b := startBroker(t, true, nil)

	// A child under 14: the block page.
	do(t, ctx, chromedp.Navigate(b.URL+"/demo/login?person="+oidChild))
	text := pageText(t, ctx)
	if !strings.Contains(text, "Для входа в дневник нужно согласие одного из родителей") || !strings.Contains(text, "Код обращения") {
		t.Fatalf("block page: %s", text)
	}
	screenshot(t, ctx, "block-page")

	// An adult's first login: the consent page; accepting reaches the diary.
	do(t, ctx, chromedp.Navigate(b.URL+"/demo/login?person="+oidTeacher))
	text = pageText(t, ctx)
	if !strings.Contains(text, "Согласие на обработку персональных данных") || !strings.Contains(text, "Я согласен") {
		t.Fatalf("consent page: %s", text)
	}
	screenshot(t, ctx, "consent-page")
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[value="accept"]`)), chromedp.WaitVisible(chromedp.CSS("table")))
	if text = pageText(t, ctx); !strings.Contains(text, "Дневник: вы вошли") || !strings.Contains(text, "t-0001") {
		t.Fatalf("after consent: %s", text)
	}
	screenshot(t, ctx, "demo-diary-claims")

	// The parent's page: grant for Алиса.
	do(t, ctx, chromedp.Navigate(b.URL+"/parent?tenant="+server.DevTenant+"&sim_person="+oidParent))
	text = pageText(t, ctx)
	if !strings.Contains(text, "Согласия для родителей") || !strings.Contains(text, "Кузнецова Алиса") {
		t.Fatalf("parent page: %s", text)
	}
	screenshot(t, ctx, "parent-page")
	do(t, ctx, chromedp.Click(chromedp.CSS(`form:has(input[name="child"][value="s-0001"]) button[value="accept"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)))
	if text = pageText(t, ctx); !strings.Contains(text, "Согласие дано") {
		t.Fatalf("after grant: %s", text)
	}
	screenshot(t, ctx, "parent-page-granted")

	// The child gets in now.
	do(t, ctx, chromedp.Navigate(b.URL+"/demo/login?person="+oidChild), chromedp.WaitVisible(chromedp.CSS("table")))
	if text = pageText(t, ctx); !strings.Contains(text, "s-0001") || !strings.Contains(text, "under14") {
		t.Fatalf("child after consent: %s", text)
	}
	screenshot(t, ctx, "child-logged-in")
}

// TestRefusalAndChangedTextInChromium: a parent refuses on the parent's
// page, the child's block page then says so; an adult's consent page whose
// text changed while it was open comes back with the new text, and the
// second answer gets in — all without JavaScript.
func TestRefusalAndChangedTextInChromium(t *testing.T) {
	ctx := chromium(t)
	b := startBroker(t, true, nil)
	do(t, ctx, chromedp.Navigate(b.URL+"/demo/login?person="+oidChild))
	do(t, ctx, chromedp.Navigate(b.URL+"/parent?tenant="+server.DevTenant+"&sim_person="+oidParent))
	do(t, ctx, chromedp.Click(chromedp.CSS(`form:has(input[name="child"][value="s-0001"]) button[value="decline"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[role="status"]`)))
	if text := pageText(t, ctx); !strings.Contains(text, "Отказ записан") || !strings.Contains(text, "вы отказали") {
		t.Fatalf("after the refusal: %s", text)
	}
	screenshot(t, ctx, "parent-page-declined")
	do(t, ctx, chromedp.Navigate(b.URL+"/demo/login?person="+oidChild))
	if text := pageText(t, ctx); !strings.Contains(text, "Один из родителей отказал") || !strings.Contains(text, "второй родитель") {
		t.Fatalf("block page after a refusal: %s", text)
	}
	screenshot(t, ctx, "block-page-declined")

	do(t, ctx, chromedp.Navigate(b.URL+"/demo/login?person="+oidTeacher))
	tn, _ := b.comp.Store.GetTenant(context.Background(), server.DevTenant)
	tn.Consent.TextVersion = "2"
	if err := b.comp.Store.UpdateTenant(context.Background(), tn); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[value="accept"]`)), chromedp.WaitVisible(chromedp.CSS(`[role="alert"]`)))
	if text := pageText(t, ctx); !strings.Contains(text, "Текст согласия изменился") || !strings.Contains(text, "Версия текста 2") {
		t.Fatalf("consent page after a text change: %s", text)
	}
	screenshot(t, ctx, "consent-page-text-changed")
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[value="accept"]`)), chromedp.WaitVisible(chromedp.CSS("table")))
	if text := pageText(t, ctx); !strings.Contains(text, "t-0001") {
		t.Fatalf("after consenting to the new text: %s", text)
	}
}
