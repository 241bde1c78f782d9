package linking

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/diarybroker/broker/pkg/store"
)

// Preview is what Match, or MatchRecord when externalID is not empty,
// would answer now for p — the support console's «Проверить снова» —
// without changing anything: the re-check of p's existing links is made
// and its suspensions or reactivations show in the result, but no link
// is created, updated or deleted. role keeps records of that role only,
// as the login does for a diary that asked for one (a linked result with
// none of them is not_found, no_record_of_role).
func (l *Ladder) Preview(ctx context.Context, tenant store.Tenant, p Person, role store.Role, externalID string) (Result, error) {
	dry := *l
	dry.Links = readOnlyLinks{l.Links}
	var res Result
	var err error
	if externalID != "" {
		res, err = dry.MatchRecord(ctx, tenant, p, externalID)
	} else {
		res, err = dry.Match(ctx, tenant, p, "")
	}
	if err != nil || res.Outcome != OutcomeLinked || role == "" {
		return res, err
	}
	var chosen []store.Person
	for _, r := range res.Records {
		if r.Role == role {
			chosen = append(chosen, r)
		}
	}
	if len(chosen) == 0 {
		res.Outcome, res.Reason = OutcomeNotFound, ReasonRole
	}
	res.Records = chosen
	return res, nil
}

// readOnlyLinks reads links and drops every write.
type readOnlyLinks struct{ store.Links }

func (readOnlyLinks) CreateLink(context.Context, store.Link) error             { return nil }
func (readOnlyLinks) UpdateLink(context.Context, store.Link) error             { return nil }
func (readOnlyLinks) DeleteLink(context.Context, string, string, string) error { return nil }

// personValues is Person as EncodePerson writes it.
type personValues struct {
	OID        string      `json:"oid"`
	ETag       string      `json:"etag,omitempty"`
	Name       FullName    `json:"name"`
	BirthDate  string      `json:"birth_date,omitempty"`
	SNILS      string      `json:"snils,omitempty"`
	BirthCerts []BirthCert `json:"birth_certs,omitempty"`
}

// EncodePerson writes the ESIA side of a match — what the login keeps,
// sealed, for a later Preview — as JSON. It is personal data.
func EncodePerson(p Person) ([]byte, error) {
	v := personValues{OID: p.OID, ETag: p.ETag, Name: p.Identity.Name, SNILS: p.Identity.SNILS, BirthCerts: p.BirthCerts}
	if !p.Identity.BirthDate.IsZero() {
		v.BirthDate = p.Identity.BirthDate.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("linking: encode person: %w", err)
	}
	return b, nil
}

// DecodePerson reads what EncodePerson wrote.
func DecodePerson(b []byte) (Person, error) {
	var v personValues
	if err := json.Unmarshal(b, &v); err != nil {
		return Person{}, fmt.Errorf("linking: decode person: %w", err)
	}
	p := Person{OID: v.OID, ETag: v.ETag, BirthCerts: v.BirthCerts,
		Identity: Identity{Name: v.Name, SNILS: v.SNILS}}
	if v.BirthDate != "" {
		d, err := ParseBirthDate(v.BirthDate)
		if err != nil {
			return Person{}, fmt.Errorf("linking: decode person: birth date: %w", err)
		}
		p.Identity.BirthDate = d
	}
	return p, nil
}
