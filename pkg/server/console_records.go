package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/login"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// routesSupportRecords are the console's record page and its actions
// (docs/support.md); every one needs a staff session and CSRF.
func (s *Server) routesSupportRecords(e *echo.Echo, limit echo.MiddlewareFunc) {
	e.GET("/support/records/:tenant/:id", s.supportRecord, limit, s.csrf())
	e.POST("/support/records/:tenant/:id/links/:action", s.supportRecordLink, limit, s.csrf())
	e.POST("/support/records/:tenant/:id/consent/reopen", s.supportRecordReopen, limit, s.csrf())
	e.POST("/support/records/:tenant/:id/consent/export", s.supportRecordExport, limit, s.csrf())
}

// supportRecords is the console's record side, its link changes made as
// the API makes them.
func (s *Server) supportRecords() *support.Records {
	return &support.Records{Store: s.c.Store, Index: s.c.PII, Links: *s.linkAdmin(), Consent: s.c.Consent, Now: s.c.Now}
}

// staffRequest is the signed-in staff member of a console request and
// the grant it acts under (the form's or the URL's "grant"); ok is false
// when the answer was written already (no session, no grant).
func (s *Server) staffRequest(c echo.Context) (ss *staffSession, grants []store.StaffGrant, g store.StaffGrant, ok bool, err error) {
	ss, grants, err = s.supportSession(c)
	switch {
	case err != nil:
		return nil, nil, g, false, err
	case ss == nil && c.Request().Method == http.MethodGet:
		return nil, nil, g, false, c.Redirect(http.StatusSeeOther, "/support")
	case ss == nil:
		return nil, nil, g, false, errorPage(c, http.StatusBadRequest, "Сеанс истёк", "Войдите в консоль поддержки заново.", "", "/support")
	case len(grants) == 0:
		return nil, nil, g, false, noSupportAccess(c, "")
	}
	id := c.FormValue("grant")
	if id == "" {
		id = c.QueryParam("grant")
	}
	return ss, grants, pickGrant(grants, id), true, nil
}

// supportFind is the console's search (POST /support/search): one box for
// a reference code, a SNILS, a record id or a birth-certificate number,
// and the fields of ФИО and birth date.
func (s *Server) supportFind(c echo.Context, ss *staffSession, grants []store.StaffGrant, g store.StaffGrant) error {
	q := support.RecordQuery{Text: strings.TrimSpace(c.FormValue("ref")), LastName: strings.TrimSpace(c.FormValue("last_name")),
		FirstName: strings.TrimSpace(c.FormValue("first_name")), MiddleName: strings.TrimSpace(c.FormValue("middle_name")),
		BirthDate: strings.TrimSpace(c.FormValue("birth_date"))}
	r := &supportResult{Query: q.Text, Name: [3]string{q.LastName, q.FirstName, q.MiddleName}, BirthDate: q.BirthDate}
	res, err := s.supportRecords().Search(c.Request().Context(), g.Scope(), g.ID, q)
	switch {
	case errors.Is(err, support.ErrBadQuery):
		r.BadQuery = strings.TrimPrefix(err.Error(), support.ErrBadQuery.Error()+": ")
	case err != nil:
		return err
	case res.Attempt == nil && len(res.Records) == 0:
		r.NotFound = true
	default:
		if res.Attempt != nil {
			r.Attempt = lineOfAttempt(res.Attempt)
		}
		for _, h := range res.Records {
			r.Records = append(r.Records, lineOfRecord(h, g.ID))
		}
	}
	return s.renderSupport(c, ss, grants, g, r)
}

// recordLine is a found record in the search's list, masked.
type recordLine struct {
	URL, Tenant, ID, Name, Role, School, Class, BirthDate, SNILS, By string
}

var foundByTitles = map[string]string{
	"id": "номер записи", "snils": "СНИЛС", "birth_cert": "свидетельство о рождении", "name_birth": "ФИО и дата рождения",
	"similar_name": "похожее ФИО, та же дата рождения", "attempt": "участвовала в попытке входа",
}

var roleTitles = map[store.Role]string{
	store.RoleStudent: "ученик", store.RoleParent: "родитель", store.RoleTeacher: "учитель", store.RoleStaff: "сотрудник",
}

func recordURL(tenantID, id, grant string) string {
	return "/support/records/" + url.PathEscape(tenantID) + "/" + url.PathEscape(id) + "?grant=" + url.QueryEscape(grant)
}

func lineOfRecord(h support.RecordHit, grant string) recordLine {
	p := h.Record
	return recordLine{URL: recordURL(p.TenantID, p.ExternalID, grant), Tenant: p.TenantID, ID: p.ExternalID,
		Name: linking.MaskFullName(p.LastName, p.FirstName, p.MiddleName), Role: roleTitles[p.Role], School: p.School, Class: p.Class,
		BirthDate: linking.MaskBirthDate(p.BirthDate), SNILS: linking.MaskSNILS(p.SNILS), By: foundByTitles[h.By]}
}

// supportRecord is GET /support/records/{tenant}/{id}: a record's page.
func (s *Server) supportRecord(c echo.Context) error {
	ss, grants, g, ok, err := s.staffRequest(c)
	if !ok {
		return err
	}
	return s.renderRecordPage(c, ss, grants, g, c.Param("tenant"), c.Param("id"), nil, doneNotes[c.QueryParam("done")], http.StatusOK)
}

// renderSupportRecord renders the record page of tenantID/recordID under
// grant g with the fields of reveal shown in full and every other masked,
// each with its «Показать» form (POST /support/unmask, handled elsewhere);
// a record outside g's scope is the «не найдено» page. The read is audited.
func (s *Server) renderSupportRecord(c echo.Context, ss *staffSession, grants []store.StaffGrant, g store.StaffGrant, tenantID, recordID string, reveal map[string]bool) error {
	return s.renderRecordPage(c, ss, grants, g, tenantID, recordID, reveal, "", http.StatusOK)
}

// recordNotFound is the answer for a record, a link or a consent that does
// not exist or is outside the scope: the two are not told apart.
func recordNotFound(c echo.Context, grant string) error {
	return errorPage(c, http.StatusNotFound, "Не найдено",
		"Такой записи нет среди тех, что вам доступны. Проверьте номер или найдите запись поиском.", "", "/support?grant="+url.QueryEscape(grant))
}

// doneNotes are the messages a record page shows after an action.
var doneNotes = map[string]string{
	"suspend_link": "Привязка приостановлена. Вход по ней невозможен, пока её не возобновят; дневник получил уведомление.",
	"resume_link":  "Привязка возобновлена.",
	"unlink":       "Привязка удалена. При следующем входе запись будет найдена заново.",
	"reopened":     "Запрос согласия родителей открыт заново; родители увидят его на своей странице, дневник получил уведомление.",
	"still_open":   "Запрос согласия родителей уже открыт; новый не нужен.",
}

// field is one personal-data field of the record page: its value, masked
// unless revealed.
type field struct {
	Name, Title, Value string
	Masked             bool
}

type linkLine struct {
	OID, Status, Reason, Rung, Since string
	Suspended                        bool
}

type consentLine struct {
	Kind, Status, Grantor, GrantorURL, TextVersion, Granted, Expires, Ended string
}

type evidenceLine struct {
	Event, At, Channel, TextVersion string
	Destroyed                       bool
}

type relativeLine struct {
	Relation, ID, URL, Name string
}

type attemptRow struct {
	Ref, When, Outcome string
}

type eventLine struct {
	Type, Created, Status, Attempts, LastError, Delivered string
}

var (
	linkStatusTitles = map[store.LinkStatus]string{store.LinkActive: "действует", store.LinkSuspended: "приостановлена"}
	suspendTitles    = map[string]string{
		linking.SuspendSNILSChanged:     "СНИЛС в записи изменился после привязки (снимется сама, когда данные снова совпадут)",
		linking.SuspendBirthDateChanged: "дата рождения в записи изменилась после привязки (снимется сама, когда данные снова совпадут)",
		linking.SuspendBySupport:        "приостановлена поддержкой",
		linking.SuspendByDiary:          "приостановлена электронным дневником",
	}
	rungTitles = map[string]string{
		linking.RungSNILS: "по СНИЛС и дате рождения", linking.RungBirthCert: "по свидетельству о рождении и дате рождения",
		linking.RungName: "по ФИО и дате рождения", linking.RungManual: "вручную, электронным дневником",
	}
	consentKindTitles   = map[store.ConsentKind]string{store.ConsentSelf: "своё", store.ConsentParental: "родителя за ребёнка"}
	consentStatusTitles = map[store.ConsentStatus]string{store.ConsentGranted: "действует", store.ConsentRevoked: "отозвано",
		store.ConsentExpired: "истекло", store.ConsentSuperseded: "заменено новым"}
	evidenceTitles = map[string]string{"requested": "согласие запрошено", "granted": "согласие дано", "declined": "отказ",
		"revoked": "согласие отозвано", "expired": "истекло", "superseded": "заменено", "destroyed": "сведения уничтожены"}
	channelTitles = map[string]string{"login_page": "страница входа", "parent_page": "страница родителя", "api": "API дневника",
		consent.ChannelSupport: "консоль поддержки"}
	relationTitles    = map[string]string{"mother": "мать", "father": "отец", "guardian": "опекун", "other": "другое"}
	eventStatusTitles = map[store.EventStatus]string{store.EventPending: "ждёт доставки", store.EventDelivered: "доставлено",
		store.EventDead: "не доставлено (попытки кончились)"}
)

func titleOr(m map[string]string, k string) string {
	if t, ok := m[k]; ok {
		return t
	}
	return k
}

// renderRecordPage renders the record page with note above it (the result
// of an action, or what was wrong with one) and status.
func (s *Server) renderRecordPage(c echo.Context, ss *staffSession, grants []store.StaffGrant, g store.StaffGrant, tenantID, recordID string,
	reveal map[string]bool, note string, status int) error {
	ctx := c.Request().Context()
	v, err := s.supportRecords().Record(ctx, g.Scope(), g.ID, tenantID, recordID)
	if errors.Is(err, support.ErrNotFound) {
		return recordNotFound(c, g.ID)
	}
	if err != nil {
		return err
	}
	loc := time.UTC
	if t, err := s.c.Store.GetTenant(ctx, tenantID); err == nil {
		loc = t.Location()
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("02.01.2006 15:04 MST")
	}
	p := v.Record
	self := recordURL(p.TenantID, p.ExternalID, g.ID)
	fields := recordFields(p, reveal)
	var links []linkLine
	for _, l := range v.Links {
		links = append(links, linkLine{OID: l.ESIAOID, Status: linkStatusTitles[l.Status], Reason: titleOr(suspendTitles, l.Reason),
			Rung: titleOr(rungTitles, l.Rung), Since: when(l.CreatedAt), Suspended: l.Status == store.LinkSuspended})
	}
	var consents []consentLine
	for _, cs := range v.Consents {
		line := consentLine{Kind: consentKindTitles[cs.Kind], Status: consentStatusTitles[cs.Status], Grantor: "учётная запись Госуслуг " + cs.GrantorOID,
			TextVersion: cs.TextVersion, Granted: when(cs.GrantedAt), Expires: when(cs.ExpiresAt), Ended: when(cs.EndedAt)}
		if cs.GrantorRecord != "" {
			line.Grantor, line.GrantorURL = "запись "+cs.GrantorRecord, recordURL(p.TenantID, cs.GrantorRecord, g.ID)
		}
		if cs.EndReason != "" {
			line.Ended += " (" + cs.EndReason + ")"
		}
		consents = append(consents, line)
	}
	var evidence []evidenceLine
	for _, e := range v.Evidence {
		evidence = append(evidence, evidenceLine{Event: titleOr(evidenceTitles, e.Event), At: when(e.At),
			Channel: titleOr(channelTitles, e.Details.Channel), TextVersion: e.Details.TextVersion, Destroyed: e.Destroyed})
	}
	var family []relativeLine
	for _, r := range v.Family {
		line := relativeLine{Relation: titleOr(relationTitles, r.Kind), ID: r.ExternalID}
		if !r.IsParent {
			line.Relation = "ребёнок (" + line.Relation + ")"
		}
		if r.Record != nil {
			line.URL, line.Name = recordURL(p.TenantID, r.ExternalID, g.ID), linking.MaskFullName(r.Record.LastName, r.Record.FirstName, r.Record.MiddleName)
		} else {
			line.Name = "запись вне вашего доступа"
		}
		family = append(family, line)
	}
	var attempts []attemptRow
	for _, a := range v.Attempts {
		line := lineOfAttempt(&support.AttemptView{Ref: login.FormatRef(a.Ref), Outcome: a.Outcome, Reason: a.Reason, CreatedAt: a.CreatedAt})
		attempts = append(attempts, attemptRow{Ref: line.Ref, When: when(a.CreatedAt), Outcome: line.Outcome})
	}
	var events []eventLine
	for _, e := range v.Events {
		events = append(events, eventLine{Type: e.Type, Created: when(e.CreatedAt), Status: eventStatusTitles[e.Status],
			Attempts: fmt.Sprint(e.Attempts), LastError: e.LastError, Delivered: when(e.DeliveredAt)})
	}
	var request map[string]any
	if r := v.Request; r != nil {
		request = map[string]any{"Since": when(r.CreatedAt), "Until": when(r.ExpiresAt), "Parents": strings.Join(r.Parents, ", "),
			"Declines": len(r.Declines), "Expired": !r.ExpiresAt.IsZero() && !r.ExpiresAt.After(s.c.Now())}
	}
	token, _ := c.Get("csrf").(string)
	data := map[string]any{
		"Name": ss.Name, "Grant": g.ID, "CSRF": token, "RoleTitle": staffRoleTitles[g.Role], "ScopeText": grantTitle(g),
		"Tenant": p.TenantID, "ID": p.ExternalID, "Target": p.TenantID + "/" + p.ExternalID, "Self": self,
		"Action": "/support/records/" + url.PathEscape(p.TenantID) + "/" + url.PathEscape(p.ExternalID),
		"Role":   roleTitles[p.Role], "School": p.School, "Class": p.Class, "Flags": strings.Join(p.Flags, ", "), "Updated": when(p.UpdatedAt),
		"Fields": fields, "Links": links, "Consents": consents, "Evidence": evidence, "Request": request,
		"Student": p.Role == store.RoleStudent, "Family": family, "Attempts": attempts, "Events": events, "Note": note,
		"Error": status >= 400, "Home": "/support?grant=" + url.QueryEscape(g.ID),
	}
	_ = grants
	return render(c, status, "support_record", Page{Brand: "Консоль поддержки", Title: "Запись " + p.ExternalID, Data: data})
}

// recordFields are the record's personal-data fields, each masked unless
// reveal names it.
func recordFields(p store.Person, reveal map[string]bool) []field {
	full := strings.Join(strings.Fields(p.LastName+" "+p.FirstName+" "+p.MiddleName), " ")
	snils, _ := linking.FormatSNILS(p.SNILS)
	var bc, bcMasked string
	if c := p.BirthCert; c != nil && (c.Series != "" || c.Number != "") {
		bc = strings.TrimSpace(c.Series + " № " + c.Number)
		if !c.IssueDate.IsZero() {
			bc += ", выдано " + dateRU(c.IssueDate)
		}
		if c.ActNo != "" {
			bc += ", актовая запись " + c.ActNo
		}
		bcMasked = strings.TrimSpace(c.Series + " № " + linking.MaskDocumentNumber(c.Number))
	}
	var contacts, contactsMasked []string
	for _, ct := range p.Contacts {
		contacts = append(contacts, ct.Value)
		contactsMasked = append(contactsMasked, linking.MaskContact(ct.Type, ct.Value))
	}
	list := []struct{ name, title, value, masked string }{
		{"name", "ФИО", full, linking.MaskFullName(p.LastName, p.FirstName, p.MiddleName)},
		{"birth_date", "Дата рождения", dateRU(p.BirthDate), linking.MaskBirthDate(p.BirthDate)},
		{"snils", "СНИЛС", snils, linking.MaskSNILS(p.SNILS)},
		{"birth_cert", "Свидетельство о рождении", bc, bcMasked},
		{"contacts", "Контакты", strings.Join(contacts, ", "), strings.Join(contactsMasked, ", ")},
	}
	out := make([]field, 0, len(list))
	for _, f := range list {
		switch {
		case f.value == "":
			out = append(out, field{Name: f.name, Title: f.title, Value: "—"})
		case reveal[f.name]:
			out = append(out, field{Name: f.name, Title: f.title, Value: f.value})
		default:
			out = append(out, field{Name: f.name, Title: f.title, Value: f.masked, Masked: true})
		}
	}
	return out
}

// dateRU writes a date as 21.09.1974.
func dateRU(d store.Date) string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%02d.%02d.%04d", d.Day, int(d.Month), d.Year)
}

// recordAction runs one of the record page's actions: the reason is
// required, the record and the link are found through the scoped store,
// and anything outside the scope is the «не найдено» page.
func (s *Server) recordAction(c echo.Context, act func(g store.StaffGrant, tenantID, id, reason string) (string, error)) error {
	return s.recordActionAs(c, func(_ *staffSession, g store.StaffGrant, tenantID, id, reason string) (string, error) {
		return act(g, tenantID, id, reason)
	})
}

// errUnmaskLimited is an action that shows personal data in full refused
// by the staff member's hourly «Показать» limit.
var errUnmaskLimited = errors.New("support: unmask limit reached")

// recordActionAs is recordAction for an action that needs the staff
// member's session (the «Показать» limit).
func (s *Server) recordActionAs(c echo.Context, act func(ss *staffSession, g store.StaffGrant, tenantID, id, reason string) (string, error)) error {
	ss, grants, g, ok, err := s.staffRequest(c)
	if !ok {
		return err
	}
	tenantID, id := c.Param("tenant"), c.Param("id")
	done, err := act(ss, g, tenantID, id, c.FormValue("reason"))
	switch {
	case errors.Is(err, errUnmaskLimited):
		c.Response().Header().Set("Retry-After", "3600")
		return s.renderRecordPage(c, ss, grants, g, tenantID, id, nil,
			"Слишком много раскрытий за час: выгрузка показывает данные полностью и считается как «Показать». Попробуйте позже.",
			http.StatusTooManyRequests)
	case errors.Is(err, support.ErrNotFound):
		return recordNotFound(c, g.ID)
	case errors.Is(err, support.ErrNoReason):
		return s.renderRecordPage(c, ss, grants, g, tenantID, id, nil, "Укажите причину: без неё действие не выполняется.", http.StatusBadRequest)
	case errors.Is(err, support.ErrBadQuery):
		return s.renderRecordPage(c, ss, grants, g, tenantID, id, nil, "Причина слишком длинная или с недопустимыми знаками.", http.StatusBadRequest)
	case errors.Is(err, consent.ErrConsentHolds):
		return s.renderRecordPage(c, ss, grants, g, tenantID, id, nil, "Согласие родителя уже дано — запрашивать нечего.", http.StatusConflict)
	case errors.Is(err, consent.ErrNoParents):
		return s.renderRecordPage(c, ss, grants, g, tenantID, id, nil,
			"В списке дневника у ученика нет родителей — запрос некому отправить. Школа добавляет связь «родитель — ребёнок» в дневнике.", http.StatusConflict)
	case err != nil:
		return err
	case done == "":
		return nil // answered already
	}
	return c.Redirect(http.StatusSeeOther, recordURL(tenantID, id, g.ID)+"&done="+done)
}

// supportRecordLink is POST /support/records/{tenant}/{id}/links/{suspend|resume|remove}
// with the form's "link" (the ESIA account) and "reason".
func (s *Server) supportRecordLink(c echo.Context) error {
	actions := map[string]support.LinkAction{"suspend": support.LinkSuspend, "resume": support.LinkResume, "remove": support.LinkRemove}
	return s.recordAction(c, func(g store.StaffGrant, tenantID, id, reason string) (string, error) {
		action, ok := actions[c.Param("action")]
		if !ok {
			return "", support.ErrNotFound
		}
		_, err := s.supportRecords().ChangeLink(c.Request().Context(), g.Scope(), g.ID, tenantID, id, c.FormValue("link"), action, reason)
		return string(action), err
	})
}

// supportRecordReopen is POST /support/records/{tenant}/{id}/consent/reopen.
func (s *Server) supportRecordReopen(c echo.Context) error {
	return s.recordAction(c, func(g store.StaffGrant, tenantID, id, reason string) (string, error) {
		_, created, err := s.supportRecords().ReopenConsent(c.Request().Context(), g.Scope(), g.ID, tenantID, id, reason)
		if !created {
			return "still_open", err
		}
		return "reopened", err
	})
}

// supportRecordExport is POST /support/records/{tenant}/{id}/consent/export:
// the 152-ФЗ export of the record's consents and evidence, as `broker
// consents export` prints it, downloaded as a JSON file.
//
// The export holds names in full (the grantor's, the subject's), so it
// counts against the staff member's hourly «Показать» limit like an
// unmask, and in broker_support_unmask_total{kind="consent_export"}.
func (s *Server) supportRecordExport(c echo.Context) error {
	return s.recordActionAs(c, func(ss *staffSession, g store.StaffGrant, tenantID, id, reason string) (string, error) {
		count := func(outcome string) { s.c.Metrics.SupportUnmask.WithLabelValues("consent_export", outcome).Inc() }
		if strings.TrimSpace(reason) == "" {
			return "", support.ErrNoReason
		}
		limited, _, err := s.unmaskLimited(c, ss)
		if err != nil {
			return "", err
		}
		if limited {
			count("rate_limited")
			return "", errUnmaskLimited
		}
		exp, err := s.supportRecords().ExportConsents(c.Request().Context(), g.Scope(), g.ID, tenantID, id, reason)
		if errors.Is(err, support.ErrNotFound) {
			count("not_found")
		}
		if err != nil {
			return "", err
		}
		count("shown")
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Disposition", `attachment; filename="consents-`+fileSafe(tenantID)+"-"+fileSafe(id)+`.json"`)
		return "", c.JSONPretty(http.StatusOK, exp, "  ")
	})
}

// fileSafe keeps the letters, digits, dashes and underscores of an id for
// a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
}

// unmaskRecord is POST /support/unmask with kind=record (tenant, id,
// field, reason): after the reason, the hourly limit shared with the
// attempt page's «Показать» and the scope, the record page with that
// field in full; audited as unmask and counted by count.
func (s *Server) unmaskRecord(c echo.Context, ss *staffSession, grants []store.StaffGrant, g store.StaffGrant, field, reason string, count func(string)) error {
	ctx := c.Request().Context()
	tenantID, id := c.FormValue("tenant"), c.FormValue("id")
	if strings.TrimSpace(reason) == "" {
		count("no_reason")
		return s.renderRecordPage(c, ss, grants, g, tenantID, id, nil,
			"Укажите причину, по которой нужно увидеть значение полностью: без неё значение не показывается.", http.StatusUnprocessableEntity)
	}
	if !support.RecordFields[field] {
		return errorPage(c, http.StatusBadRequest, "Неизвестное поле", "Консоль не может показать это значение.", "", "/support")
	}
	limited, limit, err := s.unmaskLimited(c, ss)
	if err != nil {
		return err
	}
	if limited {
		count("rate_limited")
		c.Response().Header().Set("Retry-After", "3600")
		return s.renderRecordPage(c, ss, grants, g, tenantID, id, nil,
			fmt.Sprintf("Слишком много раскрытий: за час можно посмотреть полностью не больше %d значений. Значение не показано; попробуйте позже.", limit),
			http.StatusTooManyRequests)
	}
	err = s.supportRecords().UnmaskRecord(ctx, g.Scope(), g.ID, tenantID, id, field, reason)
	switch {
	case errors.Is(err, support.ErrNotFound):
		count("not_found")
		return recordNotFound(c, g.ID)
	case errors.Is(err, support.ErrBadQuery): // the field is checked above: the reason is too long
		return s.renderRecordPage(c, ss, grants, g, tenantID, id, nil,
			fmt.Sprintf("Причина длиннее %d знаков: значение не показано.", support.MaxReasonLength), http.StatusBadRequest)
	case err != nil:
		return err
	}
	count("shown")
	return s.renderSupportRecord(c, ss, grants, g, tenantID, id, map[string]bool{field: true})
}
