package support

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
)

// Grants makes, lists and revokes the support console's staff grants (the
// CLI's `broker staff` and /api/v1/staff), each change audited, and finds
// the grants of a person signing in.
type Grants struct {
	Store interface {
		store.Staff
		store.Audit
		store.Transactor
	}
	Index linking.Indexer
	Now   func() time.Time
}

// GrantRequest is a grant to make: who (by SNILS), where and as what.
type GrantRequest struct {
	TenantID string // "" for an operator
	SNILS    string
	Role     store.StaffRole
	Schools  []string
	// By is who makes the grant: "broker-cli" or an API client id; it is the
	// audit entry's actor.
	By string
}

// GrantView is a staff grant as the CLI and the API show it: the SNILS
// masked, the ESIA account only as bound or not.
type GrantView struct {
	ID          string    `json:"id"`
	Tenant      string    `json:"tenant,omitempty"`
	Role        string    `json:"role"`
	Schools     []string  `json:"schools"`
	SNILSMasked string    `json:"snils_masked"`
	ESIABound   bool      `json:"esia_bound"`
	GrantedBy   string    `json:"granted_by,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ViewOfGrant is g as the CLI and the API show it.
func ViewOfGrant(g store.StaffGrant) GrantView {
	schools := g.Schools
	if schools == nil {
		schools = []string{}
	}
	return GrantView{ID: g.ID, Tenant: g.TenantID, Role: string(g.Role), Schools: schools, SNILSMasked: g.SNILSMasked,
		ESIABound: g.ESIAOID != "", GrantedBy: g.GrantedBy, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}
}

// snilsIndex normalises a SNILS given by a person and returns its blind
// index and masked form.
func (g *Grants) snilsIndex(snils string) (string, string, error) {
	n, _, err := linking.NormaliseSNILS(snils)
	if err != nil || n == "" {
		return "", "", fmt.Errorf("%w: snils must be 11 digits", ErrBadQuery)
	}
	return g.Index.Index(store.IndexSNILS, n), linking.MaskSNILS(n), nil
}

// Grant makes the grant, or changes the role and schools of the person's
// grant in the tenant, with an audit entry in the same transaction.
func (g *Grants) Grant(ctx context.Context, r GrantRequest) (store.StaffGrant, error) {
	rec, err := g.record(r)
	if err != nil {
		return store.StaffGrant{}, err
	}
	var out store.StaffGrant
	err = g.Store.InTx(ctx, func(ctx context.Context) error {
		out, err = g.Store.PutStaffGrant(ctx, rec)
		if err != nil {
			return err
		}
		return g.audit(ctx, r.By, "grant_staff", out)
	})
	if err != nil {
		return store.StaffGrant{}, fmt.Errorf("support: grant: %w", err)
	}
	return out, nil
}

// Seed makes the grant as Grant does but without an audit entry: dev
// mode's fixture grants, which no one made.
func (g *Grants) Seed(ctx context.Context, r GrantRequest) (store.StaffGrant, error) {
	rec, err := g.record(r)
	if err != nil {
		return store.StaffGrant{}, err
	}
	return g.Store.PutStaffGrant(ctx, rec)
}

// record is the grant r asks for, the SNILS turned into its blind index
// and masked form.
func (g *Grants) record(r GrantRequest) (store.StaffGrant, error) {
	ix, masked, err := g.snilsIndex(r.SNILS)
	if err != nil {
		return store.StaffGrant{}, err
	}
	return store.StaffGrant{ID: newGrantID(), TenantID: r.TenantID, Role: r.Role, Schools: r.Schools,
		SNILSIndex: ix, SNILSMasked: masked, GrantedBy: r.By}, nil
}

// Revoke removes grant id of tenantID ("" for an operator grant), audited;
// store.ErrNotFound when the tenant has no such grant.
func (g *Grants) Revoke(ctx context.Context, tenantID, id, by string) error {
	return g.Store.InTx(ctx, func(ctx context.Context) error {
		grants, err := g.Store.ListStaffGrants(ctx, tenantID)
		if err != nil {
			return err
		}
		for _, gr := range grants {
			if gr.ID == id && gr.TenantID == tenantID {
				if err := g.Store.DeleteStaffGrant(ctx, tenantID, id); err != nil {
					return err
				}
				return g.audit(ctx, by, "revoke_staff", gr)
			}
		}
		return store.ErrNotFound
	})
}

// RevokeSNILS removes the grant of the person with this SNILS in tenantID
// ("" for their operator grant) and returns it.
func (g *Grants) RevokeSNILS(ctx context.Context, tenantID, snils, by string) (store.StaffGrant, error) {
	ix, _, err := g.snilsIndex(snils)
	if err != nil {
		return store.StaffGrant{}, err
	}
	grants, err := g.Store.StaffGrantsBySNILS(ctx, ix)
	if err != nil {
		return store.StaffGrant{}, err
	}
	for _, gr := range grants {
		if gr.TenantID == tenantID {
			return gr, g.Revoke(ctx, tenantID, gr.ID, by)
		}
	}
	return store.StaffGrant{}, store.ErrNotFound
}

// ErrNoGrant means the person signing in has no staff grant (or only
// grants bound to another ESIA account).
var ErrNoGrant = errors.New("support: no staff grant")

// SignIn returns the grants of the person with this SNILS who signed in
// with ESIA account oid, binding the grants not bound yet to oid. A grant
// bound to another account is left out (an ESIA account made anew needs
// its grant made anew). ErrNoGrant when none remains.
func (g *Grants) SignIn(ctx context.Context, oid, snils string) ([]store.StaffGrant, error) {
	ix, _, err := g.snilsIndex(snils)
	if err != nil {
		return nil, ErrNoGrant
	}
	grants, err := g.Store.StaffGrantsBySNILS(ctx, ix)
	if err != nil {
		return nil, fmt.Errorf("support: staff sign-in: %w", err)
	}
	var out []store.StaffGrant
	for _, gr := range grants {
		bound, err := g.Store.BindStaffGrant(ctx, gr.ID, oid)
		if errors.Is(err, store.ErrStaffBound) || errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("support: staff sign-in: %w", err)
		}
		out = append(out, bound)
	}
	if len(out) == 0 {
		return nil, ErrNoGrant
	}
	return out, nil
}

func (g *Grants) audit(ctx context.Context, actor, action string, gr store.StaffGrant) error {
	detail, _ := json.Marshal(map[string]any{"role": gr.Role, "schools": gr.Schools, "snils_masked": gr.SNILSMasked})
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	tenant := gr.TenantID
	if tenant == "" {
		tenant = OperatorAuditTenant
	}
	return g.Store.AppendAudit(ctx, store.AuditEntry{At: now().UTC(), TenantID: tenant, Actor: actor, Action: action,
		Target: gr.ID, Detail: detail})
}

// OperatorAuditTenant is the audit log's tenant of what concerns no one
// tenant: operator grants and the operators' reads.
const OperatorAuditTenant = "*"

// newGrantID is a random grant id: "stf-" and 26 base32 characters.
func newGrantID() string { return "stf-" + strings.ToLower(rand.Text()) }
