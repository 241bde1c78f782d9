package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/diarybroker/broker/pkg/testenv"
)

// axeScript is axe-core (scripts/node, npm ci), read once.
var axeScript = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join("..", "..", "scripts", "node", "node_modules", "axe-core", "axe.min.js"))
	return string(b), err
})

// axeRun runs axe-core on the page with the WCAG 2.0/2.1 A and AA rules and
// returns the violations as JSON; a page on which no rule passed (axe
// checked nothing) is a critical violation of its own.
const axeRun = `axe.run(document, {
	runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
	resultTypes: ["violations", "passes"],
}).then(r => r.passes.length === 0 ? [{id: "no-rule-passed", impact: "critical", help: "axe checked nothing", nodes: []}] :
	r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
	nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "))})))`

// axeViolation is one rule axe-core found broken, with where.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeAccepted lists moderate or minor findings judged acceptable, by rule
// id, with why; serious and critical ones are never accepted. None today:
// the sweep of every page at both widths finds no violation of any impact
// (axe-core 4.14.1), so a new finding of any impact fails until it is
// fixed or listed here with its reason.
var axeAccepted = map[string]string{}

// checkAccessibility runs axe-core on the current page and fails the test
// on every serious or critical violation; moderate and minor ones not in
// axeAccepted fail it too. axe runs in an isolated world created through
// the DevTools protocol: the page's own scripts stay off (JavaScript is
// disabled for them) and never see axe, and the strict CSP does not apply
// to DevTools evaluation. axe-core missing skips the test, or fails it
// under CI=true.
func checkAccessibility(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	res, err := axeViolations(t, ctx)
	if err != nil {
		t.Fatalf("%s: axe-core: %v", name, err)
	}
	var bad []string
	for _, v := range res {
		if why, ok := axeAccepted[v.ID]; ok && v.Impact != "serious" && v.Impact != "critical" {
			t.Logf("%s: accepted %s (%s): %s", name, v.ID, v.Impact, why)
			continue
		}
		bad = append(bad, fmt.Sprintf("%s (%s): %s\n\t%s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t")))
	}
	if len(bad) > 0 {
		t.Errorf("%s: axe-core found:\n%s", name, strings.Join(bad, "\n"))
	}
}

// axeViolations runs axe-core on the current page. Page scripts stay off
// while the page loads (chromium disables JavaScript); axe-core itself
// needs timers, which do not run while script execution is disabled, so
// execution is enabled for the check only, once the page has loaded.
func axeViolations(t *testing.T, ctx context.Context) ([]axeViolation, error) {
	t.Helper()
	src, err := axeScript()
	if err != nil {
		testenv.Unavailable(t, "axe-core (npm ci in scripts/node)", err)
	}
	return chromedp.Run(ctx, chromedp.Action[[]axeViolation](func(ctx context.Context, _ *chromedp.Target) ([]axeViolation, error) {
		tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		world, err := chromedp.Call(ctx, page.CreateIsolatedWorld, page.CreateIsolatedWorldParams{FrameID: tree.FrameTree.Frame.ID, WorldName: "axe"})
		if err != nil {
			return nil, err
		}
		id := world.ExecutionContextID
		// axe-core waits on timers, which do not run while script
		// execution is disabled: it is enabled for the check only, after
		// the page has loaded without JavaScript (its scripts, if any, are
		// not run again), and disabled again before the test goes on.
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
			return nil, err
		}
		defer func() {
			_, _ = chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		}()
		for _, expr := range []string{src} {
			r, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: expr, ContextID: id})
			if err != nil {
				return nil, err
			}
			if r.ExceptionDetails != nil {
				return nil, fmt.Errorf("axe-core: %w", &chromedp.ExceptionError{ExceptionDetails: r.ExceptionDetails})
			}
		}
		yes := true
		r, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: axeRun, ContextID: id, AwaitPromise: &yes, ReturnByValue: &yes})
		if err != nil {
			return nil, err
		}
		if r.ExceptionDetails != nil {
			return nil, fmt.Errorf("axe.run: %w", &chromedp.ExceptionError{ExceptionDetails: r.ExceptionDetails})
		}
		var v []axeViolation
		return v, json.Unmarshal(r.Result.Value, &v)
	}))
}

// TestAxeFindsViolations: the checker itself works under the conditions of
// the sweep — a page without JavaScript, under a CSP that forbids every
// script — and finds an image without alternative text, a field without a
// label, a page without a language and grey-on-white text of 1.6:1, but nothing on the same page once
// they are fixed.
func TestAxeFindsViolations(t *testing.T) {
	ctx := chromium(t)
	const bad = `<!doctype html><html><head><title>Проверка</title></head><body><main><h1>Проверка</h1>
<img src="/x.png"><input type="text" name="q"><p style="color:#ccc">Серый текст</p></main></body></html>`
	good := strings.NewReplacer(`<html>`, `<html lang="ru">`, `<img src="/x.png">`, `<img src="/x.png" alt="Схема">`,
		`<input type="text" name="q">`, `<label>Поиск <input type="text" name="q"></label>`, "#ccc", "#333").Replace(bad)
	for _, tc := range []struct {
		name, page string
		want       []string
	}{{"broken", bad, []string{"color-contrast", "html-has-lang", "image-alt", "label"}}, {"fixed", good, nil}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(tc.page))
		}))
		do(t, ctx, chromedp.Navigate(srv.URL))
		got, err := axeViolations(t, ctx)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, v := range got {
			ids = append(ids, v.ID)
		}
		sort.Strings(ids)
		if strings.Join(ids, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: axe-core found %v, want %v", tc.name, ids, tc.want)
		}
	}
}
