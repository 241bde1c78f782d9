package keyring

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/diarybroker/broker/pkg/store"
)

// SigningKey is a token-signing key ready to use.
type SigningKey struct {
	ID        string
	Algorithm string // ES256 or RS256
	Private   crypto.Signer
}

// Signing holds the ID-token signing keys: the active one signs, the
// retired ones stay published in the JWKS until the last token they signed
// has expired. Safe for concurrent use; it re-reads the store at most every
// RefreshEvery so that a rotation by another replica is picked up.
type Signing struct {
	keys      store.Keys
	kek       *KEK
	alg       string
	now       func() time.Time
	refreshed time.Time

	mu        sync.RWMutex
	active    SigningKey
	published []store.Key
}

// RefreshEvery is how often Signing re-reads the keys from the store.
const RefreshEvery = time.Minute

// OpenSigning loads the signing keys, creating the first one (alg ES256 or
// RS256) when there is none.
func OpenSigning(ctx context.Context, keys store.Keys, kek *KEK, alg string, now func() time.Time) (*Signing, error) {
	if now == nil {
		now = time.Now
	}
	if alg == "" {
		alg = "ES256"
	}
	if alg != "ES256" && alg != "RS256" {
		return nil, fmt.Errorf("keyring: signing algorithm %q not supported (ES256, RS256)", alg)
	}
	s := &Signing{keys: keys, kek: kek, alg: alg, now: now}
	list, err := keys.ListKeys(ctx, store.KeySigning)
	if err != nil {
		return nil, fmt.Errorf("keyring: list signing keys: %w", err)
	}
	if len(list) == 0 {
		k, err := newSigningKey(kek, alg, now())
		if err != nil {
			return nil, err
		}
		if err := keys.CreateKey(ctx, k); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return nil, fmt.Errorf("keyring: create signing key: %w", err)
		}
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func newSigningKey(kek *KEK, alg string, now time.Time) (store.Key, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return store.Key{}, fmt.Errorf("keyring: generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.Key{}, fmt.Errorf("keyring: marshal signing key: %w", err)
	}
	k := store.Key{ID: newKeyID(now), Kind: store.KeySigning, Algorithm: alg, CreatedAt: now.UTC().Truncate(time.Microsecond)}
	pub, err := publicJWK(priv.Public(), k.ID, alg)
	if err != nil {
		return store.Key{}, err
	}
	k.Public = pub
	k.Sealed = kek.Seal(der, keyAAD(k))
	return k, nil
}

func publicJWK(pub crypto.PublicKey, kid, alg string) ([]byte, error) {
	key, err := jwk.FromRaw(pub)
	if err != nil {
		return nil, fmt.Errorf("keyring: public jwk: %w", err)
	}
	_ = key.Set(jwk.KeyIDKey, kid)
	_ = key.Set(jwk.AlgorithmKey, jwa.SignatureAlgorithm(alg))
	_ = key.Set(jwk.KeyUsageKey, jwk.ForSignature)
	return json.Marshal(key)
}

// Reload reads the keys from the store.
func (s *Signing) Reload(ctx context.Context) error {
	list, err := s.keys.ListKeys(ctx, store.KeySigning)
	if err != nil {
		return fmt.Errorf("keyring: list signing keys: %w", err)
	}
	var active SigningKey
	var published []store.Key
	now := s.now()
	for _, k := range list {
		if k.Active() && active.Private == nil {
			der, err := s.kek.Open(k.Sealed, keyAAD(k))
			if err != nil {
				return fmt.Errorf("keyring: signing key %s: %w (is BROKER_KEK right?)", k.ID, err)
			}
			priv, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				return fmt.Errorf("keyring: signing key %s: %w", k.ID, err)
			}
			signer, ok := priv.(crypto.Signer)
			if !ok {
				return fmt.Errorf("keyring: signing key %s is not a signer", k.ID)
			}
			active = SigningKey{ID: k.ID, Algorithm: k.Algorithm, Private: signer}
		}
		if k.Active() || k.PublishUntil.After(now) {
			published = append(published, k)
		}
	}
	if active.Private == nil {
		return errors.New("keyring: no active signing key")
	}
	s.mu.Lock()
	s.active, s.published, s.refreshed = active, published, now
	s.mu.Unlock()
	return nil
}

func (s *Signing) maybeReload(ctx context.Context) error {
	s.mu.RLock()
	stale := s.now().Sub(s.refreshed) > RefreshEvery
	s.mu.RUnlock()
	if stale {
		return s.Reload(ctx)
	}
	return nil
}

// Active returns the key that signs new tokens.
func (s *Signing) Active(ctx context.Context) (SigningKey, error) {
	if err := s.maybeReload(ctx); err != nil {
		return SigningKey{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.active, nil
}

// PublicSet returns the JWKS: the active key and every retired key still
// within its publication period.
func (s *Signing) PublicSet(ctx context.Context) (jwk.Set, error) {
	if err := s.maybeReload(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	published := s.published
	s.mu.RUnlock()
	set := jwk.NewSet()
	for _, k := range published {
		key, err := jwk.ParseKey(k.Public)
		if err != nil {
			return nil, fmt.Errorf("keyring: public key %s: %w", k.ID, err)
		}
		if err := set.AddKey(key); err != nil {
			return nil, fmt.Errorf("keyring: public key %s: %w", k.ID, err)
		}
	}
	return set, nil
}

// Rotate makes a new active signing key. The old one stays published
// until publishUntil, which must be after the expiry of the last token it
// signed (now + the longest ID token lifetime).
func (s *Signing) Rotate(ctx context.Context, publishUntil time.Time) (string, error) {
	k, err := newSigningKey(s.kek, s.alg, s.now())
	if err != nil {
		return "", err
	}
	if err := s.keys.RotateKey(ctx, k, publishUntil); err != nil {
		return "", fmt.Errorf("keyring: rotate signing key: %w", err)
	}
	return k.ID, s.Reload(ctx)
}

// Prune deletes retired signing keys whose publication period is over.
func (s *Signing) Prune(ctx context.Context) (int, error) {
	list, err := s.keys.ListKeys(ctx, store.KeySigning)
	if err != nil {
		return 0, fmt.Errorf("keyring: list signing keys: %w", err)
	}
	n := 0
	for _, k := range list {
		if !k.Active() && !k.PublishUntil.After(s.now()) {
			if err := s.keys.DeleteKey(ctx, k.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return n, fmt.Errorf("keyring: prune %s: %w", k.ID, err)
			}
			n++
		}
	}
	return n, s.Reload(ctx)
}
