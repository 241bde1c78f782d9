// Command broker is the ESIA account-linking and consent broker: its
// servers (dev, serve, esia-sim) and its operator commands (migrate,
// tenants, clients, roster, keys, janitor, gost). Run `broker --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // tenants name IANA zones; a slim container may have none

	"github.com/alecthomas/kong"
)

// CLI is the command line. Flags may come before or after arguments.
type CLI struct {
	Config string `help:"YAML settings file (flags override BROKER_* variables, which override the file)." type:"path" placeholder:"FILE"`

	Dev      DevCmd      `cmd:"" help:"Run the broker on its embedded default: memory store, built-in ESIA simulator, demo diary."`
	Serve    ServeCmd    `cmd:"" help:"Run the broker for production: PostgreSQL, Redis, real ESIA (or a gateway)."`
	Migrate  MigrateCmd  `cmd:"" help:"Apply, roll back or list database migrations."`
	EsiaSim  EsiaSimCmd  `cmd:"" name:"esia-sim" help:"Run the ESIA simulator on its own."`
	Tenants  TenantsCmd  `cmd:"" help:"Manage tenants (diary deployments)."`
	Clients  ClientsCmd  `cmd:"" help:"Manage OAuth clients of tenants."`
	Roster   RosterCmd   `cmd:"" help:"Load diary rosters."`
	Staff    StaffCmd    `cmd:"" help:"Manage who may sign in to the support console (/support) and what they see."`
	Support  SupportCmd  `cmd:"" help:"Explain a login attempt or find roster records, as the support console does."`
	Keys     KeysCmd     `cmd:"" help:"Rotate the broker's keys."`
	Consents ConsentsCmd `cmd:"" help:"Export consents and their evidence."`
	Janitor  JanitorCmd  `cmd:"" help:"Run the retention janitor once (for cron; the servers run it every minute)."`
	Gost     GostCmd     `cmd:"" help:"Sign, verify and hash with GOST, to check ESIA keys before going live."`
	Version  VersionCmd  `cmd:"" help:"Print the version."`
}

// Globals are passed to every command's Run.
type Globals struct {
	Ctx    context.Context
	Config string
}

func main() {
	var cli CLI
	parser, err := kong.New(&cli,
		kong.Name("broker"),
		kong.Description("ESIA account-linking and consent broker for school diaries."),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "broker:", err)
		os.Exit(2)
	}
	k, err := parser.Parse(os.Args[1:])
	if err != nil {
		// One line that says what is wrong, not the whole usage.
		fmt.Fprintln(os.Stderr, "broker: error: "+explainParseError(err))
		os.Exit(80)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := k.Run(&Globals{Ctx: ctx, Config: cli.Config}); err != nil {
		if !errors.As(err, new(*loggedError)) {
			fmt.Fprintln(os.Stderr, "broker:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific exit status (gost verify: 1 = invalid).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 2
}
