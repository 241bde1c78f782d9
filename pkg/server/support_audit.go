package server

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// The audit log page shows auditPageSize entries a page; the CSV export
// at most auditCSVMax, read auditCSVBatch at a time.
const (
	auditPageSize = 50
	auditCSVBatch = 500
	auditCSVMax   = 50000
)

// auditActionTitles says in Russian what an audit action is.
var auditActionTitles = map[string]string{
	store.AuditReadAttempt:     "просмотр попытки входа",
	support.AuditReadTicket:    "просмотр обращения",
	support.AuditAssignTicket:  "обращение взято в работу",
	support.AuditCommentTicket: "комментарий к обращению",
	support.AuditResolveTicket: "обращение решено",
	"unmask":                   "раскрытие скрытых данных",
	"search_persons":           "поиск записей",
	"recheck_attempt":          "повторная проверка входа",
	"suspend_link":             "приостановка привязки",
	"resume_link":              "возобновление привязки",
	"unlink":                   "удаление привязки",
	"grant_staff":              "выдача доступа к консоли",
	"revoke_staff":             "отзыв доступа к консоли",
	"read_webhooks":            "просмотр уведомлений дневнику",
	"retry_webhook":            "повтор уведомления дневнику",
	"roster_import":            "загрузка списков",
	"update_retention":         "изменение сроков хранения",
	"update_consent_policy":    "изменение правил согласий",
	"update_token_policy":      "изменение правил токенов",
}

// auditActions are the actions the page names, sorted, for the action
// field's suggestions.
func auditActions() []string {
	out := make([]string, 0, len(auditActionTitles))
	for a := range auditActionTitles {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// auditQuery is the audit log page's filter as the form has it.
type auditQuery struct {
	Actor, Action, Target, From, To string
	Before                          int64
}

func auditQueryOf(c echo.Context) auditQuery {
	q := auditQuery{Actor: strings.TrimSpace(c.QueryParam("actor")), Action: strings.TrimSpace(c.QueryParam("action")),
		Target: strings.TrimSpace(c.QueryParam("target")), From: c.QueryParam("from"), To: c.QueryParam("to")}
	q.Before, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	return q
}

// errAuditFilter is a filter the page cannot use.
var errAuditFilter = errors.New("bad audit filter")

// filter is q as the store's filter: a reference code in any spelling is
// the code, dates (YYYY-MM-DD, UTC) bound whole days.
func (q auditQuery) filter() (store.AuditFilter, error) {
	f := store.AuditFilter{Actor: q.Actor, Action: q.Action, Target: q.Target, Before: q.Before}
	if r, err := login.ParseRef(q.Target); err == nil && len(q.Target) >= 10 && len(q.Target) <= 11 {
		f.Target = r
	}
	for _, d := range []struct {
		s   string
		to  *time.Time
		add int
	}{{q.From, &f.From, 0}, {q.To, &f.To, 1}} {
		if d.s == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", d.s)
		if err != nil {
			return f, errAuditFilter
		}
		*d.to = t.AddDate(0, 0, d.add)
	}
	if store.ValidateAuditFilter(f) != nil || f.Before < 0 {
		return f, errAuditFilter
	}
	return f, nil
}

// values is q as a query string, with the grant.
func (q auditQuery) values(grant string) url.Values {
	v := url.Values{"grant": {grant}}
	for k, s := range map[string]string{"actor": q.Actor, "action": q.Action, "target": q.Target, "from": q.From, "to": q.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// auditConsole is the console of an audit log request, nil (answered)
// when there is none or its grant is a school_admin's: the audit log is
// for tenant_support and operators.
func (s *Server) auditConsole(c echo.Context) (*console, error) {
	k, err := s.consoleRequest(c)
	if k == nil {
		return nil, err
	}
	if k.g.Role == store.StaffSchoolAdmin {
		return nil, errorPage(c, http.StatusForbidden, "Нет доступа к журналу аудита",
			"Журнал аудита доступен поддержке электронного дневника и оператору брокера.", "", "")
	}
	return k, nil
}

type auditLine struct{ When, Tenant, Actor, Action, Target, Detail string }

// auditPage is GET /support/audit: who saw, unmasked or changed what, in
// the grant's scope, newest first, auditPageSize a page, filtered by
// actor, action, target and dates.
func (s *Server) auditPage(c echo.Context) error {
	k, err := s.auditConsole(c)
	if k == nil {
		return err
	}
	q := auditQueryOf(c)
	d := k.data(c)
	d["Q"] = q
	f, err := q.filter()
	if err != nil {
		d["BadFilter"] = true
		return render(c, http.StatusBadRequest, "support_audit", Page{Brand: "Консоль поддержки", Title: "Журнал аудита", Data: d})
	}
	f.Limit = auditPageSize
	entries, err := s.c.Store.AuditInScope(c.Request().Context(), k.g.Scope(), f)
	if err != nil {
		return err
	}
	var lines []auditLine
	for _, e := range entries {
		l := auditLine{When: e.At.UTC().Format("02.01.2006 15:04:05"), Tenant: e.TenantID, Actor: e.Actor, Action: e.Action,
			Target: e.Target, Detail: string(e.Detail)}
		if t, ok := auditActionTitles[e.Action]; ok {
			l.Action = t + " (" + e.Action + ")"
		}
		lines = append(lines, l)
	}
	d["Entries"] = lines
	d["Actions"] = auditActions()
	d["CSV"] = "/support/audit.csv?" + q.values(k.g.ID).Encode()
	if len(entries) == auditPageSize {
		v := q.values(k.g.ID)
		v.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		d["Next"] = "/support/audit?" + v.Encode()
	}
	return render(c, http.StatusOK, "support_audit", Page{Brand: "Консоль поддержки", Title: "Журнал аудита", Data: d})
}

// auditCSV is GET /support/audit.csv: the entries the page's filters
// select (every page of them, up to auditCSVMax), newest first, as CSV
// whose cells cannot start a spreadsheet formula.
func (s *Server) auditCSV(c echo.Context) error {
	k, err := s.auditConsole(c)
	if k == nil {
		return err
	}
	f, err := auditQueryOf(c).filter()
	if err != nil {
		return errorPage(c, http.StatusBadRequest, "Неверный фильтр", "Проверьте фильтры журнала аудита: даты — ГГГГ-ММ-ДД.", "", "")
	}
	ctx := c.Request().Context()
	var rows [][]string
	f.Limit = auditCSVBatch
	for len(rows) < auditCSVMax {
		entries, err := s.c.Store.AuditInScope(ctx, k.g.Scope(), f)
		if err != nil {
			return err
		}
		for _, e := range entries {
			rows = append(rows, []string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339), e.TenantID, e.Actor, e.Action, e.Target, string(e.Detail)})
		}
		if len(entries) < f.Limit {
			break
		}
		f.Before = entries[len(entries)-1].ID
	}
	h := c.Response().Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="audit.csv"`)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	if err := w.Write([]string{"id", "at", "tenant", "actor", "action", "target", "detail"}); err != nil {
		return err
	}
	for _, r := range rows {
		for i := range r {
			r[i] = csvSafe(r[i])
		}
		if err := w.Write(r); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// csvSafe defuses a cell a spreadsheet would take for a formula (OWASP
// «CSV injection»): one starting with =, +, -, @, a tab or a carriage
// return gets a leading apostrophe.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
