package keyring

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// Subjects computes the pairwise subject identifiers given to diaries: the
// same ESIA person gets a different, stable `sub` in every tenant, so that
// tenants cannot correlate people. The secret is created once and never
// rotated (rotation would change every subject).
type Subjects struct {
	secret []byte
}

// OpenSubjects loads (or creates on first use) the subject secret.
func OpenSubjects(ctx context.Context, keys store.Keys, kek *KEK, now func() time.Time) (*Subjects, error) {
	if now == nil {
		now = time.Now
	}
	if err := ensureKey(ctx, keys, kek, store.KeySubject, "HS256", 32, now()); err != nil {
		return nil, err
	}
	list, err := keys.ListKeys(ctx, store.KeySubject)
	if err != nil {
		return nil, fmt.Errorf("keyring: list subject keys: %w", err)
	}
	// The oldest key wins so that a race at first start cannot split subjects.
	k := list[len(list)-1]
	secret, err := kek.Open(k.Sealed, keyAAD(k))
	if err != nil {
		return nil, fmt.Errorf("keyring: subject key: %w (is BROKER_KEK right?)", err)
	}
	return &Subjects{secret: secret}, nil
}

var subjectEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Subject returns the pairwise subject of an ESIA person in a tenant.
func (s *Subjects) Subject(tenantID, oid string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(tenantID))
	m.Write([]byte{0})
	m.Write([]byte(oid))
	return strings.ToLower(subjectEncoding.EncodeToString(m.Sum(nil)[:20]))
}
