package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/diarybroker/broker/pkg/server"
)

// parentRow is a parent record of Кузнецов Андрей (oidParent; p-0001 in the
// demo roster, school «МБОУ СОШ № 1») in school.
func parentRow(id, school string) string {
	return `{"external_id":"` + id + `","role":"parent","last_name":"Кузнецов","first_name":"Андрей","middle_name":"Сергеевич","birth_date":"1982-07-09","snils":"127-845-012 65","school":"` + school + `"}`
}

// TestParentInTwoSchools: a parent with a record in each of two schools
// (same SNILS) logs in with both records linked, person_id the first,
// children from both; two records of his in one school are a duplicate,
// explained to support by the attempt's reference code.
func TestParentInTwoSchools(t *testing.T) {
	tests := []struct {
		name     string
		school   string // of the second record, p-0101
		role     string
		children []string
	}{
		{"two schools", "Гимназия № 2", "", []string{"s-0001", "s-0002", "s-0101"}},
		{"two schools, role=parent", "Гимназия № 2", "parent", []string{"s-0001", "s-0002", "s-0101"}},
		{"one school twice: ambiguous", "МБОУ СОШ № 1", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, true, nil)
			roster := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "roster")
			rows := strings.Join([]string{
				parentRow("p-0101", tc.school),
				`{"external_id":"s-0101","role":"student","last_name":"Кузнецова","first_name":"Вера","middle_name":"Андреевна","birth_date":"2012-02-02","school":"` + tc.school + `"}`,
				`{"type":"relation","parent":"p-0101","student":"s-0101","kind":"father"}`,
			}, "\n")
			if r := call(t, "POST", b.URL+"/api/v1/roster", roster, "application/x-ndjson", rows); r.Status != 200 || strings.Contains(r.Body, `"errors"`) {
				t.Fatalf("import: %d %s", r.Status, r.Body)
			}
			d := newDiary(b)
			var extra []oauth2.AuthCodeOption
			if tc.role != "" {
				extra = append(extra, oauth2.SetAuthURLParam("role", tc.role))
			}
			o := loginAs(t, b, d, oidParent, extra...)
			if tc.children == nil {
				ref := errorRedirect(t, o, d, "ambiguous")
				sup := apiToken(t, b, server.DevAPIClientID, server.DevAPIClientSecret, "support")
				r := call(t, "GET", b.URL+"/api/v1/support/attempts/"+ref, sup, "", "")
				var a struct {
					Outcome     string
					Advice      []string
					Explanation struct {
						Outcome, Reason string
						Candidates      []struct{ Record, Role string }
					}
				}
				r.json(t, &a)
				var recs []string
				for _, c := range a.Explanation.Candidates {
					recs = append(recs, c.Record)
				}
				slices.Sort(recs)
				if r.Status != 200 || a.Outcome != "ambiguous" || a.Explanation.Reason != "duplicate_records" ||
					!slices.Equal(recs, []string{"p-0001", "p-0101"}) || !strings.Contains(strings.Join(a.Advice, " "), "несколько записей") {
					t.Fatalf("support: %d %s", r.Status, r.Body)
				}
				return
			}
			_, claims := tokens(t, b, d, o)
			var children []string
			for _, c := range claims["children"].([]any) {
				children = append(children, c.(string))
			}
			slices.Sort(children)
			if claims["person_id"] != "p-0001" || !slices.Equal(children, tc.children) || len(claims["roles"].([]any)) != 1 {
				t.Fatalf("claims = %v", claims)
			}
			for _, id := range []string{"p-0001", "p-0101"} {
				links, _ := b.comp.Store.LinksByRecord(context.Background(), server.DevTenant, id)
				if len(links) != 1 || links[0].ESIAOID != oidParent {
					t.Fatalf("links of %s = %+v", id, links)
				}
			}
		})
	}
}
