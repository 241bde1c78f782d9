package server

import (
	"context"
	"fmt"
	"time"

	"github.com/diarybroker/broker/pkg/consent"
	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/linking"
	"github.com/diarybroker/broker/pkg/store"
)

// RosterLinks keeps links in step with the records an operator's import
// writes or deletes, exactly as the roster API does for a diary: a changed
// record is re-checked against its links and a deleted one unlinked; the
// person's tokens are revoked, the tenant's webhook hears link.suspended or
// link.removed, and the audit log names actor.
func (st *Storage) RosterLinks(ctx context.Context, actor string) (linking.RecordLinks, error) {
	subjects, err := keyring.OpenSubjects(ctx, st.Store, st.KEK, nil)
	if err != nil {
		return nil, fmt.Errorf("roster links: %w", err)
	}
	admin := &linking.LinkAdmin{Links: st.Store, Tokens: storeTokens{st.Store}, Subjects: subjects,
		Events: &consent.Service{Store: st.Store, Subjects: subjects}}
	return auditedLinks{LinkAdmin: admin, audit: st.Store, now: time.Now, actor: actor}, nil
}

// storeTokens revokes a person's tokens straight in the store, for
// operator commands that run without the OAuth provider.
type storeTokens struct{ s store.OAuthRecords }

func (t storeTokens) RevokeSubject(ctx context.Context, tenantID, subject string) (int, error) {
	n, err := t.s.RevokeOAuthSubject(ctx, tenantID, subject)
	if err != nil {
		return 0, fmt.Errorf("revoke subject: %w", err)
	}
	return n, nil
}
