package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// staffGrants is the support console's grant management over the store.
func (s *Server) staffGrants() *support.Grants {
	return &support.Grants{Store: s.c.Store, Index: s.c.PII, Now: s.c.Now}
}

// staffList is GET /api/v1/staff: the caller's tenant's staff grants. An
// API client belongs to one tenant, and sees and changes only its grants;
// operator grants are made with `broker staff grant` only.
func (s *Server) staffList(c echo.Context) error {
	list, err := s.c.Store.ListStaffGrants(c.Request().Context(), callerOf(c).TenantID)
	if err != nil {
		return err
	}
	out := make([]support.GrantView, 0, len(list))
	for _, g := range list {
		out = append(out, support.ViewOfGrant(g))
	}
	return c.JSON(http.StatusOK, map[string]any{"grants": out})
}

// staffGrantBody is the body of POST /api/v1/staff.
type staffGrantBody struct {
	SNILS   string   `json:"snils"`
	Role    string   `json:"role"`
	Schools []string `json:"schools"`
}

// staffGrant is POST /api/v1/staff: a grant in the caller's tenant, or a
// new role and schools for the person's grant there.
func (s *Server) staffGrant(c echo.Context) error {
	caller := callerOf(c)
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, 64<<10))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var body staffGrantBody
	if err := dec.Decode(&body); err != nil {
		return problem(c, http.StatusBadRequest, "Bad Request", "the body must be a JSON object with snils, role and (for school_admin) schools")
	}
	switch store.StaffRole(body.Role) {
	case store.StaffSchoolAdmin, store.StaffTenantSupport:
	case store.StaffOperator:
		return problem(c, http.StatusForbidden, "Forbidden", "an API client belongs to one tenant and cannot make operator grants; the broker's operator makes them with `broker staff grant --role operator`")
	default:
		return problem(c, http.StatusBadRequest, "Bad Request", "role must be school_admin or tenant_support")
	}
	g, err := s.staffGrants().Grant(c.Request().Context(), support.GrantRequest{TenantID: caller.TenantID, SNILS: body.SNILS,
		Role: store.StaffRole(body.Role), Schools: body.Schools, By: caller.ClientID})
	switch {
	case errors.Is(err, support.ErrBadQuery):
		return problem(c, http.StatusBadRequest, "Bad Request", "snils must be 11 digits")
	case errors.Is(err, store.ErrInvalid):
		_, why, _ := strings.Cut(err.Error(), "store: invalid: ")
		return problem(c, http.StatusBadRequest, "Bad Request", why)
	case err != nil:
		return err
	}
	return c.JSON(http.StatusCreated, support.ViewOfGrant(g))
}

// staffRevoke is DELETE /api/v1/staff/{id}: another tenant's grant, or
// an operator's, is 404 like a grant that does not exist.
func (s *Server) staffRevoke(c echo.Context) error {
	caller := callerOf(c)
	err := s.staffGrants().Revoke(c.Request().Context(), caller.TenantID, c.Param("id"), caller.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		return problem(c, http.StatusNotFound, "Not Found", "no staff grant with this id in your tenant")
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
