package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/ory/fosite"

	"github.com/diarybroker/broker/pkg/store"
)

// A code's PKCE and OpenID sessions are kept in its own record (issue 13).
// fosite stores three requests per code — the code's, its PKCE session's
// and its OpenID session's — which differ only in the form parameters
// each handler keeps (fosite's Sanitize: redirect_uri; code_challenge and
// its method; nonce, max_age, prompt). Three rows, each with the whole
// sealed session, were written at every login, read and opened at every
// exchange, and two of them deleted by it. Now, when the PKCE or OpenID
// request is the code's but for its form, its form goes into the code's
// record ("forms" of storedRequest, by kind) and no row of its own is
// written; reading the session rebuilds it from the code's record while
// the code is active, and a redeemed code has none (as its deleted rows
// had none). A request that differs otherwise keeps its own row, and so
// do the codes issued before, whose rows are read and deleted as before.

// codeFold is the authorization code an authorize batch writes, into
// whose record its PKCE and OpenID sessions fold.
type codeFold struct {
	sig  string
	body []byte // the code's request encoded without its form
	data []byte // the code's record data as encoded
	// forms are the folded sessions' forms by kind.
	forms map[string]url.Values
}

// encodeBody encodes r without its form: two requests of a code with the
// same body differ only in their forms.
func encodeBody(r fosite.Requester) ([]byte, error) { return encodeStored(r, nil) }

// noteCode remembers the code an authorize batch writes (rec, of r).
func (p *pending) noteCode(rec store.OAuthRecord, r fosite.Requester) error {
	body, err := encodeBody(r)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.code = &codeFold{sig: rec.Signature, body: body, data: rec.Data, forms: map[string]url.Values{}}
	p.mu.Unlock()
	return nil
}

// fold puts the PKCE or OpenID session r of the batch's code into the
// code's record, if r is the code's request but for its form; it reports
// whether it did.
func (p *pending) fold(kind store.OAuthKind, sig string, r fosite.Requester) (bool, error) {
	p.mu.Lock()
	c := p.code
	p.mu.Unlock()
	if c == nil || c.sig != sig {
		return false, nil
	}
	body, err := encodeBody(r)
	if err != nil {
		return false, err
	}
	if !bytes.Equal(body, c.body) {
		return false, nil
	}
	form := url.Values{}
	for k, v := range r.GetRequestForm() {
		form[k] = append([]string(nil), v...)
	}
	p.mu.Lock()
	c.forms[string(kind)] = form
	data, err := withForms(c.data, c.forms)
	p.mu.Unlock()
	if err != nil {
		return false, err
	}
	p.add(func(b *store.OAuthBatch) {
		for i := range b.Create {
			if b.Create[i].Kind == store.OAuthCode && b.Create[i].Signature == sig {
				b.Create[i].Data = data
			}
		}
	})
	return true, nil
}

// withForms is a request's encoding (a JSON object) with forms added.
func withForms(data []byte, forms map[string]url.Values) ([]byte, error) {
	enc, err := json.Marshal(forms)
	if err != nil {
		return nil, fmt.Errorf("oauth: encode forms: %w", err)
	}
	if len(data) < 2 || data[len(data)-1] != '}' {
		return nil, errors.New("oauth: encode forms: request is not a JSON object")
	}
	out := make([]byte, 0, len(data)+len(enc)+10)
	out = append(out, data[:len(data)-1]...)
	out = append(out, `,"forms":`...)
	out = append(out, enc...)
	return append(out, '}'), nil
}

// foldedPart rebuilds the PKCE or OpenID session of an active code from
// the code's record; fosite.ErrNotFound when it has none.
func (s *storage) foldedPart(ctx context.Context, kind store.OAuthKind, sig string, session fosite.Session) (fosite.Requester, error) {
	rec, err := s.load(ctx, store.OAuthCode, sig)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInactive) {
		return nil, fosite.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("oauth: load %s: %w", kind, err)
	}
	req, forms, err := s.decodeForms(ctx, rec.Data, session)
	if err != nil {
		return nil, err
	}
	form, ok := forms[string(kind)]
	if !ok {
		return nil, fosite.ErrNotFound
	}
	req.Form = form
	return req, nil
}
