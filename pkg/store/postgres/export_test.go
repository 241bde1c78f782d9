package postgres

import (
	"context"

	"github.com/diarybroker/broker/pkg/store"
)

// AsyncCommit is the statement an asynchronous token write begins with.
const AsyncCommit = asyncCommit

// QueuedOAuth is the SQL of the statements ApplyOAuth would send for b,
// in order.
func QueuedOAuth(s *Store, ctx context.Context, b store.OAuthBatch) ([]string, error) {
	batch, err := s.oauthBatch(ctx, b)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(batch.QueuedQueries))
	for i, q := range batch.QueuedQueries {
		out[i] = q.SQL
	}
	return out, nil
}
