package server

import (
	"net/http"
	"net/url"
	"sort"

	"github.com/labstack/echo/v4"
)

// parentLink is one diary on the page that says which address the
// parent's page has.
type parentLink struct{ Name, URL string }

// parentAddress answers /parent opened without a tenant, or with one the
// broker does not know: which address to use — the parent's page of each
// diary the broker serves (their names and codes are in every login URL
// already, nothing private) — instead of a bare «not found».
func (s *Server) parentAddress(c echo.Context) error {
	ts, err := s.c.Store.ListTenants(c.Request().Context())
	if err != nil {
		return err
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].DisplayName < ts[j].DisplayName })
	var links []parentLink
	for _, t := range ts {
		links = append(links, parentLink{Name: t.DisplayName, URL: s.parentURL(t.ID)})
	}
	status := http.StatusOK
	if c.QueryParam("tenant") != "" {
		status = http.StatusNotFound
	}
	return render(c, status, "parent_address", Page{Title: "Страница согласий для родителей",
		Data: map[string]any{"Links": links, "Unknown": c.QueryParam("tenant") != "", "Example": s.c.Settings.Issuer + "/parent?tenant=КОД"}})
}

// parentURL is the full address of a tenant's parent page.
func (s *Server) parentURL(tenantID string) string { return parentURLOf(s.c.Settings.Issuer, tenantID) }

// parentURLOf is the address of a tenant's parent page under issuer.
func parentURLOf(issuer, tenantID string) string {
	return issuer + "/parent?tenant=" + url.QueryEscape(tenantID)
}
