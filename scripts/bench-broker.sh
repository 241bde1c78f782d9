#!/usr/bin/env bash
# scripts/bench-broker.sh — load figures of the broker for docs/performance.md.
#
# Builds broker and broker-load, starts `broker dev` twice — on the memory
# store, and on PostgreSQL + Redis — and drives each with concurrent
# diaries: refresh rotations, code exchanges (codes made beforehand),
# client-credentials tokens and whole logins. After the PostgreSQL run it
# prints the size of every table and its dead rows.
#
# PostgreSQL and Redis are the script's own: a fresh cluster (initdb in a
# temporary directory, production settings — autovacuum on, fsync and
# synchronous_commit on) and a redis-server on a port of their own, so no
# figure depends on the machine's shared database (which CI runs with
# autovacuum off) or on what other tests left in it. Everything runs on
# this machine: the load generator, the broker, PostgreSQL and Redis share
# its cores.
#
# Usage: scripts/bench-broker.sh   (DURATION=20s CONCURRENCY=100 CODES=5000 PGPORT=55432 REDISPORT=56379)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION="${DURATION:-20s}"; C="${CONCURRENCY:-100}"; CODES="${CODES:-5000}"
PGPORT="${PGPORT:-55432}"; REDISPORT="${REDISPORT:-56379}"
WORK="$(mktemp -d)"; chmod 755 "$WORK"; PID=""; PGDATA="$WORK/pg"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
# PostgreSQL refuses to run as root: the cluster belongs to the postgres user then.
AS=(); if [ "$(id -u)" -eq 0 ]; then AS=(runuser -u postgres --); fi
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null
  [ -f "$PGDATA/postmaster.pid" ] && "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1
  redis-cli -p "$REDISPORT" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/broker" ./cmd/broker
go build -o "$WORK/broker-load" ./cmd/broker-load
echo "machine: $(nproc) cores, $(uname -sr), $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)"

run() { # run NAME ADDR ARGS... — start broker dev with ARGS, drive it, stop it
  local name=$1 addr=$2; shift 2
  "$WORK/broker" dev --addr "$addr" --rate-limit 0 --log-level warn "$@" >"$WORK/$name.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 50); do curl -fsS "http://$addr/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  echo "== $name"
  local lsn0="" out
  [ -n "${PGURL:-}" ] && lsn0=$(psql "$PGURL" -Atc 'SELECT pg_current_wal_lsn()')
  out=$("$WORK/broker-load" -target "http://$addr" -mode refresh -c "$C" -d "$DURATION" 2>/dev/null); echo "$out"
  if [ -n "$lsn0" ]; then # WAL per refresh: the whole cluster's WAL over the run, by the refreshes done
    local ok; ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$out")
    psql "$PGURL" -Atc "SELECT 'WAL per refresh: ' || round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0') / greatest($ok, 1)) || ' bytes ($ok refreshes)'"
  fi
  "$WORK/broker-load" -target "http://$addr" -mode exchange -c "$C" -n "$CODES" 2>/dev/null
  "$WORK/broker-load" -target "http://$addr" -mode client-credentials -c "$C" -d "$DURATION" 2>/dev/null
  "$WORK/broker-load" -target "http://$addr" -mode login -c 20 -d "$DURATION" 2>/dev/null
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}

run memory 127.0.0.1:18181

# The script's own PostgreSQL: production settings, not the CI cluster's.
mkdir -p "$PGDATA"; [ ${#AS[@]} -gt 0 ] && chown postgres "$PGDATA"
"${AS[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale C.UTF-8 >/dev/null
cat >>"$PGDATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$PGDATA'
shared_buffers = 1GB
max_connections = 200
autovacuum = on
fsync = on
synchronous_commit = on
EOF
"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w start >/dev/null
redis-server --daemonize yes --bind 127.0.0.1 --port "$REDISPORT" --save "" --appendonly no >/dev/null
PGURL="postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable"
echo "postgres: $("$PGBIN/postgres" --version), autovacuum $(psql "$PGURL" -Atc 'SHOW autovacuum'), redis: $(redis-server --version | cut -d' ' -f3)"

BROKER_KEK="$("$WORK/broker" keys generate-kek)" run postgres+redis 127.0.0.1:18182 --database-url "$PGURL" --redis-url "redis://127.0.0.1:$REDISPORT/0"

echo "== tables after the runs (heap, indexes, live and dead rows)"
psql "$PGURL" -qc "SELECT relname AS table, pg_size_pretty(pg_table_size(relid)) AS heap,
    pg_size_pretty(pg_indexes_size(relid)) AS indexes, n_live_tup AS live, n_dead_tup AS dead
  FROM pg_stat_user_tables WHERE pg_total_relation_size(relid) > 65536 ORDER BY pg_total_relation_size(relid) DESC"
