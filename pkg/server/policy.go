package server

import (
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/store"
)

// The personal-data policy pages (op_policy_uri of the discovery
// metadata; docs/oauth.md "Metadata"). The broker has one issuer for every
// tenant, so discovery names /policy, which lists the tenants' pages;
// each tenant's page, /policy/{tenant}, is built from its settings — the
// operator, its address, the purpose, the consent term and the retention —
// and is what a diary links its users to.

// policyGroup is the personal data processed about people of one kind.
type policyGroup struct {
	Who        string
	Categories []string
}

// policyIndex is GET /policy: every enabled tenant's policy page.
func (s *Server) policyIndex(c echo.Context) error {
	all, err := s.c.Store.ListTenants(c.Request().Context())
	if err != nil {
		return err
	}
	var list []store.Tenant
	for _, t := range all {
		if !t.Disabled() {
			list = append(list, t)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].DisplayName < list[j].DisplayName })
	return render(c, http.StatusOK, "policy_index", Page{Title: "Политики обработки персональных данных", Data: list})
}

// policyPage is GET /policy/{tenant}: the tenant's policy, in Russian.
func (s *Server) policyPage(c echo.Context) error {
	id := c.Param("tenant")
	if store.CheckID("tenant", id) != nil {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	t, err := s.c.Store.GetTenant(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.Disabled()) {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	if err != nil {
		return err
	}
	p := consent.Policy(t)
	term := "до его отзыва"
	if p.TermDays > 0 {
		term = fmt.Sprintf("%d дней или до его отзыва", p.TermDays)
	}
	return render(c, http.StatusOK, "policy", Page{Brand: t.DisplayName, Title: "Политика обработки персональных данных",
		Data: map[string]any{
			"Tenant": t, "Purpose": consent.PurposeAfterAim(p.Purpose), "Term": term, "DestroyDays": p.DestroyAfterDay,
			"AdultAge": p.AdultAge, "OwnAccountAge": p.OwnAccountAge, "Retention": t.Retention.Effective(),
			"Groups": []policyGroup{
				{"Учащиеся", consent.CategoriesFor(store.RoleStudent)},
				{"Родители", consent.CategoriesFor(store.RoleParent)},
				{"Учителя и сотрудники школ", consent.CategoriesFor(store.RoleTeacher)},
			},
		}})
}
