#!/usr/bin/env bash
# scripts/bench-broker.sh — load figures of the broker for docs/performance.md.
#
# Builds broker and broker-load, starts `broker dev` twice — on the memory
# store, and on PostgreSQL + Redis (a throw-away database broker_bench) — and
# drives each with 100 concurrent diaries: refresh rotations, code exchanges
# (codes made beforehand), whole logins. Everything runs on this machine:
# the load generator, the broker, PostgreSQL and Redis share its cores.
#
# Usage: scripts/bench-broker.sh            (DURATION=20s CONCURRENCY=100 CODES=5000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION="${DURATION:-20s}"; C="${CONCURRENCY:-100}"; CODES="${CODES:-5000}"
PGURL="${BROKER_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
REDIS="${BROKER_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
WORK="$(mktemp -d)"; PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"; }
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
  "$WORK/broker-load" -target "http://$addr" -mode refresh -c "$C" -d "$DURATION" 2>/dev/null
  "$WORK/broker-load" -target "http://$addr" -mode exchange -c "$C" -n "$CODES" 2>/dev/null
  "$WORK/broker-load" -target "http://$addr" -mode login -c 20 -d "$DURATION" 2>/dev/null
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}

run memory 127.0.0.1:18181

DB="broker_bench"
psql "$PGURL" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
# The same server, another database: replace the path of the URL.
DBURL="$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$PGURL" "$DB")"
BROKER_KEK="$("$WORK/broker" keys generate-kek)" run postgres+redis 127.0.0.1:18182 --database-url "$DBURL" --redis-url "$REDIS"
psql "$PGURL" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null
