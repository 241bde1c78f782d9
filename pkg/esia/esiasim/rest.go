package esiasim

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
)

// collectionOut is a collection as answered: elements are objects or URLs.
type collectionOut struct {
	StateFacts []string `json:"stateFacts"`
	Size       int      `json:"size"`
	ETag       string   `json:"eTag"`
	Elements   []any    `json:"elements"`
}

// personOut is /rs/prns/{oid} as answered, filtered by scope.
type personOut struct {
	StateFacts  []string       `json:"stateFacts"`
	FirstName   string         `json:"firstName,omitempty"`
	LastName    string         `json:"lastName,omitempty"`
	MiddleName  string         `json:"middleName,omitempty"`
	BirthDate   string         `json:"birthDate,omitempty"`
	BirthPlace  string         `json:"birthPlace,omitempty"`
	Gender      string         `json:"gender,omitempty"`
	SNILS       string         `json:"snils,omitempty"`
	INN         string         `json:"inn,omitempty"`
	Citizenship string         `json:"citizenship,omitempty"`
	Trusted     bool           `json:"trusted"`
	Status      string         `json:"status,omitempty"`
	UpdatedOn   int64          `json:"updatedOn,omitempty"`
	ETag        string         `json:"eTag,omitempty"`
	Documents   *collectionOut `json:"documents,omitempty"`
	Contacts    *collectionOut `json:"contacts,omitempty"`
	Addresses   *collectionOut `json:"addresses,omitempty"`
}

// embedSet is the parsed ?embed=(a,b.elements) parameter.
type embedSet map[string]bool

func parseEmbed(r *http.Request) embedSet {
	e := embedSet{}
	v := strings.TrimSuffix(strings.TrimPrefix(r.URL.Query().Get("embed"), "("), ")")
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			e[part] = true
		}
	}
	return e
}

// inPerson says how the person answer carries collection name: embedded
// elements, linked elements, or (both false) not at all.
func (s *Simulator) inPerson(e embedSet, name string) (include, embed bool) {
	switch s.cfg.Embed {
	case EmbedOmit:
		return false, false
	case EmbedLinks:
		return e[name] || e[name+".elements"], false
	}
	return e[name] || e[name+".elements"], e[name+".elements"]
}

// elementsEmbedded says whether a collection endpoint embeds its elements.
func (s *Simulator) elementsEmbedded(e embedSet) bool {
	return s.cfg.Embed != EmbedLinks && e["elements"]
}

// authorized checks the bearer token: live, for the person of the path.
// Kids are read with the parent's token, so {oid} is always the token's.
func (s *Simulator) authorized(w http.ResponseWriter, r *http.Request) (*grant, scopeSet, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	g := s.accessGrant(strings.TrimSpace(tok))
	if !ok || g == nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSONError(w, http.StatusUnauthorized, newError(CodeNoPermission, "bearer token missing, invalid or expired"), "")
		return nil, nil, false
	}
	if g.person.OID != r.PathValue("oid") {
		writeJSONError(w, http.StatusForbidden, newError(CodeNoPermission, "the token is for another person"), "")
		return nil, nil, false
	}
	return g, newScopeSet(g.req.scopes), true
}

func forbidden(w http.ResponseWriter, what string) {
	writeJSONError(w, http.StatusForbidden, newError(CodeNoPermission, "no scope grants "+what), "")
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]string{"code": "NOT_FOUND", "message": "resource not found"})
}

// prnsURL is the external URL of a resource under /rs/prns/{oid}.
func (s *Simulator) prnsURL(oid string, parts ...string) string {
	return s.cfg.BaseURL + "/rs/prns/" + oid + "/" + strings.Join(parts, "/")
}

// person serves GET /rs/prns/{oid}.
func (s *Simulator) person(w http.ResponseWriter, r *http.Request) {
	g, sc, ok := s.authorized(w, r)
	if !ok {
		return
	}
	p, e := g.person, parseEmbed(r)
	out := personOut{
		StateFacts: []string{"EntityRoot"}, Citizenship: p.Citizenship, Trusted: p.Trusted,
		Status: p.Status, UpdatedOn: p.UpdatedOn, ETag: p.ETag,
	}
	if sc["fullname"] {
		out.FirstName, out.LastName, out.MiddleName = p.FirstName, p.LastName, p.MiddleName
	}
	if sc["birthdate"] {
		out.BirthDate, out.BirthPlace = p.BirthDate, p.BirthPlace
	}
	if sc["gender"] {
		out.Gender = p.Gender
	}
	if sc["snils"] {
		out.SNILS = p.SNILS
	}
	if sc["inn"] {
		out.INN = p.INN
	}
	if inc, emb := s.inPerson(e, "documents"); inc && sc.docsAllowed(false) {
		out.Documents = s.docCollection(p.OID, []string{"docs"}, visibleDocs(p.Documents, sc, false), emb)
	}
	if inc, emb := s.inPerson(e, "contacts"); inc && sc.contactsAllowed() {
		out.Contacts = s.contactCollection(p, sc, emb)
	}
	if inc, emb := s.inPerson(e, "addresses"); inc && sc["addresses"] {
		out.Addresses = s.addressCollection(p, emb)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Simulator) docs(w http.ResponseWriter, r *http.Request) {
	g, sc, ok := s.authorized(w, r)
	if !ok {
		return
	}
	if !sc.docsAllowed(false) {
		forbidden(w, "documents")
		return
	}
	writeJSON(w, http.StatusOK, s.docCollection(g.person.OID, []string{"docs"}, visibleDocs(g.person.Documents, sc, false), s.elementsEmbedded(parseEmbed(r))))
}

func (s *Simulator) doc(w http.ResponseWriter, r *http.Request) {
	g, sc, ok := s.authorized(w, r)
	if !ok {
		return
	}
	for _, d := range visibleDocs(g.person.Documents, sc, false) {
		if string(d.ID) == r.PathValue("id") {
			writeJSON(w, http.StatusOK, withFacts(d))
			return
		}
	}
	notFound(w)
}

func (s *Simulator) contacts(w http.ResponseWriter, r *http.Request) {
	g, sc, ok := s.authorized(w, r)
	if !ok {
		return
	}
	if !sc.contactsAllowed() {
		forbidden(w, "contacts")
		return
	}
	writeJSON(w, http.StatusOK, s.contactCollection(g.person, sc, s.elementsEmbedded(parseEmbed(r))))
}

func (s *Simulator) contact(w http.ResponseWriter, r *http.Request) {
	g, sc, ok := s.authorized(w, r)
	if !ok {
		return
	}
	if g.person.Contacts != nil {
		for _, c := range g.person.Contacts.Elements {
			if string(c.ID) == r.PathValue("id") && sc.contactVisible(c.Type) {
				if len(c.StateFacts) == 0 {
					c.StateFacts = []string{"Identifiable"}
				}
				writeJSON(w, http.StatusOK, c)
				return
			}
		}
	}
	notFound(w)
}

func (s *Simulator) addresses(w http.ResponseWriter, r *http.Request) {
	g, sc, ok := s.authorized(w, r)
	if !ok {
		return
	}
	if !sc["addresses"] {
		forbidden(w, "addresses")
		return
	}
	writeJSON(w, http.StatusOK, s.addressCollection(g.person, s.elementsEmbedded(parseEmbed(r))))
}

func (s *Simulator) address(w http.ResponseWriter, r *http.Request) {
	g, sc, ok := s.authorized(w, r)
	if !ok {
		return
	}
	if sc["addresses"] && g.person.Addresses != nil {
		for _, a := range g.person.Addresses.Elements {
			if string(a.ID) == r.PathValue("id") {
				if len(a.StateFacts) == 0 {
					a.StateFacts = []string{"Identifiable"}
				}
				writeJSON(w, http.StatusOK, a)
				return
			}
		}
	}
	notFound(w)
}

// visibleDocs returns the documents of c the scopes allow.
func visibleDocs(c *Collection[Document], sc scopeSet, kid bool) []Document {
	if c == nil {
		return nil
	}
	var out []Document
	for _, d := range c.Elements {
		if sc.docVisible(d.Type, kid) {
			out = append(out, d)
		}
	}
	return out
}

func withFacts(d Document) Document {
	if len(d.StateFacts) == 0 {
		d.StateFacts = []string{"Identifiable"}
	}
	return d
}

// docCollection answers documents under /rs/prns/{oid}/{path...}/{id}.
func (s *Simulator) docCollection(oid string, path []string, docs []Document, embed bool) *collectionOut {
	out := newCollection(len(docs))
	for _, d := range docs {
		if embed {
			out.Elements = append(out.Elements, withFacts(d))
		} else {
			out.Elements = append(out.Elements, s.prnsURL(oid, append(path, string(d.ID))...))
		}
	}
	out.ETag = etagOf(docs)
	return out
}

func (s *Simulator) contactCollection(p *Person, sc scopeSet, embed bool) *collectionOut {
	var vis []Contact
	if p.Contacts != nil {
		for _, c := range p.Contacts.Elements {
			if sc.contactVisible(c.Type) {
				vis = append(vis, c)
			}
		}
	}
	out := newCollection(len(vis))
	for _, c := range vis {
		if embed {
			if len(c.StateFacts) == 0 {
				c.StateFacts = []string{"Identifiable"}
			}
			out.Elements = append(out.Elements, c)
		} else {
			out.Elements = append(out.Elements, s.prnsURL(p.OID, "ctts", string(c.ID)))
		}
	}
	out.ETag = etagOf(vis)
	return out
}

func (s *Simulator) addressCollection(p *Person, embed bool) *collectionOut {
	var all []Address
	if p.Addresses != nil {
		all = p.Addresses.Elements
	}
	out := newCollection(len(all))
	for _, a := range all {
		if embed {
			if len(a.StateFacts) == 0 {
				a.StateFacts = []string{"Identifiable"}
			}
			out.Elements = append(out.Elements, a)
		} else {
			out.Elements = append(out.Elements, s.prnsURL(p.OID, "addrs", string(a.ID)))
		}
	}
	out.ETag = etagOf(all)
	return out
}

func newCollection(n int) *collectionOut {
	return &collectionOut{StateFacts: []string{"hasSize"}, Size: n, Elements: make([]any, 0, n)}
}

// etagOf is a stable version tag of v: 40 upper-case hex digits, as ESIA's.
func etagOf(v any) string {
	b, _ := json.Marshal(v)
	sum := sha1.Sum(b)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}
