package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/diarybroker/broker/pkg/server"
)

// TestAccessibilityInChromium checks every person-facing page and every
// support console page with axe-core (WCAG 2.0/2.1 A and AA), at the
// desktop width and at a phone's 390 px: the demo diary, ESIA down with a
// reference code, the diary's error result, a stale login, the adult's
// consent page and the diary after it, the role picker, the child's block
// page with the parent link and QR code, a parent's first login and his
// notice of the child's request, the parent page (a refusal, the child's
// page after it, a grant), «Вы вышли» after the parent's «Выйти», «Ваш
// дневник не найден» with «Сообщить о проблеме» and its confirmation, a
// 404, the parent page's address, /policy and a tenant's policy; the
// console's home, search, attempt (with the «Показать» form open), record,
// tickets queue, ticket, audit log, «Не найдено» and the no-access page.
// Each page must also fit the window's width. The pages load without
// JavaScript; axe runs only for the check.
func TestAccessibilityInChromium(t *testing.T) {
	for _, tc := range []struct {
		name  string
		width int64 // 0: the desktop window (1000 px)
	}{{"desktop", 0}, {"390px", 390}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := chromium(t)
			if tc.width > 0 {
				if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
					Width: tc.width, Height: 844, DeviceScaleFactor: 1, Mobile: true}); err != nil {
					t.Fatal(err)
				}
			}
			b := startBroker(t, true, nil)
			sweepPages(t, ctx, b)
		})
	}
}

// sweepPages visits each page and checks it; want is a text the page must
// show, so that a broken flow does not pass by checking the wrong page.
func sweepPages(t *testing.T, ctx context.Context, b *broker) {
	visit := func(name, path, want string) {
		t.Helper()
		do(t, ctx, chromedp.Navigate(b.URL+path))
		check(t, ctx, name, want)
	}
	visit("demo", "/demo", "Демо-дневник")

	// ESIA under maintenance: the demo's authorization request with the
	// simulator's error, opened in the browser.
	never := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := never.Get(b.URL + "/demo/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	authz, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || authz.Host == "" {
		t.Fatalf("demo login: %q %v", resp.Header.Get("Location"), err)
	}
	q := authz.Query()
	q.Set("sim_error", "ESIA-007008")
	authz.RawQuery = q.Encode()
	do(t, ctx, chromedp.Navigate(authz.String()))
	check(t, ctx, "esia-down", "Госуслуги недоступны")
	visit("demo-error-result", "/demo/callback?error=access_denied&error_description=user_refused&ref=ABCD-EFGH-J", "ABCD")
	visit("stale-login", "/demo/callback?state=gone", "Сеанс входа устарел")

	visit("consent", "/demo/login?person="+oidTeacher, "Согласие на обработку персональных данных")
	clickAndLoad(t, ctx, `button[value="accept"]`)
	check(t, ctx, "demo-diary", "Дневник: вы вошли")
	visit("role-picker", "/demo/login?person="+oidTeacherParent, "Кем вы входите?")

	visit("child-block", "/demo/login?person="+oidChild, "Для входа в дневник нужно согласие одного из родителей")
	visit("parent-first-login", "/demo/login?person="+oidParent, "Согласие на обработку персональных данных")
	clickAndLoad(t, ctx, `button[value="accept"]`)
	check(t, ctx, "parent-notice", "Вас просят дать согласие")
	visit("parent-page", "/parent?tenant="+server.DevTenant+"&sim_person="+oidParent, "Согласия для родителей")
	clickAndLoad(t, ctx, `form:has(input[name="child"][value="s-0001"]) button[value="decline"]`)
	check(t, ctx, "parent-declined", "Отказ записан")
	visit("child-block-declined", "/demo/login?person="+oidChild, "Один из родителей отказал")
	visit("parent-page-again", "/parent?tenant="+server.DevTenant, "Согласия для родителей")
	clickAndLoad(t, ctx, `form:has(input[name="child"]:not([value="s-0001"])) button[value="accept"]`)
	check(t, ctx, "parent-granted", "Согласие дано")
	clickAndLoad(t, ctx, `form[action="/parent/logout"] button`)
	check(t, ctx, "logged-out", "Вы вышли")

	visit("not-found", "/demo/login?person="+oidSNILSTypo, "Сообщить о проблеме")
	ref := refIn(t, pageText(t, ctx))
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#contact"), "pavlov@example.ru"))
	clickAndLoad(t, ctx, `form[action="/login/report"] button[type="submit"]`)
	check(t, ctx, "report-sent", "Сообщение отправлено")

	visit("not-found-404", "/no-such-page", "")
	visit("parent-address", "/parent", "/parent?tenant=")
	visit("parent-address-unknown", "/parent?tenant=nosuch", "/parent?tenant=")
	visit("policy-index", "/policy", "Политики обработки персональных данных")
	visit("policy", "/policy/"+server.DevTenant, "персональных данных")

	// The support console.
	visit("support-home", "/support?sim_person="+oidTenantSupport, "Консоль поддержки")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#ref"), ref))
	clickAndLoad(t, ctx, `form[action="/support/search"] button[type="submit"]`)
	check(t, ctx, "support-search", "Попытка входа "+ref)
	visit("support-attempt", "/support/attempts/"+ref, "Сравнение с Госуслугами")
	do(t, ctx, chromedp.Click(chromedp.CSS(`details:has(input[name="field"][value="snils"]) > summary`)))
	check(t, ctx, "support-attempt-show-form", "Сравнение с Госуслугами")
	visit("support-record", "/support/records/"+server.DevTenant+"/st-0001", "st-0001")
	visit("support-tickets", "/support/tickets", ref)
	clickAndLoad(t, ctx, `a[href^="/support/tickets/tkt-"]`)
	check(t, ctx, "support-ticket", ref)
	visit("support-audit", "/support/audit", "Журнал аудита")
	visit("support-not-found", "/support/records/"+server.DevTenant+"/nosuch", "Не найдено")
	visit("support-home-again", "/support", "Консоль поддержки")
	clickAndLoad(t, ctx, `form[action="/support/logout"] button`)
	visit("support-no-access", "/support?sim_person="+oidNoGrant, "Нет доступа к консоли поддержки")
}

// overflowing lists what sticks out of the main card on the right, and
// the page's width if it scrolls sideways.
const overflowing = `(() => {
	const main = document.querySelector("main"), edge = main.getBoundingClientRect().right + 1, out = [];
	for (const e of main.querySelectorAll("*")) {
		const r = e.getBoundingClientRect();
		if (r.width > 0 && r.right > edge) out.push(e.tagName.toLowerCase() + " by " + Math.round(r.right - edge) + " px");
	}
	if (document.documentElement.scrollWidth > innerWidth) out.push("the page: " + document.documentElement.scrollWidth + " px");
	return out.slice(0, 8);
})()`

// check asserts the page shows want, runs axe-core on it and checks that
// it fits the window's width.
func check(t *testing.T, ctx context.Context, name, want string) {
	t.Helper()
	if text := pageText(t, ctx); !strings.Contains(text, want) {
		t.Fatalf("%s: the page lacks %q:\n%s", name, want, text)
	}
	checkAccessibility(t, ctx, name)
	// WCAG 1.4.10 (reflow), which axe does not check: nothing sticks out
	// of the page's card, and the page does not scroll sideways.
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](overflowing))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(out) > 0 {
		t.Errorf("%s: wider than the page: %s", name, strings.Join(out, ", "))
	}
}
