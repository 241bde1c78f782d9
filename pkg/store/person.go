package store

import (
	"context"
	"fmt"
	"time"
)

// Role is what a roster record is in the diary.
type Role string

// Roles a roster record can have.
const (
	RoleStudent Role = "student"
	RoleParent  Role = "parent"
	RoleTeacher Role = "teacher"
	RoleStaff   Role = "staff"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleStudent, RoleParent, RoleTeacher, RoleStaff:
		return true
	}
	return false
}

// Person is one roster record: a diary's own record of a student, parent,
// teacher or staff member. Personal fields are stored encrypted by the
// PostgreSQL store; blind indexes make them searchable.
type Person struct {
	TenantID   string
	ExternalID string // the diary's record id (person_id claim)
	Role       Role

	// Personal data (DESIGN.md §5): encrypted at rest.
	LastName   string
	FirstName  string
	MiddleName string // отчество (patronymic); "" when the person has none
	BirthDate  Date
	SNILS      string // normalised: 11 digits, or ""
	BirthCert  *BirthCert
	Contacts   []Contact

	School string
	Class  string

	// Index holds keyed blind indexes computed by the caller from the
	// normalised personal data; lookups use them, never plaintext.
	Index PersonIndex

	// Flags records data-quality findings of the import (for example an
	// invalid SNILS check digit), kept and shown to support.
	Flags []string

	UpdatedAt time.Time
}

// BirthCert is a birth certificate (свидетельство о рождении).
type BirthCert struct {
	Type      string `json:"type"` // RF_BRTH_CERT, FID_BRTH_CERT, OLD_BRTH_CERT
	Series    string `json:"series"`
	Number    string `json:"number"`
	IssueDate Date   `json:"issue_date"`
	ActNo     string `json:"act_no,omitempty"`
}

// Contact is an e-mail address or a phone number from the roster.
type Contact struct {
	Type  string `json:"type"` // email, phone
	Value string `json:"value"`
}

// PersonIndex are the blind indexes of a roster record: keyed HMACs of
// normalised values, hex-encoded. Empty means the value is absent.
type PersonIndex struct {
	SNILS     string
	BirthCert string
	BirthDate string
	NameBirth string // last+first+middle name and birth date
}

// IndexKind names one blind index.
type IndexKind string

// The blind indexes a roster can be searched by.
const (
	IndexSNILS     IndexKind = "snils"
	IndexBirthCert IndexKind = "birth_cert"
	IndexBirthDate IndexKind = "birth_date"
	IndexNameBirth IndexKind = "name_birth"
)

// Relation ties a parent record to a student record.
type Relation struct {
	TenantID string
	Parent   string // external id of the parent
	Student  string // external id of the student
	Kind     string // mother, father, guardian, other
}

// Roster stores a tenant's diary records and the relations between them.
// Batch writes are atomic: a failed batch leaves the roster as it was.
type Roster interface {
	UpsertPersons(ctx context.Context, tenantID string, ps []Person) error
	DeletePersons(ctx context.Context, tenantID string, externalIDs []string) error
	// LockPersons holds the records (those that exist) until ctx's
	// transaction ends: nothing can be linked or related to them
	// meanwhile, so that unlinking and then deleting a record cannot miss
	// a link a login makes in between. Outside a transaction it does
	// nothing.
	LockPersons(ctx context.Context, tenantID string, externalIDs []string) error
	GetPerson(ctx context.Context, tenantID, externalID string) (Person, error)
	// FindPersons returns the records whose blind index of the given kind
	// equals value, at most limit of them (0: no limit).
	FindPersons(ctx context.Context, tenantID string, kind IndexKind, value string, limit int) ([]Person, error)
	CountPersons(ctx context.Context, tenantID string) (int, error)

	// UpsertRelations adds relations; both ends must exist, the parent a
	// record of role parent and the student one of role student
	// (ErrInvalid otherwise).
	UpsertRelations(ctx context.Context, tenantID string, rs []Relation) error
	DeleteRelations(ctx context.Context, tenantID string, rs []Relation) error
	// RelationsOf lists the relations in which the record is parent or student.
	RelationsOf(ctx context.Context, tenantID, externalID string) ([]Relation, error)
}

// ValidatePersons checks what every store requires of a batch of roster
// records: an external id, a known role, no id twice, and strings a store
// can keep (CheckText: valid UTF-8, no control characters, the maximum
// lengths above). A violation is a *FieldError naming the field as the
// roster row does.
func ValidatePersons(ps []Person) error {
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		if err := ValidatePerson(p); err != nil {
			return err
		}
		if seen[p.ExternalID] {
			return fmt.Errorf("%w: person %q twice in one batch", ErrInvalid, p.ExternalID)
		}
		seen[p.ExternalID] = true
	}
	return nil
}

// ValidatePerson checks one roster record as ValidatePersons does.
func ValidatePerson(p Person) error {
	if p.ExternalID == "" {
		return required("external_id")
	}
	if err := check(CheckID("external_id", p.ExternalID), CheckID("tenant_id", p.TenantID)); err != nil {
		return err
	}
	if !p.Role.Valid() {
		return &FieldError{Field: "role", Problem: "must be student, parent, teacher or staff"}
	}
	err := check(
		CheckText("last_name", p.LastName, MaxNameLength),
		CheckText("first_name", p.FirstName, MaxNameLength),
		CheckText("middle_name", p.MiddleName, MaxNameLength),
		CheckText("snils", p.SNILS, MaxDocumentLength),
		CheckText("school", p.School, MaxSchoolLength),
		CheckText("class", p.Class, MaxClassLength),
		CheckID("index.snils", p.Index.SNILS),
		CheckID("index.birth_cert", p.Index.BirthCert),
		CheckID("index.birth_date", p.Index.BirthDate),
		CheckID("index.name_birth", p.Index.NameBirth),
		checkList("flags", p.Flags, MaxWordLength, MaxContacts),
	)
	if err != nil {
		return err
	}
	if c := p.BirthCert; c != nil {
		err := check(
			CheckText("birth_cert.type", c.Type, MaxDocumentLength),
			CheckText("birth_cert.series", c.Series, MaxDocumentLength),
			CheckText("birth_cert.number", c.Number, MaxDocumentLength),
			CheckText("birth_cert.act_no", c.ActNo, MaxDocumentLength),
		)
		if err != nil {
			return err
		}
	}
	if len(p.Contacts) > MaxContacts {
		return &FieldError{Field: "contacts", Problem: fmt.Sprintf("has more than %d items", MaxContacts)}
	}
	for i, c := range p.Contacts {
		err := check(
			CheckText(fmt.Sprintf("contacts[%d].type", i), c.Type, MaxWordLength),
			CheckText(fmt.Sprintf("contacts[%d].value", i), c.Value, MaxContactLength),
		)
		if err != nil {
			return err
		}
	}
	return nil
}

// ValidateRelations checks what every store requires of relations: both
// ends named by valid ids, and a kind a store can keep.
func ValidateRelations(rs []Relation) error {
	for _, r := range rs {
		switch {
		case r.Parent == "":
			return required("parent")
		case r.Student == "":
			return required("student")
		}
		err := check(CheckID("parent", r.Parent), CheckID("student", r.Student),
			CheckText("kind", r.Kind, MaxWordLength), CheckID("tenant_id", r.TenantID))
		if err != nil {
			return err
		}
	}
	return nil
}
