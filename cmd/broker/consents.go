package main

import (
	"encoding/json"
	"os"

	"github.com/diarybroker/broker/pkg/consent"
)

// ConsentsCmd is `broker consents`.
type ConsentsCmd struct {
	Export ConsentsExportCmd `cmd:"" help:"Export one record's consents and their evidence as JSON (for the operator: a person's request, an inspection)."`
}

// ConsentsExportCmd is `broker consents export --tenant T PERSON_ID`.
type ConsentsExportCmd struct {
	StoreFlags
	Tenant   string `required:"" help:"Tenant of the record."`
	PersonID string `arg:"" name:"person-id" help:"The roster record (external id)."`
}

// Run prints the export.
func (c *ConsentsExportCmd) Run(g *Globals) error {
	st, err := openStorage(g, c.StoreFlags)
	if err != nil {
		return err
	}
	defer st.Close()
	exp, err := (&consent.Service{Store: st.Store}).Export(g.Ctx, c.Tenant, c.PersonID)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(exp)
}
