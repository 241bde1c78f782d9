package postgres

import (
	"context"

	"github.com/diarybroker/broker/pkg/store"
)

// AsyncCommit is the statement an asynchronous token write begins with.
const AsyncCommit = asyncCommit

// CommitsAsync reports whether ApplyOAuth would commit b asynchronously.
func CommitsAsync(s *Store, ctx context.Context, b store.OAuthBatch) bool {
	return s.commitsAsync(ctx, b)
}
