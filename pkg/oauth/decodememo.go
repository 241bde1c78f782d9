package oauth

import (
	"net/url"
	"slices"

	"github.com/ory/fosite"
)

// A code exchange reads its code's stored request three times — for the
// code, for its PKCE session and for its OpenID session, which fosite's
// handlers each ask the storage for — and each read decoded the same
// record's JSON again: about a sixth of the broker's CPU per exchange
// (issue 13). The request's cache keeps the first decode of a code's
// record with folded sessions (codeparts.go), and the later reads are
// built from it: into the very session object the first decode filled
// (the PKCE handler passes the request's session, which the code's read
// filled: decoding the same record into it again changes nothing — fosite
// only added expiry times to it since, which a decode keeps), or into a
// fresh session (the OpenID read asks for one: a clone of the decoded
// session, as decoding into a fresh one gives). Any other session is
// decoded into as before.

// decodedRecord is a kept decode: the request as decoded, its session a
// clone no caller holds, the forms of its folded sessions, and the
// session object the decode filled.
type decodedRecord struct {
	data   []byte // the record's data, whose backing array identifies it
	req    fosite.Request
	forms  map[string]url.Values
	filled fosite.Session
}

// keepDecoded keeps the decode of data into req (whose session it filled)
// with the forms it carried; only a record with folded forms — a code's —
// is kept, and only on the token endpoint (a request's cache).
func (c *requestCache) keepDecoded(data []byte, req *fosite.Request, forms map[string]url.Values) {
	if c == nil || len(forms) == 0 || len(data) == 0 || req.Session == nil {
		return
	}
	kept := copyRequest(req)
	kept.Session = req.Session.Clone()
	keptForms := make(map[string]url.Values, len(forms))
	for k, f := range forms {
		keptForms[k] = cloneForm(f)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.decoded) >= maxDecoded {
		return
	}
	c.decoded = append(c.decoded, decodedRecord{data: data, req: *kept, forms: keptForms, filled: req.Session})
}

// maxDecoded bounds the decodes a request keeps: an exchange has one code.
const maxDecoded = 4

// reuseDecoded returns the request data decodes to, with session filled
// as decoding into it would, from a kept decode of the same record (the
// same bytes in memory, which the cache hands every read): when session
// is nil (a fresh one is wanted) or the object the kept decode filled.
// false: decode.
func (c *requestCache) reuseDecoded(data []byte, session fosite.Session) (*fosite.Request, map[string]url.Values, bool) {
	if c == nil || len(data) == 0 {
		return nil, nil, false
	}
	c.mu.Lock()
	var d *decodedRecord
	for i := range c.decoded {
		if k := c.decoded[i].data; len(k) == len(data) && &k[0] == &data[0] {
			d = &c.decoded[i]
			break
		}
	}
	c.mu.Unlock()
	if d == nil {
		return nil, nil, false
	}
	switch {
	case session == nil:
		session = d.req.Session.Clone()
	case session != d.filled:
		return nil, nil, false
	}
	req := copyRequest(&d.req)
	req.Session = session
	forms := make(map[string]url.Values, len(d.forms))
	for k, f := range d.forms {
		forms[k] = cloneForm(f)
	}
	return req, forms, true
}

// copyRequest copies a decoded request, its slices and form with it (not
// its session).
func copyRequest(r *fosite.Request) *fosite.Request {
	c := *r
	c.RequestedScope = slices.Clone(r.RequestedScope)
	c.GrantedScope = slices.Clone(r.GrantedScope)
	c.RequestedAudience = slices.Clone(r.RequestedAudience)
	c.GrantedAudience = slices.Clone(r.GrantedAudience)
	c.Form = cloneForm(r.Form)
	return &c
}

func cloneForm(f url.Values) url.Values {
	if f == nil {
		return nil
	}
	out := make(url.Values, len(f))
	for k, v := range f {
		out[k] = slices.Clone(v)
	}
	return out
}
