package esiasim

import "crypto/sha256"

// DefaultMaxGrants is how many codes, access tokens and refresh tokens —
// of each kind — the simulator keeps by default (Config.MaxGrants).
const DefaultMaxGrants = 10000

// grantKey is a token's SHA-256: the tokens are JWTs of a kilobyte or two,
// which the tables need not keep.
type grantKey [sha256.Size]byte

func keyOf(token string) grantKey { return sha256.Sum256([]byte(token)) }

// grantTable holds the grants of one kind, bounded: past max entries the
// oldest are forgotten, as if they had expired. A broker run in dev mode
// logs in many times (load tests: 100,000 logins and more), and keeping
// every grant until it expires (refresh tokens: 30 days) grows the
// process without bound. Not safe for concurrent use: the simulator's mu
// guards it.
type grantTable struct {
	m     map[grantKey]*grant
	order []grantKey // insertion order; may name keys removed since
	max   int
}

func newGrantTable(max int) *grantTable {
	if max <= 0 {
		max = DefaultMaxGrants
	}
	return &grantTable{m: map[grantKey]*grant{}, max: max}
}

func (t *grantTable) get(token string) *grant { return t.m[keyOf(token)] }

func (t *grantTable) del(token string) { delete(t.m, keyOf(token)) }

func (t *grantTable) len() int { return len(t.m) }

// put adds a grant, forgetting the oldest ones beyond max.
func (t *grantTable) put(token string, g *grant) {
	k := keyOf(token)
	t.m[k] = g
	t.order = append(t.order, k)
	i := 0
	for len(t.m) > t.max && i < len(t.order) {
		delete(t.m, t.order[i])
		i++
	}
	t.order = t.order[i:]
	// Keys removed otherwise (redeemed, expired) stay in order until
	// they reach its front; rebuild it when they are most of it.
	if len(t.order) > 2*len(t.m)+sweepEvery {
		live := make([]grantKey, 0, len(t.m))
		for _, k := range t.order {
			if _, ok := t.m[k]; ok {
				live = append(live, k)
			}
		}
		t.order = live
	}
}

// sweep forgets the grants for which expired is true.
func (t *grantTable) sweep(expired func(*grant) bool) {
	for k, g := range t.m {
		if expired(g) {
			delete(t.m, k)
		}
	}
}
