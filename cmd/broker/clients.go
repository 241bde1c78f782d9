package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/diarybroker/broker/pkg/admin"
	"github.com/diarybroker/broker/pkg/oauth"
)

// ClientsCmd is `broker clients`.
type ClientsCmd struct {
	Create       ClientsCreateCmd       `cmd:"" help:"Create a client; prints its secret once."`
	List         ClientsListCmd         `cmd:"" help:"List clients."`
	Show         ClientsShowCmd         `cmd:"" help:"Print every setting of a client (its secrets as dates only)."`
	Update       ClientsUpdateCmd       `cmd:"" help:"Change a client's settings (only those given; a list given replaces the client's)."`
	RotateSecret ClientsRotateSecretCmd `cmd:"" name:"rotate-secret" help:"Give a client a new secret; the old one keeps working for --grace."`
	Disable      ClientsDisableCmd      `cmd:"" help:"Stop a client: its tokens stop working, its logins are refused."`
	Enable       ClientsEnableCmd       `cmd:"" help:"Undo clients disable."`
	Delete       ClientsDeleteCmd       `cmd:"" help:"Delete a client."`
}

// clientFlag is the flag of a client setting, for messages.
func clientFlag(setting string) string {
	return map[string]string{"name": "--name", "redirect_uris": "--redirect-uri", "post_logout_redirect_uris": "--post-logout-redirect-uri",
		"grant_types": "--grant", "scopes": "--scope", "pkce": "--pkce", "id_token_alg": "--id-token-alg", "tenant_id": "--tenant",
		"grace_seconds": "--grace"}[setting]
}

// ClientsCreateCmd is `broker clients create`.
type ClientsCreateCmd struct {
	StoreFlags
	Tenant   string `help:"Tenant the client belongs to (required unless --operator)."`
	Operator bool   `help:"An operator-level API client: it belongs to no tenant, and its admin scope reaches every tenant (--grant client_credentials --scope admin)."`
	ID       string `help:"Client id; default: generated."`
	Public   bool   `help:"A public client (no secret; PKCE only)."`
	JSON     bool   `help:"Print the result as JSON."`
	admin.ClientSettings
}

// Run creates a client.
func (c *ClientsCreateCmd) Run(g *Globals) error {
	// Refused before the database is opened: nothing could store them.
	for _, u := range append(append([]string(nil), c.RedirectURIs...), c.PostLogoutRedirectURIs...) {
		if err := oauth.CheckRedirectURI(u); err != nil {
			return err
		}
	}
	if c.Tenant == "" && !c.Operator {
		return fmt.Errorf("--tenant is required (or --operator for an operator-level API client)")
	}
	return withAdmin(g, c.StoreFlags, clientFlag, func(s *admin.Service) error {
		cl, secret, err := s.CreateClient(g.Ctx, operatorActor, admin.NewClient{ID: c.ID, Tenant: c.Tenant, Operator: c.Operator,
			Public: c.Public, Settings: c.ClientSettings})
		if err != nil {
			return err
		}
		if c.JSON {
			return json.NewEncoder(os.Stdout).Encode(map[string]any{"client_id": cl.ID, "client_secret": secret, "tenant": cl.TenantID})
		}
		fmt.Printf("client_id:     %s\n", cl.ID)
		if secret != "" {
			fmt.Printf("client_secret: %s   (shown once; store it now)\n", secret)
		}
		return nil
	})
}

// ClientsListCmd is `broker clients list`.
type ClientsListCmd struct {
	StoreFlags
	Tenant string `help:"Only this tenant's clients."`
}

// Run lists clients.
func (c *ClientsListCmd) Run(g *Globals) error {
	return withAdmin(g, c.StoreFlags, nil, func(s *admin.Service) error {
		list, err := s.Clients(g.Ctx, operatorActor, c.Tenant)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tTENANT\tSTATE\tGRANTS\tSCOPES\tREDIRECT URIS")
		for _, cl := range list {
			tenant, state := cl.TenantID, "enabled"
			if cl.Operator() {
				tenant = "(operator)"
			}
			if cl.Disabled() {
				state = "disabled"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", cl.ID, tenant, state, strings.Join(cl.GrantTypes, ","), strings.Join(cl.Scopes, " "),
				strings.Join(cl.RedirectURIs, " "))
		}
		return w.Flush()
	})
}

// ClientsShowCmd is `broker clients show ID`.
type ClientsShowCmd struct {
	StoreFlags
	ID   string `arg:"" help:"Client id."`
	JSON bool   `help:"Print the settings as JSON (as the admin API answers them)."`
}

// Run prints every setting of the client.
func (c *ClientsShowCmd) Run(g *Globals) error {
	return withAdmin(g, c.StoreFlags, nil, func(s *admin.Service) error {
		cl, err := s.Client(g.Ctx, operatorActor, c.ID)
		if err != nil {
			return err
		}
		return printView(admin.ViewOfClient(cl), c.JSON)
	})
}

// ClientsUpdateCmd is `broker clients update ID`.
type ClientsUpdateCmd struct {
	StoreFlags
	ID string `arg:"" help:"Client id."`
	admin.ClientSettings
}

// Run changes the settings given, audited with what changed.
func (c *ClientsUpdateCmd) Run(g *Globals) error {
	return withAdmin(g, c.StoreFlags, clientFlag, func(s *admin.Service) error {
		cl, err := s.UpdateClient(g.Ctx, operatorActor, c.ID, c.ClientSettings)
		if err != nil {
			return err
		}
		fmt.Printf("client %s updated (within 10 s on running brokers)\n", cl.ID)
		return printView(admin.ViewOfClient(cl), false)
	})
}

// ClientsRotateSecretCmd is `broker clients rotate-secret ID`.
type ClientsRotateSecretCmd struct {
	StoreFlags
	ID    string        `arg:"" help:"Client id."`
	Grace time.Duration `default:"24h" help:"How long the old secret keeps working beside the new one (0: not at all; at most 720h)."`
}

// Run rotates the secret and prints the new one once.
func (c *ClientsRotateSecretCmd) Run(g *Globals) error {
	return withAdmin(g, c.StoreFlags, clientFlag, func(s *admin.Service) error {
		cl, secret, err := s.RotateSecret(g.Ctx, operatorActor, c.ID, c.Grace)
		if err != nil {
			return err
		}
		fmt.Printf("client_id:     %s\nclient_secret: %s   (shown once; store it now)\n", cl.ID, secret)
		if cl.PreviousSecretUntil.IsZero() {
			fmt.Println("the old secret no longer works")
		} else {
			fmt.Printf("the old secret keeps working until %s\n", cl.PreviousSecretUntil.Format(time.RFC3339))
		}
		return nil
	})
}

// ClientsDisableCmd is `broker clients disable ID`.
type ClientsDisableCmd struct {
	StoreFlags
	ID string `arg:"" help:"Client id."`
}

// Run disables the client.
func (c *ClientsDisableCmd) Run(g *Globals) error {
	return withAdmin(g, c.StoreFlags, nil, func(s *admin.Service) error {
		cl, err := s.DisableClient(g.Ctx, operatorActor, c.ID)
		if err != nil {
			return err
		}
		fmt.Printf("client %s disabled: its tokens stop working and its logins are refused (within 10 s on running brokers); "+
			"`broker clients enable %s` undoes it\n", cl.ID, cl.ID)
		return nil
	})
}

// ClientsEnableCmd is `broker clients enable ID`.
type ClientsEnableCmd struct {
	StoreFlags
	ID string `arg:"" help:"Client id."`
}

// Run enables the client.
func (c *ClientsEnableCmd) Run(g *Globals) error {
	return withAdmin(g, c.StoreFlags, nil, func(s *admin.Service) error {
		cl, err := s.EnableClient(g.Ctx, operatorActor, c.ID)
		if err != nil {
			return err
		}
		fmt.Printf("client %s enabled\n", cl.ID)
		return nil
	})
}

// ClientsDeleteCmd is `broker clients delete ID`.
type ClientsDeleteCmd struct {
	StoreFlags
	ID string `arg:"" help:"Client id."`
}

// Run deletes a client.
func (c *ClientsDeleteCmd) Run(g *Globals) error {
	return withAdmin(g, c.StoreFlags, nil, func(s *admin.Service) error {
		if err := s.DeleteClient(g.Ctx, operatorActor, c.ID); err != nil {
			return err
		}
		fmt.Printf("client %s deleted\n", c.ID)
		return nil
	})
}
