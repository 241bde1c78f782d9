package memory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// cloneRecord copies r, so that the store keeps none of its caller's
// memory: a string cut from a larger buffer (a decoder's, as
// goccy/go-json's strings are) would keep the whole buffer alive as long
// as the record.
func cloneRecord(r store.OAuthRecord) store.OAuthRecord {
	r.Data = append([]byte(nil), r.Data...)
	r.Signature, r.RequestID, r.ClientID = strings.Clone(r.Signature), strings.Clone(r.RequestID), strings.Clone(r.ClientID)
	r.TenantID, r.Subject, r.Successor = strings.Clone(r.TenantID), strings.Clone(r.Subject), strings.Clone(r.Successor)
	return r
}

// ownKey is the map key to overwrite an entry under: the stored entry's
// own string when there is one. Assigning to an existing key of a Go map
// replaces the key with the one given, so writing under the caller's
// string would keep the caller's buffer alive after all.
func ownKey(stored, given string) string {
	if stored != "" {
		return stored
	}
	return strings.Clone(given)
}

// cloneOAuthGrant is cloneRecord for a grant.
func cloneOAuthGrant(g store.OAuthGrant) store.OAuthGrant {
	g.Data = append([]byte(nil), g.Data...)
	g.RequestID, g.ClientID, g.TenantID = strings.Clone(g.RequestID), strings.Clone(g.ClientID), strings.Clone(g.TenantID)
	g.Subject, g.Access, g.Refresh = strings.Clone(g.Subject), strings.Clone(g.Access), strings.Clone(g.Refresh)
	return g
}

// withGrant gives a record without data its grant's; the caller holds
// the lock.
func (s *Store) withGrant(r store.OAuthRecord) store.OAuthRecord {
	r.Data = append([]byte(nil), r.Data...) // the strings are the store's already
	if len(r.Data) > 0 {
		return r
	}
	r.Data = nil
	if g, ok := s.oauthGrants[r.RequestID]; ok {
		r.Data, r.FromGrant = append([]byte(nil), g.Data...), true
		if r.Subject == "" {
			r.Subject = g.Subject
		}
	}
	return r
}

// expireGrant revokes a grant: its expiry comes forward to now, and it
// is marked revoked (if it was not); the caller holds the lock.
func (s *Store) expireGrant(ctx context.Context, requestID string) {
	old, ok := s.oauthGrants[requestID]
	if !ok {
		return
	}
	g := old
	now := s.now().UTC().Truncate(time.Microsecond)
	if g.ExpiresAt.IsZero() || g.ExpiresAt.After(now) {
		g.ExpiresAt = now
	}
	if g.RevokedAt.IsZero() {
		g.RevokedAt = now
	}
	s.oauthGrants[old.RequestID] = g // the store's own key (ownKey)
	s.onUndo(ctx, func() { s.oauthGrants[old.RequestID] = old })
}

// putRecord stores r and indexes it by request; the caller holds the lock.
func (s *Store) putRecord(r store.OAuthRecord) {
	if s.oauth[r.Kind] == nil {
		s.oauth[r.Kind] = map[string]store.OAuthRecord{}
	}
	if old, ok := s.oauth[r.Kind][r.Signature]; ok && old.RequestID != r.RequestID {
		s.unindexRecord(old)
	}
	s.oauth[r.Kind][r.Signature] = r
	byReq := s.oauthByRequest[r.Kind]
	if byReq == nil {
		byReq = map[string]map[string]bool{}
		s.oauthByRequest[r.Kind] = byReq
	}
	if byReq[r.RequestID] == nil {
		byReq[r.RequestID] = map[string]bool{}
	}
	byReq[r.RequestID][r.Signature] = true
}

func (s *Store) unindexRecord(r store.OAuthRecord) {
	if sigs := s.oauthByRequest[r.Kind][r.RequestID]; sigs != nil {
		delete(sigs, r.Signature)
		if len(sigs) == 0 {
			delete(s.oauthByRequest[r.Kind], r.RequestID)
		}
	}
}

// removeRecord deletes a record and its index entry; the caller holds the lock.
func (s *Store) removeRecord(kind store.OAuthKind, sig string) {
	if r, ok := s.oauth[kind][sig]; ok {
		s.unindexRecord(r)
		delete(s.oauth[kind], sig)
	}
}

// requestRecords lists the signatures of a request's records of a kind.
func (s *Store) requestRecords(kind store.OAuthKind, requestID string) []string {
	sigs := make([]string, 0, len(s.oauthByRequest[kind][requestID]))
	for sig := range s.oauthByRequest[kind][requestID] {
		sigs = append(sigs, sig)
	}
	return sigs
}

// CreateOAuthRecord implements store.OAuthRecords.
func (s *Store) CreateOAuthRecord(ctx context.Context, r store.OAuthRecord) error {
	if err := store.ValidateOAuthRecord(r); err != nil {
		return err
	}
	if r.Kind == "" || r.Signature == "" {
		return fmt.Errorf("%w: oauth record needs a kind and a signature", store.ErrInvalid)
	}
	defer s.write(ctx)()
	if _, ok := s.oauth[r.Kind][r.Signature]; ok {
		return store.ErrAlreadyExists
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now().UTC()
	}
	s.putRecord(cloneRecord(r))
	s.onUndo(ctx, func() { s.removeRecord(r.Kind, r.Signature) })
	return nil
}

// GetOAuthGrant implements store.OAuthRecords.
func (s *Store) GetOAuthGrant(ctx context.Context, requestID string) (store.OAuthGrant, error) {
	if !store.ValidKeys(requestID) {
		return store.OAuthGrant{}, store.ErrNotFound
	}
	defer s.read(ctx)()
	g, ok := s.oauthGrants[requestID]
	if !ok {
		return store.OAuthGrant{}, store.ErrNotFound
	}
	g.Data = append([]byte(nil), g.Data...)
	return g, nil
}

// GetOAuthRecord implements store.OAuthRecords.
func (s *Store) GetOAuthRecord(ctx context.Context, kind store.OAuthKind, sig string) (store.OAuthRecord, error) {
	if !store.ValidKeys(sig) {
		return store.OAuthRecord{}, store.ErrNotFound
	}
	defer s.read(ctx)()
	r, ok := s.oauth[kind][sig]
	if !ok {
		return store.OAuthRecord{}, store.ErrNotFound
	}
	if !r.Active {
		return s.withGrant(r), store.ErrInactive
	}
	return s.withGrant(r), nil
}

// DeleteOAuthRecord implements store.OAuthRecords.
func (s *Store) DeleteOAuthRecord(ctx context.Context, kind store.OAuthKind, sig string) error {
	if !store.ValidKeys(sig) {
		return store.ErrNotFound
	}
	defer s.write(ctx)()
	old, ok := s.oauth[kind][sig]
	if !ok {
		return store.ErrNotFound
	}
	s.removeRecord(kind, sig)
	s.onUndo(ctx, func() { s.putRecord(old) })
	return nil
}

func (s *Store) setInactive(ctx context.Context, kind store.OAuthKind, sig string) {
	old := s.oauth[kind][sig]
	r := old
	r.Active = false
	k := ownKey(old.Signature, sig)
	s.oauth[kind][k] = r
	s.onUndo(ctx, func() { s.oauth[kind][k] = old })
}

// revoke deactivates a record and brings its expiry forward to now, so
// that the janitor removes it.
func (s *Store) revoke(ctx context.Context, kind store.OAuthKind, sig string) {
	old := s.oauth[kind][sig]
	r := old
	r.Active = false
	if now := s.now().UTC().Truncate(time.Microsecond); r.ExpiresAt.IsZero() || r.ExpiresAt.After(now) {
		r.ExpiresAt = now
	}
	k := ownKey(old.Signature, sig)
	s.oauth[kind][k] = r
	s.onUndo(ctx, func() { s.oauth[kind][k] = old })
}

// DeactivateOAuthRecord implements store.OAuthRecords.
func (s *Store) DeactivateOAuthRecord(ctx context.Context, kind store.OAuthKind, sig string) error {
	if !store.ValidKeys(sig) {
		return store.ErrNotFound
	}
	defer s.write(ctx)()
	r, ok := s.oauth[kind][sig]
	if !ok {
		return store.ErrNotFound
	}
	if !r.Active {
		return store.ErrInactive
	}
	s.setInactive(ctx, kind, sig)
	return nil
}

// DeactivateOAuthRequest implements store.OAuthRecords.
func (s *Store) DeactivateOAuthRequest(ctx context.Context, kind store.OAuthKind, requestID string) error {
	if !store.ValidKeys(requestID) {
		return nil
	}
	defer s.write(ctx)()
	for _, sig := range s.requestRecords(kind, requestID) {
		if s.oauth[kind][sig].Active {
			s.revoke(ctx, kind, sig)
		}
	}
	if kind == store.OAuthRefresh {
		s.expireGrant(ctx, requestID)
	}
	return nil
}

// RevokeOAuthSubject implements store.OAuthRecords.
func (s *Store) RevokeOAuthSubject(ctx context.Context, tenantID, subject string) (int, error) {
	if !store.ValidKeys(tenantID, subject) {
		return 0, nil
	}
	if subject == "" {
		return 0, nil
	}
	defer s.write(ctx)()
	n := 0
	// The grants' live refresh tokens first, as PostgreSQL counts them
	// (a grant revoked below through one of its rows is revoked already).
	now := s.now().UTC()
	for _, g := range s.oauthGrants {
		if g.TenantID == tenantID && g.Subject == subject && g.RevokedAt.IsZero() && g.Refresh != "" && g.RefreshExpiresAt.After(now) {
			n++
		}
	}
	// Codes in flight too, uncounted: they are not tokens yet.
	for sig, r := range s.oauth[store.OAuthCode] {
		if r.TenantID == tenantID && r.Subject == subject && r.Active {
			s.revoke(ctx, store.OAuthCode, sig)
		}
	}
	for _, kind := range []store.OAuthKind{store.OAuthAccess, store.OAuthRefresh} {
		for sig, r := range s.oauth[kind] {
			g, slim := s.oauthGrants[r.RequestID]
			slim = slim && r.Subject == "" && g.TenantID == tenantID && g.Subject == subject
			if (r.TenantID == tenantID && r.Subject == subject || slim) && r.Active {
				s.revoke(ctx, kind, sig)
				s.expireGrant(ctx, r.RequestID)
				n++
			}
		}
	}
	// A grant whose tokens have no row (self-contained access tokens, a
	// refresh token the grant keeps) is revoked all the same; its live
	// refresh token counts.
	for id, g := range s.oauthGrants {
		if g.TenantID == tenantID && g.Subject == subject && g.RevokedAt.IsZero() {
			s.expireGrant(ctx, id)
		}
	}
	return n, nil
}

// DeleteExpiredOAuth implements store.OAuthRecords.
func (s *Store) DeleteExpiredOAuth(ctx context.Context, before time.Time, limit int) (map[store.OAuthKind]int, error) {
	defer s.write(ctx)()
	n, out := 0, map[store.OAuthKind]int{}
	for kind, byKind := range s.oauth {
		for sig, r := range byKind {
			if limit > 0 && n >= limit {
				break
			}
			if !r.ExpiresAt.IsZero() && r.ExpiresAt.Before(before) {
				s.removeRecord(kind, sig)
				old := r
				s.onUndo(ctx, func() { s.putRecord(old) })
				n++
				out[kind]++
			}
		}
	}
	n = 0
	for id, g := range s.oauthGrants {
		if limit > 0 && n >= limit {
			break
		}
		if !g.ExpiresAt.IsZero() && g.ExpiresAt.Before(before) {
			delete(s.oauthGrants, id)
			old := g
			s.onUndo(ctx, func() { s.oauthGrants[old.RequestID] = old })
			n++
			out[store.OAuthGrantKind]++
		}
	}
	return out, nil
}

// GetOAuthRecordSet implements store.OAuthRecords.
func (s *Store) GetOAuthRecordSet(ctx context.Context, sig string, kinds []store.OAuthKind) (map[store.OAuthKind]store.OAuthRecord, error) {
	if !store.ValidKeys(sig) {
		return map[store.OAuthKind]store.OAuthRecord{}, nil
	}
	defer s.read(ctx)()
	out := map[store.OAuthKind]store.OAuthRecord{}
	for _, k := range kinds {
		if r, ok := s.oauth[k][sig]; ok {
			out[k] = s.withGrant(r)
		}
	}
	return out, nil
}

// holds reports whether a batch's requirement holds: the link active, the
// consent granted for its record and not past its term. The caller holds
// the store's lock, so neither changes until the batch is applied.
func (s *Store) holds(r store.OAuthRequirement) bool {
	l, ok := s.links[r.TenantID][r.ESIAOID][r.PersonID]
	if !ok || l.Status != store.LinkActive {
		return false
	}
	c, ok := s.consents[r.ConsentID]
	return ok && c.c.TenantID == r.TenantID && c.c.PersonID == r.PersonID && c.c.Status == store.ConsentGranted &&
		(c.c.ExpiresAt.IsZero() || c.c.ExpiresAt.After(s.now()))
}

// ApplyOAuth implements store.OAuthRecords under one write lock.
func (s *Store) ApplyOAuth(ctx context.Context, b store.OAuthBatch) error {
	if err := b.Validate(); err != nil {
		return err
	}
	for _, r := range b.Create {
		if r.Kind == "" || r.Signature == "" {
			return fmt.Errorf("%w: oauth record needs a kind and a signature", store.ErrInvalid)
		}
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if r := b.Require; r != nil && !s.holds(*r) {
			return store.ErrUnmet
		}
		if r := b.GrantRotation; r != nil {
			if err := s.rotateGrant(ctx, *r); err != nil {
				return err
			}
		}
		if g := b.Gate; g != nil {
			if err := s.DeactivateOAuthRecord(ctx, g.Kind, g.Signature); err != nil {
				return err
			}
			if rot := b.Rotation; rot != nil && rot.Remove {
				if err := s.DeleteOAuthRecord(ctx, g.Kind, g.Signature); err != nil {
					return err
				}
			} else if rot != nil {
				r := s.oauth[g.Kind][g.Signature]
				r.RotatedAt, r.Successor = rot.At.UTC().Truncate(time.Microsecond), strings.Clone(rot.Successor)
				s.oauth[g.Kind][ownKey(r.Signature, g.Signature)] = r // undone with the deactivation
			} else if r := s.oauth[g.Kind][g.Signature]; g.Kind == store.OAuthCode && b.Grant != nil && r.RequestID == b.Grant.RequestID {
				// A code exchanged with its grant reads the grant's data.
				r.Data = nil
				s.oauth[g.Kind][ownKey(r.Signature, g.Signature)] = r // undone with the deactivation
			}
		}
		if g := b.Grant; g != nil {
			if _, ok := s.oauthGrants[g.RequestID]; ok {
				return store.ErrAlreadyExists
			}
			ng := cloneOAuthGrant(*g)
			if ng.CreatedAt.IsZero() {
				ng.CreatedAt = s.now().UTC()
			}
			ng.CreatedAt, ng.ExpiresAt = ng.CreatedAt.UTC().Truncate(time.Microsecond), ng.ExpiresAt.UTC().Truncate(time.Microsecond)
			ng.RefreshAt, ng.RefreshExpiresAt = ng.RefreshAt.UTC().Truncate(time.Microsecond), ng.RefreshExpiresAt.UTC().Truncate(time.Microsecond)
			ng.RevokedAt = time.Time{}
			s.oauthGrants[ng.RequestID] = ng
			s.onUndo(ctx, func() { delete(s.oauthGrants, ng.RequestID) })
		}
		if ge := b.GrantExpiry; ge != nil {
			if old, ok := s.oauthGrants[ge.RequestID]; ok && old.RevokedAt.IsZero() && (old.ExpiresAt.Before(ge.At) || ge.Access != "") {
				g := old
				if old.ExpiresAt.Before(ge.At) {
					g.ExpiresAt = ge.At.UTC().Truncate(time.Microsecond)
				}
				if ge.Access != "" {
					g.Access = strings.Clone(ge.Access)
				}
				s.oauthGrants[old.RequestID] = g
				s.onUndo(ctx, func() { s.oauthGrants[old.RequestID] = old })
			}
		}
		for _, d := range b.Deactivate {
			if err := s.DeactivateOAuthRequest(ctx, d.Kind, d.RequestID); err != nil {
				return err
			}
		}
		for _, d := range b.DeleteRequests {
			for _, sig := range s.requestRecords(d.Kind, d.RequestID) {
				if err := s.DeleteOAuthRecord(ctx, d.Kind, sig); err != nil {
					return err
				}
			}
		}
		for _, d := range b.Delete {
			if err := s.DeleteOAuthRecord(ctx, d.Kind, d.Signature); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		for _, r := range b.Create {
			if err := s.CreateOAuthRecord(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// rotateGrant applies an OAuthGrantRotation (the semantics of
// PostgreSQL's grantRefreshRotation); the caller holds the lock.
func (s *Store) rotateGrant(ctx context.Context, r store.OAuthGrantRotation) error {
	old, ok := s.oauthGrants[r.RequestID]
	if !ok {
		return store.ErrNotFound
	}
	if old.Refresh != r.Presented || !old.RevokedAt.IsZero() {
		return store.ErrInactive
	}
	g := old
	g.Refresh = strings.Clone(r.Refresh)
	g.RefreshAt, g.RefreshExpiresAt = r.At.UTC().Truncate(time.Microsecond), r.RefreshExpiresAt.UTC().Truncate(time.Microsecond)
	if r.Access != "" {
		g.Access = strings.Clone(r.Access)
	}
	if !g.ExpiresAt.IsZero() && g.ExpiresAt.Before(r.LastExpiry) {
		at := r.ExpiresAt
		if at.Before(r.LastExpiry) {
			at = r.LastExpiry
		}
		g.ExpiresAt = at.UTC().Truncate(time.Microsecond)
	}
	s.oauthGrants[old.RequestID] = g
	s.onUndo(ctx, func() { s.oauthGrants[old.RequestID] = old })
	return nil
}
