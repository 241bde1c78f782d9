package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/sessions"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// Лебедев Никита (s-0012, 11А, МБОУ СОШ № 1): ESIA's SNILS is
// 150-964-327 68; the tests give his record a one-digit typo.
const (
	oidLebedev      = "1000100017"
	lebedevSNILS    = "150-964-327 68"
	lebedevTypo     = "150-964-387 68"
	lebedevRecordID = "s-0012"
)

// putLebedev writes Лебедев's record through the roster API with snils.
func putLebedev(t *testing.T, b *broker, snils string) {
	t.Helper()
	token := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	row := `{"role":"student","last_name":"Лебедев","first_name":"Никита","middle_name":"Олегович","birth_date":"2008-10-10","snils":"` +
		snils + `","school":"МБОУ СОШ № 1","class":"11А"}`
	if r := call(t, "PUT", b.URL+"/api/v1/roster/persons/"+lebedevRecordID, token, "application/json", row); r.Status != 200 {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
}

// failedLebedev makes Лебедев's login fail on a SNILS typo and returns
// its reference code (10 characters, no dash).
func failedLebedev(t *testing.T, b *broker) string {
	t.Helper()
	putLebedev(t, b, lebedevTypo)
	d := newDiary(b)
	return errorRedirect(t, loginAs(t, b, d, oidLebedev), d, "not_found")
}

// grantLyceum gives Орлов Сергей a school_admin grant of another school.
func grantLyceum(t *testing.T, b *broker) {
	t.Helper()
	if _, err := (&support.Grants{Store: b.comp.Store, Index: b.comp.PII}).Grant(context.Background(), support.GrantRequest{
		TenantID: server.DevTenant, SNILS: "132-057-694 39", Role: store.StaffSchoolAdmin, Schools: []string{"МБОУ Лицей № 3"}, By: "test"}); err != nil {
		t.Fatal(err)
	}
}

// TestSupportAttemptPage: the school's administrator opens the attempt of
// Лебедев's failed login (a one-digit SNILS typo in his record): its steps
// in Russian, his record side by side with what ESIA said, masked, and
// advice naming the record, school and class; «Показать» without a reason
// shows nothing, with one shows that field on that answer only and is
// audited and counted; «Проверить снова» before the fix says the next
// login still fails, after the fix through the roster API that it would
// link — and neither changes the attempt or links anything, which the
// next login then does; an administrator of another school gets the page
// of a code that does not exist, whatever the URL or form; when the
// tenant's period is over the values are destroyed and the page says so.
func TestSupportAttemptPage(t *testing.T) {
	eachBackend(t, server.BuildOptions{}, func(t *testing.T, b *broker) {
		ctx := context.Background()
		grantLyceum(t, b)
		ref := failedLebedev(t, b)
		formatted := ref[:5] + "-" + ref[5:]
		br, home := signInSupport(t, b, oidSchoolAdmin)
		if home.Status != http.StatusOK {
			t.Fatalf("sign-in: %d", home.Status)
		}
		grant := regexpGrant(t, home.Body)

		// The home page's search links to the attempt page, with the grant.
		found := searchRef(t, br, home, formatted)
		link := "/support/attempts/" + formatted + "?grant=" + grant
		if !strings.Contains(found.Body, `href="`+htmlEscaped(link)) && !strings.Contains(found.Body, `href="`+strings.ReplaceAll(link, "&", "&amp;")) {
			t.Fatalf("the search result does not link to %s: %.2000s", link, found.Body)
		}
		page := br.get(b.URL + link)
		if page.Status != http.StatusOK {
			t.Fatalf("attempt page: %d %.500s", page.Status, page.Body)
		}
		for _, want := range []string{
			"Попытка входа " + formatted,
			// Steps, in time order, in Russian.
			"Дневник отправил человека на вход через Госуслуги", "Госуслуги ответили", "подтверждённая учётная запись",
			"СНИЛС указан", "Поиск записи в дневнике", "запись не найдена",
			// Side by side, masked.
			"Запись s-0012: ученик, МБОУ СОШ № 1, 11А класс", "***-***-327 68", "***-***-387 68", "отличается одной цифрой",
			"Лебедев", "Н.", "О.", "**.**.2008",
			// The advice: what, in which record, school and class.
			"Исправьте в дневнике поле «СНИЛС» — запись s-0012 (ученик, МБОУ СОШ № 1, 11А класс)",
			"хранятся в зашифрованном виде до", `action="/support/attempts/` + formatted + `/recheck"`,
		} {
			if !strings.Contains(page.Body, htmlEscaped(want)) {
				t.Errorf("the attempt page lacks %q", want)
			}
		}
		steps := []string{"Дневник отправил человека", "Госуслуги ответили", "Поиск записи в дневнике"}
		for i := 1; i < len(steps); i++ {
			if strings.Index(page.Body, steps[i-1]) > strings.Index(page.Body, steps[i]) {
				t.Errorf("step %q shown after %q", steps[i-1], steps[i])
			}
		}
		for _, secret := range []string{lebedevSNILS, lebedevTypo, "15096432768", "10.10.2008", "2008-10-10", "Никита", "Олегович"} {
			if strings.Contains(page.Body, secret) {
				t.Errorf("the masked page shows %q", secret)
			}
		}
		if t.Failed() {
			t.Fatalf("page: %s", page.Body)
		}

		unmask := func(br *browser, page outcome, field, reason string) outcome {
			t.Helper()
			return br.submit(page, "/support/unmask", url.Values{"grant": {grant}, "kind": {"attempt"}, "target": {formatted},
				"field": {field}, "reason": {reason}})
		}
		t.Run("Показать without a reason shows nothing", func(t *testing.T) {
			o := unmask(br, page, "snils", "  ")
			if o.Status != http.StatusUnprocessableEntity || !strings.Contains(o.Body, "Укажите причину") ||
				strings.Contains(o.Body, lebedevSNILS) || strings.Contains(o.Body, lebedevTypo) {
				t.Fatalf("no reason: %d %.3000s", o.Status, o.Body)
			}
			if n := len(auditOf(t, b, support.ActionUnmask, ref)); n != 0 {
				t.Fatalf("%d unmask entries without a reason", n)
			}
		})
		t.Run("Показать with a reason shows that field on that answer", func(t *testing.T) {
			o := unmask(br, page, "snils", "звонок мамы, сверяем СНИЛС")
			if o.Status != http.StatusOK || !strings.Contains(o.Body, lebedevSNILS) || !strings.Contains(o.Body, lebedevTypo) ||
				!strings.Contains(o.Body, "показано полностью") {
				t.Fatalf("unmask: %d %.3000s", o.Status, o.Body)
			}
			for _, secret := range []string{"10.10.2008", "Никита", "Олегович"} {
				if strings.Contains(o.Body, secret) {
					t.Errorf("the unmasked SNILS page shows %q too", secret)
				}
			}
			again := br.get(b.URL + link)
			if strings.Contains(again.Body, lebedevSNILS) || strings.Contains(again.Body, lebedevTypo) {
				t.Fatal("the value stayed shown on the next request")
			}
			entries := auditOf(t, b, support.ActionUnmask, ref)
			if len(entries) != 1 || entries[0].Actor != support.StaffActor(grant) {
				t.Fatalf("unmask audit: %+v", entries)
			}
			var detail struct {
				Kind, Field, Reason string
				Records             []string
				ESIA                bool
			}
			if err := json.Unmarshal(entries[0].Detail, &detail); err != nil || detail.Kind != "attempt" || detail.Field != "snils" ||
				detail.Reason != "звонок мамы, сверяем СНИЛС" || !reflect.DeepEqual(detail.Records, []string{lebedevRecordID}) || !detail.ESIA {
				t.Fatalf("unmask audit detail: %s %v", entries[0].Detail, err)
			}
			if len(auditOf(t, b, store.AuditReadAttempt, ref)) == 0 {
				t.Fatal("the page's reads are not audited")
			}
			m := metricsOf(t, b)
			for _, want := range []string{`broker_support_unmask_total{kind="attempt",outcome="shown"} 1`,
				`broker_support_unmask_total{kind="attempt",outcome="no_reason"} 1`} {
				if !strings.Contains(m, want) {
					t.Errorf("metrics lack %s", want)
				}
			}
		})

		attemptNow := func() store.Attempt {
			t.Helper()
			a, err := b.comp.Store.GetAttempt(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		recheck := func(br *browser, page outcome) outcome {
			t.Helper()
			return br.submit(page, "/support/attempts/"+formatted+"/recheck", url.Values{"grant": {grant}})
		}
		unchanged := func(t *testing.T, before store.Attempt) {
			t.Helper()
			if after := attemptNow(); !reflect.DeepEqual(after, before) {
				t.Fatalf("the re-check changed the attempt:\n%+v\n%+v", before, after)
			}
			if links, _ := b.comp.Store.LinksByRecord(ctx, server.DevTenant, lebedevRecordID); len(links) != 0 {
				t.Fatalf("the re-check linked: %+v", links)
			}
		}
		t.Run("Проверить снова before the fix", func(t *testing.T) {
			before := attemptNow()
			o := recheck(br, page)
			if o.Status != http.StatusOK || !strings.Contains(o.Body, "Следующий вход снова не завершится") ||
				!strings.Contains(o.Body, htmlEscaped("Исправьте в дневнике поле «СНИЛС»")) || !strings.Contains(o.Body, "ничего не привязано") {
				t.Fatalf("re-check: %d %.3000s", o.Status, o.Body)
			}
			unchanged(t, before)
		})
		t.Run("Проверить снова after the fix", func(t *testing.T) {
			putLebedev(t, b, lebedevSNILS)
			before := attemptNow()
			o := recheck(br, page)
			if o.Status != http.StatusOK || !strings.Contains(o.Body,
				"Следующий вход найдёт запись s-0012 (ученик, МБОУ СОШ № 1, 11А класс) по СНИЛС и дате рождения") {
				t.Fatalf("re-check: %d %.3000s", o.Status, o.Body)
			}
			// The page says how the record compares now.
			if !strings.Contains(o.Body, "сейчас: совпадает") {
				t.Errorf("no «сейчас» note: %.3000s", o.Body)
			}
			unchanged(t, before)
			if n := len(auditOf(t, b, support.ActionRecheck, ref)); n != 2 {
				t.Fatalf("%d re-check audit entries, want 2", n)
			}
			// The next login links, as the re-check said.
			d := newDiary(b)
			if o := loginAs(t, b, d, oidLebedev); o.Redirect == nil || o.Redirect.Query().Get("code") == "" {
				t.Fatalf("the next login: %d %v %.500s", o.Status, o.Redirect, o.Body)
			}
			// A login that links keeps no ESIA values; the failed one still has them.
			attempts, err := b.comp.Store.AttemptsByOID(ctx, server.DevTenant, oidLebedev, 10)
			if err != nil || len(attempts) != 2 {
				t.Fatalf("Лебедев's attempts: %+v %v", attempts, err)
			}
			for _, a := range attempts {
				_, err := b.comp.Store.GetAttemptValues(ctx, a.Ref)
				if kept := err == nil; kept != (a.Ref == ref) {
					t.Fatalf("attempt %s (%s): values kept %v (%v)", a.Ref, a.Outcome, kept, err)
				}
			}
		})

		t.Run("another school's administrator: не найдено by any URL", func(t *testing.T) {
			br2, home2 := signInSupport(t, b, oidLyceumAdmin)
			g2 := regexpGrant(t, home2.Body)
			theirs := br2.get(b.URL + "/support/attempts/" + formatted + "?grant=" + g2)
			none := br2.get(b.URL + "/support/attempts/ZZZZZ-ZZZZZ?grant=" + g2)
			if theirs.Status != http.StatusNotFound || !strings.Contains(theirs.Body, "Не найдено.") {
				t.Fatalf("another school's attempt: %d %.1500s", theirs.Status, theirs.Body)
			}
			strip := func(s string) string { return csrfField.ReplaceAllString(s, "") }
			if strip(theirs.Body) != strip(none.Body) || none.Status != theirs.Status {
				t.Fatalf("«не найдено» differs:\n%s\n---\n%s", theirs.Body, none.Body)
			}
			// Their own grant in the URL changes nothing; another's grant id
			// is not theirs and falls back to their own.
			if o := br2.get(b.URL + "/support/attempts/" + formatted + "?grant=" + grant); o.Status != http.StatusNotFound {
				t.Fatalf("with another's grant id: %d", o.Status)
			}
			for _, o := range []outcome{
				br2.submit(home2, "/support/unmask", url.Values{"grant": {g2}, "kind": {"attempt"}, "target": {formatted}, "field": {"snils"}, "reason": {"любопытство"}}),
				br2.submit(home2, "/support/attempts/"+formatted+"/recheck", url.Values{"grant": {g2}}),
			} {
				if o.Status != http.StatusNotFound || strings.Contains(o.Body, lebedevSNILS) || strip(o.Body) != strip(none.Body) {
					t.Fatalf("form on another school's attempt: %d %.1500s", o.Status, o.Body)
				}
			}
		})

		t.Run("after the period the values are destroyed", func(t *testing.T) {
			b.clock.Advance(30*24*time.Hour + time.Minute)
			if n := b.comp.RunRetention(ctx); n == 0 {
				t.Fatal("the janitor destroyed nothing")
			}
			br3, home3 := signInSupport(t, b, oidSchoolAdmin)
			page := br3.get(b.URL + link)
			if page.Status != http.StatusOK || !strings.Contains(page.Body, "уничтожены") || strings.Contains(page.Body, `/recheck"`) {
				t.Fatalf("page after the period: %d %.3000s", page.Status, page.Body)
			}
			o := br3.submit(home3, "/support/attempts/"+formatted+"/recheck", url.Values{"grant": {grant}})
			if o.Status != http.StatusConflict || !strings.Contains(o.Body, "Проверить снова нельзя") {
				t.Fatalf("re-check after the period: %d %.2000s", o.Status, o.Body)
			}
			if !strings.Contains(metricsOf(t, b), `broker_retention_destroyed_total{kind="attempt_values"}`) {
				t.Error("the destruction is not counted")
			}
		})

		logs := b.logs.String()
		for _, secret := range []string{lebedevSNILS, lebedevTypo, "15096432768", "15096438768", "Лебедев", "Никита", "звонок мамы"} {
			if strings.Contains(logs, secret) {
				t.Errorf("the logs contain %q", secret)
			}
		}
	})
}

// TestSupportUnmaskRateLimit: one staff member may have 30 values shown
// in full an hour — counted in the shared Redis, so across two replicas —
// and the 31st is refused with a Russian message and shows nothing; the
// limit is a setting.
func TestSupportUnmaskRateLimit(t *testing.T) {
	t.Run("30 an hour across two replicas", func(t *testing.T) {
		edit := backends[1].edit(t)
		b1 := startBroker(t, true, edit)
		b2 := startBroker(t, true, edit)
		ref := failedLebedev(t, b1)
		formatted := ref[:5] + "-" + ref[5:]
		br, home := signInSupport(t, b1, oidSchoolAdmin)
		grant := regexpGrant(t, home.Body)
		for i := 1; i <= 31; i++ {
			b := []*broker{b1, b2}[i%2]
			page := home
			page.URL = b.URL
			o := br.submit(page, "/support/unmask", url.Values{"grant": {grant}, "kind": {"attempt"}, "target": {formatted},
				"field": {"snils"}, "reason": {fmt.Sprintf("проверка %d", i)}})
			if i <= 30 {
				if o.Status != http.StatusOK || !strings.Contains(o.Body, lebedevSNILS) {
					t.Fatalf("unmask %d on %s: %d %.500s", i, b.URL, o.Status, o.Body)
				}
				continue
			}
			if o.Status != http.StatusTooManyRequests || !strings.Contains(o.Body, "Слишком много раскрытий") || strings.Contains(o.Body, lebedevSNILS) {
				t.Fatalf("the 31st: %d %.1500s", o.Status, o.Body)
			}
		}
		if n := len(auditOf(t, b1, support.ActionUnmask, ref)); n != 30 {
			t.Fatalf("%d unmask audit entries, want 30", n)
		}
		// Another staff member has a count of their own.
		br2, home2 := signInSupport(t, b2, oidTenantSupport)
		o := br2.submit(home2, "/support/unmask", url.Values{"kind": {"attempt"}, "target": {formatted}, "field": {"snils"}, "reason": {"проверка"}})
		if o.Status != http.StatusOK || !strings.Contains(o.Body, lebedevSNILS) {
			t.Fatalf("another staff member: %d %.500s", o.Status, o.Body)
		}
		if !strings.Contains(metricsOf(t, b1)+metricsOf(t, b2), `broker_support_unmask_total{kind="attempt",outcome="rate_limited"} 1`) {
			t.Error("the refusal is not counted")
		}
	})
	t.Run("a count that cannot be kept shows nothing", func(t *testing.T) {
		b := startBrokerWith(t, true, nil, server.BuildOptions{WrapSessions: func(st sessions.Store) sessions.Store { return noUnmaskCount{st} }})
		ref := failedLebedev(t, b)
		br, home := signInSupport(t, b, oidTenantSupport)
		o := br.submit(home, "/support/unmask", url.Values{"kind": {"attempt"}, "target": {ref}, "field": {"snils"}, "reason": {"проверка"}})
		if o.Status < 500 || strings.Contains(o.Body, lebedevSNILS) {
			t.Fatalf("with the counter down: %d %.500s", o.Status, o.Body)
		}
		if n := len(auditOf(t, b, support.ActionUnmask, ref)); n != 0 {
			t.Fatalf("%d unmask entries with the counter down", n)
		}
	})
	t.Run("the limit is a setting", func(t *testing.T) {
		b := startBroker(t, true, func(s *server.Settings) { s.SupportUnmaskPerHour = 2 })
		ref := failedLebedev(t, b)
		br, home := signInSupport(t, b, oidTenantSupport)
		for i := 1; i <= 3; i++ {
			o := br.submit(home, "/support/unmask", url.Values{"kind": {"attempt"}, "target": {strings.ToLower(ref)}, "field": {"birth_date"}, "reason": {"проверка"}})
			if want := map[bool]int{true: http.StatusOK, false: http.StatusTooManyRequests}[i <= 2]; o.Status != want {
				t.Fatalf("unmask %d: %d, want %d", i, o.Status, want)
			}
			if i == 3 && !strings.Contains(o.Body, "не больше 2 значений") {
				t.Fatalf("the refusal does not say the limit: %.1000s", o.Body)
			}
		}
	})
}

// noUnmaskCount is a sessions store whose «Показать» counter is down.
type noUnmaskCount struct{ sessions.Store }

func (n noUnmaskCount) Hit(ctx context.Context, key string, window time.Duration) (int64, error) {
	if strings.HasPrefix(key, "unmask:") {
		return 0, fmt.Errorf("%w: test", sessions.ErrUnavailable)
	}
	return n.Store.Hit(ctx, key, window)
}

// regexpGrant is the grant id of the console's page.
func regexpGrant(t *testing.T, body string) string {
	t.Helper()
	const marker = `name="grant" value="`
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatalf("no grant on the page: %.500s", body)
	}
	rest := body[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}
