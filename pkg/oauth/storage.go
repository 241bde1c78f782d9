package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	fositestorage "github.com/ory/fosite/storage"

	"github.com/diarybroker/broker/pkg/store"
)

// Store is what the provider needs from the store.
type Store interface {
	store.Clients
	store.OAuthRecords
	store.Transactor
	// GetTenant gives a tenant's token settings (the refresh token reuse
	// interval).
	GetTenant(ctx context.Context, id string) (store.Tenant, error)
}

// storage adapts the store to the interfaces fosite's handlers assert at
// run time; the assertions below make the compiler check them instead.
type storage struct {
	st      Store
	clients *clientCache
	now     func() time.Time
	// lifespans fill in an expiry fosite left unset, so that the janitor
	// can remove every record eventually.
	codeTTL, refreshTTL time.Duration
	// cc opens client-credentials tokens, which have no record.
	cc *ccTokens
	// ag opens the access tokens of logins, which have no record either;
	// grants reads their grants (granttoken.go).
	ag     *agTokens
	grants *grantCache
	// rg opens refresh tokens that name their grant; successorOf gives
	// the row key of the refresh token a rotation of the presented one
	// issues (refreshtoken.go).
	rg          *rgTokens
	successorOf func(grant, presented string) string
	// accessTTL is the access token lifespan: a replayed rotation tells
	// the expiry of the access token it hands back from it.
	accessTTL time.Duration
	// codeSig turns a raw authorization code into its signature: OpenID
	// sessions, which fosite keys by the raw code, are stored under it.
	codeSig func(ctx context.Context, code string) string
}

var (
	_ fosite.ClientManager               = (*storage)(nil)
	_ oauth2.CoreStorage                 = (*storage)(nil)
	_ oauth2.TokenRevocationStorage      = (*storage)(nil)
	_ openid.OpenIDConnectRequestStorage = (*storage)(nil)
	_ pkce.PKCERequestStorage            = (*storage)(nil)
	_ fositestorage.Transactional        = (*storage)(nil)
)

// storedRequest is a fosite request as kept in a store.OAuthRecord.
type storedRequest struct {
	ID                string     `json:"id"`
	RequestedAt       time.Time  `json:"requested_at"`
	ClientID          string     `json:"client_id"`
	RequestedScope    []string   `json:"requested_scope,omitempty"`
	GrantedScope      []string   `json:"granted_scope,omitempty"`
	RequestedAudience []string   `json:"requested_audience,omitempty"`
	GrantedAudience   []string   `json:"granted_audience,omitempty"`
	Form              url.Values `json:"form,omitempty"`
	// Session is the request's fosite.Session, encoded and decoded in
	// the same pass as the rest (decode sets it to the session to fill).
	Session any `json:"session"`
	// Forms, in a code's record, are the forms of its PKCE and OpenID
	// sessions by kind (codeparts.go).
	Forms map[string]url.Values `json:"forms,omitempty"`
}

// codeReusedError is returned by InvalidateAuthorizeCodeSession when a
// concurrent exchange redeemed the code first. fosite turns it into a
// server error inside a transaction that is rolled back; the token handler
// finds it with errors.As, answers invalid_grant and revokes the grant's
// tokens outside that transaction.
type codeReusedError struct{ requestID string }

func (e *codeReusedError) Error() string { return "oauth: authorization code used twice" }

// refreshReusedError is the same for a refresh token rotated concurrently
// (past its reuse interval, or into another successor).
type refreshReusedError struct{ requestID string }

func (e *refreshReusedError) Error() string { return "oauth: refresh token used twice" }

// record is the record of a token or session of r, with its data.
func (s *storage) record(kind store.OAuthKind, sig string, r fosite.Requester, expires time.Time) (store.OAuthRecord, error) {
	rec := s.slimRecord(kind, sig, r, expires)
	data, err := encodeRequest(r)
	if err != nil {
		return store.OAuthRecord{}, err
	}
	rec.Data = data
	return rec, nil
}

// slimRecord is the record of a token of r without its data (which, for
// a login's tokens, its grant keeps).
func (s *storage) slimRecord(kind store.OAuthKind, sig string, r fosite.Requester, expires time.Time) store.OAuthRecord {
	rec := store.OAuthRecord{Kind: kind, Signature: sig, RequestID: r.GetID(), ClientID: r.GetClient().GetID(),
		Active: true, CreatedAt: s.now().UTC(), ExpiresAt: expires}
	if bs, ok := r.GetSession().(*Session); ok {
		rec.TenantID, rec.Subject = bs.TenantID, bs.Claims.Subject
	}
	if c, ok := r.GetClient().(*Client); ok && rec.TenantID == "" {
		rec.TenantID = c.TenantID
	}
	return rec
}

// encodeRequest serializes r as a storedRequest.
func encodeRequest(r fosite.Requester) ([]byte, error) { return encodeStored(r, r.GetRequestForm()) }

// encodeStored serializes r as a storedRequest with form as its form.
func encodeStored(r fosite.Requester, form url.Values) ([]byte, error) {
	data, err := marshalStored(storedRequest{
		ID: r.GetID(), RequestedAt: r.GetRequestedAt(), ClientID: r.GetClient().GetID(),
		RequestedScope: r.GetRequestedScopes(), GrantedScope: r.GetGrantedScopes(),
		RequestedAudience: r.GetRequestedAudience(), GrantedAudience: r.GetGrantedAudience(),
		Form: form, Session: sessionToStore(r),
	})
	if err != nil {
		return nil, fmt.Errorf("oauth: encode request: %w", err)
	}
	return data, nil
}

// sessionToStore is r's session as a stored request keeps it
// (Session.storedForm, storedsession.go).
func sessionToStore(r fosite.Requester) any {
	if bs, ok := r.GetSession().(*Session); ok {
		return bs.storedForm(r.GetGrantedScopes())
	}
	return r.GetSession()
}

func (s *storage) create(ctx context.Context, kind store.OAuthKind, sig string, r fosite.Requester, expires time.Time) error {
	return s.write(ctx, kind, sig, r, expires, false)
}

// write is create; grantOnly writes a token's grant (when the batch has
// none yet, or moves its expiry on) but no row of its own: a login's
// self-contained access token, or — in a transaction — a refresh token
// that names its grant, which the grant keeps (sig is then its row key).
func (s *storage) write(ctx context.Context, kind store.OAuthKind, sig string, r fosite.Requester, expires time.Time, grantOnly bool) error {
	access := ""
	if grantOnly && kind == store.OAuthAccess {
		if nonce, ok := mintedNonce(ctx, sig); ok {
			access = nonce // minted by this request: no need to open it
		} else {
			pl, err := s.ag.open(sig)
			if err != nil {
				return fmt.Errorf("oauth: store access token: %w", err)
			}
			access = pl.Nonce
		}
	}
	if p := pendingOf(ctx); p != nil && (kind == store.OAuthAccess || kind == store.OAuthRefresh) {
		// The session once per grant: the token's row is slim (no data),
		// the batch carries the grant, whose session flush encodes if
		// the grant is new.
		rec := s.slimRecord(kind, sig, r, expires)
		g := store.OAuthGrant{RequestID: rec.RequestID, ClientID: rec.ClientID, TenantID: rec.TenantID, Subject: rec.Subject,
			CreatedAt: rec.CreatedAt, ExpiresAt: expires}
		slim := rec
		slim.Subject = ""
		p.grantFrom(r)
		p.add(func(b *store.OAuthBatch) {
			if !grantOnly {
				b.Create = append(b.Create, slim)
			}
			if b.Grant == nil {
				b.Grant = &g
			} else if expires.After(b.Grant.ExpiresAt) {
				b.Grant.ExpiresAt = expires
			}
			switch {
			case grantOnly && kind == store.OAuthAccess:
				b.Grant.Access = access
			case grantOnly && kind == store.OAuthRefresh:
				b.Grant.Refresh, b.Grant.RefreshAt, b.Grant.RefreshExpiresAt = sig, rec.CreatedAt, expires
			}
		})
		return nil
	}
	p := pendingOf(ctx)
	if p != nil && (kind == store.OAuthPKCE || kind == store.OAuthOIDC) {
		// Into the code's record, when it is the code's request but for
		// its form (codeparts.go).
		if folded, err := p.fold(kind, sig, r); err != nil || folded {
			return err
		}
	}
	rec, err := s.record(kind, sig, r, expires)
	if err != nil {
		return err
	}
	if p != nil {
		if kind == store.OAuthCode {
			if err := p.noteCode(rec, r); err != nil {
				return err
			}
		}
		p.add(func(b *store.OAuthBatch) { b.Create = append(b.Create, rec) })
		if c := cacheOf(ctx); c != nil {
			c.put(kind, sig, rec, true)
		}
		return nil
	}
	if grantOnly {
		g := store.OAuthGrant{RequestID: rec.RequestID, ClientID: rec.ClientID, TenantID: rec.TenantID, Subject: rec.Subject,
			Data: rec.Data, CreatedAt: rec.CreatedAt, ExpiresAt: expires, Access: access}
		err := s.st.ApplyOAuth(ctx, store.OAuthBatch{Grant: &g})
		if errors.Is(err, store.ErrAlreadyExists) {
			err = s.st.ApplyOAuth(ctx, store.OAuthBatch{GrantExpiry: &store.OAuthGrantExpiry{RequestID: g.RequestID, At: expires, Access: access}})
		}
		s.grants.forget(g.RequestID)
		if err != nil {
			return fmt.Errorf("oauth: store grant: %w", err)
		}
		return nil
	}
	if err := s.st.CreateOAuthRecord(ctx, rec); err != nil {
		return fmt.Errorf("oauth: store %s: %w", kind, err)
	}
	return nil
}

// get loads a record and rebuilds the request. inactive is the fosite error
// for an inactive record, returned together with the request.
func (s *storage) get(ctx context.Context, kind store.OAuthKind, sig string, session fosite.Session, inactive error) (fosite.Requester, error) {
	rec, err := s.load(ctx, kind, sig)
	if errors.Is(err, store.ErrNotFound) && (kind == store.OAuthPKCE || kind == store.OAuthOIDC) {
		return s.foldedPart(ctx, kind, sig, session)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, fosite.ErrNotFound
	}
	if err != nil && !errors.Is(err, store.ErrInactive) {
		return nil, fmt.Errorf("oauth: load %s: %w", kind, err)
	}
	if len(rec.Data) == 0 {
		// A slim token whose grant the janitor removed.
		return nil, fosite.ErrNotFound
	}
	req, decErr := s.decodeRecord(ctx, rec, session)
	if decErr != nil {
		return nil, decErr
	}
	if errors.Is(err, store.ErrInactive) {
		return req, inactive
	}
	return req, nil
}

// codeKinds are kept under one signature and read together.
var codeKinds = []store.OAuthKind{store.OAuthCode, store.OAuthPKCE, store.OAuthOIDC}

// load reads a record, through the request's cache when there is one: a
// code exchange reads the code (twice), its PKCE and its OpenID session,
// which one query answers.
func (s *storage) load(ctx context.Context, kind store.OAuthKind, sig string) (store.OAuthRecord, error) {
	c := cacheOf(ctx)
	if c == nil {
		return s.st.GetOAuthRecord(ctx, kind, sig)
	}
	if rec, present, ok := c.get(kind, sig); ok {
		if !present {
			return store.OAuthRecord{}, store.ErrNotFound
		}
		if !rec.Active {
			return rec, store.ErrInactive
		}
		return rec, nil
	}
	kinds := []store.OAuthKind{kind}
	for _, k := range codeKinds {
		if k == kind {
			kinds = codeKinds
		}
	}
	set, err := s.st.GetOAuthRecordSet(ctx, sig, kinds)
	if err != nil {
		return store.OAuthRecord{}, fmt.Errorf("oauth: load %s: %w", kind, err)
	}
	for _, k := range kinds {
		r, ok := set[k]
		c.put(k, sig, r, ok)
	}
	rec, ok := set[kind]
	if !ok {
		return store.OAuthRecord{}, store.ErrNotFound
	}
	if !rec.Active {
		return rec, store.ErrInactive
	}
	return rec, nil
}

// decodeRecord rebuilds a record's request. A token that reads its
// grant's session gets its own expiry and issue time back: the grant's
// session holds those of the exchange that wrote it.
func (s *storage) decodeRecord(ctx context.Context, rec store.OAuthRecord, session fosite.Session) (fosite.Requester, error) {
	req, err := s.decode(ctx, rec.Data, session)
	if err != nil || !rec.FromGrant {
		return req, err
	}
	r := req.(*fosite.Request)
	switch rec.Kind {
	case store.OAuthAccess:
		r.Session.SetExpiresAt(fosite.AccessToken, rec.ExpiresAt)
	case store.OAuthRefresh:
		r.Session.SetExpiresAt(fosite.RefreshToken, rec.ExpiresAt)
	}
	if !rec.CreatedAt.IsZero() {
		r.RequestedAt = rec.CreatedAt
	}
	return r, nil
}

func (s *storage) decode(ctx context.Context, data []byte, session fosite.Session) (fosite.Requester, error) {
	req, _, err := s.decodeForms(ctx, data, session)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// decodeForms is decode, with the forms of a code's folded sessions.
// A nil session asks for a fresh one. On the token endpoint a code's
// record is decoded once (decodememo.go).
func (s *storage) decodeForms(ctx context.Context, data []byte, session fosite.Session) (*fosite.Request, map[string]url.Values, error) {
	c := cacheOf(ctx)
	if req, forms, ok := c.reuseDecoded(data, session); ok {
		return req, forms, nil
	}
	if session == nil {
		session = NewSession()
	}
	sr := storedRequest{Session: session}
	if err := unmarshalStored(data, &sr); err != nil {
		return nil, nil, fmt.Errorf("oauth: decode request: %w", err)
	}
	if bs, ok := session.(*Session); ok {
		bs.restoreExtra(sr.GrantedScope)
	}
	client, err := s.clients.get(ctx, sr.ClientID)
	if err != nil {
		return nil, nil, err
	}
	req := &fosite.Request{
		ID: sr.ID, RequestedAt: sr.RequestedAt, Client: client,
		RequestedScope: sr.RequestedScope, GrantedScope: sr.GrantedScope,
		RequestedAudience: sr.RequestedAudience, GrantedAudience: sr.GrantedAudience,
		Form: sr.Form, Session: session,
	}
	c.keepDecoded(data, req, sr.Forms)
	return req, sr.Forms, nil
}

func (s *storage) del(ctx context.Context, kind store.OAuthKind, sig string) error {
	if p := pendingOf(ctx); p != nil {
		p.add(func(b *store.OAuthBatch) { b.Delete = append(b.Delete, store.OAuthRef{Kind: kind, Signature: sig}) })
		return nil
	}
	err := s.st.DeleteOAuthRecord(ctx, kind, sig)
	if errors.Is(err, store.ErrNotFound) {
		return fosite.ErrNotFound
	}
	return err
}

func (s *storage) expiry(r fosite.Requester, kind fosite.TokenType, fallback time.Duration) time.Time {
	if t := r.GetSession().GetExpiresAt(kind); !t.IsZero() {
		return t
	}
	return s.now().UTC().Add(fallback)
}

// GetClient implements fosite.ClientManager.
func (s *storage) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.clients.get(ctx, id)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ClientAssertionJWTValid implements fosite.ClientManager. The broker does
// not accept JWT client assertions, so no JTI is ever known.
func (s *storage) ClientAssertionJWTValid(context.Context, string) error { return nil }

// SetClientAssertionJWT implements fosite.ClientManager.
func (s *storage) SetClientAssertionJWT(context.Context, string, time.Time) error {
	return fosite.ErrServerError.WithDebug("JWT client assertions are not supported")
}

// CreateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (s *storage) CreateAuthorizeCodeSession(ctx context.Context, sig string, r fosite.Requester) error {
	return s.create(ctx, store.OAuthCode, sig, r, s.expiry(r, fosite.AuthorizeCode, s.codeTTL))
}

// GetAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage; a used
// code comes back with the request and fosite.ErrInvalidatedAuthorizeCode,
// so that fosite revokes the tokens issued for it.
func (s *storage) GetAuthorizeCodeSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	return s.get(ctx, store.OAuthCode, sig, session, fosite.ErrInvalidatedAuthorizeCode)
}

// InvalidateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage,
// atomically: of two concurrent redemptions exactly one gets past here.
func (s *storage) InvalidateAuthorizeCodeSession(ctx context.Context, sig string) error {
	if p := pendingOf(ctx); p != nil {
		requestID := ""
		if rec, err := s.load(ctx, store.OAuthCode, sig); err == nil || errors.Is(err, store.ErrInactive) {
			requestID = rec.RequestID
		}
		p.gate(store.OAuthRef{Kind: store.OAuthCode, Signature: sig}, &codeReusedError{requestID: requestID})
		// The code's PKCE and OpenID sessions go with it: the rows of
		// those that have one (this request's cache knows; sessions
		// folded into the code's record have none).
		var rows []store.OAuthRef
		c := cacheOf(ctx)
		for _, kind := range []store.OAuthKind{store.OAuthPKCE, store.OAuthOIDC} {
			if c != nil {
				if _, present, known := c.get(kind, sig); known && !present {
					continue
				}
			}
			rows = append(rows, store.OAuthRef{Kind: kind, Signature: sig})
		}
		p.add(func(b *store.OAuthBatch) { b.Delete = append(b.Delete, rows...) })
		return nil
	}
	err := s.st.DeactivateOAuthRecord(ctx, store.OAuthCode, sig)
	if errors.Is(err, store.ErrInactive) {
		rec, _ := s.st.GetOAuthRecord(context.WithoutCancel(ctx), store.OAuthCode, sig)
		return &codeReusedError{requestID: rec.RequestID}
	}
	if errors.Is(err, store.ErrNotFound) {
		return fosite.ErrNotFound
	}
	return err
}

// CreateAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *storage) CreateAccessTokenSession(ctx context.Context, sig string, r fosite.Requester) error {
	if strings.HasPrefix(sig, ccSigPrefix) {
		return nil // a client-credentials token: nothing to keep
	}
	if strings.HasPrefix(sig, agSigPrefix) {
		// A login's token: only its grant is kept.
		return s.write(ctx, store.OAuthAccess, sig, r, s.expiry(r, fosite.AccessToken, time.Hour), true)
	}
	return s.create(ctx, store.OAuthAccess, sig, r, s.expiry(r, fosite.AccessToken, time.Hour))
}

// GetAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *storage) GetAccessTokenSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	if strings.HasPrefix(sig, ccSigPrefix) {
		return s.ccRequest(ctx, sig, session)
	}
	if strings.HasPrefix(sig, agSigPrefix) {
		return s.agRequest(ctx, sig, session)
	}
	return s.get(ctx, store.OAuthAccess, sig, session, fosite.ErrInactiveToken)
}

// DeleteAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *storage) DeleteAccessTokenSession(ctx context.Context, sig string) error {
	if strings.HasPrefix(sig, ccSigPrefix) || strings.HasPrefix(sig, agSigPrefix) {
		return nil
	}
	return s.del(ctx, store.OAuthAccess, sig)
}

// CreateRefreshTokenSession implements oauth2.RefreshTokenStorage. A
// token that names its grant is kept by its grant (its row key in
// store.OAuthGrant.Refresh), written in the batch of the code exchange or
// rotation: no row of its own. Outside a transaction it gets a row.
func (s *storage) CreateRefreshTokenSession(ctx context.Context, sig, _ string, r fosite.Requester) error {
	key, named, err := s.refreshRow(ctx, sig)
	if err != nil {
		return fmt.Errorf("oauth: store refresh token: %w", err)
	}
	held := named != nil && pendingOf(ctx) != nil
	return s.write(ctx, store.OAuthRefresh, key, r, s.expiry(r, fosite.RefreshToken, s.refreshTTL), held)
}

// GetRefreshTokenSession implements oauth2.RefreshTokenStorage; a rotated
// token comes back with fosite.ErrInactiveToken, which makes fosite revoke
// the whole grant (reuse detection, RFC 6819 §5.2.2.3) — unless, on the
// token endpoint (the request's cache), it is within its reuse interval
// (replayable): then it comes back as active, and the rotation that
// follows hands back the pair the first produced. Introspection and
// revocation see a rotated token as it is: inactive.
//
// A token that names its grant is read with its grant, in one query: it
// is live while the grant keeps its row key (grantRefresh). A token that
// names its grant keeps no row once rotated; on the token endpoint it is
// recognised as rotated all the same, elsewhere it is unknown. Only a
// grant that keeps none (written before grants kept them) sends the read
// on to the token's row.
func (s *storage) GetRefreshTokenSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	sig, named, kerr := s.refreshRow(ctx, sig)
	if kerr != nil {
		return nil, fosite.ErrNotFound // forged or garbled
	}
	c := cacheOf(ctx)
	var grant store.OAuthGrant
	if named != nil {
		g, err := s.st.GetOAuthGrant(ctx, named.Grant)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fosite.ErrNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("oauth: load grant: %w", err)
		}
		if g.Refresh != "" {
			return s.grantRefresh(ctx, c, named, sig, g, session)
		}
		grant = g
	}
	req, err := s.get(ctx, store.OAuthRefresh, sig, session, fosite.ErrInactiveToken)
	if errors.Is(err, fosite.ErrNotFound) && named != nil && c != nil {
		return s.rotatedRefresh(ctx, c, named.sig, grant, session)
	}
	if !errors.Is(err, fosite.ErrInactiveToken) || c == nil {
		return req, err
	}
	rec, lerr := s.load(ctx, store.OAuthRefresh, sig)
	if !errors.Is(lerr, store.ErrInactive) {
		return req, err
	}
	exp, ok, rerr := s.replayable(ctx, rec, rec.Successor)
	if rerr != nil {
		return nil, rerr
	}
	if !ok {
		return req, err
	}
	c.mu.Lock()
	c.replay = exp
	c.mu.Unlock()
	return req, nil
}

// replayable reports whether the rotated refresh token rec may be
// presented again, its rotation handing back the pair it produced: it was
// rotated (not revoked) into successor, no longer ago than its tenant's
// reuse interval, and the successor is still live — not rotated in
// turn, not revoked. It returns the expiry times of that pair.
func (s *storage) replayable(ctx context.Context, rec store.OAuthRecord, successor string) (map[fosite.TokenType]time.Time, bool, error) {
	if rec.Successor == "" || rec.Successor != successor || rec.RotatedAt.IsZero() {
		return nil, false, nil
	}
	interval, err := s.reuseInterval(ctx, rec.TenantID)
	if err != nil {
		return nil, false, err
	}
	if interval <= 0 || s.now().Sub(rec.RotatedAt) > interval {
		return nil, false, nil
	}
	exp, _, ok, err := s.liveSuccessor(ctx, nil, rec.RequestID, successor)
	return exp, ok, err
}

// reuseInterval is the tenant's refresh token reuse interval (0: off).
func (s *storage) reuseInterval(ctx context.Context, tenantID string) (time.Duration, error) {
	if tenantID == "" {
		return store.DefaultRefreshReuse, nil
	}
	t, err := s.st.GetTenant(ctx, tenantID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("oauth: tenant %s: %w", tenantID, err)
	}
	return t.Tokens.RefreshReuse(), nil
}

// DeleteRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (s *storage) DeleteRefreshTokenSession(ctx context.Context, sig string) error {
	key, _, err := s.refreshRow(ctx, sig)
	if err != nil {
		return fosite.ErrNotFound
	}
	return s.del(ctx, store.OAuthRefresh, key)
}

// RotateRefreshToken implements oauth2.RefreshTokenStorage: the presented
// refresh token becomes inactive (atomically; a concurrent rotation of the
// same token loses), noting when and into which successor, and the grant's
// access tokens are revoked. A rotation that loses to one that produced
// the same successor within the reuse interval — the same token presented
// twice — writes nothing and hands back that pair (flush); otherwise a
// rotated token used again revokes the whole grant.
//
// A token its grant keeps is rotated by one update of the grant, which
// keeps the successor (store.OAuthGrantRotation); a token with a row (one
// from before) is gated on its row — a token that names its grant loses
// it (store.OAuthRotation.Remove) — and its grant keeps the successor
// from then on (a grant written in the batch, when it had none).
func (s *storage) RotateRefreshToken(ctx context.Context, requestID, sig string) error {
	sig, named, err := s.refreshRow(ctx, sig)
	if err != nil {
		return fosite.ErrNotFound
	}
	if p := pendingOf(ctx); p != nil {
		if h := heldOf(ctx, sig); h != nil {
			// A token its grant keeps: the rotation is one update of the
			// grant, gated on its live token being this one (flush fills
			// in the successor).
			p.gateGrant(store.OAuthGrantRotation{RequestID: requestID, Presented: sig}, &refreshReusedError{requestID: requestID}, h.replay)
			return nil
		}
		p.gate(store.OAuthRef{Kind: store.OAuthRefresh, Signature: sig}, &refreshReusedError{requestID: requestID})
		// A token that names its grant leaves no row (flush fills in the
		// rest of the rotation).
		p.add(func(b *store.OAuthBatch) { b.Rotation = &store.OAuthRotation{Remove: named != nil} })
		if s.grantKept(ctx, sig) {
			// A grant's access tokens have no rows (granttoken.go): the
			// rotation's new nonce in the grant ends the old ones. The
			// grant keeps no refresh token yet (""): it keeps the
			// successor from now on.
			p.add(func(b *store.OAuthBatch) { b.GrantRotation = &store.OAuthGrantRotation{RequestID: requestID} })
			return nil
		}
		// A token from before grants were kept: the grant's old access
		// tokens go (an unknown access token is as invalid as an inactive
		// one, and keeping them would slow every later rotation).
		p.add(func(b *store.OAuthBatch) {
			b.DeleteRequests = append(b.DeleteRequests, store.OAuthRequestRef{Kind: store.OAuthAccess, RequestID: requestID})
		})
		return nil
	}
	if named != nil {
		err = s.st.ApplyOAuth(ctx, store.OAuthBatch{Gate: &store.OAuthRef{Kind: store.OAuthRefresh, Signature: sig},
			Rotation:       &store.OAuthRotation{At: s.now().UTC(), Remove: true},
			DeleteRequests: []store.OAuthRequestRef{{Kind: store.OAuthAccess, RequestID: requestID}}})
		if errors.Is(err, store.ErrInactive) || errors.Is(err, store.ErrNotFound) {
			return &refreshReusedError{requestID: requestID}
		}
		if err != nil {
			return fmt.Errorf("oauth: rotate refresh token: %w", err)
		}
		return nil
	}
	if err := s.st.DeactivateOAuthRecord(ctx, store.OAuthRefresh, sig); err != nil {
		if errors.Is(err, store.ErrInactive) {
			return &refreshReusedError{requestID: requestID}
		}
		return fmt.Errorf("oauth: rotate refresh token: %w", err)
	}
	return s.st.DeactivateOAuthRequest(ctx, store.OAuthAccess, requestID)
}

// RevokeRefreshToken implements oauth2.TokenRevocationStorage. It ends
// the grant (its expiry comes forward), and with it the grant's
// self-contained access tokens: at once on this replica, within
// GrantCacheTTL on the others.
func (s *storage) RevokeRefreshToken(ctx context.Context, requestID string) error {
	defer s.grants.forget(requestID)
	return s.deactivate(ctx, store.OAuthRefresh, requestID)
}

// RevokeAccessToken implements oauth2.TokenRevocationStorage. fosite
// revokes a grant's refresh tokens with its access tokens (RFC 7009 of
// either), which ends the grant; so does the broker's revocation of a
// reused code or refresh token (revokeGrant).
func (s *storage) RevokeAccessToken(ctx context.Context, requestID string) error {
	defer s.grants.forget(requestID)
	return s.deactivate(ctx, store.OAuthAccess, requestID)
}

func (s *storage) deactivate(ctx context.Context, kind store.OAuthKind, requestID string) error {
	if p := pendingOf(ctx); p != nil {
		p.add(func(b *store.OAuthBatch) {
			b.Deactivate = append(b.Deactivate, store.OAuthRequestRef{Kind: kind, RequestID: requestID})
		})
		return nil
	}
	return s.st.DeactivateOAuthRequest(ctx, kind, requestID)
}

// CreateOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
// fosite keys OpenID sessions by the raw code; they are stored under the
// code's signature, so that no raw code reaches the database.
func (s *storage) CreateOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) error {
	return s.create(ctx, store.OAuthOIDC, s.codeSig(ctx, code), r, s.expiry(r, fosite.AuthorizeCode, s.codeTTL))
}

// GetOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *storage) GetOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) (fosite.Requester, error) {
	req, err := s.get(ctx, store.OAuthOIDC, s.codeSig(ctx, code), nil, fosite.ErrNotFound) // a fresh session
	if errors.Is(err, fosite.ErrNotFound) {
		return nil, openid.ErrNoSessionFound
	}
	return req, err
}

// DeleteOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
// In a token request the session was deleted together with its code.
func (s *storage) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	if cacheOf(ctx) != nil {
		return nil
	}
	return s.del(ctx, store.OAuthOIDC, s.codeSig(ctx, code))
}

// GetPKCERequestSession implements pkce.PKCERequestStorage.
func (s *storage) GetPKCERequestSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	return s.get(ctx, store.OAuthPKCE, sig, session, fosite.ErrNotFound)
}

// CreatePKCERequestSession implements pkce.PKCERequestStorage.
func (s *storage) CreatePKCERequestSession(ctx context.Context, sig string, r fosite.Requester) error {
	return s.create(ctx, store.OAuthPKCE, sig, r, s.expiry(r, fosite.AuthorizeCode, s.codeTTL))
}

// DeletePKCERequestSession implements pkce.PKCERequestStorage.
// In a token request the session is deleted together with its code, in
// the same batch; an unredeemed one expires with it.
func (s *storage) DeletePKCERequestSession(ctx context.Context, sig string) error {
	if cacheOf(ctx) != nil {
		return nil
	}
	return s.del(ctx, store.OAuthPKCE, sig)
}

// BeginTX implements storage.Transactional. fosite's transactions on the
// token endpoint are write-only (redeem a code, rotate a refresh token), so
// the writes are collected and sent at Commit as one atomic batch: one
// round trip instead of BEGIN … COMMIT.
func (s *storage) BeginTX(ctx context.Context) (context.Context, error) {
	return withPending(ctx), nil
}

// Commit implements storage.Transactional.
func (s *storage) Commit(ctx context.Context) error {
	p := pendingOf(ctx)
	if p == nil {
		return errors.New("oauth: commit without a transaction")
	}
	return s.flush(ctx, p)
}

// flush applies the collected writes; a gate that fails becomes the typed
// error of its kind. A refresh token's rotation notes its successor, which
// the grant keeps from then on; when it finds the token rotated already
// into the same successor within the reuse interval, the pair this request
// carries is that rotation's, and nothing is written. So for a replay
// known as one when the token was read (heldRefresh.replay).
func (s *storage) flush(ctx context.Context, p *pending) error {
	b, grantReq, replay, gateErr := p.take()
	if replay {
		return nil
	}
	if r := b.GrantRotation; r != nil && b.Grant != nil {
		// A rotation: the grant is written already; its live refresh
		// token, access token and expiry move on.
		g := b.Grant
		if g.Refresh == "" {
			return errors.New("oauth: a rotation without a refresh token for its grant")
		}
		r.Refresh, r.At, r.RefreshExpiresAt, r.Access = g.Refresh, g.RefreshAt, g.RefreshExpiresAt, g.Access
		r.LastExpiry, r.ExpiresAt = g.ExpiresAt, g.ExpiresAt.Add(s.grantSlack())
		b.Grant = nil
	}
	var basis *Basis
	if b.Grant != nil && b.Grant.Data == nil {
		// A new grant: its session, encoded once. A code's exchange
		// requires what the login rested on to hold still (basis.go); the
		// grant does not keep it.
		sess, _ := grantReq.GetSession().(*Session)
		if sess != nil {
			basis, sess.Basis = sess.Basis, nil
		}
		data, err := encodeRequest(grantReq)
		if sess != nil {
			sess.Basis = basis
		}
		if err != nil {
			return err
		}
		b.Grant.Data = data
		if b.Gate != nil && b.Gate.Kind == store.OAuthCode && sess != nil {
			b.Require = basis.requirement(sess.TenantID, sess.Claims.PersonID)
		}
	}
	successor := ""
	if b.Grant != nil {
		defer s.grants.forget(b.Grant.RequestID)
		if b.Grant.Refresh != "" {
			successor = b.Grant.Refresh
			b.Grant.ExpiresAt = b.Grant.ExpiresAt.Add(s.grantSlack())
		}
	}
	if b.GrantRotation != nil {
		// The rotation's new access token ends the earlier ones: at once
		// on this replica.
		defer s.grants.forget(b.GrantRotation.RequestID)
		successor = b.GrantRotation.Refresh
	}
	if b.Gate != nil && b.Gate.Kind == store.OAuthRefresh {
		for _, r := range b.Create {
			if r.Kind == store.OAuthRefresh {
				successor = r.Signature
				break
			}
		}
		remove := b.Rotation != nil && b.Rotation.Remove
		b.Rotation = &store.OAuthRotation{At: s.now().UTC(), Successor: successor, Remove: remove}
	}
	ctx = context.WithoutCancel(ctx)
	err := s.st.ApplyOAuth(ctx, b)
	var reused *refreshReusedError
	switch {
	case err == nil:
		return nil
	case (errors.Is(err, store.ErrInactive) || errors.Is(err, store.ErrNotFound)) && errors.As(gateErr, &reused) && successor != "":
		// The presented token rotated since this request read it: the
		// same token presented twice at once (the pair this request
		// carries is that rotation's, handed back within the reuse
		// interval), or reuse.
		if ok, rerr := s.rotatedInto(ctx, reused.requestID, successor); rerr != nil {
			return rerr
		} else if ok {
			return nil
		}
		return gateErr
	case errors.Is(err, store.ErrUnmet):
		// Nothing was written, the code included: presented again it is
		// refused the same way while its basis does not hold (a client
		// that retries, as golang.org/x/oauth2 does when it probes the
		// authentication style, hears the same reason).
		be := basisEndedError{}
		if basis != nil {
			be.ref = basis.Ref
		}
		return be
	case errors.Is(err, store.ErrInactive) && gateErr != nil:
		return gateErr
	case errors.Is(err, store.ErrNotFound):
		return fosite.ErrNotFound
	}
	return fmt.Errorf("oauth: write tokens: %w", err)
}

// grantSlack is how much later than its last token a grant expires when a
// code exchange or rotation sets its expiry: a rotation moves the indexed
// expiry on only when its new tokens outlive it, once every tenth of the
// refresh token lifespan, so that the other rotations can update the
// grant's row in place (a HOT update in PostgreSQL). The tokens' own
// expiry times decide whether they are valid; the janitor removes the
// grant that much later.
func (s *storage) grantSlack() time.Duration { return s.refreshTTL / 10 }

// grantKept reports whether the refresh token a rotation presents reads
// its grant's session — so the grant is stored — rather than one of its
// own (a token issued before grants were kept, whose first rotation
// writes the grant).
func (s *storage) grantKept(ctx context.Context, sig string) bool {
	c := cacheOf(ctx)
	if c == nil {
		return false
	}
	rec, present, ok := c.get(store.OAuthRefresh, sig)
	return ok && present && rec.FromGrant
}

// Rollback implements storage.Transactional: nothing was written yet.
func (s *storage) Rollback(ctx context.Context) error {
	if p := pendingOf(ctx); p != nil {
		_, _, _, _ = p.take()
	}
	return nil
}
