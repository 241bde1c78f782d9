package esiasim

import "time"

// Config configures a Simulator.
type Config struct {
	// BaseURL is the simulator's external address, the prefix of every URL
	// it generates: "http://127.0.0.1:8080/esia-sim" when mounted in the
	// broker's dev mode, "http://127.0.0.1:8090" standalone. Required.
	BaseURL string
	// Issuer is the iss of its tokens; default BaseURL + "/" (ESIA's issuer
	// has a trailing slash).
	Issuer string
	// Clients are the registered information systems.
	Clients []Client
	// Persons are the fixture persons; nil means DefaultPersons.
	Persons []Person
	// TokenSigner signs tokens; nil means a fresh RS256 key and certificate
	// (NewGOSTSigner gives GOST3410_2012_256 tokens).
	TokenSigner TokenSigner
	// CertHash computes the expected client_certificate_hash of a DER
	// certificate; nil means gost.CertificateHash (Streebog-256, upper-case
	// hex), which is what ESIA computes.
	CertHash func(der []byte) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Embed chooses how collections are answered; default EmbedAsAsked.
	Embed EmbedMode
	// Latency delays every answer (load tests); see also SetLatency.
	Latency time.Duration
	// MaxGrants bounds how many authorization codes, access tokens and
	// refresh tokens (of each kind) the simulator keeps; past it the
	// oldest are forgotten, as if expired. 0 is DefaultMaxGrants.
	MaxGrants int
	// DisableControl turns off the control endpoints /sim/faults,
	// /sim/latency and /sim/rotate, through which another process (a load
	// or fault test) injects faults and latency and rotates the token key.
	DisableControl bool
}

// Client is an information system registered in the simulator.
type Client struct {
	// ID is the system's mnemonic (client_id).
	ID string
	// RedirectURIs are the registered redirect_uri values, matched exactly.
	RedirectURIs []string
	// Certificate is the system's DER certificate; its hash is the expected
	// client_certificate_hash.
	Certificate []byte
	// SecretVerifier checks client_secret; nil means SecretVerifierFor the
	// certificate (GOST or RSA).
	SecretVerifier SecretVerifier
	// Scopes the system may ask for; nil means every known scope.
	Scopes []string
}

// EmbedMode chooses how the simulator answers collections.
type EmbedMode int

const (
	// EmbedAsAsked honours ?embed=(…): "documents.elements" embeds the
	// documents, "documents" links them, no mention leaves them out.
	EmbedAsAsked EmbedMode = iota
	// EmbedLinks answers every collection asked for with element URLs only,
	// as ESIA does without embed, so that clients fetch element by element.
	EmbedLinks
	// EmbedOmit leaves the collections out of /rs/prns/{oid} and kid objects
	// whatever embed says; the collection endpoints honour embed.
	EmbedOmit
)

// Lifetimes and limits checked like ESIA does.
const (
	TimestampSkew   = 5 * time.Minute   // |timestamp − now| allowed
	CodeLifetime    = 240 * time.Second // authorization code
	TokenLifetime   = 3600 * time.Second
	RefreshLifetime = 30 * 24 * time.Hour
	loginLifetime   = 15 * time.Minute // a login page request
)
