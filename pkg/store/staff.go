package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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

// Limits of a staff grant's strings, checked by ValidateStaffGrant.
const (
	MaxStaffSchools     = 100 // schools of one school_admin grant
	MaxStaffSchoolLen   = 256 // characters of a school's name, as the roster spells it
	MaxStaffIDLen       = 64  // grant id, tenant id, ESIA oid, granted_by
	MaxStaffSNILSMasked = 32
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
// that are valid UTF-8 without control characters, within the Max* limits.
// It returns the grant with its schools trimmed, sorted and without
// repeats.
func ValidateStaffGrant(g StaffGrant) (StaffGrant, error) {
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
	if g.ID == "" {
		return g, fmt.Errorf("%w: staff grant id is empty", ErrInvalid)
	}
	if len(g.SNILSIndex) != 64 || strings.Trim(g.SNILSIndex, "0123456789abcdef") != "" {
		return g, fmt.Errorf("%w: staff grant SNILS index is not a blind index", ErrInvalid)
	}
	if len(g.Schools) > MaxStaffSchools {
		return g, fmt.Errorf("%w: more than %d schools in one grant", ErrInvalid, MaxStaffSchools)
	}
	fields := []struct {
		name, value string
		max         int
	}{
		{"id", g.ID, MaxStaffIDLen}, {"tenant", g.TenantID, MaxStaffIDLen}, {"esia_oid", g.ESIAOID, MaxStaffIDLen},
		{"granted_by", g.GrantedBy, MaxStaffIDLen}, {"snils_masked", g.SNILSMasked, MaxStaffSNILSMasked},
	}
	for _, s := range g.Schools {
		fields = append(fields, struct {
			name, value string
			max         int
		}{"school", s, MaxStaffSchoolLen})
	}
	for _, f := range fields {
		if err := checkStaffString(f.value, f.max); err != nil {
			return g, fmt.Errorf("%w: staff grant %s %v", ErrInvalid, f.name, err)
		}
	}
	return g, nil
}

// checkStaffString refuses invalid UTF-8, control characters (NUL among
// them) and strings longer than max characters.
func checkStaffString(s string, max int) error {
	if !utf8.ValidString(s) {
		return errors.New("is not valid UTF-8")
	}
	if utf8.RuneCountInString(s) > max {
		return fmt.Errorf("is longer than %d characters", max)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return errors.New("has a control character")
	}
	return nil
}
