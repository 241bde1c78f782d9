package esiasim

import (
	"time"

	"github.com/google/uuid"
)

// authRequest is a validated authorization request.
type authRequest struct {
	protocol    protocol
	client      *client
	redirectURI string
	scope       string // as sent (and signed)
	scopes      []string
	state       string
	accessType  string
	created     time.Time
	// codeChallenge is the PKCE S256 challenge, "" when none was sent.
	codeChallenge string
	// tokenError is an ESIA code the code's exchange answers with
	// (sim_token_error or the person's sim.tokenError).
	tokenError string
}

// grant is what a code, a refresh token or an access token stands for.
type grant struct {
	req      authRequest
	person   *Person
	sid      string
	authTime time.Time
	expires  time.Time
	used     bool // codes only
}

// sweepEvery is how many insertions pass between sweeps of expired entries.
const sweepEvery = 256

func (s *Simulator) remember(t *grantTable, key string, g *grant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.put(key, g)
	if t.len()%sweepEvery == 0 {
		s.sweepLocked()
	}
}

func (s *Simulator) sweepLocked() {
	now := s.now()
	for _, t := range []*grantTable{s.codes, s.refresh, s.access} {
		t.sweep(func(g *grant) bool { return now.After(g.expires) })
	}
	for k, r := range s.logins {
		if now.Sub(r.created) > loginLifetime {
			delete(s.logins, k)
		}
	}
}

// newLogin stores a request awaiting the person's choice on the login page.
func (s *Simulator) newLogin(req *authRequest) string {
	id := uuid.NewString()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logins[id] = req
	if len(s.logins)%sweepEvery == 0 {
		s.sweepLocked()
	}
	return id
}

// takeLogin returns and forgets a pending login page request.
func (s *Simulator) takeLogin(id string) *authRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := s.logins[id]
	delete(s.logins, id)
	if req == nil || s.now().Sub(req.created) > loginLifetime {
		return nil
	}
	return req
}

// redeemCode marks a code used and returns its grant; nil if the code is
// unknown, used, expired (older than CodeLifetime) or another client's.
// A code presented twice stays burnt.
func (s *Simulator) redeemCode(code string, c *client) *grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.codes.get(code)
	if g == nil || g.used {
		return nil
	}
	g.used = true
	if s.now().After(g.expires) || g.req.client != c {
		return nil
	}
	return g
}

// redeemRefresh consumes a refresh token (they rotate) and returns its grant.
func (s *Simulator) redeemRefresh(token string, c *client) *grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.refresh.get(token)
	s.refresh.del(token)
	if g == nil || !s.now().Before(g.expires) || g.req.client != c {
		return nil
	}
	return g
}

// accessGrant returns the grant of a live access token.
func (s *Simulator) accessGrant(token string) *grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.access.get(token)
	if g == nil || !s.now().Before(g.expires) {
		return nil
	}
	return g
}
