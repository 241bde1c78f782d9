package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/support"
)

// SupportCmd is `broker support`: the support console's explanations on
// the operator's command line (docs/support.md), masked unless --unmask
// is given with a --reason, and audited as the CLI.
type SupportCmd struct {
	Attempt SupportAttemptCmd `cmd:"" help:"Explain a login attempt by the reference code a person read out."`
	Find    SupportFindCmd    `cmd:"" help:"Find a tenant's roster records by SNILS, ФИО and birth date, birth certificate or record id."`
}

// UnmaskFlags show values in full, audited with the reason.
type UnmaskFlags struct {
	Unmask bool   `help:"Show the records' personal data in full (audited; needs --reason)."`
	Reason string `help:"Why the values are shown in full (kept in the audit log)." placeholder:"TEXT"`
}

func (f UnmaskFlags) check() error {
	if f.Unmask && strings.TrimSpace(f.Reason) == "" {
		return errors.New("--unmask needs --reason: say why the values are shown in full (it is kept in the audit log)")
	}
	if !f.Unmask && f.Reason != "" {
		return errors.New("--reason is only for --unmask")
	}
	return nil
}

// SupportAttemptCmd is `broker support attempt REF`.
type SupportAttemptCmd struct {
	StoreFlags
	UnmaskFlags
	Ref  string `arg:"" help:"The reference code (any case, with or without the dash)." placeholder:"REF"`
	JSON bool   `name:"json" help:"Print the attempt as the API answers it (masked; no --unmask)."`
}

// Run prints the attempt's steps, the candidates field by field and the
// advice.
func (c *SupportAttemptCmd) Run(g *Globals) error {
	if err := c.check(); err != nil {
		return err
	}
	if c.JSON && c.Unmask {
		return errors.New("--json prints the masked explanation only; leave out --unmask")
	}
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	op := &support.Operator{Store: st.Store, Actor: cliActor}
	v, err := op.Attempt(g.Ctx, c.Ref)
	if err != nil {
		return supportCLIError(err, "no attempt with this reference code")
	}
	if c.JSON {
		return printJSON(v)
	}
	r := support.Report{Records: map[string]store.Person{}, Full: map[string]bool{}}
	if t, err := st.Store.GetTenant(g.Ctx, v.Tenant); err == nil {
		r.Location = t.Location()
	}
	for _, id := range candidateRecords(v) {
		p, err := st.Store.PersonInScope(g.Ctx, store.Scope{Role: store.StaffOperator}, v.Tenant, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted from the roster since the attempt
		}
		if err != nil {
			return err
		}
		if c.Unmask {
			if p, err = op.Unmask(g.Ctx, v.Tenant, id, []string{"snils", "name", "birth_date", "birth_cert"}, c.Reason); err != nil {
				return supportCLIError(err, "")
			}
			r.Full[id] = true
		}
		r.Records[id] = p
	}
	return r.WriteAttempt(os.Stdout, v)
}

// candidateRecords are the record ids the attempt's matching compared.
func candidateRecords(v *support.AttemptView) []string {
	var x struct {
		Candidates []linking.Candidate `json:"candidates"`
	}
	if len(v.Explanation) == 0 || json.Unmarshal(v.Explanation, &x) != nil {
		return nil
	}
	var ids []string
	for _, c := range x.Candidates {
		ids = append(ids, c.ExternalID)
	}
	return ids
}

// SupportFindCmd is `broker support find`.
type SupportFindCmd struct {
	StoreFlags
	UnmaskFlags
	Tenant     string `required:"" help:"The tenant whose roster is searched." placeholder:"TENANT"`
	SNILS      string `name:"snils" help:"SNILS, in any layout." placeholder:"SNILS"`
	LastName   string `name:"last-name" help:"Фамилия (with --first-name and --birth-date)." placeholder:"TEXT"`
	FirstName  string `name:"first-name" help:"Имя." placeholder:"TEXT"`
	MiddleName string `name:"middle-name" help:"Отчество (optional)." placeholder:"TEXT"`
	BirthDate  string `name:"birth-date" help:"Birth date, YYYY-MM-DD." placeholder:"DATE"`
	BirthCert  string `name:"birth-cert" help:"Birth certificate series and number, as «II-МЮ 123456»." placeholder:"TEXT"`
	Record     string `name:"record" help:"The record's id in the diary." placeholder:"ID"`
	JSON       bool   `name:"json" help:"Print the records as the API answers them (masked; no --unmask)."`
}

// Run searches and prints the records found, with their links and recent
// attempts.
func (c *SupportFindCmd) Run(g *Globals) error {
	if err := c.check(); err != nil {
		return err
	}
	if c.JSON && c.Unmask {
		return errors.New("--json prints masked records only; leave out --unmask")
	}
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	t, err := st.Store.GetTenant(g.Ctx, c.Tenant)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no tenant %q", c.Tenant)
	}
	if err != nil {
		return err
	}
	svc := &support.Service{Attempts: st.Store, Roster: st.Store, Links: st.Store, Audit: st.Store, Index: st.PII}
	found, err := svc.SearchPersons(g.Ctx, support.Caller{ClientID: cliActor, TenantID: c.Tenant}, support.PersonQuery{
		SNILS: c.SNILS, LastName: c.LastName, FirstName: c.FirstName, MiddleName: c.MiddleName, BirthDate: c.BirthDate,
		BirthCert: c.BirthCert, RecordID: c.Record})
	if err != nil {
		return supportCLIError(err, "")
	}
	if c.JSON {
		if found == nil {
			found = []support.PersonView{}
		}
		return printJSON(map[string]any{"persons": found})
	}
	r := support.Report{Location: t.Location(), Records: map[string]store.Person{}, Full: map[string]bool{}}
	if c.Unmask {
		op := &support.Operator{Store: st.Store, Actor: cliActor}
		for _, p := range found {
			full, err := op.Unmask(g.Ctx, c.Tenant, p.ExternalID, []string{"snils", "name", "birth_date", "birth_cert"}, c.Reason)
			if err != nil {
				return supportCLIError(err, "")
			}
			r.Records[p.ExternalID], r.Full[p.ExternalID] = full, true
		}
	}
	return r.WritePersons(os.Stdout, found)
}

// supportCLIError turns the support desk's errors into the CLI's messages
// (exit status 1, with the message on stderr).
func supportCLIError(err error, notFound string) error {
	switch {
	case errors.Is(err, support.ErrNotFound) && notFound != "":
		return errors.New(notFound)
	case errors.Is(err, support.ErrBadQuery), errors.Is(err, support.ErrNoReason):
		return errors.New(strings.TrimPrefix(err.Error(), "support: "))
	}
	return err
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
