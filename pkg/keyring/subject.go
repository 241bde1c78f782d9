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
	secret, err := Secret(ctx, keys, kek, store.KeySubject, now)
	if err != nil {
		return nil, err
	}
	return &Subjects{secret: secret}, nil
}

// Secret returns a 32-byte secret of a kind that is made once and shared by
// every replica (the pairwise-subject secret, the OAuth HMAC secret),
// creating it on first use.
func Secret(ctx context.Context, keys store.Keys, kek *KEK, kind store.KeyKind, now func() time.Time) ([]byte, error) {
	if now == nil {
		now = time.Now
	}
	if err := ensureKey(ctx, keys, kek, kind, "HS256", 32, now()); err != nil {
		return nil, err
	}
	list, err := keys.ListKeys(ctx, kind)
	if err != nil {
		return nil, fmt.Errorf("keyring: list %s keys: %w", kind, err)
	}
	// The oldest key wins so that a race at first start cannot split replicas.
	k := list[len(list)-1]
	secret, err := kek.Open(k.Sealed, keyAAD(k))
	if err != nil {
		return nil, fmt.Errorf("keyring: %s key: %w (is BROKER_KEK right?)", kind, err)
	}
	return secret, nil
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
