package esiasim

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/diarybroker/broker/pkg/store"
)

// Person is a fixture person: the JSON ESIA's /rs/prns/{oid} returns, with
// documents, contacts, addresses and kids embedded as collections, plus the
// simulator-only fields oid, lvl and sim. docs/esia-persons-format.md
// describes the format.
type Person struct {
	// OID is the person's ESIA object id (digits).
	OID string `json:"oid"`
	// Level is the account level: KD (child), PR (confirmed), P (simplified).
	Level string `json:"lvl"`
	// Sim holds what only the simulator uses.
	Sim SimInfo `json:"sim"`

	StateFacts  []string `json:"stateFacts,omitempty"`
	FirstName   string   `json:"firstName,omitempty"`
	LastName    string   `json:"lastName,omitempty"`
	MiddleName  string   `json:"middleName,omitempty"`
	BirthDate   string   `json:"birthDate,omitempty"` // dd.MM.yyyy
	BirthPlace  string   `json:"birthPlace,omitempty"`
	Gender      string   `json:"gender,omitempty"` // M or F
	SNILS       string   `json:"snils,omitempty"`  // NNN-NNN-NNN NN
	INN         string   `json:"inn,omitempty"`
	Citizenship string   `json:"citizenship,omitempty"`
	// Trusted marks a confirmed account; it also sets urn:esia:sbj:is_tru.
	Trusted   bool                  `json:"trusted"`
	Status    string                `json:"status,omitempty"`
	UpdatedOn int64                 `json:"updatedOn,omitempty"`
	ETag      string                `json:"eTag,omitempty"`
	Documents *Collection[Document] `json:"documents,omitempty"`
	Contacts  *Collection[Contact]  `json:"contacts,omitempty"`
	Addresses *Collection[Address]  `json:"addresses,omitempty"`
	Kids      *Collection[Kid]      `json:"kids,omitempty"`
}

// SimInfo is the simulator-only part of a fixture person.
type SimInfo struct {
	// Description is shown on the login page: who this is and what for.
	Description string `json:"description"`
	// Role is a hint shown on the login page (teacher, parent, student, …).
	Role string `json:"role,omitempty"`
	// Error, e.g. "ESIA-007004", is answered (error redirect) whenever this
	// person is chosen.
	Error string `json:"error,omitempty"`
	// TokenError, e.g. "ESIA-007007": the login succeeds but the exchange
	// of its code at the token endpoint answers with this code.
	TokenError string `json:"tokenError,omitempty"`
	// AMR is the amr claim of the ID token; default ["PWD"].
	AMR []string `json:"amr,omitempty"`
}

// Collection is ESIA's collection shape.
type Collection[T any] struct {
	StateFacts []string `json:"stateFacts,omitempty"`
	Size       int      `json:"size"`
	ETag       string   `json:"eTag,omitempty"`
	Elements   []T      `json:"elements"`
}

// Document is an element of /docs.
type Document struct {
	StateFacts []string    `json:"stateFacts,omitempty"`
	ID         json.Number `json:"id"`
	Type       string      `json:"type"`
	VrfStu     string      `json:"vrfStu,omitempty"`
	Series     string      `json:"series,omitempty"`
	Number     string      `json:"number,omitempty"`
	IssueDate  string      `json:"issueDate,omitempty"`
	IssueID    string      `json:"issueId,omitempty"`
	IssuedBy   string      `json:"issuedBy,omitempty"`
	ActNo      string      `json:"actNo,omitempty"`
	ActDate    string      `json:"actDate,omitempty"`
	ETag       string      `json:"eTag,omitempty"`
}

// Contact is an element of /ctts.
type Contact struct {
	StateFacts []string    `json:"stateFacts,omitempty"`
	ID         json.Number `json:"id"`
	Type       string      `json:"type"` // EML, MBT, PHN
	VrfStu     string      `json:"vrfStu,omitempty"`
	Value      string      `json:"value"`
	ETag       string      `json:"eTag,omitempty"`
}

// Address is an element of /addrs.
type Address struct {
	StateFacts []string    `json:"stateFacts,omitempty"`
	ID         json.Number `json:"id"`
	Type       string      `json:"type"` // PRG, PLV
	AddressStr string      `json:"addressStr,omitempty"`
	ZipCode    string      `json:"zipCode,omitempty"`
	CountryID  string      `json:"countryId,omitempty"`
	Region     string      `json:"region,omitempty"`
	City       string      `json:"city,omitempty"`
	Street     string      `json:"street,omitempty"`
	House      string      `json:"house,omitempty"`
	Building   string      `json:"building,omitempty"`
	Frame      string      `json:"frame,omitempty"`
	Flat       string      `json:"flat,omitempty"`
	FiasCode   string      `json:"fiasCode,omitempty"`
	ETag       string      `json:"eTag,omitempty"`
}

// Kid is an element of /kids: a child in the parent's «Семья и дети».
type Kid struct {
	StateFacts []string              `json:"stateFacts,omitempty"`
	ID         json.Number           `json:"id"`
	FirstName  string                `json:"firstName,omitempty"`
	LastName   string                `json:"lastName,omitempty"`
	MiddleName string                `json:"middleName,omitempty"`
	BirthDate  string                `json:"birthDate,omitempty"`
	Gender     string                `json:"gender,omitempty"`
	SNILS      string                `json:"snils,omitempty"`
	INN        string                `json:"inn,omitempty"`
	ETag       string                `json:"eTag,omitempty"`
	Documents  *Collection[Document] `json:"documents,omitempty"`
}

//go:embed fixtures/persons.json
var defaultPersons []byte

// DefaultPersons returns the embedded default fixture persons
// (pkg/esia/esiasim/fixtures/persons.json).
func DefaultPersons() ([]Person, error) {
	return LoadPersons(bytes.NewReader(defaultPersons))
}

// LoadPersons reads a JSON array of fixture persons and validates it: oids
// unique and numeric, lvl KD/PR/P, dates dd.MM.yyyy, element ids numeric and
// unique per collection.
func LoadPersons(r io.Reader) ([]Person, error) {
	dec := json.NewDecoder(io.LimitReader(r, 32<<20))
	dec.DisallowUnknownFields()
	var persons []Person
	if err := dec.Decode(&persons); err != nil {
		return nil, fmt.Errorf("esiasim: persons: %w", err)
	}
	seen := map[string]bool{}
	for i := range persons {
		p := &persons[i]
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("esiasim: persons[%d] (oid %s): %w", i, p.OID, err)
		}
		if seen[p.OID] {
			return nil, fmt.Errorf("esiasim: persons[%d]: duplicate oid %s", i, p.OID)
		}
		seen[p.OID] = true
	}
	return persons, nil
}

func (p *Person) validate() error {
	if !isDigits(p.OID) {
		return errors.New("oid must be digits")
	}
	switch p.Level {
	case "KD", "PR", "P":
	default:
		return errors.New("lvl must be KD, PR or P")
	}
	if err := checkDate(p.BirthDate, "birthDate"); err != nil {
		return err
	}
	if p.Gender != "" && p.Gender != "M" && p.Gender != "F" {
		return errors.New("gender must be M or F")
	}
	if p.Sim.Error != "" && !isESIACode(p.Sim.Error) {
		return errors.New("sim.error must look like ESIA-0070xx")
	}
	if p.Sim.TokenError != "" && !isESIACode(p.Sim.TokenError) {
		return errors.New("sim.tokenError must look like ESIA-0070xx")
	}
	if p.Documents != nil {
		if err := validateDocs(p.Documents, "documents"); err != nil {
			return err
		}
	}
	if p.Contacts != nil {
		if err := uniqueIDs(p.Contacts.Elements, func(c Contact) json.Number { return c.ID }, "contacts"); err != nil {
			return err
		}
	}
	if p.Addresses != nil {
		if err := uniqueIDs(p.Addresses.Elements, func(a Address) json.Number { return a.ID }, "addresses"); err != nil {
			return err
		}
	}
	if p.Kids != nil {
		if err := uniqueIDs(p.Kids.Elements, func(k Kid) json.Number { return k.ID }, "kids"); err != nil {
			return err
		}
		for _, k := range p.Kids.Elements {
			if err := checkDate(k.BirthDate, "kids.birthDate"); err != nil {
				return err
			}
			if k.Documents != nil {
				if err := validateDocs(k.Documents, "kids.documents"); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func validateDocs(c *Collection[Document], what string) error {
	if err := uniqueIDs(c.Elements, func(d Document) json.Number { return d.ID }, what); err != nil {
		return err
	}
	for _, d := range c.Elements {
		if err := checkDate(d.IssueDate, what+".issueDate"); err != nil {
			return err
		}
		if err := checkDate(d.ActDate, what+".actDate"); err != nil {
			return err
		}
	}
	return nil
}

func uniqueIDs[T any](elems []T, id func(T) json.Number, what string) error {
	seen := map[json.Number]bool{}
	for _, e := range elems {
		v := id(e)
		if !isDigits(string(v)) {
			return fmt.Errorf("%s: id must be digits", what)
		}
		if seen[v] {
			return fmt.Errorf("%s: duplicate id %s", what, v)
		}
		seen[v] = true
	}
	return nil
}

// checkDate accepts "" or dd.MM.yyyy.
func checkDate(s, field string) error {
	if s == "" {
		return nil
	}
	if len(s) != 10 || s[2] != '.' || s[5] != '.' {
		return fmt.Errorf("%s must be dd.MM.yyyy", field)
	}
	if _, err := store.ParseDate(s); err != nil {
		return fmt.Errorf("%s must be dd.MM.yyyy", field)
	}
	return nil
}

func isDigits(s string) bool {
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
