package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/diarybroker/broker/pkg/admin"
	"github.com/diarybroker/broker/pkg/oauth"
	"github.com/diarybroker/broker/pkg/server"
	"github.com/diarybroker/broker/pkg/store"
)

// TenantsCmd is `broker tenants`.
type TenantsCmd struct {
	Create  TenantsCreateCmd  `cmd:"" help:"Create a tenant (the operator's name and address are required)."`
	List    TenantsListCmd    `cmd:"" help:"List tenants."`
	Show    TenantsShowCmd    `cmd:"" help:"Print every setting of a tenant."`
	Update  TenantsUpdateCmd  `cmd:"" help:"Change a tenant's settings (only those given), audited with the settings before and after."`
	Disable TenantsDisableCmd `cmd:"" help:"Suspend a tenant: its logins end on a page saying so, its tokens and clients stop working."`
	Enable  TenantsEnableCmd  `cmd:"" help:"Undo tenants disable."`
	Delete  TenantsDeleteCmd  `cmd:"" help:"Destroy a disabled tenant with all its data (152-ФЗ), leaving a record of the deletion."`
}

// operatorActor is who the operator commands act as: the operator.
var operatorActor = admin.Actor{ID: cliActor}

// adminService is the operator's actions on the storage of a command.
func adminService(st *server.Storage) *admin.Service {
	return &admin.Service{Store: st.Store}
}

// withAdmin opens the storage and runs fn with the admin service on it;
// fn's errors name the command's flags (flagOf) instead of the API's
// setting names.
func withAdmin(g *Globals, f StoreFlags, flagOf func(setting string) string, fn func(s *admin.Service) error) error {
	st, err := openStorage(g, f)
	if err != nil {
		return err
	}
	defer st.Close()
	return cliError(fn(adminService(st)), flagOf)
}

// cliError says err in the command's words: each refused setting by its
// flag, one per line.
func cliError(err error, flagOf func(string) string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, admin.ErrNothingToUpdate) {
		return errors.New("nothing to update: give at least one setting (see --help)")
	}
	var lines []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var se *admin.SettingError
		if errors.As(e, &se) {
			name := se.Setting
			if flagOf != nil && flagOf(se.Setting) != "" {
				name = flagOf(se.Setting)
			}
			line := name + " " + se.Problem
			if errors.Is(se, oauth.ErrAPIScopeOnLoginClient) {
				// A person's token must never be an API credential (docs/oauth.md).
				line += "; make a separate API client for them: --grant client_credentials --scope …"
			}
			lines = append(lines, line)
			return
		}
		lines = append(lines, e.Error())
	}
	walk(err)
	return errors.New(strings.Join(lines, "\n"))
}

// TenantsCreateCmd is `broker tenants create ID`.
type TenantsCreateCmd struct {
	StoreFlags
	ID string `arg:"" help:"Tenant id (a short slug)."`
	admin.TenantSettings
	RefreshReuse *time.Duration `name:"refresh-reuse-interval" help:"How long after its rotation a refresh token presented again by its client gets the same new pair instead of revoking the grant (default 30s; 0 turns it off; at most 5m; whole seconds)." placeholder:"DURATION"`
}

// Run creates a tenant and prints its webhook secret once.
func (c *TenantsCreateCmd) Run(g *Globals) error {
	secs, err := reuseSeconds(c.RefreshReuse)
	if err != nil {
		return err
	}
	c.RefreshReuseSeconds = secs
	return withAdmin(g, c.StoreFlags, c.Flag, func(s *admin.Service) error {
		t, err := s.CreateTenant(g.Ctx, operatorActor, c.ID, c.TenantSettings)
		if err != nil {
			return err
		}
		fmt.Printf("tenant %s created\nwebhook secret (shown once): %s\n", t.ID, t.WebhookSecret)
		return nil
	})
}

// reuseSeconds checks a reuse interval flag and answers it in seconds.
func reuseSeconds(d *time.Duration) (*int, error) {
	switch {
	case d == nil:
		return nil, nil
	case *d < 0 || *d > store.MaxRefreshReuse:
		return nil, fmt.Errorf("--refresh-reuse-interval must be between 0 (off) and %s", store.MaxRefreshReuse)
	case *d%time.Second != 0:
		return nil, errors.New("--refresh-reuse-interval is kept in whole seconds")
	}
	secs := int(*d / time.Second)
	return &secs, nil
}

// TenantsListCmd is `broker tenants list`.
type TenantsListCmd struct{ StoreFlags }

// Run lists tenants.
func (c *TenantsListCmd) Run(g *Globals) error {
	return withAdmin(g, c.StoreFlags, nil, func(s *admin.Service) error {
		list, err := s.Tenants(g.Ctx, operatorActor)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tSTATE\tTIME ZONE\tNAME MATCHING\tWEBHOOK")
		for _, t := range list {
			state := "enabled"
			if t.Disabled() {
				state = "disabled"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\t%s\n", t.ID, t.DisplayName, state, t.TimeZone, t.Matching.AllowNameMatch, t.WebhookURL)
		}
		return w.Flush()
	})
}

// TenantsShowCmd is `broker tenants show ID`.
type TenantsShowCmd struct {
	StoreFlags
	ID   string `arg:"" help:"Tenant id."`
	JSON bool   `help:"Print the settings as JSON (as the admin API answers them)."`
}

// Run prints every setting of the tenant, one per line.
func (c *TenantsShowCmd) Run(g *Globals) error {
	return withAdmin(g, c.StoreFlags, nil, func(s *admin.Service) error {
		t, err := s.Tenant(g.Ctx, operatorActor, c.ID)
		if err != nil {
			return err
		}
		return printView(admin.ViewOfTenant(t), c.JSON)
	})
}

// printView prints a view (a struct or a map with JSON names) as JSON, or
// as one "name: value" line per setting in the view's order.
func printView(v any, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 1, ' ', 0)
	line := func(name string, val any) { fmt.Fprintf(w, "%s:\t%s\n", name, showValue(val)) }
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Struct:
		for i := range rv.NumField() {
			name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
			line(name, rv.Field(i).Interface())
		}
	case reflect.Map:
		keys := make([]string, 0, rv.Len())
		for _, k := range rv.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		for _, k := range keys {
			line(k, rv.MapIndex(reflect.ValueOf(k)).Interface())
		}
	}
	return w.Flush()
}

// showValue is a setting's value as `show` prints it.
func showValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case *time.Time:
		if x == nil {
			return "-"
		}
		return x.UTC().Format(time.RFC3339)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case []string:
		if len(x) == 0 {
			return "-"
		}
		return strings.Join(x, " ")
	case string:
		if x == "" {
			return `""`
		}
		return x
	}
	return fmt.Sprint(v)
}

// TenantsUpdateCmd is `broker tenants update TENANT`: it changes the
// settings given; the rest stays.
type TenantsUpdateCmd struct {
	StoreFlags
	ID string `arg:"" help:"Tenant id."`
	admin.TenantSettings
	RefreshReuse        *time.Duration `name:"refresh-reuse-interval" help:"How long after its rotation a refresh token presented again by its client gets the same new pair instead of revoking the grant (default 30s; 0 turns it off; at most 5m; whole seconds)." placeholder:"DURATION"`
	RotateWebhookSecret bool           `name:"rotate-webhook-secret" help:"Give the tenant a new webhook secret, printed once (the diary must switch to it: the old one stops at once)."`
}

// Run changes the settings in one transaction with an audit entry per
// group of settings (before and after), and prints the policy in force.
func (c *TenantsUpdateCmd) Run(g *Globals) error {
	secs, err := reuseSeconds(c.RefreshReuse)
	if err != nil {
		return err
	}
	c.RefreshReuseSeconds = secs
	return withAdmin(g, c.StoreFlags, c.Flag, func(s *admin.Service) error {
		u, err := s.UpdateTenant(g.Ctx, operatorActor, c.ID, c.TenantSettings, c.RotateWebhookSecret)
		if err != nil {
			return err
		}
		t, before := u.After, u.Before
		p := t.Consent
		fmt.Printf("tenant %s updated\n", c.ID)
		fmt.Printf("name %s; operator %s, %s; time zone %s; name matching %v; webhook %s\n", t.DisplayName, t.OperatorName,
			t.OperatorAddress, t.TimeZone, t.Matching.AllowNameMatch, showValue(t.WebhookURL))
		fmt.Printf("consent text version %s, term %d days (0: until withdrawn), requests open %d days, destroyed %d days after a withdrawal\n",
			p.TextVersion, p.TermDays, p.RequestDays, p.DestroyAfterDay)
		fmt.Printf("self-consent from %d, an own confirmed account from %d\npurpose: %s\n", p.AdultAge, p.OwnAccountAge, p.Purpose)
		fmt.Printf("refresh token reuse interval %s (0s: off)\n", t.Tokens.RefreshReuse())
		printRetention(t.Retention)
		if c.RotateWebhookSecret {
			fmt.Printf("new webhook secret (shown once): %s\n", t.WebhookSecret)
		}
		if old := before.Consent.TextVersion; old != "" && p.TextVersion != old {
			fmt.Printf("the consent text changed (%s → %s): everyone is asked to consent again at their next login\n", old, p.TextVersion)
		}
		return nil
	})
}

// TenantsDisableCmd is `broker tenants disable ID`.
type TenantsDisableCmd struct {
	StoreFlags
	ID string `arg:"" help:"Tenant id."`
}

// Run disables the tenant.
func (c *TenantsDisableCmd) Run(g *Globals) error {
	return withAdmin(g, c.StoreFlags, nil, func(s *admin.Service) error {
		t, err := s.DisableTenant(g.Ctx, operatorActor, c.ID)
		if err != nil {
			return err
		}
		fmt.Printf("tenant %s disabled since %s: logins end on «Сервис приостановлен», its tokens and clients stop working "+
			"(within 10 s on running brokers); `broker tenants enable %s` undoes it\n", t.ID, t.DisabledAt.Format(time.RFC3339), t.ID)
		return nil
	})
}

// TenantsEnableCmd is `broker tenants enable ID`.
type TenantsEnableCmd struct {
	StoreFlags
	ID string `arg:"" help:"Tenant id."`
}

// Run enables the tenant.
func (c *TenantsEnableCmd) Run(g *Globals) error {
	return withAdmin(g, c.StoreFlags, nil, func(s *admin.Service) error {
		t, err := s.EnableTenant(g.Ctx, operatorActor, c.ID)
		if err != nil {
			return err
		}
		fmt.Printf("tenant %s enabled: its logins, tokens and clients work again\n", t.ID)
		return nil
	})
}

// TenantsDeleteCmd is `broker tenants delete ID --yes`.
type TenantsDeleteCmd struct {
	StoreFlags
	ID  string `arg:"" help:"Tenant id (it must be disabled)."`
	Yes bool   `help:"Confirm: the tenant's roster, links, consents and their evidence, attempts, tokens, clients, webhook events, staff grants and audit entries are destroyed for good (export consents first: broker consents export)."`
}

// Run deletes the tenant and prints the record of it.
func (c *TenantsDeleteCmd) Run(g *Globals) error {
	if !c.Yes {
		return fmt.Errorf("deleting tenant %s destroys all its data for good; add --yes to confirm", c.ID)
	}
	return withAdmin(g, c.StoreFlags, nil, func(s *admin.Service) error {
		d, err := s.DeleteTenant(g.Ctx, operatorActor, c.ID)
		if err != nil {
			return err
		}
		fmt.Printf("tenant %s deleted at %s by %s; rows destroyed:\n", d.TenantID, d.At.Format(time.RFC3339), d.By)
		tables := make([]string, 0, len(d.Counts))
		for t := range d.Counts {
			tables = append(tables, t)
		}
		sort.Strings(tables)
		for _, t := range tables {
			fmt.Printf("  %-18s %d\n", t, d.Counts[t])
		}
		fmt.Println("the audit log keeps this record (action delete_tenant); it holds no personal data")
		return nil
	})
}
