package login

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"time"

	"github.com/diarybroker/broker/pkg/esia"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/sessions"
	"github.com/diarybroker/broker/pkg/store"
)

// Upstream is ESIA as the login uses it; *esia.Config implements it.
type Upstream interface {
	AuthURL(ctx context.Context, state string, extra url.Values) (string, error)
	Exchange(ctx context.Context, code string) (*esia.Token, error)
	Person(ctx context.Context, tok *esia.Token) (*esia.Person, error)
}

// ParentUpstream is ESIA asked with the kid scopes, for parents proving
// parenthood; *esia.Config implements it.
type ParentUpstream interface {
	Upstream
	Kids(ctx context.Context, tok *esia.Token) ([]esia.Kid, error)
}

// Subjects computes pairwise subjects; *keyring.Subjects implements it.
type Subjects interface {
	Subject(tenantID, oid string) string
}

// TokenRevoker revokes the broker tokens a tenant holds for a person;
// *oauth.Provider implements it.
type TokenRevoker interface {
	RevokeSubject(ctx context.Context, tenantID, subject string) (int, error)
}

// Config wires the login.
type Config struct {
	// Events, when set, receives link.created and link.suspended for the
	// tenant's webhook.
	Events linking.LinkEvents
	// ParentESIA is ESIA with the kid scopes added (the parent's page).
	ParentESIA ParentUpstream
	// Tokens revokes a person's tokens when one of their links is
	// suspended at login.
	Tokens   TokenRevoker
	ESIA     Upstream
	Sessions sessions.Store
	Attempts store.Attempts
	// Values, when set, keeps the ESIA values matching used for each
	// diary login that found no record (not found, several, a conflict),
	// sealed with the attempt, for the support console's re-check (the
	// tenant's RetentionPolicy.RecheckDays). A login that links keeps none.
	Values   store.Rechecks
	Tenants  store.Tenants
	Roster   store.Roster
	Ladder   *linking.Ladder
	Subjects Subjects
	// Observe counts ESIA's errors on the callback, which no call of
	// *esia.Config sees, as the endpoint "ac" with ESIA's code as the
	// outcome ("error" for an error without a code, "no_code" for a
	// callback with neither). Nil means the Observe hook of ESIA when it is
	// an *esia.Config, so that they are counted beside its calls.
	Observe func(endpoint, code string, d time.Duration)
	// PendingTTL is how long a login may wait for ESIA (default 15 min).
	PendingTTL time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
}

// Service runs logins. Safe for concurrent use; it keeps no state of its
// own (pending logins live in Sessions), so any replica can finish a login
// another one began.
type Service struct {
	cfg Config
}

// New returns a login service.
func New(cfg Config) *Service {
	if cfg.PendingTTL == 0 {
		cfg.PendingTTL = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if c, ok := cfg.ESIA.(*esia.Config); ok && cfg.Observe == nil {
		cfg.Observe = c.Observe
	}
	return &Service{cfg: cfg}
}

// Pending is a login waiting for ESIA's answer.
type Pending struct {
	Ref       string                 `json:"ref"`
	Request   oauth.AuthorizeRequest `json:"request"`
	StartedAt time.Time              `json:"started_at"`
	// Purpose is "" for a diary's login, PurposeParent for the parent's page.
	Purpose string `json:"purpose,omitempty"`
	// Browser is the SHA-256 of the binding cookie's value (Binding): only
	// the browser that began the login finishes it.
	Browser string `json:"browser"`
}

// Started is a login sent to ESIA.
type Started struct {
	// URL is ESIA's authorization URL to send the person to.
	URL string
	// Ref is the attempt's reference code; it is set with an error too
	// when the attempt was recorded (ESIA known to be down).
	Ref string
	// Binding is the cookie the browser must carry back to the callback.
	Binding Binding
}

// PurposeParent marks a login for the parent's page (/parent).
const PurposeParent = "parent"

// ErrUnknownState means ESIA's callback carried a state the broker does
// not know (expired, already used, or forged). The diary is unknown, so
// only a page can be shown.
var ErrUnknownState = errors.New("login: unknown or expired login state")

func pendingKey(state string) string { return "login:" + state }

// maxState bounds the state the callback looks up: the broker's ESIA
// states are UUIDs (esia.NewState), anything longer is not one of them.
const maxState = 64

// keepPending stores a pending login under state, with its binding.
func (s *Service) keepPending(ctx context.Context, state string, p Pending) (Binding, error) {
	bind, hash, err := newBinding(state, s.cfg.PendingTTL)
	if err != nil {
		return Binding{}, fmt.Errorf("login: %w", err)
	}
	p.Browser = hash
	// Without HTML escaping, a parameter's worst case is two bytes a byte
	// (a quote), not six (\u003c): the stored login stays within a few KiB
	// (the limits of oauth.AuthorizeRequest's parameters).
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return Binding{}, fmt.Errorf("login: %w", err)
	}
	if err := s.cfg.Sessions.Put(ctx, pendingKey(state), bytes.TrimSpace(buf.Bytes()), s.cfg.PendingTTL); err != nil {
		return Binding{}, sessionsFailed("keep pending login", err)
	}
	return bind, nil
}

// Begin stores the validated diary request and returns the ESIA URL to
// send the person to, the attempt's reference code and the browser's
// binding cookie. extra is passed to ESIA as is (the dev server's
// simulator parameters).
//
// While ESIA is known to be down (ESIA implements Availability and says
// so), the person is not sent to ESIA's login page only to fail on the way
// back: Begin records the attempt as esia_unavailable and returns the
// reference code with an error matching esia.ErrUnavailable (see Explain).
func (s *Service) Begin(ctx context.Context, req *oauth.AuthorizeRequest, extra url.Values) (Started, error) {
	ref := NewRef()
	if up, ok := s.cfg.ESIA.(Availability); ok {
		if err := up.Available(); err != nil {
			reason, _ := Explain(err)
			detail := esiaDetail(reason, err)
			detail["role"], detail["scopes"] = req.Role, req.Scopes
			s.record(ctx, store.Attempt{Ref: ref, TenantID: req.TenantID, ClientID: req.ClientID, Outcome: reason, Reason: reason},
				"authorize", detail)
			return Started{Ref: ref}, fmt.Errorf("login: %w", err)
		}
	}
	state, err := esia.NewState()
	if err != nil {
		return Started{}, fmt.Errorf("login: %w", err)
	}
	bind, err := s.keepPending(ctx, state, Pending{Ref: ref, Request: *req, StartedAt: s.cfg.Now().UTC()})
	if err != nil {
		return s.notKept(ctx, store.Attempt{Ref: ref, TenantID: req.TenantID, ClientID: req.ClientID}, map[string]any{"role": req.Role}, err)
	}
	u, err := s.cfg.ESIA.AuthURL(ctx, state, extra)
	if err != nil {
		return Started{}, fmt.Errorf("login: esia url: %w", err)
	}
	s.record(ctx, store.Attempt{Ref: ref, TenantID: req.TenantID, ClientID: req.ClientID, Outcome: store.OutcomeInProgress},
		"authorize", map[string]any{"role": req.Role, "scopes": req.Scopes})
	return Started{URL: u, Ref: ref, Binding: bind}, nil
}

// Result is the end of a login: either Claims for the diary, or a Reason
// (one of the Reason constants) to send back with the reference code.
type Result struct {
	Pending Pending
	// Person is who logged in, as consent needs to know them.
	Person PersonInfo
	// Parent is set by a parent's login (PurposeParent).
	Parent *ParentLogin
	// Staff is set by a staff member's sign-in to the support console
	// (PurposeSupport).
	Staff  *StaffLogin `json:"-"`
	Claims *oauth.Claims
	// Options are set instead of Claims when the person has records of
	// several roles and the diary did not pass role: the role picker.
	Options  []RoleOption
	AuthTime time.Time
	Reason   string
	// Message is the Russian text for the person when Reason is set.
	Message Message
	// Tenant is the login's tenant as the callback read it (nil when it
	// did not), so that the consent step need not read it again.
	Tenant *store.Tenant `json:"-"`
	// ConsentID is the granted consent the consent step let the person in
	// on; with the link (Person.OID, Claims.PersonID) it is what the code
	// rests on (oauth.Basis). Kept while the login is paused.
	ConsentID string `json:"consent_id,omitempty"`
}

// Basis is what the login's code rests on: the person's link to the
// claims' record and the consent the consent step found; nil before that
// step (or for a login paused by an older release).
func (r *Result) Basis() *oauth.Basis {
	if r.ConsentID == "" || r.Person.OID == "" {
		return nil
	}
	return &oauth.Basis{ESIAOID: r.Person.OID, ConsentID: r.ConsentID, Ref: r.Pending.Ref}
}

// Callback finishes a login on ESIA's redirect (the query of
// /esia/callback); binding is the value of the browser's cookie named
// BindingName(state), "" when it has none. It returns ErrUnknownState when
// the state is not a pending login; any other failure is a Result with a
// Reason — a store that could not be used included
// (session_store_unavailable, database_unavailable; with a new reference
// code when the pending login itself was out of reach) — or an error the
// broker did not expect.
//
// A browser without the login's binding gets ReasonOtherBrowser, and the
// pending login is left as it was: the browser that began it can still
// finish it, and a callback URL passed to someone else finishes nothing.
func (s *Service) Callback(ctx context.Context, q url.Values, binding string) (*Result, error) {
	state := q.Get("state")
	if state == "" || len(state) > maxState {
		return nil, ErrUnknownState
	}
	p, err := s.pending(ctx, state, s.cfg.Sessions.Get)
	if err != nil {
		return s.pendingFailed(ctx, err)
	}
	if !p.boundTo(binding) {
		s.cfg.Logger.WarnContext(ctx, "esia callback in a browser that did not begin the login", "ref", p.Ref,
			"purpose", p.Purpose, "cookie", binding != "")
		return &Result{Pending: p, Reason: ReasonOtherBrowser, Message: otherBrowser}, nil
	}
	// Of two callbacks racing with the right cookie, one takes the login.
	if p, err = s.pending(ctx, state, s.cfg.Sessions.Take); err != nil {
		return s.pendingFailed(ctx, err)
	}
	res := &Result{Pending: p}
	a := store.Attempt{Ref: p.Ref, TenantID: p.Request.TenantID, ClientID: p.Request.ClientID}

	switch p.Purpose {
	case PurposeParent:
		return s.parentCallback(ctx, res, q)
	case PurposeSupport:
		return s.supportCallback(ctx, res, q)
	}
	tok, person, failed := s.esiaAccount(ctx, s.cfg.ESIA, res, &a, q)
	if failed != nil {
		return failed, nil
	}
	s.record(ctx, a, "esia", map[string]any{"level": tok.Identity.Level, "trusted": tok.Identity.Trusted,
		"amr": tok.Identity.AMR, "has_snils": person.SNILS != "", "documents": documentTypes(person)})

	tenant, err := s.cfg.Tenants.GetTenant(ctx, p.Request.TenantID)
	if err != nil {
		return s.storeFailed(ctx, res, a, "tenant", fmt.Errorf("login: tenant: %w", err))
	}
	res.Tenant = &tenant
	lp := linkingPerson(tok.Identity.OID, person)
	var match linking.Result
	manual := p.Request.LinkPersonID
	if manual != "" {
		match, err = s.cfg.Ladder.MatchRecord(ctx, tenant, lp, manual)
	} else {
		match, err = s.cfg.Ladder.Match(ctx, tenant, lp, "")
	}
	if err != nil {
		return s.storeFailed(ctx, res, a, "link", fmt.Errorf("login: %w", err))
	}
	detail := map[string]any{"outcome": match.Outcome, "rung": match.Rung, "reason": match.Reason,
		"role": p.Request.Role, "candidates": match.Candidates}
	if manual != "" {
		detail["manual_record"] = manual
	}
	if len(match.Suspended) > 0 {
		s.suspended(ctx, tenant.ID, tok.Identity.OID, match.Suspended, detail)
	}
	chosen := match.Records
	if role := store.Role(p.Request.Role); match.Outcome == linking.OutcomeLinked && role != "" {
		chosen = nil
		for _, r := range match.Records {
			if r.Role == role {
				chosen = append(chosen, r)
			}
		}
		if len(chosen) == 0 {
			match.Outcome, match.Reason = linking.OutcomeNotFound, linking.ReasonRole
			detail["outcome"], detail["reason"] = match.Outcome, match.Reason
		}
	}
	if match.Outcome != linking.OutcomeLinked {
		reason := string(match.Outcome) // not_found, ambiguous, conflict
		a.Outcome, a.Reason = reason, reason
		s.keepValues(ctx, a, lp)
		s.record(ctx, a, "link", detail)
		res.Reason, res.Message = reason, MessageFor(reason)
		return res, nil
	}
	if manual != "" {
		detail["manual_check"] = match.Rung
		match.Rung = linking.RungManual
	}
	created, err := s.cfg.Ladder.Link(ctx, tenant.ID, lp, match)
	if err != nil {
		return s.storeFailed(ctx, res, a, "link", fmt.Errorf("login: %w", err))
	}
	for _, l := range created {
		s.linkEvent(ctx, "link.created", l)
	}
	res.AuthTime = tok.Identity.AuthTime
	if res.AuthTime.IsZero() {
		res.AuthTime = s.cfg.Now()
	}
	res.Person = PersonInfo{OID: tok.Identity.OID, Name: fullName(person), BirthDate: person.BirthDate,
		Child: tok.Identity.Level == esia.LevelChild, Trusted: tok.Identity.Trusted || person.Trusted, SessionID: tok.Identity.SessionID}
	a.Outcome = "linked"
	if roles := distinctRoles(chosen); len(roles) > 1 {
		// Several roles and the diary did not say which: the person picks.
		for _, role := range roles {
			c, err := s.claims(ctx, tenant, tok.Identity, person, match.Records, firstOfRole(chosen, role))
			if err != nil {
				return s.storeFailed(ctx, res, a, "claims", err)
			}
			res.Options = append(res.Options, RoleOption{Role: string(role), Title: roleTitles[role], Claims: c})
		}
		a.Outcome = "role_choice"
		s.record(ctx, a, "link", detail)
		return res, nil
	}
	claims, err := s.claims(ctx, tenant, tok.Identity, person, match.Records, chosen[0])
	if err != nil {
		return s.storeFailed(ctx, res, a, "claims", err)
	}
	s.record(ctx, a, "link", detail)
	res.Claims = &claims
	return res, nil
}

// pending reads (get) or takes (Take) the pending login behind state.
func (s *Service) pending(ctx context.Context, state string, read func(context.Context, string) ([]byte, error)) (Pending, error) {
	b, err := read(ctx, pendingKey(state))
	if errors.Is(err, sessions.ErrNotFound) {
		return Pending{}, ErrUnknownState
	}
	if err != nil {
		return Pending{}, sessionsFailed("pending login", err)
	}
	var p Pending
	if err := json.Unmarshal(b, &p); err != nil {
		return Pending{}, fmt.Errorf("login: pending login: %w", err)
	}
	return p, nil
}

// RoleOption is one choice of the role picker.
type RoleOption struct {
	Role   string       `json:"role"`
	Title  string       `json:"title"`
	Claims oauth.Claims `json:"claims"`
}

// roleTitles name roles on the role picker.
var roleTitles = map[store.Role]string{
	store.RoleStudent: "Ученик", store.RoleParent: "Родитель", store.RoleTeacher: "Учитель", store.RoleStaff: "Сотрудник школы",
}

func distinctRoles(recs []store.Person) []store.Role {
	seen := map[store.Role]bool{}
	var out []store.Role
	for _, r := range recs {
		if !seen[r.Role] {
			seen[r.Role] = true
			out = append(out, r.Role)
		}
	}
	sort.Slice(out, func(i, j int) bool { return rolePriority[out[i]] < rolePriority[out[j]] })
	return out
}

func firstOfRole(recs []store.Person, role store.Role) store.Person {
	for _, r := range recs {
		if r.Role == role {
			return r
		}
	}
	return recs[0]
}

// Chose finishes a login paused at the role picker: the person picked role.
func (s *Service) Chose(ctx context.Context, res *Result, role string) (*oauth.Claims, error) {
	for _, o := range res.Options {
		if o.Role == role {
			c := o.Claims
			s.record(ctx, store.Attempt{Ref: res.Pending.Ref, Outcome: "linked"}, "role", map[string]any{"role": role})
			return &c, nil
		}
	}
	return nil, ErrNoSuchRole
}

// ErrNoSuchRole reports a role picker answer that was not offered.
var ErrNoSuchRole = errors.New("login: the chosen role was not offered")

// esiaAccount takes the first steps of every callback: ESIA's answer q is
// an error or a code, the code is exchanged at up for a token (a.ESIAOID is
// then the account's), and the token for the person. When a step fails it
// answers the finished result instead.
func (s *Service) esiaAccount(ctx context.Context, up Upstream, res *Result, a *store.Attempt, q url.Values) (*esia.Token, *esia.Person, *Result) {
	if q.Get("error") != "" || q.Get("code") == "" {
		return nil, nil, s.callbackError(ctx, res, *a, q)
	}
	tok, err := up.Exchange(ctx, q.Get("code"))
	if err != nil {
		return nil, nil, s.esiaFailure(ctx, res, *a, "esia_token", err)
	}
	a.ESIAOID = tok.Identity.OID
	person, err := up.Person(ctx, tok)
	if err != nil {
		return nil, nil, s.esiaFailure(ctx, res, *a, "esia_person", err)
	}
	return tok, person, nil
}

// callbackError records ESIA's error redirect to the callback, or a
// callback without a code, counts it (Config.Observe) and turns it into a
// Result.
func (s *Service) callbackError(ctx context.Context, res *Result, a store.Attempt, q url.Values) *Result {
	err := esia.ParseCallbackError(q)
	outcome := "no_code"
	var ee *esia.Error
	if errors.As(err, &ee) {
		outcome = ee.MetricCode() // a bounded label: the codes ESIA.md lists, else ESIA-other
	} else {
		err = &esia.Error{Description: "callback without a code"}
	}
	if s.cfg.Observe != nil {
		s.cfg.Observe("ac", outcome, 0)
	}
	return s.esiaFailure(ctx, res, a, "esia_callback", err)
}

// esiaFailure records an ESIA error and turns it into a Result.
func (s *Service) esiaFailure(ctx context.Context, res *Result, a store.Attempt, step string, err error) *Result {
	reason, msg := Explain(err)
	detail := esiaDetail(reason, err)
	a.Outcome, a.Reason = reason, reason
	s.record(ctx, a, step, detail)
	level := slog.LevelWarn
	if reason == ReasonESIATokenInvalid || reason == ReasonESIAMisconfigured {
		// A forged or tampered answer, or a setting to fix: not a passing
		// outage.
		level = slog.LevelError
	}
	s.cfg.Logger.Log(ctx, level, "esia step failed", "ref", a.Ref, "step", step, "reason", reason, "esia_code", detail["esia_code"])
	res.Reason, res.Message = reason, msg
	return res
}

// esiaDetail is what an attempt keeps of an ESIA error for support.
func esiaDetail(reason string, err error) map[string]any {
	detail := map[string]any{"reason": reason}
	var ee *esia.Error
	if errors.As(err, &ee) {
		detail["esia_code"], detail["esia_description"], detail["http_status"], detail["retryable"] =
			ee.Code, ee.Description, ee.HTTPStatus, ee.Retryable
	} else {
		detail["error"] = err.Error() // esia errors carry no personal data
	}
	return detail
}

// record appends an attempt event — at once, or under a journal when the
// request flushes it; a failure to record never fails a login.
func (s *Service) record(ctx context.Context, a store.Attempt, step string, detail map[string]any) {
	b, err := json.Marshal(detail)
	if err != nil {
		b = nil
	}
	ev := store.AttemptEvent{Step: step, At: s.cfg.Now().UTC(), Detail: b}
	if j := journalOf(ctx); j != nil {
		if j.keep(a, ev) {
			return // written with the request's other events (journal.go)
		}
		s.FlushJournal(ctx) // full, or flushed already: what it kept goes first
	}
	if err := s.cfg.Attempts.RecordAttempt(ctx, a, ev); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "recording login attempt failed", "ref", a.Ref, "step", step, "error", err)
	}
}

func documentTypes(p *esia.Person) []string {
	var out []string
	for _, d := range p.Documents {
		out = append(out, d.Type)
	}
	return out
}

// linkingPerson is the ESIA person as the ladder sees it.
func linkingPerson(oid string, p *esia.Person) linking.Person {
	lp := linking.Person{OID: oid, ETag: p.ETag, Identity: linking.Identity{
		Name:      linking.FullName{Last: p.LastName, First: p.FirstName, Patronymic: p.MiddleName},
		BirthDate: p.BirthDate,
		SNILS:     p.SNILS,
	}}
	for _, d := range p.Documents {
		switch linking.BirthCertType(d.Type) {
		case linking.BirthCertRF, linking.BirthCertForeign, linking.BirthCertOld:
			lp.BirthCerts = append(lp.BirthCerts, linking.BirthCert{Type: linking.BirthCertType(d.Type), Series: d.Series, Number: d.Number})
		}
	}
	return lp
}

// Issued records that the diary got its code: the last event of a
// successful attempt.
func (s *Service) Issued(ctx context.Context, res *Result) {
	s.record(ctx, store.Attempt{Ref: res.Pending.Ref, Outcome: "issued"}, "issued",
		map[string]any{"roles": res.Claims.Roles, "age_group": res.Claims.AgeGroup, "esia_trust": res.Claims.ESIATrust})
}

// CodeRefused notes in the attempt ref that the diary's exchange of the
// login's code was refused: the consent or the link the login rested on
// ended after the code was issued (oauth.Basis). The attempt's outcome
// becomes ReasonCodeRefused, so support sees why the diary got no tokens.
// It is noted once: the code may come back (golang.org/x/oauth2 sends a
// refused exchange twice when it probes the authentication style), and an
// attempt that is gone (retention) is not made anew.
func (s *Service) CodeRefused(ctx context.Context, ref string) {
	a, err := s.cfg.Attempts.GetAttempt(ctx, ref)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.cfg.Logger.ErrorContext(ctx, "reading login attempt failed", "ref", ref, "error", err)
		}
		return
	}
	if a.Outcome == ReasonCodeRefused {
		return
	}
	s.record(ctx, store.Attempt{Ref: ref, Outcome: ReasonCodeRefused, Reason: ReasonCodeRefused}, "failed",
		map[string]any{"why": ReasonCodeRefused})
}

// suspended revokes the person's tokens after links were suspended, and
// notes it in the attempt.
func (s *Service) suspended(ctx context.Context, tenantID, oid string, links []store.Link, detail map[string]any) {
	var list []map[string]string
	for _, l := range links {
		list = append(list, map[string]string{"record": l.ExternalID, "reason": l.Reason})
	}
	detail["suspended_links"] = list
	for _, l := range links {
		s.linkEvent(ctx, "link.suspended", l)
	}
	if s.cfg.Tokens == nil {
		return
	}
	n, err := s.cfg.Tokens.RevokeSubject(ctx, tenantID, s.cfg.Subjects.Subject(tenantID, oid))
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "revoking tokens of a suspended link failed", "error", err)
		return
	}
	detail["tokens_revoked"] = n
}

// PersonInfo is what the login learnt of the person from ESIA.
type PersonInfo struct {
	OID       string     `json:"oid"`
	Name      string     `json:"name"`
	BirthDate store.Date `json:"birth_date"`
	Child     bool       `json:"child"`   // an ESIA child account (KD)
	Trusted   bool       `json:"trusted"` // a confirmed account
	SessionID string     `json:"session_id"`
}

func fullName(p *esia.Person) string {
	n := p.LastName + " " + p.FirstName
	if p.MiddleName != "" {
		n += " " + p.MiddleName
	}
	return n
}

// RecordStep appends an event to an attempt, setting its outcome and
// reason when given (the server notes consent decisions with it).
func (s *Service) RecordStep(ctx context.Context, ref, step, outcome, reason string, detail map[string]any) {
	s.record(ctx, store.Attempt{Ref: ref, Outcome: outcome, Reason: reason}, step, detail)
}

// linkEvent reports a link change; a failure is logged, never fatal to
// the login (the link itself is stored).
func (s *Service) linkEvent(ctx context.Context, typ string, l store.Link) {
	if s.cfg.Events == nil {
		return
	}
	if err := s.cfg.Events.LinkEvent(ctx, typ, l); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "link event not written", "type", typ, "error", err)
	}
}
