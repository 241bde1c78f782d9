package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/diarybroker/broker/pkg/store"
)

// Refresh tokens name their grant (issue 13): the token carries the
// grant's request id and 32 bytes of key under an HMAC of the broker's. A
// rotation deletes the presented token's row in the batch that writes its
// successor — no rotated row is kept, so the table stays at its live
// size — and reuse detection (RFC 6819 §5.2.2.3) needs no row: a token
// whose MAC holds, whose row is gone and whose grant lives was rotated
// (a grant outlives a token of its own only through a rotation), and its
// presentation revokes the grant as before. Within the tenant's reuse
// interval a rotated token is handed back the pair its rotation produced:
// the successor is derived from the presented token (successor.go), so
// its row, written at the rotation (its created_at is the rotation's
// time), says whether that pair is still the grant's live one.
//
// Format: "ory_rg_" + base64url(payload) + "." + base64url(HMAC-SHA512/256
// of the payload under rgLabel's key). fosite's storage calls receive it as
// its "signature" rgSigPrefix + the part after the prefix; the row is keyed
// by rgTokens.key of it, an HMAC the database cannot turn back into the
// token. Refresh tokens issued before (fosite's ory_rt_) keep working and
// rotate into this format; their rotated rows are kept as before, until
// their expiry, since they cannot be recognised without one.
const (
	rgPrefix    = "ory_rg_"
	rgSigPrefix = "rg."
	rgLabel     = "diarybroker grant refresh token v1"
)

// rgPayload is what a refresh token says: its grant and its key (random
// at a code exchange, derived from the presented token at a rotation).
// No personal data.
type rgPayload struct {
	Grant string `json:"g"`
	Key   string `json:"k"`
}

// rgTokens mints and opens refresh tokens that name their grant.
type rgTokens struct {
	mac     *ccTokens
	signKey []byte // the row key's HMAC key: fosite's (the global secret)
}

func newRGTokens(hmacSecret []byte) *rgTokens {
	m := hmac.New(sha256.New, hmacSecret)
	m.Write([]byte(rgLabel))
	return &rgTokens{mac: &ccTokens{key: m.Sum(nil)}, signKey: append([]byte(nil), hmacSecret[:32]...)}
}

// mint returns the refresh token of grant with key, and its signature as
// fosite's storage sees it.
func (t *rgTokens) mint(grant string, key []byte) (token, signature string, err error) {
	if grant == "" {
		return "", "", errors.New("oauth: a refresh token needs its grant's request id")
	}
	raw, err := json.Marshal(rgPayload{Grant: grant, Key: b64.EncodeToString(key)})
	if err != nil {
		return "", "", fmt.Errorf("oauth: encode refresh token: %w", err)
	}
	body := b64.EncodeToString(raw)
	body += "." + t.mac.mac(body)
	return rgPrefix + body, rgSigPrefix + body, nil
}

var errBadRGToken = errors.New("oauth: malformed or forged refresh token")

// open checks a signature (rgSigPrefix + payload + "." + MAC) and returns
// the payload.
func (t *rgTokens) open(signature string) (rgPayload, error) {
	body, mac, ok := strings.Cut(strings.TrimPrefix(signature, rgSigPrefix), ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(t.mac.mac(body))) {
		return rgPayload{}, errBadRGToken
	}
	raw, err := b64.DecodeString(body)
	if err != nil {
		return rgPayload{}, errBadRGToken
	}
	var p rgPayload
	if err := json.Unmarshal(raw, &p); err != nil || p.Grant == "" || p.Key == "" {
		return rgPayload{}, errBadRGToken
	}
	return p, nil
}

// key is the row key of a signature: HMAC-SHA512/256 of the token under
// fosite's key, as long as fosite's own signatures, so a row is no larger.
func (t *rgTokens) key(signature string) string {
	m := hmac.New(sha512.New512_256, t.signKey)
	m.Write([]byte(strings.TrimPrefix(signature, rgSigPrefix)))
	return b64.EncodeToString(m.Sum(nil))
}

// newRefreshKey is a code exchange's refresh token key.
func newRefreshKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail (Go 1.24)
	return b
}

// refreshRow maps the signature fosite hands the storage to the row key
// and, for a token that names its grant, what it says (nil otherwise). A
// forged or garbled token of the format is errBadRGToken.
func (s *storage) refreshRow(sig string) (string, *namedRefresh, error) {
	if !strings.HasPrefix(sig, rgSigPrefix) {
		return sig, nil, nil
	}
	p, err := s.rg.open(sig)
	if err != nil {
		return "", nil, err
	}
	return s.rg.key(sig), &namedRefresh{rgPayload: p, sig: sig}, nil
}

// namedRefresh is a refresh token that names its grant: its payload and
// its signature as fosite's storage sees it.
type namedRefresh struct {
	rgPayload
	sig string
}

// rotatedRefresh answers for a token that names its grant, whose MAC
// holds but whose row is gone, presented at the token endpoint: it was
// rotated. The grant's request comes back with fosite.ErrInactiveToken
// (fosite revokes the grant: reuse) — or, within the tenant's reuse
// interval while the pair its rotation produced is the grant's live one,
// with no error, the request's cache holding that pair's expiry times
// (replay). A grant that is gone or over is fosite.ErrNotFound: there is
// nothing left to revoke.
func (s *storage) rotatedRefresh(ctx context.Context, c *requestCache, sig string, p *rgPayload, session fosite.Session) (fosite.Requester, error) {
	g, err := s.st.GetOAuthGrant(ctx, p.Grant)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fosite.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("oauth: load grant: %w", err)
	}
	if !g.ExpiresAt.IsZero() && !g.ExpiresAt.After(s.now()) {
		return nil, fosite.ErrNotFound
	}
	req, err := s.decode(ctx, g.Data, session)
	if err != nil {
		return nil, err
	}
	presented := rgPrefix + strings.TrimPrefix(sig, rgSigPrefix)
	succ, ok, err := s.replayableSuccessor(ctx, g.TenantID, p.Grant, s.successorOf(p.Grant, presented))
	if err != nil {
		return nil, err
	}
	if !ok {
		return req, fosite.ErrInactiveToken
	}
	// The presented token's own expiry is unknown without its row; its
	// successor's is later, and the token was rotated moments ago.
	req.GetSession().SetExpiresAt(fosite.RefreshToken, succ.ExpiresAt)
	c.mu.Lock()
	c.replay = map[fosite.TokenType]time.Time{
		fosite.RefreshToken: succ.ExpiresAt,
		fosite.AccessToken:  succ.ExpiresAt.Add(s.accessTTL - s.refreshTTL),
	}
	c.mu.Unlock()
	return req, nil
}

// replayableSuccessor reports whether the successor (its row key) of a
// rotated token that names its grant may be handed back: it is active,
// of the grant, and was written — the rotation happened — no longer ago
// than the tenant's reuse interval. It returns the successor's record.
func (s *storage) replayableSuccessor(ctx context.Context, tenantID, grant, successor string) (store.OAuthRecord, bool, error) {
	if successor == "" {
		return store.OAuthRecord{}, false, nil
	}
	interval, err := s.reuseInterval(ctx, tenantID)
	if err != nil || interval <= 0 {
		return store.OAuthRecord{}, false, err
	}
	succ, ok, err := s.activeSuccessor(ctx, successor)
	if !ok || succ.RequestID != grant || s.now().Sub(succ.CreatedAt) > interval {
		return store.OAuthRecord{}, false, err
	}
	return succ, true, nil
}

// activeSuccessor loads the refresh token row a rotation wrote (its key):
// false, without an error, when it is gone or no longer active — rotated
// in turn or revoked.
func (s *storage) activeSuccessor(ctx context.Context, successor string) (store.OAuthRecord, bool, error) {
	succ, err := s.st.GetOAuthRecord(ctx, store.OAuthRefresh, successor)
	switch {
	case errors.Is(err, store.ErrInactive), errors.Is(err, store.ErrNotFound):
		return store.OAuthRecord{}, false, nil
	case err != nil:
		return store.OAuthRecord{}, false, fmt.Errorf("oauth: load successor: %w", err)
	}
	return succ, true, nil
}
