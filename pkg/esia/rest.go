package esia

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// maxLinkedElements bounds how many element URLs of one collection are
// fetched one by one.
const maxLinkedElements = 50

// isOID reports whether s looks like an ESIA oid (digits only), so that it
// can be put into a path as is.
func isOID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// get fetches BaseURL + pathQuery with the bearer token; it is retried once
// on 5xx or time-out.
func (c *Config) get(ctx context.Context, label string, tok *Token, pathQuery string) ([]byte, error) {
	target := c.endpoint(pathQuery)
	return c.do(ctx, call{label: label, retry: true, newRequest: func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Accept", "application/json")
		return req, nil
	}})
}

// checkToken rejects a token that cannot authorise REST calls.
func checkToken(tok *Token) error {
	if tok == nil || tok.AccessToken == "" {
		return errors.New("no access token")
	}
	if !isOID(tok.Identity.OID) {
		return errors.New("token has no valid oid")
	}
	return nil
}

// elementPath maps an element URL from a collection to a path under BaseURL.
// ESIA writes its own host into element URLs; the client always goes through
// BaseURL (a gateway may sit in between) and never sends the bearer token to
// another host. The path must lie under prefix (e.g. "/rs/prns/{oid}/").
func (c *Config) elementPath(raw, prefix string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", invalidAnswer("element is not a URL")
	}
	p := u.Path
	if base, err := c.base(); err == nil && base.Path != "" && strings.HasPrefix(p, base.Path+"/rs/") {
		p = strings.TrimPrefix(p, base.Path)
	}
	if !strings.HasPrefix(p, prefix) || path.Clean(p) != p {
		return "", invalidAnswer("element URL outside the person's resources")
	}
	return p, nil
}

// fetchCollection GETs a collection resource and decodes it.
func (c *Config) fetchCollection(ctx context.Context, label string, tok *Token, pathQuery string) (*collection, error) {
	body, err := c.get(ctx, label, tok, pathQuery)
	if err != nil {
		return nil, err
	}
	coll, err := decodeCollection(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	return coll, nil
}

// resolve returns the element objects of coll: embedded elements as they
// are, linked ones (URLs) fetched one by one under prefix.
func (c *Config) resolve(ctx context.Context, tok *Token, coll *collection, prefix string) ([][]byte, error) {
	if coll == nil {
		return nil, nil
	}
	if len(coll.links) > maxLinkedElements {
		return nil, invalidAnswer(fmt.Sprintf("collection links %d elements, more than %d", len(coll.links), maxLinkedElements))
	}
	out := append([][]byte(nil), coll.objects...)
	for _, link := range coll.links {
		p, err := c.elementPath(link, prefix)
		if err != nil {
			return nil, err
		}
		body, err := c.get(ctx, "element", tok, p)
		if err != nil {
			return nil, err
		}
		if !isJSONObject(body) {
			return nil, invalidAnswer("linked element is not a JSON object")
		}
		out = append(out, body)
	}
	return out, nil
}
