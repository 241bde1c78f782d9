package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/support"
)

// TestSupportConsoleInChromium is the support console end to end in dev
// mode, in a browser without JavaScript, as docs/support.md tells it:
// Павлов Игорь's login fails («Ваш дневник не найден»: his record's SNILS
// has a one-digit typo) and he reports the problem from that page; the
// tenant's support signs in through ESIA, finds the attempt by the code he
// read out, sees the one-digit difference masked, shows the SNILS in full
// with a reason and finds that in the audit log; the school corrects the
// record through the roster API; «Проверить снова» says the next login
// will link; the record's page shows it; the ticket is resolved; Павлов
// logs in through the demo diary. The administrator of another school
// gets «не найдено» for the attempt, the record and the ticket by URL.
// Every console page is kept as a screenshot (artifacts/screenshots).
func TestSupportConsoleInChromium(t *testing.T) {
	ctx := chromium(t)
	b := startBroker(t, true, nil)
	grantLyceum(t, b)
	text := func() string { return pageText(t, ctx) }
	must := func(step, page string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Fatalf("%s: the page lacks %q:\n%s", step, w, page)
			}
		}
	}
	mustNot := func(step, page string, not ...string) {
		t.Helper()
		for _, n := range not {
			if strings.Contains(page, n) {
				t.Fatalf("%s: the page shows %q:\n%s", step, n, page)
			}
		}
	}

	// 1. Павлов's login fails; he reports it from the page.
	do(t, ctx, chromedp.Navigate(b.URL+"/demo/login?person="+oidSNILSTypo))
	page := text()
	must("not found page", page, "Код обращения", "Сообщить о проблеме")
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".ref strong")))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := login.ParseRef(shown)
	if err != nil {
		t.Fatalf("reference code %q: %v", shown, err)
	}
	formatted := login.FormatRef(ref)
	screenshot(t, ctx, "support-01-not-found-page")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#contact"), "pavlov@example.ru"),
		chromedp.SendKeys(chromedp.CSS("#comment"), "Не могу войти в дневник"))
	clickAndLoad(t, ctx, `form[action="/login/report"] button[type="submit"]`)
	must("report sent", text(), "Сообщение отправлено", formatted)
	screenshot(t, ctx, "support-02-report-sent")

	// 2. The tenant's support signs in and searches the code as read out.
	do(t, ctx, chromedp.Navigate(b.URL+"/support?sim_person="+oidTenantSupport))
	must("console home", text(), "Консоль поддержки", "поддержка электронного дневника", "Поиск")
	screenshot(t, ctx, "support-03-home")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#ref"), strings.ToLower(formatted)))
	clickAndLoad(t, ctx, `form[action="/support/search"] button[type="submit"]`)
	must("search", text(), "Попытка входа "+formatted)
	screenshot(t, ctx, "support-04-search")

	// 3. The attempt: one digit differs, masked.
	clickAndLoad(t, ctx, `a[href^="/support/attempts/`+formatted+`"]`)
	page = text()
	must("attempt page", page, "Попытка входа "+formatted, "Шаги", "Сравнение с Госуслугами", "st-0001", "отличается одной цифрой", "***-***-")
	mustNot("attempt page", page, "104-527-893 44", "104-517-893 44")
	screenshot(t, ctx, "support-05-attempt")

	// 4. «Показать» the SNILS with a reason; the audit log has it.
	do(t, ctx, chromedp.Click(chromedp.CSS(`details:has(input[name="field"][value="snils"]) > summary`)))
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#reason-snils"), "звонок Павлова, сверка СНИЛС"))
	clickAndLoad(t, ctx, `form:has(input[name="field"][value="snils"]) button[type="submit"]`)
	page = text()
	must("unmasked", page, "104-527-893 44", "104-517-893 44", "показано полностью")
	screenshot(t, ctx, "support-06-unmasked")
	do(t, ctx, chromedp.Navigate(b.URL+"/support/audit"))
	page = text()
	must("audit log", page, "Журнал аудита", "звонок Павлова, сверка СНИЛС")
	screenshot(t, ctx, "support-07-audit")
	if n := len(auditOf(t, b, support.ActionUnmask, ref)); n != 1 {
		t.Fatalf("%d unmask audit entries, want 1", n)
	}

	// 5. The school corrects the record through the roster API; «Проверить
	// снова» says the next login will link.
	token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	row := `{"role":"staff","last_name":"Павлов","first_name":"Игорь","middle_name":"Николаевич","birth_date":"1974-09-21","snils":"104-517-893 44","school":"МБОУ СОШ № 1"}`
	if r := call(t, "PUT", b.URL+"/api/v1/roster/persons/st-0001", token, "application/json", row); r.Status != 200 {
		t.Fatalf("roster fix: %d %s", r.Status, r.Body)
	}
	do(t, ctx, chromedp.Navigate(b.URL+"/support/attempts/"+formatted))
	clickAndLoad(t, ctx, `form[action$="/recheck"] button[type="submit"]`)
	page = text()
	must("re-check", page, "Следующий вход найдёт запись st-0001", "ничего не привязано")
	screenshot(t, ctx, "support-08-recheck")

	// 6. The record's page: his record, no link yet, the failed attempt.
	do(t, ctx, chromedp.Navigate(b.URL+"/support/records/"+server.DevTenant+"/st-0001"), chromedp.WaitVisible(chromedp.CSS("h1")))
	page = text()
	must("record page", page, "st-0001", "МБОУ СОШ № 1", formatted)
	mustNot("record page", page, "104-517-893 44", "Николаевич")
	screenshot(t, ctx, "support-09-record")

	// 7. The ticket: in the queue, resolved.
	do(t, ctx, chromedp.Navigate(b.URL+"/support/tickets"), chromedp.WaitVisible(chromedp.CSS("h1")))
	must("ticket queue", text(), formatted)
	screenshot(t, ctx, "support-10-tickets")
	clickAndLoad(t, ctx, `a[href^="/support/tickets/tkt-"]`)
	page = text()
	must("ticket", page, formatted)
	mustNot("ticket", page, "pavlov@example.ru")
	screenshot(t, ctx, "support-11-ticket")
	do(t, ctx, chromedp.SendKeys(chromedp.CSS("#resolution"), "СНИЛС в записи исправлен, вход проверен"))
	clickAndLoad(t, ctx, `form:has(input[name="action"][value="resolve"]) button[type="submit"]`)
	must("resolved ticket", text(), "СНИЛС в записи исправлен")
	do(t, ctx, chromedp.Navigate(b.URL+"/support"))
	clickAndLoad(t, ctx, `form[action="/support/logout"] button`)

	// 8. Павлов logs in through the demo diary: the consent page of a first
	// login, then the diary.
	do(t, ctx, chromedp.Navigate(b.URL+"/demo/login?person="+oidSNILSTypo))
	if strings.Contains(text(), "Согласие на обработку персональных данных") {
		clickAndLoad(t, ctx, `button[value="accept"]`)
	}
	must("Павлов's login", text(), "Дневник: вы вошли", "st-0001")
	screenshot(t, ctx, "support-12-pavlov-logged-in")

	// 9. Another school's administrator: «не найдено» by every URL.
	do(t, ctx, chromedp.Navigate(b.URL+"/support?sim_person="+oidLyceumAdmin))
	must("lyceum admin", text(), "администратор школы", "МБОУ Лицей № 3")
	for _, path := range []string{"/support/attempts/" + formatted, "/support/records/" + server.DevTenant + "/st-0001"} {
		do(t, ctx, chromedp.Navigate(b.URL+path), chromedp.WaitVisible(chromedp.CSS("h1")))
		page = text()
		must(path, strings.ToLower(page), "не найден")
		mustNot(path, page, "st-0001 (", "Павлов", "отличается одной цифрой", "Шаги", "Вернуться в дневник")
	}
	screenshot(t, ctx, "support-13-other-school-not-found")
	do(t, ctx, chromedp.Navigate(b.URL+"/support/tickets"), chromedp.WaitVisible(chromedp.CSS("h1")))
	mustNot("lyceum queue", text(), formatted)
}

// clickAndLoad clicks the element (a link or a form's button) and waits
// until the page it leads to has loaded.
func clickAndLoad(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	loaded := make(chan struct{}, 1)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := chromedp.Listen(lctx, func(ev any) {
		if _, ok := ev.(*page.EventLoadEventFired); ok {
			select {
			case loaded <- struct{}{}:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(sel)))
	select {
	case <-loaded:
	case <-ctx.Done():
		t.Fatalf("click %s: no page loaded: %v", sel, ctx.Err())
	}
}
