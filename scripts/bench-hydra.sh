#!/usr/bin/env bash
# scripts/bench-hydra.sh — the broker and Ory Hydra v2.3.0 side by side, in one
# run, for docs/performance.md.
#
# Builds broker and broker-load, and Hydra with its login/consent app from
# scripts/bench-hydra (a module of its own: Hydra comes through the Go module
# proxy at build time, and the repository's ./... never builds it). Starts one
# PostgreSQL cluster of the script's own (initdb in a temporary directory,
# production settings, autovacuum on — as scripts/bench-broker.sh) and a
# redis-server; the broker (`broker dev`, PostgreSQL + Redis) uses database
# postgres, Hydra database hydra of the same cluster. Both servers get the
# same connection pool (8, the broker's default on this machine).
#
# Hydra: ES256 ID tokens (the key set hydra.openid.id-token made ES256
# before the first token), opaque access tokens (its default), and its
# cheapest client secret hasher: pbkdf2 with 1 iteration (HASHER=bcrypt
# takes bcrypt at its minimum cost 4; HASHER=default leaves pbkdf2 at
# 25,000 iterations). The login/consent app accepts every challenge
# through Hydra's admin API, so broker-load's login follows redirects only.
#
# Then the same broker-load, with the same concurrency and duration, runs
# each scenario (refresh, code exchange with codes made beforehand, client
# credentials) against the broker and against Hydra, alternating, ROUNDS
# times (the first server of a scenario alternating too), and prints each
# run with the load average before it, then the mean rates and their ratio.
# Everything — load generator, both servers, PostgreSQL — shares this
# machine's cores; only the ratio of runs in the same script run means much.
#
# Usage: scripts/bench-hydra.sh   (DURATION=8s CONCURRENCY=16 CODES=1500 ROUNDS=2 HASHER=pbkdf2
#                                  PGPORT=55442 REDISPORT=56389)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION="${DURATION:-8s}"; C="${CONCURRENCY:-16}"; CODES="${CODES:-1500}"; ROUNDS="${ROUNDS:-2}"
HASHER="${HASHER:-pbkdf2}"
PGPORT="${PGPORT:-55442}"; REDISPORT="${REDISPORT:-56389}"
BROKER=127.0.0.1:18192; HYDRA_PUBLIC=127.0.0.1:14444; HYDRA_ADMIN=127.0.0.1:14445; LOGIN_APP=127.0.0.1:14446
WORK="$(mktemp -d)"; chmod 755 "$WORK"; PIDS=()
source scripts/lib/bench-services.sh
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_services
  rm -rf "$WORK"
}
trap cleanup EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
wait_up() { for _ in $(seq 1 100); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "not up: $1" >&2; return 1; }

go build -o "$WORK/broker" ./cmd/broker
go build -o "$WORK/broker-load" ./cmd/broker-load
(cd scripts/bench-hydra && go build -o "$WORK/hydra" github.com/ory/hydra/v2 && go build -o "$WORK/login-app" .)
echo "machine: $(nproc) cores, $(uname -sr), $(go version | cut -d' ' -f3), load average $(load)"
echo "hydra: $(cd scripts/bench-hydra && go list -m github.com/ory/hydra/v2) (built here from the Go module proxy)"

# The script's own PostgreSQL (production settings) and Redis.
start_services
psql "$PGURL" -qc "CREATE DATABASE hydra"
echo "postgres: $("$PGBIN/postgres" --version), autovacuum $(psql "$PGURL" -Atc 'SHOW autovacuum'), redis: $(redis-server --version | cut -d' ' -f3)"

# The broker: dev mode on PostgreSQL + Redis, as scripts/bench-broker.sh.
BROKER_KEK="$("$WORK/broker" keys generate-kek)" "$WORK/broker" dev --addr "$BROKER" --rate-limit 0 --log-level warn \
  --database-url "$PGURL" --redis-url "redis://127.0.0.1:$REDISPORT/0" >"$WORK/broker.log" 2>&1 &
PIDS+=($!)

# Hydra: configured through its environment; telemetry off (--sqa-opt-out).
export DSN="postgres://postgres@127.0.0.1:$PGPORT/hydra?sslmode=disable&max_conns=8&max_idle_conns=8"
export SECRETS_SYSTEM="bench-hydra-system-secret-0123456789" LOG_LEVEL=warn SQA_OPT_OUT=true
export URLS_SELF_ISSUER="http://$HYDRA_PUBLIC" URLS_LOGIN="http://$LOGIN_APP/login" URLS_CONSENT="http://$LOGIN_APP/consent"
export SERVE_PUBLIC_HOST=127.0.0.1 SERVE_PUBLIC_PORT="${HYDRA_PUBLIC##*:}" SERVE_ADMIN_HOST=127.0.0.1 SERVE_ADMIN_PORT="${HYDRA_ADMIN##*:}"
case "$HASHER" in
  pbkdf2) export OAUTH2_HASHERS_ALGORITHM=pbkdf2 OAUTH2_HASHERS_PBKDF2_ITERATIONS=1; HASHER_NAME="pbkdf2, 1 iteration" ;;
  bcrypt) export OAUTH2_HASHERS_ALGORITHM=bcrypt OAUTH2_HASHERS_BCRYPT_COST=4; HASHER_NAME="bcrypt, cost 4" ;;
  default) HASHER_NAME="pbkdf2, 25,000 iterations (default)" ;;
  *) echo "HASHER: pbkdf2, bcrypt or default" >&2; exit 2 ;;
esac
"$WORK/hydra" migrate sql up -e --yes >"$WORK/hydra-migrate.log" 2>&1 || { cat "$WORK/hydra-migrate.log"; exit 1; }
"$WORK/hydra" serve all --dev --sqa-opt-out >"$WORK/hydra.log" 2>&1 &
PIDS+=($!)
"$WORK/login-app" -addr "$LOGIN_APP" -admin "http://$HYDRA_ADMIN" >"$WORK/login-app.log" 2>&1 &
PIDS+=($!)
wait_up "http://$BROKER/healthz"
wait_up "http://$HYDRA_ADMIN/health/ready" || { tail -20 "$WORK/hydra.log"; exit 1; }

# ES256 ID tokens: Hydra makes the set (RS256) at its first ID token unless
# it exists; made here first, it holds one ES256 key.
curl -fsS -X POST "http://$HYDRA_ADMIN/admin/keys/hydra.openid.id-token" -H 'Content-Type: application/json' \
  -d '{"alg":"ES256","use":"sig","kid":"bench-es256"}' >/dev/null
client() { # client JSON — create a Hydra client, print its id
  curl -fsS -X POST "http://$HYDRA_ADMIN/admin/clients" -H 'Content-Type: application/json' -d "$1" | jq -r .client_id
}
DIARY="$(client '{"client_secret":"bench-diary-secret","grant_types":["authorization_code","refresh_token"],"response_types":["code"],
  "scope":"openid offline_access profile","redirect_uris":["http://127.0.0.1:8089/callback"],"token_endpoint_auth_method":"client_secret_basic"}')"
API="$(client '{"client_secret":"bench-api-secret","grant_types":["client_credentials"],"scope":"support","token_endpoint_auth_method":"client_secret_basic"}')"
# One login by hand (curl, redirects followed one by one) to show the ID
# token's algorithm in its header.
u="http://$HYDRA_PUBLIC/oauth2/auth?response_type=code&client_id=$DIARY&redirect_uri=http%3A%2F%2F127.0.0.1%3A8089%2Fcallback&scope=openid+offline_access&state=bench-state-0123"
for _ in $(seq 1 10); do
  case "$u" in http://127.0.0.1:8089/*) break ;; esac
  u="$(curl -sS -o /dev/null -b "$WORK/jar" -c "$WORK/jar" -w '%{redirect_url}' "$u")"
done
code="$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$u")"
idtok="$(curl -fsS -u "$DIARY:bench-diary-secret" -d grant_type=authorization_code -d "code=$code" \
  --data-urlencode redirect_uri=http://127.0.0.1:8089/callback "http://$HYDRA_PUBLIC/oauth2/token" | jq -r .id_token)"
hdr="$(cut -d. -f1 <<<"$idtok" | tr '_-' '/+')"; while [ $(( ${#hdr} % 4 )) -ne 0 ]; do hdr+="="; done
echo "hydra: ID token header $(base64 -d <<<"$hdr" 2>/dev/null), secret hasher: $HASHER_NAME"

drive() { # drive SERVER SCENARIO — one broker-load run; prints its rate
  local args=(-mode "$2" -c "$C" -d "$DURATION" -n "$CODES")
  if [ "$1" = hydra ]; then
    args+=(-target "http://$HYDRA_PUBLIC" -login-scope "openid offline_access profile")
    if [ "$2" = client-credentials ]; then args+=(-client "$API" -secret bench-api-secret); else args+=(-client "$DIARY" -secret bench-diary-secret); fi
  else
    args+=(-target "http://$BROKER")
  fi
  analyze_all # the statistics of a running database, for both (bench-services.sh)
  local before; before="$(load)"
  local out; out="$("$WORK/broker-load" "${args[@]}" 2>"$WORK/load.err")" || { echo "$1 $2: broker-load failed: $(tail -1 "$WORK/load.err")" >&2; echo 0; return; }
  printf '%-7s load %-16s %s\n' "$1" "$before" "$(echo "$out" | head -1)" >&2
  echo "$out" | tail -n +2 | head -5 >&2
  echo "$out" | head -1 | sed -n 's/.* rate=\([0-9]*\)\/s.*/\1/p'
}

declare -A SUM RATE
echo "== alternating runs: c=$C, duration $DURATION (refresh, client-credentials), $CODES codes (exchange)"
for r in $(seq 1 "$ROUNDS"); do
  for s in refresh exchange client-credentials; do
    order=(broker hydra); [ $((r % 2)) -eq 0 ] && order=(hydra broker)
    for srv in "${order[@]}"; do
      rate="$(drive "$srv" "$s")"
      SUM[$srv.$s]=$(( ${SUM[$srv.$s]:-0} + ${rate:-0} )); RATE[$srv.$s.$r]=${rate:-0}
    done
  done
done

ratio() { awk -v b="$1" -v h="$2" 'BEGIN { if (h > 0) printf "%.1f×", b / h; else print "—" }'; }
echo "== mean of $ROUNDS rounds, and each round's ratio (Hydra's secret hasher: $HASHER_NAME; load average now $(load))"
printf '| %-18s | %9s | %9s | %6s | %s\n' scenario "broker/s" "Hydra/s" ratio "ratio in each round"
for s in refresh exchange client-credentials; do
  b=$(( SUM[broker.$s] / ROUNDS )); h=$(( SUM[hydra.$s] / ROUNDS )); each=""
  for r in $(seq 1 "$ROUNDS"); do each+="$(ratio "${RATE[broker.$s.$r]}" "${RATE[hydra.$s.$r]}") "; done
  printf '| %-18s | %9d | %9d | %6s | %s\n' "$s" "$b" "$h" "$(ratio "$b" "$h")" "$each"
done
