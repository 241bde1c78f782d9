package esia

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/diarybroker/broker/pkg/store"
)

// Kid is a child listed in a parent's «Семья и дети» (GET
// /rs/prns/{oid}/kids), with the fields the kid_* scopes allow.
type Kid struct {
	// ID is the id of the child's record in the parent's list (not
	// necessarily the oid of the child's own account).
	ID         string
	FirstName  string
	LastName   string
	MiddleName string
	BirthDate  store.Date
	Gender     string // "M" or "F"
	SNILS      string
	INN        string
	// Documents are the child's documents, typically the birth certificate
	// (RF_BRTH_CERT or FID_BRTH_CERT).
	Documents []Document
	ETag      string
}

type kidJSON struct {
	ID         flexString  `json:"id"`
	FirstName  string      `json:"firstName"`
	LastName   string      `json:"lastName"`
	MiddleName string      `json:"middleName"`
	BirthDate  string      `json:"birthDate"`
	Gender     string      `json:"gender"`
	SNILS      string      `json:"snils"`
	INN        flexString  `json:"inn"`
	ETag       string      `json:"eTag"`
	Documents  *collection `json:"documents"`
}

// Kids reads the children of the person tok was issued for:
// GET /rs/prns/{oid}/kids?embed=(elements). Kids and their documents may come
// embedded or as URLs (then fetched one by one); documents missing from a
// kid are fetched from /kids/{id}/docs when kid_birth_cert_doc or
// kid_medical_doc was granted. GETs are retried once on 5xx or time-out.
func (c *Config) Kids(ctx context.Context, tok *Token) ([]Kid, error) {
	if err := checkToken(tok); err != nil {
		return nil, fmt.Errorf("esia: kids: %w", err)
	}
	prefix := PathPersons + "/" + tok.Identity.OID + "/"
	coll, err := c.fetchCollection(ctx, "kids", tok, prefix+"kids?embed=(elements)")
	if err != nil {
		return nil, fmt.Errorf("esia: kids: %w", err)
	}
	raws, err := c.resolve(ctx, tok, coll, prefix+"kids/")
	if err != nil {
		return nil, fmt.Errorf("esia: kids: %w", err)
	}
	var kids []Kid
	for _, raw := range raws {
		kj, err := decodeKid(raw)
		if err != nil {
			return nil, fmt.Errorf("esia: kids: %w", err)
		}
		if kj.Documents == nil && isOID(string(kj.ID)) && grantedAny(&tok.Identity, []string{"kid_birth_cert_doc", "kid_medical_doc"}) {
			if kj.Documents, err = c.fetchCollection(ctx, "kids_docs", tok, prefix+"kids/"+string(kj.ID)+"/docs?embed=(elements)"); err != nil {
				return nil, fmt.Errorf("esia: kid documents: %w", err)
			}
		}
		docs, err := c.resolve(ctx, tok, kj.Documents, prefix+"kids/")
		if err != nil {
			return nil, fmt.Errorf("esia: kid documents: %w", err)
		}
		kid, err := kj.toKid(docs)
		if err != nil {
			return nil, fmt.Errorf("esia: kids: %w", err)
		}
		kids = append(kids, kid)
	}
	return kids, nil
}

func decodeKid(raw []byte) (*kidJSON, error) {
	var kj kidJSON
	if !isJSONObject(raw) || json.Unmarshal(raw, &kj) != nil {
		return nil, invalidAnswer("kid element malformed")
	}
	return &kj, nil
}

func (kj *kidJSON) toKid(docs [][]byte) (Kid, error) {
	birth, err := parseDate(kj.BirthDate, "kid birth date")
	if err != nil {
		return Kid{}, err
	}
	documents, err := decodeDocuments(docs)
	if err != nil {
		return Kid{}, err
	}
	return Kid{
		ID: string(kj.ID), FirstName: kj.FirstName, LastName: kj.LastName, MiddleName: kj.MiddleName,
		BirthDate: birth, Gender: kj.Gender, SNILS: kj.SNILS, INN: string(kj.INN),
		Documents: documents, ETag: kj.ETag,
	}, nil
}
