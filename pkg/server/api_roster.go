package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
)

// MaxRosterBody bounds one roster upload (NDJSON); bigger rosters go in
// several requests or through `broker roster import`.
const MaxRosterBody = 2 << 30

// rosterImport is POST /api/v1/roster: a streamed NDJSON roster (rows and
// relations, `op` upsert or delete), imported into the caller's tenant.
// Good rows land, bad rows come back with their line.
func (s *Server) rosterImport(c echo.Context) error {
	caller := callerOf(c)
	ct := c.Request().Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(ct, "application/x-ndjson") && !strings.HasPrefix(ct, "application/jsonl") {
		return problem(c, http.StatusUnsupportedMediaType, "Unsupported Media Type", "send the roster as application/x-ndjson")
	}
	body := &limitedReader{r: c.Request().Body, n: MaxRosterBody}
	im := &linking.Importer{Roster: s.c.Store, Index: s.c.PII}
	rep, err := im.Import(c.Request().Context(), caller.TenantID, body)
	if errors.Is(err, errTooLarge) || body.exceeded {
		return problem(c, http.StatusRequestEntityTooLarge, "Payload Too Large", "the roster is larger than one request may be; the rows before the limit were imported")
	}
	if err != nil {
		return err
	}
	_ = s.c.Store.AppendAudit(c.Request().Context(), store.AuditEntry{At: s.c.Now().UTC(), TenantID: caller.TenantID,
		Actor: caller.ClientID, Action: "roster_import", Detail: mustJSON(map[string]int{"persons": rep.Persons, "deleted": rep.Deleted,
			"relations": rep.Relations, "errors": len(rep.Errors)})})
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
	if row.ExternalID == "" {
		row.ExternalID = c.Param("id")
	}
	if row.ExternalID != c.Param("id") || (row.Type != "" && row.Type != "person") || (row.Op != "" && row.Op != "upsert") {
		return problem(c, http.StatusBadRequest, "Bad Request", "the row must be a person whose external_id is the id in the URL")
	}
	p, err := row.Person(s.c.PII)
	var re linking.RowError
	if errors.As(err, &re) {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"type": "about:blank", "title": "Unprocessable Entity",
			"status": http.StatusUnprocessableEntity, "detail": re.Error(), "field": re.Field})
	}
	if err != nil {
		return err
	}
	if err := s.c.Store.UpsertPersons(c.Request().Context(), caller.TenantID, []store.Person{p}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"person_id": p.ExternalID, "flags": nonNilStrings(p.Flags)})
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
	if _, err := s.linkAdmin().Unlink(ctx, caller.TenantID, id, ""); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := s.c.Store.DeletePersons(ctx, caller.TenantID, []string{id}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
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
