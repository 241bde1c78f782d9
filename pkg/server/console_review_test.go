package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/diarybroker/broker/pkg/server"
)

// TestConsentExportCountsAsUnmask: the record page's consent export holds
// names in full (the grantor's and the child's), so it needs a reason and
// counts against the hourly «Показать» limit: once the limit is reached,
// the export is refused like an unmask (429, nothing downloaded), and each
// export is in broker_support_unmask_total{kind="consent_export"}.
func TestConsentExportCountsAsUnmask(t *testing.T) {
	b := startBroker(t, true, func(s *server.Settings) { s.SupportUnmaskPerHour = 3 })
	linkedTeacher(t, b)
	br, home := signInSupport(t, b, oidSchoolAdmin)
	grant := regexpGrant(t, home.Body)
	export := func(reason string) outcome {
		t.Helper()
		page := recordPage(t, b, br, server.DevTenant, "t-0001")
		return br.submit(page, "/support/records/"+server.DevTenant+"/t-0001/consent/export", url.Values{"grant": {grant}, "reason": {reason}})
	}
	if o := export(" "); o.Status != http.StatusBadRequest || strings.Contains(o.Body, `"grantor_name"`) {
		t.Fatalf("export without a reason: %d %.300s", o.Status, o.Body)
	}
	if o := export("запрос мамы по 152-ФЗ"); o.Status != http.StatusOK || !strings.Contains(o.Body, `"grantor_name"`) {
		t.Fatalf("first export: %d %.300s", o.Status, o.Body)
	}
	page := recordPage(t, b, br, server.DevTenant, "t-0001")
	for i := 0; i < 2; i++ {
		if o := br.submit(page, "/support/unmask", url.Values{"grant": {grant}, "kind": {"record"}, "tenant": {server.DevTenant},
			"id": {"t-0001"}, "field": {"name"}, "reason": {fmt.Sprintf("звонок %d", i)}}); o.Status != http.StatusOK {
			t.Fatalf("unmask %d: %d", i, o.Status)
		}
	}
	o := export("ещё раз")
	if o.Status != http.StatusTooManyRequests || strings.Contains(o.Body, `"grantor_name"`) || !strings.Contains(o.Body, "Слишком много раскрытий") {
		t.Fatalf("export past the limit: %d %.500s", o.Status, o.Body)
	}
	m := metricsOf(t, b)
	for _, want := range []string{`broker_support_unmask_total{kind="consent_export",outcome="shown"} 1`,
		`broker_support_unmask_total{kind="consent_export",outcome="rate_limited"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestSearchAdviceStaysInScope: the attempt a search by reference code
// finds carries the attempt page's advice, about the records in the staff
// member's scope only — not the first candidate's whatever its school: a
// record of another school is named by its id only, and the advice goes
// on to the most similar record of one's own schools.
// Лебедев's login compared his record (МБОУ СОШ № 1, a SNILS typo) and a
// look-alike record of МБОУ Лицей № 3.
func TestSearchAdviceStaysInScope(t *testing.T) {
	b := startBroker(t, true, nil)
	grantLyceum(t, b)
	roster := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
	row := `{"role":"student","last_name":"Лебедев","first_name":"Никита","middle_name":"Олегович","birth_date":"2008-10-10","snils":"112-233-445 95","school":"МБОУ Лицей № 3","class":"9Б"}`
	if r := call(t, "PUT", b.URL+"/api/v1/roster/persons/ly-0002", roster, "application/json", row); r.Status != 200 {
		t.Fatalf("put: %d %s", r.Status, r.Body)
	}
	ref := failedLebedev(t, b)
	for _, tc := range []struct {
		oid       string
		want, not string
	}{
		{oidSchoolAdmin, "s-0012 (ученик, МБОУ СОШ № 1", "Лицей"},
		{oidLyceumAdmin, "ly-0002", "СОШ"},
	} {
		br, home := signInSupport(t, b, tc.oid)
		o := searchRef(t, br, home, ref)
		i := strings.Index(o.Body, "Что проверить")
		if o.Status != http.StatusOK || i < 0 {
			t.Fatalf("%s: no advice: %d %.2000s", tc.oid, o.Status, o.Body)
		}
		advice := o.Body[i:]
		advice = advice[:strings.Index(advice, "</ul>")]
		if !strings.Contains(advice, tc.want) || strings.Contains(advice, tc.not) {
			t.Errorf("%s's advice names %q, or not %q: %s", tc.oid, tc.not, tc.want, advice)
		}
	}
}
