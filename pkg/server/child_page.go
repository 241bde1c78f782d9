package server

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
)

// childPage is what the child's «Нужно согласие родителя» shows besides
// the reference code: who can consent (names masked as «Кузнецов А. С.»)
// and, rendered from the tenant, the parent page's link and its QR code.
type childPage struct {
	// Parents are the masked names of the parents the roster relates to
	// the child, who are asked.
	Parents []string `json:"parents,omitempty"`
	// Declined: a parent refused; the other one still can consent.
	Declined bool `json:"declined,omitempty"`
	// NoParents: the roster relates no parent, so nobody can be asked.
	NoParents bool `json:"no_parents,omitempty"`
	// Emailed: parents with an e-mail in the roster are written to.
	Emailed bool `json:"emailed,omitempty"`
}

// childPageOf builds the child's page of a parental decision.
func (s *Server) childPageOf(ctx context.Context, t store.Tenant, d consent.Decision) (*childPage, error) {
	cp := &childPage{NoParents: d.NoParents}
	if d.Request == nil {
		return cp, nil
	}
	cp.Declined = len(d.Request.Declines) > 0
	for _, id := range d.Request.Parents {
		p, err := s.c.Store.GetPerson(ctx, t.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // removed from the roster since the request opened
		}
		if err != nil {
			return nil, err
		}
		cp.Parents = append(cp.Parents, parentInitials(p))
		cp.Emailed = cp.Emailed || (s.c.Mail != nil && consent.EmailOf(p) != "")
	}
	return cp, nil
}

// parentInitials is a parent's name as the child's page shows it: the last
// name and initials, «Кузнецов А. С.».
func parentInitials(p store.Person) string {
	out := strings.TrimSpace(p.LastName)
	for _, n := range []string{p.FirstName, p.MiddleName} {
		if r, _ := utf8.DecodeRuneInString(strings.TrimSpace(n)); r != utf8.RuneError {
			out += " " + strings.ToUpper(string(r)) + "."
		}
	}
	return out
}

// renderChildPage writes the child's page.
func (s *Server) renderChildPage(c echo.Context, v resultView) error {
	t, err := s.c.Store.GetTenant(c.Request().Context(), v.Tenant)
	if err != nil {
		return err
	}
	cp := v.Child
	if cp == nil {
		cp = &childPage{}
	}
	return render(c, v.Status, "child", Page{Brand: t.DisplayName, Title: v.Title, Ref: login.FormatRef(v.Ref), BackURL: v.Back,
		Data: map[string]any{"Child": cp, "ParentURL": s.parentURL(t.ID), "QR": "/parent/qr.png?tenant=" + url.QueryEscape(t.ID)}})
}
