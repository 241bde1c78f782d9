package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/diarybroker/broker/pkg/keyring"
	"github.com/diarybroker/broker/pkg/store"
	"github.com/diarybroker/broker/pkg/store/memory"
	"github.com/diarybroker/broker/pkg/store/postgres"
	"github.com/diarybroker/broker/pkg/store/postgres/pgtest"
)

// BenchmarkOAuthRotation is a login's refresh rotation as the store sees
// it, round-robin over 64 grants with a 1.8 KB session each, the two ways
// a refresh token is kept (issue 13): "rows" — a row per refresh token
// (the batch before migration 00111: the grant's update moving its expiry
// on, the presented token's row deleted, the successor's inserted) — and
// "grant", the grant keeping its live refresh token (one update that
// leaves the indexed expiry alone) — and "grant-moving-expiry", the same
// update moving the expiry on at every rotation (no slack), which shows
// what the slack is for. It reports the cluster's WAL per
// rotation (wal-B/op: run it on a cluster of its own,
// BROKER_TEST_DATABASE_URL, for a figure that is the benchmark's alone)
// and the share of the grant updates that were HOT (hot-%), from
// pg_stat_user_tables once the pool's backends have exited.
func BenchmarkOAuthRotation(b *testing.B) {
	const grants = 64
	for _, mode := range []string{"rows", "grant", "grant-moving-expiry"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			url := pgtest.NewDatabase(b)
			pool, err := postgres.Connect(ctx, url)
			if err != nil {
				b.Fatal(err)
			}
			kek, err := keyring.NewKEK(bytes.Repeat([]byte{7}, 32))
			if err != nil {
				b.Fatal(err)
			}
			pii, err := keyring.OpenPII(ctx, memory.New(nil), kek, nil)
			if err != nil {
				b.Fatal(err)
			}
			st := postgres.New(pool, nil).WithSealer(pii)
			at := time.Now().UTC().Truncate(time.Second)
			const life, slack = 30 * 24 * time.Hour, 3 * 24 * time.Hour
			key := func(g, n int) string { return fmt.Sprintf("g%02d-refresh-key-%08d", g, n) }
			for g := range grants {
				data := make([]byte, 1800)
				_, _ = rand.Read(data)
				grant := &store.OAuthGrant{RequestID: fmt.Sprintf("grant-%02d", g), ClientID: "diary", TenantID: "t1", Subject: "sub",
					Data: data, CreatedAt: at, ExpiresAt: at.Add(life + slack), Access: "nonce-0"}
				batch := store.OAuthBatch{Grant: grant}
				if mode != "grant" {
					grant.ExpiresAt = at.Add(life)
				}
				if mode == "rows" {
					batch.Create = []store.OAuthRecord{{Kind: store.OAuthRefresh, Signature: key(g, 0), RequestID: grant.RequestID,
						ClientID: "diary", TenantID: "t1", Active: true, CreatedAt: at, ExpiresAt: at.Add(life)}}
				} else {
					grant.Refresh, grant.RefreshAt, grant.RefreshExpiresAt = key(g, 0), at, at.Add(life)
				}
				if err := st.ApplyOAuth(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			var lsn0 string
			if err := pool.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&lsn0); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				g, n := i%grants, i/grants
				req := fmt.Sprintf("grant-%02d", g)
				now := at.Add(time.Duration(i+1) * 100 * time.Millisecond)
				nonce := fmt.Sprintf("nonce-%08d", n+1)
				var batch store.OAuthBatch
				if mode == "rows" {
					batch = store.OAuthBatch{Gate: &store.OAuthRef{Kind: store.OAuthRefresh, Signature: key(g, n)},
						Rotation:    &store.OAuthRotation{At: now, Successor: key(g, n+1), Remove: true},
						GrantExpiry: &store.OAuthGrantExpiry{RequestID: req, At: now.Add(life), Access: nonce},
						Create: []store.OAuthRecord{{Kind: store.OAuthRefresh, Signature: key(g, n+1), RequestID: req,
							ClientID: "diary", TenantID: "t1", Active: true, CreatedAt: now, ExpiresAt: now.Add(life)}}}
				} else {
					batch = store.OAuthBatch{GrantRotation: &store.OAuthGrantRotation{RequestID: req, Presented: key(g, n), Refresh: key(g, n+1),
						At: now, RefreshExpiresAt: now.Add(life), Access: nonce, LastExpiry: now.Add(life), ExpiresAt: now.Add(life + slack)}}
					if mode == "grant-moving-expiry" {
						batch.GrantRotation.ExpiresAt = time.Time{}
					}
				}
				if err := st.ApplyOAuth(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			var wal int64
			if err := pool.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::bigint`, lsn0).Scan(&wal); err != nil {
				b.Fatal(err)
			}
			pool.Close() // the backends report their table statistics as they exit
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close(ctx)
			var upd, hot int64
			for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
				if _, err := conn.Exec(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
					b.Fatal(err)
				}
				if err := conn.QueryRow(ctx, `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'oauth_grants'`).
					Scan(&upd, &hot); err != nil {
					b.Fatal(err)
				}
				if upd >= int64(b.N) {
					break
				}
				time.Sleep(100 * time.Millisecond) // statistics arrive asynchronously
			}
			b.ReportMetric(float64(wal)/float64(b.N), "wal-B/op")
			if upd > 0 {
				b.ReportMetric(100*float64(hot)/float64(upd), "hot-%")
			}
		})
	}
}
