package store

import (
	"context"
	"time"
)

// OAuthKind names a kind of OAuth record.
type OAuthKind string

// OAuth record kinds kept for the downstream provider.
const (
	OAuthCode    OAuthKind = "code"
	OAuthAccess  OAuthKind = "access"
	OAuthRefresh OAuthKind = "refresh"
	OAuthPKCE    OAuthKind = "pkce"
	OAuthOIDC    OAuthKind = "oidc"
	// OAuthGrantKind counts grants (OAuthGrant) in DeleteExpiredOAuth's
	// report; no record has it.
	OAuthGrantKind OAuthKind = "grant"
)

// OAuthGrant is what every token of one grant shares — the serialized
// request with its session (claims, scopes), opaque to the store — kept
// once per grant, written at code exchange (OAuthBatch.Grant), instead of
// a copy in every token's record.
type OAuthGrant struct {
	RequestID string
	ClientID  string
	TenantID  string
	Subject   string
	Data      []byte
	CreatedAt time.Time
	// ExpiresAt is when its last token expires; a rotation moves it on
	// (OAuthBatch.GrantExpiry). The janitor removes the grant after it.
	ExpiresAt time.Time
	// Access names the grant's current self-contained access token (a
	// nonce the token carries): a rotation replaces it, which ends the
	// access tokens issued before. "" when its access tokens have rows.
	Access string
	// Refresh is the row key of the grant's live refresh token (an HMAC of
	// the token, as an OAuthRecord's signature would be): the grant keeps
	// it, and a rotation replaces it (OAuthGrantRotation), so a token
	// presented whose key is not this one was rotated. "" for a grant
	// whose refresh tokens have rows (written before grants kept them).
	Refresh string
	// RefreshAt is when the live refresh token was issued (a rotation's
	// time: the reuse interval is measured from it); RefreshExpiresAt is
	// when it expires — the token's own expiry, which decides whether it
	// is valid, while ExpiresAt may be later (a rotation moves it on only
	// now and then, OAuthGrantRotation).
	RefreshAt        time.Time
	RefreshExpiresAt time.Time
	// RevokedAt is when the grant was revoked (zero while it is not): its
	// tokens read as inactive, and no rotation of it succeeds.
	RevokedAt time.Time
}

// OAuthGrantRotation rotates the refresh token a grant keeps
// (OAuthGrant.Refresh): it succeeds only while the grant exists, is not
// revoked and its live refresh token is the presented one; otherwise the
// whole batch fails, with ErrNotFound when the grant is gone and
// ErrInactive when it was revoked or its live token is another (the
// presented one was rotated already: a replay or reuse).
type OAuthGrantRotation struct {
	RequestID string
	// Presented is the row key of the refresh token presented: the grant's
	// Refresh must be it. "" rotates a grant whose refresh tokens have rows
	// (the batch's Gate is the presented token's row) into keeping them.
	Presented string
	// Refresh, At and RefreshExpiresAt are the new live refresh token: its
	// row key, issue time and expiry (OAuthGrant.Refresh, RefreshAt,
	// RefreshExpiresAt).
	Refresh          string
	At               time.Time
	RefreshExpiresAt time.Time
	// Access, when set, names the grant's new access token (OAuthGrant.Access).
	Access string
	// LastExpiry is when the grant's last token now expires. Only when the
	// grant's ExpiresAt is earlier does it move on, to ExpiresAt (or to
	// LastExpiry when ExpiresAt is earlier than it): with some slack in
	// ExpiresAt most rotations leave the indexed expiry alone, so that
	// PostgreSQL can update the grant row in place (HOT).
	LastExpiry time.Time
	ExpiresAt  time.Time
}

// OAuthGrantExpiry moves a grant's expiry on to At, if later, and, when
// Access is set, names its new access token (OAuthGrant.Access).
type OAuthGrantExpiry struct {
	RequestID string
	At        time.Time
	Access    string
}

// OAuthRecord is an authorization code, token or request session of the
// downstream provider, keyed by its signature. Data is the serialized
// request, opaque to the store. A token created without Data and Subject
// (a slim row: signature, grant, kind, expiry, state) reads its grant's:
// Data and Subject are then the grant's and FromGrant is set; without a
// grant they are empty.
type OAuthRecord struct {
	Kind      OAuthKind
	Signature string
	RequestID string
	ClientID  string
	TenantID  string
	Subject   string // the pairwise subject given to the diary, "" for client tokens
	Active    bool
	Data      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	// RotatedAt and Successor are set on a refresh token when a rotation
	// deactivated it (OAuthBatch.Rotation): when, and the signature of the
	// refresh token that replaced it. A token revoked otherwise has none.
	RotatedAt time.Time
	Successor string
	// FromGrant reports that Data is the grant's (OAuthGrant), the record
	// having none of its own.
	FromGrant bool
}

// OAuthBatch is a set of OAuth writes applied atomically, in one round trip
// where the engine allows: the hot paths of the token endpoint (redeem a
// code, rotate a refresh token) are one batch each.
type OAuthBatch struct {
	// Gate, when set, is deactivated first; when it is not active the whole
	// batch fails with ErrInactive (or ErrNotFound) and nothing is written.
	// A code gated in the batch that writes its grant (Grant of the
	// code's request id: an exchange) keeps no data of its own from then
	// on and reads its grant's, as a slim token row does: its replay
	// needs the request id, and the used row stays small (issue 13).
	Gate *OAuthRef
	// Rotation, with Gate, records on the gated record that it was rotated
	// (OAuthRecord.RotatedAt, Successor).
	Rotation *OAuthRotation
	// Deactivate lists grants whose records of a kind become inactive.
	Deactivate []OAuthRequestRef
	// DeleteRequests lists grants whose records of a kind are removed (a
	// rotation removes the old access tokens: nothing needs them, and
	// keeping them would make every rotation slower than the last).
	DeleteRequests []OAuthRequestRef
	// Delete lists records to remove (missing ones are ignored).
	Delete []OAuthRef
	// Grant, when set, is inserted before Create (a code exchange: the
	// session its tokens share).
	Grant *OAuthGrant
	// GrantExpiry, when set, moves a grant's expiry on (a rotation).
	GrantExpiry *OAuthGrantExpiry
	// GrantRotation, when set, is applied first: it rotates the refresh
	// token the grant keeps, and fails the batch when the grant's live
	// token is not the presented one (OAuthGrantRotation).
	GrantRotation *OAuthGrantRotation
	// Create lists records to insert.
	Create []OAuthRecord
	// Require, when set, is checked before anything else: when the link or
	// the consent it names no longer holds, the batch fails with ErrUnmet
	// and nothing is written (the gate included). A code exchange carries
	// it: what the login's decision rested on must still hold when the
	// code becomes a grant.
	Require *OAuthRequirement
}

// OAuthRequirement is what a login's code rests on: the person's link to
// the diary record (active, not suspended) and the consent that let them
// in (still granted, and not past its term by the store's clock). PostgreSQL holds both rows (FOR SHARE) until the
// batch commits, so that a withdrawal, unlinking or suspension — which
// changes the row before it revokes the subject's codes and tokens —
// either finds the exchange's grant or makes the exchange fail: a code
// issued a moment before one of them, and written after its revocation,
// never becomes a grant.
type OAuthRequirement struct {
	TenantID  string
	ESIAOID   string // the link's person in ESIA
	PersonID  string // the link's diary record
	ConsentID string // the consent granted for PersonID
}

// OAuthRotation is a refresh token's rotation: when, and into which
// refresh token (its signature).
type OAuthRotation struct {
	At        time.Time
	Successor string
	// Remove deletes the gated record instead of keeping it as rotated: a
	// refresh token that names its grant is recognised as a rotated one
	// of that grant without a row (docs/oauth.md), so nothing is kept
	// and the table stays at its live size. The gate's semantics are the
	// same: a record that is gone or inactive fails the batch.
	Remove bool
}

// OAuthRef names one record.
type OAuthRef struct {
	Kind      OAuthKind
	Signature string
}

// OAuthRequestRef names the records of one kind made for one request.
type OAuthRequestRef struct {
	Kind      OAuthKind
	RequestID string
}

// Revokes reports whether the batch takes tokens away: it deactivates
// records (a revocation, a reused code or refresh token) or deletes them.
// A batch that only issues or rotates tokens (an authorization, an
// exchange, a rotation, which may drop the rotated grant's old access
// token rows) does not. A store that commits token writes
// asynchronously still commits a batch that revokes durably.
func (b OAuthBatch) Revokes() bool { return len(b.Deactivate) > 0 || len(b.Delete) > 0 }

// Empty reports whether the batch writes nothing.
func (b OAuthBatch) Empty() bool {
	return b.Gate == nil && len(b.Deactivate) == 0 && len(b.DeleteRequests) == 0 && len(b.Delete) == 0 && len(b.Create) == 0 &&
		b.Grant == nil && b.GrantExpiry == nil && b.GrantRotation == nil
}

// OAuthRecords stores the downstream provider's codes and tokens.
type OAuthRecords interface {
	// GetOAuthRecordSet returns the records of the given kinds that share
	// one signature (a code and its PKCE and OpenID sessions), inactive
	// ones included; absent kinds are absent from the map.
	GetOAuthRecordSet(ctx context.Context, signature string, kinds []OAuthKind) (map[OAuthKind]OAuthRecord, error)
	// ApplyOAuth applies a batch atomically.
	ApplyOAuth(ctx context.Context, b OAuthBatch) error
	CreateOAuthRecord(ctx context.Context, r OAuthRecord) error
	// GetOAuthGrant returns a grant (its session opened) by request id;
	// ErrNotFound when there is none. A revoked grant's ExpiresAt is no
	// later than the revocation: a grant lives while it has not expired.
	GetOAuthGrant(ctx context.Context, requestID string) (OAuthGrant, error)
	// GetOAuthRecord returns the record; an inactive record comes back
	// together with ErrInactive.
	GetOAuthRecord(ctx context.Context, kind OAuthKind, signature string) (OAuthRecord, error)
	DeleteOAuthRecord(ctx context.Context, kind OAuthKind, signature string) error
	// DeactivateOAuthRecord marks an active record inactive, atomically:
	// of two concurrent calls exactly one succeeds and the other gets
	// ErrInactive. A missing record is ErrNotFound.
	DeactivateOAuthRecord(ctx context.Context, kind OAuthKind, signature string) error
	// DeactivateOAuthRequest deactivates every record of a kind made for
	// one request (a grant's tokens). A revoked record expires then too
	// (its expiry becomes the store's now, if later), so that the janitor
	// removes it at its next run: nothing needs a revoked token, which is
	// as invalid unknown as inactive.
	DeactivateOAuthRequest(ctx context.Context, kind OAuthKind, requestID string) error
	// RevokeOAuthSubject deactivates every access and refresh token a
	// tenant's clients hold for a subject and returns how many — token
	// rows, and the unexpired refresh tokens grants kept (OAuthGrant.Refresh)
	// of grants it revoked; they expire then too, as with
	// DeactivateOAuthRequest, and the subject's grants are revoked. The
	// subject's unused authorization codes are deactivated as well (and
	// not counted), so that none issued before becomes a grant after; an
	// exchange that commits first has its grant revoked.
	RevokeOAuthSubject(ctx context.Context, tenantID, subject string) (int, error)
	// DeleteExpiredOAuth removes up to limit records that expired before
	// t — expired codes and tokens, used codes and rotated refresh tokens
	// past their expiry, revoked tokens — and up to limit grants that
	// expired before t, and returns how many of each kind (OAuthGrantKind
	// for grants; kinds with none are absent). Several callers may run it at
	// once: each record is removed by one of them.
	DeleteExpiredOAuth(ctx context.Context, before time.Time, limit int) (map[OAuthKind]int, error)
}

// ValidateOAuthRecord checks what every store requires of an OAuth record:
// a signature, and strings a store can keep (*FieldError otherwise).
func ValidateOAuthRecord(r OAuthRecord) error {
	if r.Signature == "" {
		return required("signature")
	}
	return check(
		CheckID("signature", r.Signature),
		CheckText("kind", string(r.Kind), MaxWordLength),
		CheckID("request_id", r.RequestID),
		CheckID("client_id", r.ClientID),
		CheckID("tenant_id", r.TenantID),
		CheckID("subject", r.Subject),
		CheckID("successor", r.Successor),
	)
}

// Validate checks what every store requires of a batch: records to create
// pass ValidateOAuthRecord and the other references name keys a record
// can have (*FieldError otherwise). A gate whose signature no record can
// have is ErrNotFound, as for any missing gate.
func (b OAuthBatch) Validate() error {
	if b.Gate != nil && !ValidKeys(b.Gate.Signature) {
		return ErrNotFound
	}
	if r := b.Require; r != nil && !ValidKeys(r.TenantID, r.ESIAOID, r.PersonID, r.ConsentID) {
		return ErrUnmet // no row has such keys: nothing it names holds
	}
	if b.Rotation != nil {
		if err := CheckID("successor", b.Rotation.Successor); err != nil {
			return err
		}
	}
	for _, r := range b.Create {
		if err := ValidateOAuthRecord(r); err != nil {
			return err
		}
	}
	if g := b.Grant; g != nil {
		if g.RequestID == "" {
			return required("request_id")
		}
		if err := check(CheckID("request_id", g.RequestID), CheckID("client_id", g.ClientID),
			CheckID("tenant_id", g.TenantID), CheckID("subject", g.Subject), CheckID("access", g.Access),
			CheckID("refresh", g.Refresh)); err != nil {
			return err
		}
	}
	if g := b.GrantRotation; g != nil {
		if g.RequestID == "" {
			return required("request_id")
		}
		if g.Refresh == "" {
			return required("refresh")
		}
		if err := check(CheckID("request_id", g.RequestID), CheckID("presented", g.Presented),
			CheckID("refresh", g.Refresh), CheckID("access", g.Access)); err != nil {
			return err
		}
	}
	if g := b.GrantExpiry; g != nil {
		if err := check(CheckID("request_id", g.RequestID), CheckID("access", g.Access)); err != nil {
			return err
		}
	}
	for _, r := range b.Delete {
		if err := CheckID("signature", r.Signature); err != nil {
			return err
		}
	}
	for _, list := range [][]OAuthRequestRef{b.Deactivate, b.DeleteRequests} {
		for _, r := range list {
			if err := CheckID("request_id", r.RequestID); err != nil {
				return err
			}
		}
	}
	return nil
}
