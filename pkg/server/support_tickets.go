package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// routesTickets adds the console's ticket queue, ticket page and ticket
// actions, and its audit log page and export (support_audit.go).
func (s *Server) routesTickets(e *echo.Echo, limit echo.MiddlewareFunc) {
	e.GET("/support/tickets", s.ticketQueue, limit, s.csrf())
	e.GET("/support/tickets/:id", s.ticketPage, limit, s.csrf())
	e.POST("/support/tickets/:id", s.ticketAction, limit, s.csrf())
	e.GET("/support/audit", s.auditPage, limit, s.csrf())
	e.GET("/support/audit.csv", s.auditCSV, limit)
}

// console is a signed-in staff member's request: the session, its grants
// and the grant the request chose (the "grant" parameter).
type console struct {
	ss     *staffSession
	grants []store.StaffGrant
	g      store.StaffGrant
}

// consoleRequest returns the request's console, or answers it and returns
// nil: a GET without a session goes to /support (which signs in), any
// other request gets «Сеанс истёк»; a person without grants the no-access
// page.
func (s *Server) consoleRequest(c echo.Context) (*console, error) {
	ss, grants, err := s.supportSession(c)
	if err != nil {
		return nil, err
	}
	if ss == nil {
		if c.Request().Method == http.MethodGet {
			return nil, c.Redirect(http.StatusSeeOther, "/support")
		}
		return nil, errorPage(c, http.StatusBadRequest, "Сеанс истёк", "Войдите в консоль поддержки заново.", "", "/support")
	}
	if len(grants) == 0 {
		return nil, noSupportAccess(c, "")
	}
	return &console{ss: ss, grants: grants, g: pickGrant(grants, c.FormValue("grant"))}, nil
}

// data is what every console page shows besides its own.
func (k *console) data(c echo.Context) map[string]any {
	token, _ := c.Get("csrf").(string)
	return map[string]any{"Name": k.ss.Name, "RoleTitle": staffRoleTitles[k.g.Role], "ScopeText": grantTitle(k.g),
		"Grant": k.g.ID, "CSRF": token, "AuditAllowed": k.g.Role != store.StaffSchoolAdmin}
}

var ticketStateTitles = map[store.TicketState]string{
	store.TicketNew: "новое", store.TicketInProgress: "в работе", store.TicketResolved: "решено",
}

// ticketLine is a ticket as the console's pages show it: the contact
// masked.
type ticketLine struct {
	ID, Ref, RefRaw, When, Reason, Routed, State, Assigned string
	Contact, Comment, Resolution, Resolved                 string
	Open, Mine                                             bool
	Notes                                                  []noteLine
}

type noteLine struct{ When, Author, Text string }

const consoleTime = "02.01.2006 15:04 UTC"

// staffLabel names an audit actor on a page: «вы» for the viewer.
func staffLabel(actor, grantID string) string {
	switch actor {
	case "":
		return "—"
	case support.StaffActor(grantID):
		return "вы"
	}
	return "сотрудник " + strings.TrimPrefix(actor, "staff:")
}

func lineOfTicket(t store.Ticket, grantID string) ticketLine {
	l := ticketLine{ID: t.ID, Ref: login.FormatRef(t.Ref), RefRaw: t.Ref, When: t.CreatedAt.UTC().Format(consoleTime),
		Reason: login.MessageFor(t.Reason).Title + " (" + t.Reason + ")", State: ticketStateTitles[t.State],
		Assigned: staffLabel(t.AssignedTo, grantID), Contact: support.MaskContact(t.Contact), Comment: t.Comment,
		Resolution: t.Resolution, Open: t.State != store.TicketResolved, Mine: t.AssignedTo == support.StaffActor(grantID)}
	l.Routed = "очередь дневника «" + t.TenantID + "» (кандидатов нет)"
	if len(t.Schools) > 0 {
		l.Routed = strings.Join(t.Schools, "; ")
	}
	if !t.ResolvedAt.IsZero() {
		l.Resolved = t.ResolvedAt.UTC().Format(consoleTime)
	}
	for _, n := range t.Notes {
		l.Notes = append(l.Notes, noteLine{When: n.At.UTC().Format(consoleTime), Author: staffLabel(n.Author, grantID), Text: n.Text})
	}
	return l
}

// ticketQueue is GET /support/tickets: the tickets of the grant's scope,
// newest first, by state (?state=new|in_progress|resolved, all without).
func (s *Server) ticketQueue(c echo.Context) error {
	k, err := s.consoleRequest(c)
	if k == nil {
		return err
	}
	state := store.TicketState(c.QueryParam("state"))
	if !state.Valid() {
		state = ""
	}
	desk := s.ticketDesk()
	list, err := desk.Queue(c.Request().Context(), k.g.Scope(), state, 200)
	if err != nil {
		return err
	}
	var lines []ticketLine
	for _, t := range list {
		lines = append(lines, lineOfTicket(t, k.g.ID))
	}
	type filter struct {
		Href, Title string
		Current     bool
	}
	var filters []filter
	for _, f := range []struct {
		state store.TicketState
		title string
	}{{"", "все"}, {store.TicketNew, "новые"}, {store.TicketInProgress, "в работе"}, {store.TicketResolved, "решённые"}} {
		q := url.Values{"grant": {k.g.ID}}
		if f.state != "" {
			q.Set("state", string(f.state))
		}
		filters = append(filters, filter{Href: "/support/tickets?" + q.Encode(), Title: f.title, Current: f.state == state})
	}
	d := k.data(c)
	d["Tickets"], d["Filters"] = lines, filters
	return render(c, http.StatusOK, "support_tickets", Page{Brand: "Консоль поддержки", Title: "Обращения", Data: d})
}

// ticketNotFound is the answer about a ticket that does not exist and
// about one outside the scope alike.
func ticketNotFound(c echo.Context, k *console) error {
	d := k.data(c)
	d["NotFound"] = true
	return render(c, http.StatusNotFound, "support_ticket", Page{Brand: "Консоль поддержки", Title: "Обращение не найдено", Data: d})
}

// ticketPage is GET /support/tickets/{id}: the ticket, its notes and the
// actions on it; the read is audited.
func (s *Server) ticketPage(c echo.Context) error {
	k, err := s.consoleRequest(c)
	if k == nil {
		return err
	}
	desk := s.ticketDesk()
	t, err := desk.Ticket(c.Request().Context(), k.g.Scope(), k.g.ID, c.Param("id"))
	if errors.Is(err, support.ErrNotFound) {
		return ticketNotFound(c, k)
	}
	if err != nil {
		return err
	}
	return s.renderTicket(c, k, t, http.StatusOK, "")
}

func (s *Server) renderTicket(c echo.Context, k *console, t store.Ticket, status int, problem string) error {
	d := k.data(c)
	d["Ticket"], d["Problem"] = lineOfTicket(t, k.g.ID), problem
	d["MailsResolution"] = s.c.Mail != nil && strings.Contains(t.Contact, "@")
	return render(c, status, "support_ticket", Page{Brand: "Консоль поддержки", Title: "Обращение " + login.FormatRef(t.Ref), Data: d})
}

// ticketAction is POST /support/tickets/{id}: action=assign (to oneself),
// comment (text) or resolve (text: the resolution), audited; then back to
// the ticket's page.
func (s *Server) ticketAction(c echo.Context) error {
	k, err := s.consoleRequest(c)
	if k == nil {
		return err
	}
	ctx := c.Request().Context()
	desk := s.ticketDesk()
	id := c.Param("id")
	_, err = desk.Change(ctx, k.g.Scope(), k.g.ID, id, support.TicketAction(c.FormValue("action")), c.FormValue("text"))
	switch {
	case errors.Is(err, support.ErrNotFound):
		return ticketNotFound(c, k)
	case errors.Is(err, support.ErrBadQuery):
		t, rerr := desk.Ticket(ctx, k.g.Scope(), k.g.ID, id)
		if rerr != nil {
			return rerr
		}
		problem := "Напишите текст (не больше 1000 символов)."
		if t.State == store.TicketResolved {
			problem = "Обращение уже решено."
		}
		return s.renderTicket(c, k, t, http.StatusUnprocessableEntity, problem)
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/support/tickets/"+url.PathEscape(id)+"?grant="+url.QueryEscape(k.g.ID))
}

// ticketDesk is the support tickets' desk; with e-mail on, a resolution
// is e-mailed to the reporter who left an address.
func (s *Server) ticketDesk() *support.Desk {
	return &support.Desk{Store: s.c.Store, Now: s.c.Now, Mail: s.c.Mail != nil}
}
