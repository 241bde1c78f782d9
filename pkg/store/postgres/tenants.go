package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/store"
)

const tenantColumns = `id, display_name, operator_name, operator_address, time_zone, matching, consent,
	webhook_url, webhook_secret, created_at, updated_at, tokens,
	attempt_retention_days, outbox_retention_days, outbox_failed_retention_days, recheck_retention_days, disabled_at`

func scanTenant(row pgx.Row) (store.Tenant, error) {
	var t store.Tenant
	var matching, consent, tokens []byte
	var disabled *time.Time
	if err := row.Scan(&t.ID, &t.DisplayName, &t.OperatorName, &t.OperatorAddress, &t.TimeZone, &matching, &consent,
		&t.WebhookURL, &t.WebhookSecret, &t.CreatedAt, &t.UpdatedAt, &tokens,
		&t.Retention.AttemptDays, &t.Retention.OutboxDays, &t.Retention.OutboxFailedDays, &t.Retention.RecheckDays, &disabled); err != nil {
		return store.Tenant{}, err
	}
	if disabled != nil {
		t.DisabledAt = disabled.UTC()
	}
	if err := json.Unmarshal(matching, &t.Matching); err != nil {
		return store.Tenant{}, fmt.Errorf("tenant %s matching policy: %w", t.ID, err)
	}
	if err := json.Unmarshal(consent, &t.Consent); err != nil {
		return store.Tenant{}, fmt.Errorf("tenant %s consent policy: %w", t.ID, err)
	}
	if err := json.Unmarshal(tokens, &t.Tokens); err != nil {
		return store.Tenant{}, fmt.Errorf("tenant %s token policy: %w", t.ID, err)
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, nil
}

// CreateTenant implements store.Tenants.
func (s *Store) CreateTenant(ctx context.Context, t store.Tenant) error {
	if err := store.ValidateTenant(t); err != nil {
		return err
	}
	if t.ID == "" {
		return fmt.Errorf("%w: tenant id is empty", store.ErrInvalid)
	}
	now := s.now()
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = t.CreatedAt
	}
	matching, _ := json.Marshal(t.Matching)
	consent, _ := json.Marshal(t.Consent)
	tokens, _ := json.Marshal(t.Tokens)
	_, err := s.q(ctx).Exec(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)`,
		t.ID, t.DisplayName, t.OperatorName, t.OperatorAddress, t.TimeZone, matching, consent,
		t.WebhookURL, t.WebhookSecret, t.CreatedAt, t.UpdatedAt, tokens,
		t.Retention.AttemptDays, t.Retention.OutboxDays, t.Retention.OutboxFailedDays, t.Retention.RecheckDays, nullTime(t.DisabledAt))
	return wrap("create tenant", err)
}

// GetTenant implements store.Tenants.
func (s *Store) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	if !store.ValidKeys(id) {
		return store.Tenant{}, store.ErrNotFound
	}
	t, err := scanTenant(s.q(ctx).QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, id))
	return t, wrap("get tenant", err)
}

// GetTenantForUpdate implements store.Tenants with SELECT … FOR UPDATE.
func (s *Store) GetTenantForUpdate(ctx context.Context, id string) (store.Tenant, error) {
	if !store.ValidKeys(id) {
		return store.Tenant{}, store.ErrNotFound
	}
	t, err := scanTenant(s.q(ctx).QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1 FOR UPDATE`, id))
	return t, wrap("get tenant for update", err)
}

// UpdateTenant implements store.Tenants.
func (s *Store) UpdateTenant(ctx context.Context, t store.Tenant) error {
	if err := store.ValidateTenant(t); err != nil {
		return err
	}
	matching, _ := json.Marshal(t.Matching)
	consent, _ := json.Marshal(t.Consent)
	tokens, _ := json.Marshal(t.Tokens)
	tag, err := s.q(ctx).Exec(ctx, `UPDATE tenants SET display_name=$2, operator_name=$3, operator_address=$4,
		time_zone=$5, matching=$6, consent=$7, webhook_url=$8, webhook_secret=$9, updated_at=$10, tokens=$11,
		attempt_retention_days=$12, outbox_retention_days=$13, outbox_failed_retention_days=$14, recheck_retention_days=$15, disabled_at=$16 WHERE id=$1`,
		t.ID, t.DisplayName, t.OperatorName, t.OperatorAddress, t.TimeZone, matching, consent,
		t.WebhookURL, t.WebhookSecret, s.now(), tokens, t.Retention.AttemptDays, t.Retention.OutboxDays, t.Retention.OutboxFailedDays,
		t.Retention.RecheckDays, nullTime(t.DisabledAt))
	if err != nil {
		return wrap("update tenant", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ListTenants implements store.Tenants.
func (s *Store) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	rows, err := s.q(ctx).Query(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY id`)
	if err != nil {
		return nil, wrap("list tenants", err)
	}
	defer rows.Close()
	var out []store.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, wrap("list tenants", err)
		}
		out = append(out, t)
	}
	return out, wrap("list tenants", rows.Err())
}
