package server_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/diarybroker/broker/pkg/server"
)

// axeViolation is one rule axe-core found broken on a page.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeCheck injects axe-core (testdata/axe, vendored from npm) into the
// current page through DevTools — the page's CSP is not loosened, and the
// pages have no script of their own — and returns the WCAG 2.1 A/AA rules
// it breaks. axe's promises need the script engine, so it runs while the
// test switches JavaScript on for the check (the page was loaded without).
func axeCheck(t *testing.T, ctx context.Context, src string) []axeViolation {
	t.Helper()
	scripts := func(disabled bool) {
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: disabled}); err != nil {
			t.Fatal(err)
		}
	}
	scripts(false)
	defer scripts(true)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[*runtime.RemoteObject](src)); err != nil {
		t.Fatalf("inject axe: %v", err)
	}
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
		.then(r => r.passes.length === 0 ? [{id: "no-rule-passed", impact: "", help: "axe checked nothing", nodes: []}] :
			r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help, nodes: v.nodes.map(n => n.target.join(" "))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe: %v", err)
	}
	return v
}

// TestAccessibilityInChromium checks every kind of page a family or a
// diary's user meets with axe-core (WCAG 2.1 A and AA), at a desktop and
// a phone's width: the demo, the parent page's address, a 404, the
// child's «Нужно согласие родителя», «не найден» with its report form, the
// consent page, the role picker, the parent's page and a parent's first login.
func TestAccessibilityInChromium(t *testing.T) {
	src, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	ctx := chromium(t)
	b := startBroker(t, true, nil)
	// The check is not vacuous: a page without a language and an image
	// without a text alternative fails it.
	do(t, ctx, chromedp.Navigate(`data:text/html,<html><title>x</title><img src="x.png"></html>`))
	ids := map[string]bool{}
	for _, v := range axeCheck(t, ctx, string(src)) {
		ids[v.ID] = true
	}
	if !ids["html-has-lang"] || !ids["image-alt"] {
		t.Fatalf("axe did not find the control page's faults: %v", ids)
	}
	for _, tc := range []struct{ name, path string }{
		{"demo", "/demo"},
		{"parent address", "/parent"},
		{"not found (404)", "/no-such-page"},
		{"child's page", "/demo/login?person=" + oidChild},
		{"record not found", "/demo/login?person=" + oidNotInRoster},
		{"consent page", "/demo/login?person=" + oidTeacher},
		{"role picker", "/demo/login?person=" + oidTeacherParent},
		{"parent's page", "/parent?tenant=" + server.DevTenant + "&sim_person=" + oidParent},
		{"parent's first login", "/demo/login?person=" + oidParent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// At a desktop width and a phone's (390 px).
			for _, width := range []int64{1000, 390} {
				do(t, ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate(b.URL+tc.path))
				for _, v := range axeCheck(t, ctx, string(src)) {
					t.Errorf("%d px: %s (%s): %s — %s", width, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
				}
			}
		})
	}
}
