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
	"slices"
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

// Algorithms are the ID token algorithms the broker signs with: ES256 (the
// default) and RS256, which OpenID Connect Discovery requires a provider to
// offer and many older relying parties expect. Each has its own active key,
// rotated and published like the other.
var Algorithms = []string{"ES256", "RS256"}

// Signing holds the ID-token signing keys: for each algorithm the active
// one signs, the retired ones stay published in the JWKS until the last
// token they signed has expired. Safe for concurrent use; it re-reads the
// store at most every RefreshEvery so that a rotation by another replica is
// picked up.
type Signing struct {
	keys      store.Keys
	kek       *KEK
	alg       string // the default algorithm
	now       func() time.Time
	refreshed time.Time

	mu        sync.RWMutex
	active    map[string]SigningKey // by algorithm
	published []store.Key
}

// RefreshEvery is how often Signing re-reads the keys from the store.
const RefreshEvery = time.Minute

// OpenSigning loads the signing keys, creating the first key of each
// algorithm when there is none; alg (ES256 or RS256, "" for ES256) is the
// default algorithm, for clients that do not choose one.
func OpenSigning(ctx context.Context, keys store.Keys, kek *KEK, alg string, now func() time.Time) (*Signing, error) {
	if now == nil {
		now = time.Now
	}
	if alg == "" {
		alg = "ES256"
	}
	if !slices.Contains(Algorithms, alg) {
		return nil, fmt.Errorf("keyring: signing algorithm %q not supported (ES256, RS256)", alg)
	}
	s := &Signing{keys: keys, kek: kek, alg: alg, now: now}
	list, err := keys.ListKeys(ctx, store.KeySigning)
	if err != nil {
		return nil, fmt.Errorf("keyring: list signing keys: %w", err)
	}
	for _, a := range Algorithms {
		if slices.ContainsFunc(list, func(k store.Key) bool { return k.Active() && k.Algorithm == a }) {
			continue
		}
		k, err := newSigningKey(kek, a, now())
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

// DefaultAlgorithm is the algorithm of clients that do not choose one.
func (s *Signing) DefaultAlgorithm() string { return s.alg }

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
	active := map[string]SigningKey{}
	var published []store.Key
	now := s.now()
	for _, k := range list {
		if _, seen := active[k.Algorithm]; k.Active() && !seen {
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
			active[k.Algorithm] = SigningKey{ID: k.ID, Algorithm: k.Algorithm, Private: signer}
		}
		if k.Active() || k.PublishUntil.After(now) {
			published = append(published, k)
		}
	}
	for _, a := range Algorithms {
		if _, ok := active[a]; !ok {
			return fmt.Errorf("keyring: no active %s signing key", a)
		}
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

// Active returns the key that signs new tokens of the default algorithm.
func (s *Signing) Active(ctx context.Context) (SigningKey, error) { return s.ActiveFor(ctx, "") }

// ActiveFor returns the key that signs new tokens of alg (ES256 or RS256;
// "" is the default algorithm).
func (s *Signing) ActiveFor(ctx context.Context, alg string) (SigningKey, error) {
	if alg == "" {
		alg = s.alg
	}
	if err := s.maybeReload(ctx); err != nil {
		return SigningKey{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.active[alg]
	if !ok {
		return SigningKey{}, fmt.Errorf("keyring: no %s signing key", alg)
	}
	return k, nil
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

// Rotate makes a new active signing key of every algorithm and returns
// their ids, the default algorithm's first. Each old key stays published
// until publishUntil, which must be after the expiry of the last token it
// signed (now + the longest ID token lifetime).
func (s *Signing) Rotate(ctx context.Context, publishUntil time.Time) ([]string, error) {
	algs := append([]string{s.alg}, slices.DeleteFunc(slices.Clone(Algorithms), func(a string) bool { return a == s.alg })...)
	var ids []string
	for _, a := range algs {
		k, err := newSigningKey(s.kek, a, s.now())
		if err != nil {
			return ids, err
		}
		if err := s.keys.RotateKey(ctx, k, publishUntil); err != nil {
			return ids, fmt.Errorf("keyring: rotate %s signing key: %w", a, err)
		}
		ids = append(ids, k.ID)
	}
	return ids, s.Reload(ctx)
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
