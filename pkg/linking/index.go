package linking

import (
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// Indexer computes keyed blind indexes (keyring.PII implements it).
type Indexer interface {
	Index(kind store.IndexKind, normalised string) string
}

// Identity is the personal data both sides of a match carry: a roster
// record and an ESIA person, each normalised before comparison.
type Identity struct {
	Name      FullName
	BirthDate store.Date
	SNILS     string // normalised 11 digits, or ""
	BirthCert BirthCert
}

// indexSNILS, indexBirthCert, ... are the exact strings that are HMACed:
// the roster import and the login must produce them identically.
func indexSNILS(id Identity) string { return id.SNILS }

func indexBirthDate(id Identity) string { return id.BirthDate.String() }

func indexBirthCert(id Identity) string {
	if id.BirthCert.IsZero() {
		return ""
	}
	c, _, err := NormaliseBirthCert(id.BirthCert)
	if err != nil || c.Number == "" {
		return ""
	}
	if c.Type == BirthCertForeign {
		// Foreign certificates are compared by number only (DESIGN.md §5).
		return "FID|" + c.Number
	}
	return c.Series + "|" + c.Number
}

func indexNameBirth(id Identity) string {
	if id.BirthDate.IsZero() {
		return ""
	}
	n, _, err := NormaliseFullName(id.Name)
	if err != nil || n.Last == "" || n.First == "" {
		return ""
	}
	// The patronymic is left out: an absent patronymic is unknown, not
	// different, so it cannot be part of an exact-match key.
	return strings.Join([]string{n.Last, n.First, id.BirthDate.String()}, "|")
}

// IndexOf returns the blind indexes of an identity.
func IndexOf(ix Indexer, id Identity) store.PersonIndex {
	return store.PersonIndex{
		SNILS:     ix.Index(store.IndexSNILS, indexSNILS(id)),
		BirthCert: ix.Index(store.IndexBirthCert, indexBirthCert(id)),
		BirthDate: ix.Index(store.IndexBirthDate, indexBirthDate(id)),
		NameBirth: ix.Index(store.IndexNameBirth, indexNameBirth(id)),
	}
}

// IdentityOfRecord returns the identity of a roster record.
func IdentityOfRecord(p store.Person) Identity {
	id := Identity{
		Name:      FullName{Last: p.LastName, First: p.FirstName, Patronymic: p.MiddleName},
		BirthDate: p.BirthDate,
		SNILS:     p.SNILS,
	}
	if p.BirthCert != nil {
		id.BirthCert = BirthCert{Type: BirthCertType(p.BirthCert.Type), Series: p.BirthCert.Series, Number: p.BirthCert.Number}
	}
	return id
}

func timeMonth(m int) time.Month { return time.Month(m) }
