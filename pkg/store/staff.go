package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// StaffRole is what a staff grant lets its holder see in the support
// console (/support).
type StaffRole string

// The staff roles, narrowest first.
const (
	// StaffSchoolAdmin sees the records of their schools in one tenant and
	// the login attempts whose candidates are in them.
	StaffSchoolAdmin StaffRole = "school_admin"
	// StaffTenantSupport sees the whole of one tenant.
	StaffTenantSupport StaffRole = "tenant_support"
	// StaffOperator sees every tenant (the broker's operator); its grant
	// has no tenant.
	StaffOperator StaffRole = "operator"
)

// Valid reports whether r is one of the staff roles.
func (r StaffRole) Valid() bool {
	switch r {
	case StaffSchoolAdmin, StaffTenantSupport, StaffOperator:
		return true
	}
	return false
}

// Limits of a staff grant beyond those of fields.go: a school is as long
// as the roster's school field may be (MaxSchoolLength), ids as any id
// (MaxIDLength).
const (
	MaxStaffSchools = 100 // schools of one school_admin grant
)

// StaffGrant lets one person — known by the blind index of their SNILS,
// and from their first sign-in by their ESIA oid as well — into the support
// console with a role. The SNILS itself is never stored: only its blind
// index (keyed HMAC, as the roster's) and a masked form for lists.
// One person has at most one grant per tenant (and one operator grant).
type StaffGrant struct {
	ID       string
	TenantID string // "" for an operator grant
	Role     StaffRole
	// Schools are the schools of a school_admin, spelled as the roster's
	// school field; empty for the other roles.
	Schools []string
	// SNILSIndex is the blind index (store.IndexSNILS) of the normalised
	// SNILS; SNILSMasked is its masked form (***-***-893 44).
	SNILSIndex  string
	SNILSMasked string
	// ESIAOID is the ESIA account the grant was bound to at its first
	// sign-in; "" until then. Another account with the same SNILS is
	// refused from then on.
	ESIAOID   string
	GrantedBy string // who made or last changed the grant: "cli", an API client id
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Scope is what the grant lets its holder see.
func (g StaffGrant) Scope() Scope {
	return Scope{Role: g.Role, TenantID: g.TenantID, Schools: slices.Clone(g.Schools)}
}

// ErrStaffBound means a staff grant is bound to another ESIA account than
// the one signing in.
var ErrStaffBound = errors.New("store: staff grant bound to another ESIA account")

// Staff stores the support console's staff grants.
type Staff interface {
	// PutStaffGrant creates the grant of the person g.SNILSIndex in
	// g.TenantID, or, when they have one there already, replaces its role,
	// schools, masked SNILS and GrantedBy, keeping its id, ESIA binding and
	// creation time. It returns the grant as stored.
	PutStaffGrant(ctx context.Context, g StaffGrant) (StaffGrant, error)
	// ListStaffGrants lists the grants of a tenant, or every grant (the
	// operators' and every tenant's) when tenantID is "", ordered by
	// tenant, then creation.
	ListStaffGrants(ctx context.Context, tenantID string) ([]StaffGrant, error)
	// DeleteStaffGrant removes grant id of tenantID ("" for an operator
	// grant); ErrNotFound when there is none there.
	DeleteStaffGrant(ctx context.Context, tenantID, id string) error
	// StaffGrantsBySNILS lists every grant of the person with this SNILS
	// blind index, in every tenant.
	StaffGrantsBySNILS(ctx context.Context, snilsIndex string) ([]StaffGrant, error)
	// BindStaffGrant binds grant id to the ESIA account oid when it is not
	// bound yet, and returns it; ErrStaffBound when it is bound to another
	// account, ErrNotFound when there is no such grant.
	BindStaffGrant(ctx context.Context, id, oid string) (StaffGrant, error)
}

// Scope is what a staff member may see in the console: every console query
// of the store takes one and filters in the query itself, so that anything
// outside it is ErrNotFound exactly like something that does not exist.
type Scope struct {
	Role     StaffRole
	TenantID string   // "" for an operator
	Schools  []string // a school_admin's schools
}

// Validate checks that the scope is one a grant can give.
func (sc Scope) Validate() error {
	switch sc.Role {
	case StaffOperator:
		if sc.TenantID != "" || len(sc.Schools) > 0 {
			return fmt.Errorf("%w: an operator's scope has neither tenant nor schools", ErrInvalid)
		}
	case StaffTenantSupport:
		if sc.TenantID == "" || len(sc.Schools) > 0 {
			return fmt.Errorf("%w: tenant_support needs a tenant and no schools", ErrInvalid)
		}
	case StaffSchoolAdmin:
		if sc.TenantID == "" || len(sc.Schools) == 0 {
			return fmt.Errorf("%w: school_admin needs a tenant and at least one school", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: unknown staff role %q", ErrInvalid, sc.Role)
	}
	return nil
}

// CoversTenant reports whether the scope reaches into tenantID at all.
func (sc Scope) CoversTenant(tenantID string) bool {
	return sc.Role == StaffOperator || (tenantID != "" && sc.TenantID == tenantID)
}

// CoversSchool reports whether a record of school in tenantID is in scope.
func (sc Scope) CoversSchool(tenantID, school string) bool {
	if !sc.CoversTenant(tenantID) {
		return false
	}
	return sc.Role != StaffSchoolAdmin || slices.Contains(sc.Schools, school)
}

// Console is the support console's read side: every query within a scope.
type Console interface {
	// AttemptInScope returns the attempt with its events when it is in sc:
	// any attempt for an operator, one of sc's tenant for tenant_support,
	// and for a school_admin one that named (store.RecordsNamedIn) a
	// record of one of their schools. Otherwise ErrNotFound.
	AttemptInScope(ctx context.Context, sc Scope, ref string) (Attempt, error)
	// PersonInScope returns the roster record when it is in sc (a
	// school_admin: a record of their schools); otherwise ErrNotFound.
	PersonInScope(ctx context.Context, sc Scope, tenantID, externalID string) (Person, error)
}

// ValidateStaffGrant checks what every store requires of a grant: a role
// and a scope it can have, a 64-hex-digit SNILS blind index, and strings
// as fields.go has them (valid UTF-8, no control characters, ids within
// MaxIDLength, schools within MaxSchoolLength, at most MaxStaffSchools of
// them); a refused string is a *FieldError naming the field. It returns
// the grant with its schools trimmed, sorted and without repeats.
func ValidateStaffGrant(g StaffGrant) (StaffGrant, error) {
	if err := check(CheckID("id", g.ID), CheckID("tenant", g.TenantID), CheckID("esia_oid", g.ESIAOID),
		CheckID("granted_by", g.GrantedBy), CheckText("snils_masked", g.SNILSMasked, MaxDocumentLength),
		checkList("schools", g.Schools, MaxSchoolLength, MaxStaffSchools)); err != nil {
		return g, err
	}
	if g.ID == "" {
		return g, required("id")
	}
	if !g.Role.Valid() {
		return g, fmt.Errorf("%w: unknown staff role %q", ErrInvalid, g.Role)
	}
	var schools []string
	for _, s := range g.Schools {
		if s = strings.TrimSpace(s); s != "" {
			schools = append(schools, s)
		}
	}
	slices.Sort(schools)
	g.Schools = slices.Compact(schools)
	if err := g.Scope().Validate(); err != nil {
		return g, err
	}
	if len(g.SNILSIndex) != 64 || strings.Trim(g.SNILSIndex, "0123456789abcdef") != "" {
		return g, &FieldError{Field: "snils_index", Problem: "is not a blind index"}
	}
	return g, nil
}

// CheckStaffBind checks what every store requires of Staff.BindStaffGrant's
// arguments: an ESIA oid (ErrInvalid when empty) that a store can keep
// (*FieldError otherwise), and an id a grant can have — ErrNotFound for
// any other, without asking the storage.
func CheckStaffBind(id, oid string) error {
	if oid == "" {
		return fmt.Errorf("%w: empty ESIA oid", ErrInvalid)
	}
	if err := CheckID("esia_oid", oid); err != nil {
		return err
	}
	if !ValidKeys(id) {
		return ErrNotFound
	}
	return nil
}

// ValidScope reports whether sc is a scope a grant can give and its
// strings could be stored (ValidKeys); the console's queries answer any
// other as ErrNotFound without asking the database.
func ValidScope(sc Scope) bool {
	return sc.Validate() == nil && ValidKeys(sc.TenantID) && checkList("schools", sc.Schools, MaxSchoolLength, MaxStaffSchools) == nil
}
