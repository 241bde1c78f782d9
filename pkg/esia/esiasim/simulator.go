package esiasim

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/diarybroker/broker/pkg/esia/cms"
	"github.com/diarybroker/broker/pkg/esia/gost"
)

// Simulator is the ESIA simulator, an http.Handler. It is safe for
// concurrent use.
type Simulator struct {
	cfg     Config
	mux     *http.ServeMux
	clients map[string]*client
	persons map[string]*Person
	order   []string // oids in fixture order

	signerMu sync.RWMutex
	signer   TokenSigner // signs new tokens
	retired  [][]byte    // certificates of earlier signers, newest first

	mu      sync.Mutex
	logins  map[string]*authRequest // pending login pages by id
	codes   *grantTable             // authorization codes
	refresh *grantTable             // refresh tokens
	access  *grantTable             // access tokens
	faults  []*faultState
	latency time.Duration
	// tokenTTL, when set, replaces TokenLifetime (SetTokenLifetime).
	tokenTTL time.Duration
	released chan struct{} // closed by Close: hung handlers return
	closed   bool
}

// client is a registered Client with its derived checks.
type client struct {
	Client
	hash     string
	verifier SecretVerifier
	cmsCert  *cms.Certificate // v1 client_secret; nil if the key is neither RSA nor GOST
	scopes   map[string]bool
}

// New builds a simulator. It fails on an incomplete configuration: no
// BaseURL, a client without ID, redirect URI or usable certificate, or
// invalid persons. The persons and clients must not be modified afterwards.
func New(cfg Config) (*Simulator, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, errors.New("esiasim: BaseURL must be an absolute http(s) URL")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Issuer == "" {
		cfg.Issuer = cfg.BaseURL + "/"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CertHash == nil {
		cfg.CertHash = gost.CertificateHash
	}
	if cfg.TokenSigner == nil {
		if cfg.TokenSigner, err = NewRS256Signer("ESIA simulator", cfg.Now()); err != nil {
			return nil, err
		}
	}
	if cfg.Persons == nil {
		if cfg.Persons, err = DefaultPersons(); err != nil {
			return nil, err
		}
	} else {
		cfg.Persons = append([]Person(nil), cfg.Persons...)
	}
	s := &Simulator{
		cfg:      cfg,
		signer:   cfg.TokenSigner,
		clients:  map[string]*client{},
		persons:  map[string]*Person{},
		logins:   map[string]*authRequest{},
		codes:    newGrantTable(cfg.MaxGrants),
		refresh:  newGrantTable(cfg.MaxGrants),
		access:   newGrantTable(cfg.MaxGrants),
		latency:  cfg.Latency,
		released: make(chan struct{}),
	}
	for _, c := range cfg.Clients {
		if err := s.addClient(c); err != nil {
			return nil, err
		}
	}
	for i := range cfg.Persons {
		p := &cfg.Persons[i]
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("esiasim: person %s: %w", p.OID, err)
		}
		if s.persons[p.OID] != nil {
			return nil, fmt.Errorf("esiasim: duplicate person oid %s", p.OID)
		}
		s.persons[p.OID] = p
		s.order = append(s.order, p.OID)
	}
	s.routes()
	return s, nil
}

func (s *Simulator) addClient(c Client) error {
	if c.ID == "" || len(c.RedirectURIs) == 0 || len(c.Certificate) == 0 {
		return errors.New("esiasim: a client needs ID, RedirectURIs and Certificate")
	}
	if s.clients[c.ID] != nil {
		return fmt.Errorf("esiasim: duplicate client %s", c.ID)
	}
	v := c.SecretVerifier
	if v == nil {
		var err error
		if v, err = SecretVerifierFor(c.Certificate); err != nil {
			return fmt.Errorf("esiasim: client %s: %w", c.ID, err)
		}
	}
	cl := &client{Client: c, hash: s.cfg.CertHash(c.Certificate), verifier: v}
	cl.cmsCert, _ = cms.ParseCertificate(c.Certificate) // only the legacy v1 endpoints need it
	if c.Scopes != nil {
		cl.scopes = map[string]bool{}
		for _, sc := range c.Scopes {
			cl.scopes[sc] = true
		}
	}
	s.clients[c.ID] = cl
	return nil
}

// Endpoint names, used by faults.
const (
	EndpointAuthorize = "ac"
	EndpointToken     = "te"
	EndpointPerson    = "prns"
	EndpointDocs      = "docs"
	EndpointContacts  = "ctts"
	EndpointAddresses = "addrs"
	EndpointKids      = "kids"
	EndpointLogout    = "logout"
)

func (s *Simulator) routes() {
	m := http.NewServeMux()
	h := func(pattern, endpoint string, f http.HandlerFunc) { m.Handle(pattern, s.faulty(endpoint, f)) }
	h("GET /aas/oauth2/v2/ac", EndpointAuthorize, s.authorize(protoV2))
	h("POST /aas/oauth2/v2/ac", EndpointAuthorize, s.choose)
	h("POST /aas/oauth2/v3/te", EndpointToken, s.token(protoV2))
	h("GET /aas/oauth2/ac", EndpointAuthorize, s.authorize(protoV1))
	h("POST /aas/oauth2/ac", EndpointAuthorize, s.choose)
	h("POST /aas/oauth2/te", EndpointToken, s.token(protoV1))
	h("GET /rs/prns/{oid}", EndpointPerson, s.person)
	h("GET /rs/prns/{oid}/docs", EndpointDocs, s.docs)
	h("GET /rs/prns/{oid}/docs/{id}", EndpointDocs, s.doc)
	h("GET /rs/prns/{oid}/ctts", EndpointContacts, s.contacts)
	h("GET /rs/prns/{oid}/ctts/{id}", EndpointContacts, s.contact)
	h("GET /rs/prns/{oid}/addrs", EndpointAddresses, s.addresses)
	h("GET /rs/prns/{oid}/addrs/{id}", EndpointAddresses, s.address)
	h("GET /rs/prns/{oid}/kids", EndpointKids, s.kids)
	h("GET /rs/prns/{oid}/kids/{kid}", EndpointKids, s.kid)
	h("GET /rs/prns/{oid}/kids/{kid}/docs", EndpointKids, s.kidDocs)
	h("GET /rs/prns/{oid}/kids/{kid}/docs/{id}", EndpointKids, s.kidDoc)
	h("GET /idp/ext/Logout", EndpointLogout, s.logout)
	m.HandleFunc("GET /sim/certificates.pem", s.certificates)
	if !s.cfg.DisableControl {
		m.HandleFunc("/sim/faults", s.faultsAPI)
		m.HandleFunc("PUT /sim/latency", s.latencyAPI)
		m.HandleFunc("POST /sim/rotate", s.rotateAPI)
	}
	s.mux = m
}

// ServeHTTP implements http.Handler.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

// Close releases handlers blocked by a Hang fault. The simulator keeps
// answering afterwards, without hanging.
func (s *Simulator) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.released)
	}
}

// Issuer is the iss of the simulator's tokens.
func (s *Simulator) Issuer() string { return s.cfg.Issuer }

// BaseURL is the simulator's external address.
func (s *Simulator) BaseURL() string { return s.cfg.BaseURL }

// Persons returns the fixture persons in fixture order.
func (s *Simulator) Persons() []Person {
	out := make([]Person, 0, len(s.order))
	for _, oid := range s.order {
		out = append(out, *s.persons[oid])
	}
	return out
}

// CertHash returns the client_certificate_hash the simulator expects for a
// DER certificate.
func (s *Simulator) CertHash(der []byte) string { return s.cfg.CertHash(der) }

func (s *Simulator) certificates(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(s.CertificatesPEM())
}

func (s *Simulator) now() time.Time { return s.cfg.Now() }
