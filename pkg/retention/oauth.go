package retention

import (
	"context"
	"fmt"
	"time"

	"github.com/diarybroker/broker/pkg/store"
)

// OAuthStore is what the OAuth janitor needs.
type OAuthStore interface {
	DeleteExpiredOAuth(ctx context.Context, before time.Time, limit int) (map[store.OAuthKind]int, error)
}

// OAuthBatch is how many OAuth records one statement of the janitor
// removes: small enough that a batch holds its row locks briefly while
// tokens are issued beside it.
const OAuthBatch = 1000

// RunOAuth removes, batch after batch until none is left, the OAuth
// records whose time is over: codes and tokens past their expiry — used
// codes (kept that long to recognise a replay) and rotated refresh tokens
// (kept that long for reuse detection) among them — and revoked tokens,
// whose expiry revocation brought forward (store.OAuthRecords). It returns
// how many of each kind it removed, errors or not. Every replica may run
// it at once: the store claims rows with FOR UPDATE SKIP LOCKED.
func (j *Janitor) RunOAuth(ctx context.Context, st OAuthStore) (map[store.OAuthKind]int, error) {
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	t0 := now().UTC()
	out := map[store.OAuthKind]int{}
	for {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		got, err := st.DeleteExpiredOAuth(ctx, t0, OAuthBatch)
		n := 0
		for kind, k := range got {
			out[kind] += k
			n += k
		}
		if err != nil {
			return out, fmt.Errorf("retention: expired oauth records: %w", err)
		}
		if n < OAuthBatch {
			return out, nil
		}
	}
}
