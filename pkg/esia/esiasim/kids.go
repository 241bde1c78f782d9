package esiasim

import (
	"encoding/json"
	"net/http"
)

// kidOut is a kid as answered, filtered by the kid_* scopes.
type kidOut struct {
	StateFacts []string       `json:"stateFacts"`
	ID         json.Number    `json:"id"`
	FirstName  string         `json:"firstName,omitempty"`
	LastName   string         `json:"lastName,omitempty"`
	MiddleName string         `json:"middleName,omitempty"`
	BirthDate  string         `json:"birthDate,omitempty"`
	Gender     string         `json:"gender,omitempty"`
	SNILS      string         `json:"snils,omitempty"`
	INN        string         `json:"inn,omitempty"`
	ETag       string         `json:"eTag,omitempty"`
	Documents  *collectionOut `json:"documents,omitempty"`
}

// kidJSON filters k; docs says how to answer its documents: "embed",
// "link" or "" (left out).
func (s *Simulator) kidJSON(oid string, k Kid, sc scopeSet, docs string) kidOut {
	out := kidOut{StateFacts: []string{"Identifiable"}, ID: k.ID, ETag: k.ETag}
	if sc["kid_fullname"] {
		out.FirstName, out.LastName, out.MiddleName = k.FirstName, k.LastName, k.MiddleName
	}
	if sc["kid_birthdate"] {
		out.BirthDate = k.BirthDate
	}
	if sc["kid_gender"] {
		out.Gender = k.Gender
	}
	if sc["kid_snils"] {
		out.SNILS = k.SNILS
	}
	if sc["kid_inn"] {
		out.INN = k.INN
	}
	if docs != "" && sc.docsAllowed(true) {
		out.Documents = s.docCollection(oid, []string{"kids", string(k.ID), "docs"}, visibleDocs(k.Documents, sc, true), docs == "embed")
	}
	if out.ETag == "" {
		out.ETag = etagOf(out)
	}
	return out
}

// kidsOf returns the kids of the token's person; it answers 403 without a
// kid_* scope.
func (s *Simulator) kidsOf(w http.ResponseWriter, r *http.Request) (*grant, scopeSet, []Kid, bool) {
	g, sc, ok := s.authorized(w, r)
	if !ok {
		return nil, nil, nil, false
	}
	if !sc.anyKid() {
		forbidden(w, "children")
		return nil, nil, nil, false
	}
	var kids []Kid
	if g.person.Kids != nil {
		kids = g.person.Kids.Elements
	}
	return g, sc, kids, true
}

func findKid(kids []Kid, id string) *Kid {
	for i := range kids {
		if string(kids[i].ID) == id {
			return &kids[i]
		}
	}
	return nil
}

// kids serves GET /rs/prns/{oid}/kids. With ?embed=(elements) the kids are
// embedded with their documents embedded too (ESIA.md: "elements with …
// and their documents"); otherwise the elements are URLs.
func (s *Simulator) kids(w http.ResponseWriter, r *http.Request) {
	g, sc, kids, ok := s.kidsOf(w, r)
	if !ok {
		return
	}
	embed := s.elementsEmbedded(parseEmbed(r))
	docs := "embed"
	if s.cfg.Embed == EmbedOmit {
		docs = ""
	}
	out := newCollection(len(kids))
	for _, k := range kids {
		if embed {
			out.Elements = append(out.Elements, s.kidJSON(g.person.OID, k, sc, docs))
		} else {
			out.Elements = append(out.Elements, s.prnsURL(g.person.OID, "kids", string(k.ID)))
		}
	}
	out.ETag = etagOf(out.Elements)
	writeJSON(w, http.StatusOK, out)
}

// kid serves GET /rs/prns/{oid}/kids/{kid}; its documents are linked unless
// ?embed=(documents.elements) asks for them embedded.
func (s *Simulator) kid(w http.ResponseWriter, r *http.Request) {
	g, sc, kids, ok := s.kidsOf(w, r)
	if !ok {
		return
	}
	k := findKid(kids, r.PathValue("kid"))
	if k == nil {
		notFound(w)
		return
	}
	docs := "link"
	switch {
	case s.cfg.Embed == EmbedOmit:
		docs = ""
	case s.cfg.Embed == EmbedAsAsked && parseEmbed(r)["documents.elements"]:
		docs = "embed"
	}
	writeJSON(w, http.StatusOK, s.kidJSON(g.person.OID, *k, sc, docs))
}

// kidDocs serves GET /rs/prns/{oid}/kids/{kid}/docs.
func (s *Simulator) kidDocs(w http.ResponseWriter, r *http.Request) {
	g, sc, kids, ok := s.kidsOf(w, r)
	if !ok {
		return
	}
	k := findKid(kids, r.PathValue("kid"))
	if k == nil {
		notFound(w)
		return
	}
	if !sc.docsAllowed(true) {
		forbidden(w, "children's documents")
		return
	}
	writeJSON(w, http.StatusOK, s.docCollection(g.person.OID, []string{"kids", string(k.ID), "docs"}, visibleDocs(k.Documents, sc, true), s.elementsEmbedded(parseEmbed(r))))
}

// kidDoc serves GET /rs/prns/{oid}/kids/{kid}/docs/{id}.
func (s *Simulator) kidDoc(w http.ResponseWriter, r *http.Request) {
	_, sc, kids, ok := s.kidsOf(w, r)
	if !ok {
		return
	}
	if k := findKid(kids, r.PathValue("kid")); k != nil {
		for _, d := range visibleDocs(k.Documents, sc, true) {
			if string(d.ID) == r.PathValue("id") {
				writeJSON(w, http.StatusOK, withFacts(d))
				return
			}
		}
	}
	notFound(w)
}
