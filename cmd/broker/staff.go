package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// StaffCmd is `broker staff`: who may sign in to the support console
// (/support) and what they see there (docs/support.md).
type StaffCmd struct {
	Grant  StaffGrantCmd  `cmd:"" help:"Let a person into the support console, or change their role and schools there."`
	List   StaffListCmd   `cmd:"" help:"List staff grants (SNILS masked)."`
	Revoke StaffRevokeCmd `cmd:"" help:"Remove a person's staff grant."`
}

// cliActor is the audit actor of the CLI's changes.
const cliActor = "broker-cli"

// StaffGrantCmd is `broker staff grant`.
type StaffGrantCmd struct {
	StoreFlags
	Tenant  string   `help:"Tenant of the grant (not for --role operator)." placeholder:"TENANT"`
	SNILS   string   `name:"snils" required:"" help:"The person's SNILS (their Госуслуги account must carry it)." placeholder:"SNILS"`
	Role    string   `required:"" enum:"school_admin,tenant_support,operator" help:"school_admin (records of their schools), tenant_support (the whole tenant) or operator (every tenant)."`
	Schools []string `name:"school" help:"A school of a school_admin, spelled as the roster's school field; repeat for several." placeholder:"SCHOOL"`
}

// checkStaffTenant refuses a tenant with an operator grant and none with
// the other roles, before the database is opened.
func checkStaffTenant(role, tenant string) error {
	if (role == string(store.StaffOperator)) != (tenant == "") {
		if tenant == "" {
			return errors.New("--tenant is required, except for --role operator")
		}
		return errors.New("an operator grant covers every tenant: give no --tenant")
	}
	return nil
}

// Run makes the grant with an audit entry and prints it.
func (c *StaffGrantCmd) Run(g *Globals) error {
	if err := checkStaffTenant(c.Role, c.Tenant); err != nil {
		return err
	}
	if (c.Role == string(store.StaffSchoolAdmin)) != (len(c.Schools) > 0) {
		return errors.New("--school is required with --role school_admin, and only with it")
	}
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	gr := &support.Grants{Store: st.Store, Index: st.PII}
	out, err := gr.Grant(g.Ctx, support.GrantRequest{TenantID: c.Tenant, SNILS: c.SNILS, Role: store.StaffRole(c.Role), Schools: c.Schools, By: cliActor})
	if err != nil {
		return err
	}
	fmt.Printf("staff grant %s: %s %s%s\n", out.ID, out.SNILSMasked, out.Role, scopeText(out))
	return nil
}

func scopeText(g store.StaffGrant) string {
	switch {
	case g.TenantID == "":
		return " of every tenant"
	case len(g.Schools) > 0:
		return " in " + g.TenantID + ": " + strings.Join(g.Schools, "; ")
	}
	return " in " + g.TenantID
}

// StaffListCmd is `broker staff list`.
type StaffListCmd struct {
	StoreFlags
	Tenant string `help:"Only this tenant's grants (default: every grant, the operators' too)." placeholder:"TENANT"`
}

// Run prints the grants.
func (c *StaffListCmd) Run(g *Globals) error {
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.Store.ListStaffGrants(g.Ctx, c.Tenant)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tTENANT\tROLE\tSNILS\tSCHOOLS\tESIA BOUND\tGRANTED BY")
	for _, gr := range list {
		tenant := gr.TenantID
		if tenant == "" {
			tenant = "*"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%v\t%s\n", gr.ID, tenant, gr.Role, gr.SNILSMasked, strings.Join(gr.Schools, "; "), gr.ESIAOID != "", gr.GrantedBy)
	}
	return w.Flush()
}

// StaffRevokeCmd is `broker staff revoke`.
type StaffRevokeCmd struct {
	StoreFlags
	Tenant string `help:"Tenant of the grant (none for an operator grant)." placeholder:"TENANT"`
	SNILS  string `name:"snils" help:"The person's SNILS." xor:"who" required:"" placeholder:"SNILS"`
	ID     string `name:"id" help:"The grant's id (broker staff list)." xor:"who" required:"" placeholder:"ID"`
}

// Run removes the grant with an audit entry. Sessions already open end at
// their next request (the console re-reads the grant).
func (c *StaffRevokeCmd) Run(g *Globals) error {
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	gr := &support.Grants{Store: st.Store, Index: st.PII}
	id := c.ID
	if c.SNILS != "" {
		revoked, err := gr.RevokeSNILS(g.Ctx, c.Tenant, c.SNILS, cliActor)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no staff grant of this SNILS in %s", tenantName(c.Tenant))
		}
		if err != nil {
			return err
		}
		id = revoked.ID
	} else if err := gr.Revoke(g.Ctx, c.Tenant, c.ID, cliActor); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no staff grant %s in %s", c.ID, tenantName(c.Tenant))
	} else if err != nil {
		return err
	}
	fmt.Printf("staff grant %s revoked\n", id)
	return nil
}

func tenantName(t string) string {
	if t == "" {
		return "the operators' grants"
	}
	return "tenant " + t
}
