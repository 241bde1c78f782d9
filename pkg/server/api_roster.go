package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/store"
)

// MaxRosterBody bounds one roster upload (NDJSON); bigger rosters go in
// several requests or through `broker roster import`.
const MaxRosterBody = 2 << 30

// maxRosterBody is the bound in force (tests lower it).
var maxRosterBody int64 = MaxRosterBody

// rosterImport is POST /api/v1/roster: a streamed NDJSON roster (rows and
// relations, `op` upsert or delete), imported into the caller's tenant.
// Good rows land, bad rows come back with their line.
func (s *Server) rosterImport(c echo.Context) error {
	caller := callerOf(c)
	ct := c.Request().Header.Get("Content-Type")
	csvOpt, isCSV, ok := rosterCSVOptions(ct)
	if !ok {
		return problem(c, http.StatusUnsupportedMediaType, "Unsupported Media Type", "send the roster as application/x-ndjson or text/csv")
	}
	body := &limitedReader{r: c.Request().Body, n: maxRosterBody}
	im := &linking.Importer{Roster: s.c.Store, Index: s.c.PII, Links: s.linkKeeper(caller)}
	var rep linking.ImportReport
	var err error
	if isCSV {
		rep, err = im.ImportCSV(c.Request().Context(), caller.TenantID, body, csvOpt)
	} else {
		rep, err = im.Import(c.Request().Context(), caller.TenantID, body)
	}
	var notNDJSON *linking.NotNDJSONError
	switch {
	case errors.As(err, &notNDJSON) && notNDJSON.Kind == "csv":
		return problem(c, http.StatusBadRequest, "Bad Request", err.Error()+"; send it as text/csv; nothing was imported")
	case errors.Is(err, linking.ErrNotNDJSON), errors.Is(err, linking.ErrBadCSV):
		return problem(c, http.StatusBadRequest, "Bad Request", err.Error()+"; nothing was imported")
	}
	if errors.Is(err, errTooLarge) || body.exceeded {
		// What was written stays written (batches commit as they go); the
		// report says what that was. Deletions and relations waiting for a
		// record further down were not applied: they wait for the end of a
		// roster, which this request never reached.
		c.Response().Header().Set("Content-Type", "application/problem+json")
		return c.JSON(http.StatusRequestEntityTooLarge, map[string]any{"type": "about:blank", "title": "Payload Too Large",
			"status": http.StatusRequestEntityTooLarge, "report": rep,
			"detail": "the roster is larger than one request may be; the person rows and relations before the limit were imported (see report), its deletions were not; send the rest in another request"})
	}
	if err != nil {
		return err
	}
	if err := s.c.Store.AppendAudit(c.Request().Context(), store.AuditEntry{At: s.c.Now().UTC(), TenantID: caller.TenantID,
		Actor: caller.ClientID, Action: "roster_import", Detail: mustJSON(map[string]int{"persons": rep.Persons, "deleted": rep.Deleted,
			"relations": rep.Relations, "errors": len(rep.Errors)})}); err != nil {
		return fmt.Errorf("audit: roster import done, not audited: %w", err)
	}
	return c.JSON(http.StatusOK, rep)
}

// rosterPutPerson is PUT /api/v1/roster/persons/{id}: one row, JSON.
func (s *Server) rosterPutPerson(c echo.Context) error {
	caller := callerOf(c)
	b, err := io.ReadAll(io.LimitReader(c.Request().Body, linking.MaxRowBytes+1))
	if err != nil {
		return err
	}
	if len(b) > linking.MaxRowBytes {
		return problem(c, http.StatusRequestEntityTooLarge, "Payload Too Large", "a roster row may be at most 64 KiB")
	}
	row, err := linking.ParseRosterRow(b)
	if err != nil {
		return problem(c, http.StatusBadRequest, "Bad Request", err.Error())
	}
	if err := store.CheckID("external_id", row.ExternalID); err != nil {
		return fieldProblem(c, err)
	}
	if row.ExternalID == "" {
		row.ExternalID = c.Param("id")
	}
	if row.ExternalID != c.Param("id") || (row.Type != "" && row.Type != "person") || (row.Op != "" && row.Op != "upsert") {
		return problem(c, http.StatusBadRequest, "Bad Request", "the row must be a person whose external_id is the id in the URL")
	}
	p, err := row.Person(s.c.PII)
	var re linking.RowError
	if errors.Is(err, store.ErrInvalidField) {
		// A string no store keeps (NUL, control characters, too long).
		return fieldProblem(c, err)
	}
	if errors.As(err, &re) {
		// One row, no line: the message, naming the field, is the detail.
		detail := re.Message
		if re.Field != "" {
			detail = re.Field + ": " + re.Message
		}
		return problemWith(c, http.StatusUnprocessableEntity, "Unprocessable Entity", detail, map[string]any{"field": re.Field})
	}
	if err != nil {
		return err
	}
	// The record and its links change together: a re-check that fails
	// (revoking, auditing) leaves the record as it was.
	var suspended []store.Link
	err = s.c.Store.InTx(c.Request().Context(), func(ctx context.Context) error {
		if err := s.c.Store.UpsertPersons(ctx, caller.TenantID, []store.Person{p}); err != nil {
			return err
		}
		suspended, err = s.linkKeeper(caller).RecheckRecords(ctx, caller.TenantID, []store.Person{p})
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"person_id": p.ExternalID, "flags": nonNilStrings(p.Flags),
		"suspended_links": linkViews(suspended)})
}

// rosterDeletePerson is DELETE /api/v1/roster/persons/{id}; its links and
// relations go with it, and so do the tokens of its linked persons.
func (s *Server) rosterDeletePerson(c echo.Context) error {
	caller := callerOf(c)
	ctx := c.Request().Context()
	id := c.Param("id")
	if _, err := s.c.Store.GetPerson(ctx, caller.TenantID, id); errors.Is(err, store.ErrNotFound) {
		return problem(c, http.StatusNotFound, "Not Found", "no such record in your roster")
	} else if err != nil {
		return err
	}
	// Unlinked and deleted in one transaction: a login linking the record
	// in between cannot leave a link whose tokens were never revoked.
	err := s.c.Store.InTx(ctx, func(ctx context.Context) error {
		if err := s.c.Store.LockPersons(ctx, caller.TenantID, []string{id}); err != nil {
			return err
		}
		if _, err := s.linkKeeper(caller).UnlinkRecords(ctx, caller.TenantID, []string{id}); err != nil {
			return err
		}
		return s.c.Store.DeletePersons(ctx, caller.TenantID, []string{id})
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// linkKeeper keeps the links of the records a diary writes in step with
// them (linking.LinkAdmin) and audits every link that changes that way as
// the caller's doing.
func (s *Server) linkKeeper(caller *oauth.APICaller) auditedLinks {
	return auditedLinks{LinkAdmin: s.linkAdmin(), audit: s.c.Store, now: s.c.Now, actor: caller.ClientID}
}

// auditedLinks is a LinkAdmin whose suspensions and removals are written
// to the audit log under actor (the diary's client, or "cli").
type auditedLinks struct {
	*linking.LinkAdmin
	audit store.Audit
	now   func() time.Time
	actor string
}

// RecheckRecords implements linking.RecordLinks: suspensions are audited.
func (a auditedLinks) RecheckRecords(ctx context.Context, tenantID string, ps []store.Person) ([]store.Link, error) {
	links, err := a.LinkAdmin.RecheckRecords(ctx, tenantID, ps)
	if err != nil {
		return nil, err
	}
	return links, a.record(ctx, "suspend_link", links)
}

// UnlinkRecords implements linking.RecordLinks: removals are audited.
func (a auditedLinks) UnlinkRecords(ctx context.Context, tenantID string, ids []string) ([]store.Link, error) {
	links, err := a.LinkAdmin.UnlinkRecords(ctx, tenantID, ids)
	if err != nil {
		return nil, err
	}
	return links, a.record(ctx, "unlink", links)
}

func (a auditedLinks) record(ctx context.Context, action string, links []store.Link) error {
	for _, l := range links {
		if err := a.audit.AppendAudit(ctx, store.AuditEntry{At: a.now().UTC(), TenantID: l.TenantID, Actor: a.actor,
			Action: action, Target: l.ExternalID, Detail: mustJSON(map[string]string{"esia_oid": l.ESIAOID, "reason": l.Reason, "via": "roster"})}); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	return nil
}

var errTooLarge = errors.New("roster too large")

// limitedReader fails once more than n bytes were read.
type limitedReader struct {
	r        io.Reader
	n        int64
	exceeded bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		l.exceeded = true
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

func mustJSON(v any) []byte {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v)
	return bytes.TrimSpace(buf.Bytes())
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
