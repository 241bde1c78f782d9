package esia

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// HTTPSignerConfig configures an HTTPSigner.
type HTTPSignerConfig struct {
	// URL is the signing endpoint, e.g. "https://signer.internal:8443/sign".
	URL string
	// Token, when set, is sent as "Authorization: Bearer <Token>".
	Token string
	// TokenFile, when set, holds the bearer token; it is read for every
	// signature, so a rotated token (a mounted secret) needs no restart.
	TokenFile string
	// HTTPClient makes the calls; nil means http.DefaultClient. Set its
	// transport for the service's CA and a client TLS certificate.
	// Redirects are never followed.
	HTTPClient *http.Client
	SignerOptions
}

// HTTPSigner signs client_secret with a signing service (an HSM front end,
// CryptoPro DSS behind an adapter, a service in the operator's certified
// zone). The contract, documented for operators in docs/esia-signing.md:
//
//	POST <URL>
//	Content-Type: application/json
//	Authorization: Bearer <token>        (when configured)
//
//	{"message": "<standard base64 of the message bytes>"}
//
// The service signs the message itself (GOST R 34.10-2012, 256-bit key,
// over its Streebog-256 digest) and answers 200 with either
//
//	Content-Type: application/json
//	{"signature": "<base64, base64url or hex of the 64 bytes>"}
//
// or any other content type whose body is the signature, decoded as
// SignerOptions.Output says (auto: raw bytes, hex or base64). Any other
// status is an error; a JSON body {"error": "…"} is quoted in it.
//
// It is safe for concurrent use; at most SignerOptions.MaxConcurrent
// requests are in flight at once.
type HTTPSigner struct {
	cfg    HTTPSignerConfig
	client *http.Client
	sem    chan struct{}
}

var _ Signer = (*HTTPSigner)(nil)

// NewHTTPSigner checks cfg. A bearer token is only ever sent over https or
// to a loopback address.
func NewHTTPSigner(cfg HTTPSignerConfig) (*HTTPSigner, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("esia: signing service: URL must be an absolute http(s) URL")
	}
	if err := cfg.SignerOptions.check(); err != nil {
		return nil, fmt.Errorf("esia: signing service: %w", err)
	}
	if (cfg.Token != "" || cfg.TokenFile != "") && u.Scheme != "https" && !isLoopbackHost(u.Hostname()) {
		return nil, errors.New("esia: signing service: a bearer token is sent only over https (or to a loopback address)")
	}
	if cfg.TokenFile != "" {
		if _, err := readToken(cfg.TokenFile); err != nil {
			return nil, fmt.Errorf("esia: signing service: %w", err)
		}
	}
	client := http.DefaultClient
	if cfg.HTTPClient != nil {
		client = cfg.HTTPClient
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &HTTPSigner{cfg: cfg, client: &c, sem: cfg.SignerOptions.slots()}, nil
}

// String names the service by its host.
func (s *HTTPSigner) String() string {
	u, _ := url.Parse(s.cfg.URL)
	return "signing service " + u.Host
}

// Sign posts the message and decodes the answer.
func (s *HTTPSigner) Sign(ctx context.Context, message []byte) ([]byte, error) {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("esia: signing service: "+format, a...)
	}
	timeout := s.cfg.timeout()
	release, err := acquire(ctx, s.sem, timeout)
	if err != nil {
		return nil, fail("%w", err)
	}
	defer release()

	token := s.cfg.Token
	if s.cfg.TokenFile != "" {
		if token, err = readToken(s.cfg.TokenFile); err != nil {
			return nil, fail("%w", err)
		}
	}
	body, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{base64.StdEncoding.EncodeToString(message)})

	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fail("%w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxSignerOutput))
		resp.Body.Close()
	}
	switch {
	case ctx.Err() != nil:
		return nil, fail("%w", ctx.Err())
	case rctx.Err() != nil:
		return nil, fail("no answer within %s: %w", timeout, context.DeadlineExceeded)
	case err != nil:
		return nil, fail("%w", err)
	}

	isJSON := false
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil {
		isJSON = mt == "application/json" || strings.HasSuffix(mt, "+json")
	}
	if resp.StatusCode != http.StatusOK {
		detail := body
		var e struct {
			Error string `json:"error"`
		}
		if isJSON && json.Unmarshal(body, &e) == nil && e.Error != "" {
			detail = []byte(e.Error)
		}
		if d := diagnostic(detail, message); d != "" {
			return nil, fail("HTTP %d: %s", resp.StatusCode, d)
		}
		return nil, fail("HTTP %d", resp.StatusCode)
	}
	out := body
	opts := s.cfg.SignerOptions
	if isJSON {
		var r struct {
			Signature string `json:"signature"`
		}
		if err := json.Unmarshal(body, &r); err != nil || r.Signature == "" {
			return nil, fail(`answer is JSON without a "signature" string`)
		}
		out = []byte(r.Signature)
		if opts.Output == EncodingRaw {
			opts.Output = EncodingAuto // a JSON string holds text
		}
	}
	sig, err := opts.finish(out)
	if err != nil {
		return nil, fail("%w", err)
	}
	return sig, nil
}

func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", errors.New("token file is empty")
	}
	return t, nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
