package keyring

import (
	"context"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// PII seals roster personal data (AES-256-GCM under data keys that are
// themselves sealed under the KEK) and computes blind indexes (HMAC-SHA256
// under a separate key). It implements store.Sealer and is safe for
// concurrent use; several replicas share its keys through the store.
type PII struct {
	keys store.Keys
	kek  *KEK
	now  func() time.Time

	mu       sync.RWMutex
	activeID string
	data     map[string]cipher.AEAD
	index    []byte
	loaded   time.Time // when the keys were read (now's clock)

	refreshMu sync.Mutex // one reload at a time when the keys are stale
}

var _ store.Sealer = (*PII)(nil)

// OpenPII loads the personal-data keys from keys, creating them on first
// use. now is the clock (nil: time.Now).
func OpenPII(ctx context.Context, keys store.Keys, kek *KEK, now func() time.Time) (*PII, error) {
	if now == nil {
		now = time.Now
	}
	p := &PII{keys: keys, kek: kek, now: now}
	if err := p.Reload(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

func keyAAD(k store.Key) []byte { return []byte("key\x00" + string(k.Kind) + "\x00" + k.ID) }

// newSecretKey makes a random secret of n bytes as a store.Key sealed under kek.
func newSecretKey(kek *KEK, kind store.KeyKind, alg string, n int, now time.Time) (store.Key, []byte, error) {
	secret := make([]byte, n)
	if _, err := rand.Read(secret); err != nil {
		return store.Key{}, nil, fmt.Errorf("keyring: %w", err)
	}
	k := store.Key{ID: newKeyID(now), Kind: kind, Algorithm: alg, CreatedAt: now.UTC().Truncate(time.Microsecond)}
	k.Sealed = kek.Seal(secret, keyAAD(k))
	return k, secret, nil
}

// ensureKey creates the first key of a kind unless one exists; a replica
// that loses the race to create it uses the winner's.
func ensureKey(ctx context.Context, keys store.Keys, kek *KEK, kind store.KeyKind, alg string, n int, now time.Time) error {
	list, err := keys.ListKeys(ctx, kind)
	if err != nil {
		return fmt.Errorf("keyring: list %s keys: %w", kind, err)
	}
	if len(list) > 0 {
		return nil
	}
	k, _, err := newSecretKey(kek, kind, alg, n, now)
	if err != nil {
		return err
	}
	if err := keys.CreateKey(ctx, k); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
		return fmt.Errorf("keyring: create %s key: %w", kind, err)
	}
	return nil
}

// Reload reads the keys again (after a rotation by another replica).
func (p *PII) Reload(ctx context.Context) error {
	for _, kind := range []store.KeyKind{store.KeyPII, store.KeyPIIIndex} {
		alg := "A256GCM"
		if kind == store.KeyPIIIndex {
			alg = "HS256"
		}
		if err := ensureKey(ctx, p.keys, p.kek, kind, alg, 32, p.now()); err != nil {
			return err
		}
	}
	dataKeys, err := p.keys.ListKeys(ctx, store.KeyPII)
	if err != nil {
		return fmt.Errorf("keyring: list pii keys: %w", err)
	}
	data := make(map[string]cipher.AEAD, len(dataKeys))
	active := ""
	for _, k := range dataKeys {
		secret, err := p.kek.Open(k.Sealed, keyAAD(k))
		if err != nil {
			return fmt.Errorf("keyring: pii key %s: %w (is BROKER_KEK right?)", k.ID, err)
		}
		aead, err := newGCM(secret)
		if err != nil {
			return err
		}
		data[k.ID] = aead
		if k.Active() {
			active = k.ID
		}
	}
	if active == "" {
		return errors.New("keyring: no active personal-data key")
	}
	indexKeys, err := p.keys.ListKeys(ctx, store.KeyPIIIndex)
	if err != nil {
		return fmt.Errorf("keyring: list index keys: %w", err)
	}
	var index []byte
	for _, k := range indexKeys {
		if k.Active() {
			if index, err = p.kek.Open(k.Sealed, keyAAD(k)); err != nil {
				return fmt.Errorf("keyring: index key %s: %w (is BROKER_KEK right?)", k.ID, err)
			}
		}
	}
	if index == nil {
		return errors.New("keyring: no active blind-index key")
	}
	p.mu.Lock()
	p.activeID, p.data, p.index, p.loaded = active, data, index, p.now()
	p.mu.Unlock()
	return nil
}

// Seal implements store.Sealer with the active data key. Keys read more
// than KeyRefresh ago are read again first, so that a key retired by
// another replica's rotation stops being used within KeyRefresh (see
// Reseal).
func (p *PII) Seal(plaintext, aad []byte) (string, []byte, error) {
	if err := p.refreshIfStale(); err != nil {
		return "", nil, err
	}
	p.mu.RLock()
	id, aead := p.activeID, p.data[p.activeID]
	p.mu.RUnlock()
	return id, seal(aead, plaintext, aad), nil
}

// Open implements store.Sealer. A key id this replica does not know yet
// (rotated by another replica) triggers one reload.
func (p *PII) Open(keyID string, ciphertext, aad []byte) ([]byte, error) {
	p.mu.RLock()
	aead, ok := p.data[keyID]
	p.mu.RUnlock()
	if !ok {
		if err := p.Reload(context.Background()); err != nil {
			return nil, err
		}
		p.mu.RLock()
		aead, ok = p.data[keyID]
		p.mu.RUnlock()
		if !ok {
			return nil, fmt.Errorf("keyring: unknown personal-data key %q", keyID)
		}
	}
	return open(aead, ciphertext, aad)
}

// Index returns the blind index of a normalised value: hex HMAC-SHA256
// under the index key, domain-separated by kind. "" stays "".
func (p *PII) Index(kind store.IndexKind, normalised string) string {
	if normalised == "" {
		return ""
	}
	p.mu.RLock()
	key := p.index
	p.mu.RUnlock()
	m := hmac.New(sha256.New, key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(normalised))
	return hex.EncodeToString(m.Sum(nil))
}

// Rotate makes a new active data key; records sealed under older keys stay
// readable until re-sealed. It returns the new key id.
func (p *PII) Rotate(ctx context.Context) (string, error) {
	k, _, err := newSecretKey(p.kek, store.KeyPII, "A256GCM", 32, p.now())
	if err != nil {
		return "", err
	}
	if err := p.keys.RotateKey(ctx, k, time.Time{}); err != nil {
		return "", fmt.Errorf("keyring: rotate pii key: %w", err)
	}
	return k.ID, p.Reload(ctx)
}

// ActiveKeyID returns the id of the data key new records are sealed with.
func (p *PII) ActiveKeyID() string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.activeID
}
