package server

import "github.com/diarybroker/broker/pkg/store"

// consentView is a consent as GET /api/v1/consents answers it (the
// Consent schema of api/openapi.yaml): snake_case, times in RFC 3339, and
// the times that are not set left out.
type consentView struct {
	ID            string `json:"id"`
	Tenant        string `json:"tenant"`
	PersonID      string `json:"person_id"`
	Kind          string `json:"kind"`
	GrantorOID    string `json:"grantor_oid,omitempty"`
	GrantorRecord string `json:"grantor_record,omitempty"`
	RequestID     string `json:"request_id,omitempty"`
	TextVersion   string `json:"text_version"`
	TextHash      string `json:"text_hash,omitempty"`
	Status        string `json:"status"`
	GrantedAt     string `json:"granted_at"`
	ExpiresAt     string `json:"expires_at,omitempty"`
	EndedAt       string `json:"ended_at,omitempty"`
	EndReason     string `json:"end_reason,omitempty"`
}

func viewOfConsent(c store.Consent) consentView {
	v := consentView{ID: c.ID, Tenant: c.TenantID, PersonID: c.PersonID, Kind: string(c.Kind), GrantorOID: c.GrantorOID,
		GrantorRecord: c.GrantorRecord, RequestID: c.RequestID, TextVersion: c.TextVersion, TextHash: c.TextHash,
		Status: string(c.Status), GrantedAt: c.GrantedAt.UTC().Format(timeLayout), EndReason: c.EndReason}
	if !c.ExpiresAt.IsZero() {
		v.ExpiresAt = c.ExpiresAt.UTC().Format(timeLayout)
	}
	if !c.EndedAt.IsZero() {
		v.EndedAt = c.EndedAt.UTC().Format(timeLayout)
	}
	return v
}
