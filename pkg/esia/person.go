package esia

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/diarybroker/broker/pkg/store"
)

// Person is a person's record in ESIA (GET /rs/prns/{oid}), with the fields
// the granted scopes allow; the others are empty.
type Person struct {
	OID        string
	FirstName  string
	LastName   string
	MiddleName string // отчество (patronymic); empty when the person has none
	BirthDate  store.Date
	BirthPlace string
	Gender     string // "M" or "F"
	SNILS      string // as ESIA formats it: "NNN-NNN-NNN NN"
	INN        string
	// Citizenship is an ISO 3166 alpha-3 code, e.g. "RUS".
	Citizenship string
	// Trusted reports a confirmed account.
	Trusted bool
	// Status is ESIA's account status, e.g. "REGISTERED".
	Status string
	// ETag is ESIA's version tag of the record.
	ETag      string
	Documents []Document
	Contacts  []Contact
	Addresses []Address
}

// Document is an identity document or certificate: passport, birth
// certificate (свидетельство о рождении), medical policy.
type Document struct {
	ID string
	// Type is ESIA's document type: RF_PASSPORT, RF_BRTH_CERT (Russian birth
	// certificate), FID_BRTH_CERT (foreign birth certificate), OLD_BRTH_CERT,
	// FRGN_PASS, MDCL_PLCY, …
	Type      string
	Series    string
	Number    string
	IssueDate store.Date
	IssueID   string // code of the issuing office
	IssuedBy  string
	ActNo     string // number of the civil registry act record (актовая запись)
	ActDate   store.Date
	// VrfStu is the verification status: VERIFIED or NOT_VERIFIED.
	VrfStu string
	ETag   string
}

// Contact is a contact of a person.
type Contact struct {
	ID string
	// Type is EML (e-mail), MBT (mobile phone) or PHN (phone).
	Type  string
	Value string
	// VrfStu is VERIFIED or NOT_VERIFIED.
	VrfStu string
	ETag   string
}

// Address is a registration (PRG) or residence (PLV) address.
type Address struct {
	ID         string
	Type       string // PRG or PLV
	AddressStr string
	ZipCode    string
	CountryID  string
	Region     string
	City       string
	Street     string
	House      string
	Building   string
	Frame      string
	Flat       string
	FiasCode   string
	ETag       string
}

// personJSON is the wire shape of /rs/prns/{oid}.
type personJSON struct {
	FirstName   string      `json:"firstName"`
	LastName    string      `json:"lastName"`
	MiddleName  string      `json:"middleName"`
	BirthDate   string      `json:"birthDate"`
	BirthPlace  string      `json:"birthPlace"`
	Gender      string      `json:"gender"`
	SNILS       string      `json:"snils"`
	INN         flexString  `json:"inn"`
	Citizenship string      `json:"citizenship"`
	Trusted     flexBool    `json:"trusted"`
	Status      string      `json:"status"`
	ETag        string      `json:"eTag"`
	Documents   *collection `json:"documents"`
	Contacts    *collection `json:"contacts"`
	Addresses   *collection `json:"addresses"`
}

type documentJSON struct {
	ID        flexString `json:"id"`
	Type      string     `json:"type"`
	Series    flexString `json:"series"`
	Number    flexString `json:"number"`
	IssueDate string     `json:"issueDate"`
	IssueID   flexString `json:"issueId"`
	IssuedBy  string     `json:"issuedBy"`
	ActNo     flexString `json:"actNo"`
	ActDate   string     `json:"actDate"`
	VrfStu    string     `json:"vrfStu"`
	ETag      string     `json:"eTag"`
}

type contactJSON struct {
	ID     flexString `json:"id"`
	Type   string     `json:"type"`
	Value  string     `json:"value"`
	VrfStu string     `json:"vrfStu"`
	ETag   string     `json:"eTag"`
}

type addressJSON struct {
	ID         flexString `json:"id"`
	Type       string     `json:"type"`
	AddressStr string     `json:"addressStr"`
	ZipCode    flexString `json:"zipCode"`
	CountryID  string     `json:"countryId"`
	Region     string     `json:"region"`
	City       string     `json:"city"`
	Street     string     `json:"street"`
	House      flexString `json:"house"`
	Building   flexString `json:"building"`
	Frame      flexString `json:"frame"`
	Flat       flexString `json:"flat"`
	FiasCode   string     `json:"fiasCode"`
	ETag       string     `json:"eTag"`
}

// Person reads the record of the person tok was issued for:
// GET /rs/prns/{oid}?embed=(contacts.elements,documents.elements,addresses.elements).
// Collections whose elements come as URLs are fetched element by element; a
// collection missing from the answer is fetched from /docs, /ctts or /addrs
// when a scope that covers it was granted. GETs are retried once on 5xx or
// time-out.
func (c *Config) Person(ctx context.Context, tok *Token) (*Person, error) {
	if err := checkToken(tok); err != nil {
		return nil, fmt.Errorf("esia: person: %w", err)
	}
	oid := tok.Identity.OID
	prefix := PathPersons + "/" + oid + "/"
	body, err := c.get(ctx, "person", tok, PathPersons+"/"+oid+"?embed=(contacts.elements,documents.elements,addresses.elements)")
	if err != nil {
		return nil, fmt.Errorf("esia: person: %w", err)
	}
	pj, err := decodePerson(body)
	if err != nil {
		return nil, fmt.Errorf("esia: person: %w", err)
	}
	subs := []struct {
		coll   **collection
		sub    string
		scopes []string
	}{
		{&pj.Documents, "docs", []string{"id_doc", "birth_cert_doc", "medical_doc"}},
		{&pj.Contacts, "ctts", []string{"email", "mobile", "contacts"}},
		{&pj.Addresses, "addrs", []string{"addresses"}},
	}
	elems := make([][][]byte, len(subs))
	for i, s := range subs {
		if *s.coll == nil && grantedAny(&tok.Identity, s.scopes) {
			if *s.coll, err = c.fetchCollection(ctx, "person_"+s.sub, tok, prefix+s.sub+"?embed=(elements)"); err != nil {
				return nil, fmt.Errorf("esia: person: %w", err)
			}
		}
		if elems[i], err = c.resolve(ctx, tok, *s.coll, prefix); err != nil {
			return nil, fmt.Errorf("esia: person %s: %w", s.sub, err)
		}
	}
	p, err := pj.toPerson(elems[0], elems[1], elems[2])
	if err != nil {
		return nil, fmt.Errorf("esia: person: %w", err)
	}
	p.OID = oid
	return p, nil
}

func grantedAny(id *Identity, scopes []string) bool {
	for _, s := range scopes {
		if id.HasScope(s) {
			return true
		}
	}
	return false
}

// decodePerson decodes the person JSON without resolving collections.
func decodePerson(body []byte) (*personJSON, error) {
	if !isJSONObject(body) {
		return nil, invalidAnswer("answer is not a person object")
	}
	var pj personJSON
	if err := json.Unmarshal(body, &pj); err != nil {
		return nil, invalidAnswer("answer is not a person object")
	}
	return &pj, nil
}

// toPerson converts the wire shape with the resolved element objects.
func (pj *personJSON) toPerson(docs, ctts, addrs [][]byte) (*Person, error) {
	birth, err := parseDate(pj.BirthDate, "birth date")
	if err != nil {
		return nil, err
	}
	p := &Person{
		FirstName: pj.FirstName, LastName: pj.LastName, MiddleName: pj.MiddleName,
		BirthDate: birth, BirthPlace: pj.BirthPlace, Gender: pj.Gender,
		SNILS: pj.SNILS, INN: string(pj.INN), Citizenship: pj.Citizenship,
		Trusted: bool(pj.Trusted), Status: pj.Status, ETag: pj.ETag,
	}
	if p.Documents, err = decodeDocuments(docs); err != nil {
		return nil, err
	}
	for _, raw := range ctts {
		var cj contactJSON
		if err := json.Unmarshal(raw, &cj); err != nil {
			return nil, invalidAnswer("contact element malformed")
		}
		p.Contacts = append(p.Contacts, Contact{ID: string(cj.ID), Type: cj.Type, Value: cj.Value, VrfStu: cj.VrfStu, ETag: cj.ETag})
	}
	for _, raw := range addrs {
		var aj addressJSON
		if err := json.Unmarshal(raw, &aj); err != nil {
			return nil, invalidAnswer("address element malformed")
		}
		p.Addresses = append(p.Addresses, Address{
			ID: string(aj.ID), Type: aj.Type, AddressStr: aj.AddressStr, ZipCode: string(aj.ZipCode),
			CountryID: aj.CountryID, Region: aj.Region, City: aj.City, Street: aj.Street,
			House: string(aj.House), Building: string(aj.Building), Frame: string(aj.Frame),
			Flat: string(aj.Flat), FiasCode: aj.FiasCode, ETag: aj.ETag,
		})
	}
	return p, nil
}

// decodeDocuments converts document element objects.
func decodeDocuments(raws [][]byte) ([]Document, error) {
	var out []Document
	for _, raw := range raws {
		var dj documentJSON
		if err := json.Unmarshal(raw, &dj); err != nil {
			return nil, invalidAnswer("document element malformed")
		}
		issued, err := parseDate(dj.IssueDate, "document issue date")
		if err != nil {
			return nil, err
		}
		act, err := parseDate(dj.ActDate, "document act date")
		if err != nil {
			return nil, err
		}
		out = append(out, Document{
			ID: string(dj.ID), Type: dj.Type, Series: string(dj.Series), Number: string(dj.Number),
			IssueDate: issued, IssueID: string(dj.IssueID), IssuedBy: dj.IssuedBy,
			ActNo: string(dj.ActNo), ActDate: act, VrfStu: dj.VrfStu, ETag: dj.ETag,
		})
	}
	return out, nil
}

// parseDate reads ESIA's "dd.MM.yyyy"; "" is the zero Date. The error names
// the field, never the value.
func parseDate(s, field string) (store.Date, error) {
	if s == "" {
		return store.Date{}, nil
	}
	d, err := store.ParseDate(s)
	if err != nil {
		return store.Date{}, invalidAnswer(field + " is not a date")
	}
	return d, nil
}
