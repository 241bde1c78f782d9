#!/usr/bin/env bash
# scripts/chaos.sh — the broker's fault campaign, a tool for releases (not a
# CI test; every bug it finds gets a deterministic test of its own).
#
# Starts, all on 127.0.0.1 with ports free at the start: its own PostgreSQL
# (initdb in a temp dir), its own Redis (no persistence), `broker esia-sim`,
# three `broker serve` replicas behind scripts/chaos/lb (round robin, the next
# replica on a refused connection), a webhook sink (scripts/chaos/sink); then
# runs the scenarios under a load of whole logins (ESIA's login page, consent,
# the role picker) and refreshes from cmd/broker-load, checks the database
# after each (scripts/chaos/integrity.sql) and prints a table:
#
#   scenario | attempted | ok | failed (what they saw) | recovery | integrity
#
# recovery: from the fault's start to the end of the last failed operation
# ("—": nothing failed); when failures outlast the scenario's load, to the
# end of the last failing probe after it. Exit status 1 on any integrity
# violation.
#
# Usage: scripts/chaos.sh        (WORKERS=10 SECONDS_PER=20 FAULT_AT=5 KEEP=0)
#   WORKERS      concurrent diaries of the load driver
#   SECONDS_PER  length of each scenario under load
#   FAULT_AT     when, in a scenario, the fault starts
#   KEEP=1       keep the temp dir (logs of every process) and say where
#   SCENARIOS    only these (space-separated): baseline kill term pgrestart redis
#                esiakill esia503 esiaslow firstlogins race
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
WORKERS="${WORKERS:-10}"; SECONDS_PER="${SECONDS_PER:-20}"; FAULT_AT="${FAULT_AT:-5}"; KEEP="${KEEP:-0}"
SCENARIOS="${SCENARIOS:-}"
PGBIN="${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
for tool in jq psql redis-server curl python3; do
  command -v "$tool" >/dev/null || { echo "chaos: $tool is needed" >&2; exit 2; }
done
[ -x "$PGBIN/initdb" ] || { echo "chaos: no PostgreSQL binaries (set PGBIN)" >&2; exit 2; }

# The shell reports every process the campaign kills ("line N: PID Killed …"):
# that is the point here, not news.
exec 2> >(grep --line-buffered -Ev '^[^ ]+: line [0-9]+: +[0-9]+ (Killed|Terminated) ' >&2)
WORK="$(mktemp -d /tmp/broker-chaos.XXXXXX)"; chmod 755 "$WORK"
if [ "$KEEP" = 1 ]; then echo "chaos: logs in $WORK (kept)" >&2; fi
declare -A PID=()   # name → pid of every process this script started
AS_PG=()            # PostgreSQL refuses to run as root: as postgres then
if [ "$(id -u)" = 0 ]; then AS_PG=(runuser -u postgres --); fi

cleanup() {
  local name
  trap - INT TERM
  for name in "${!PID[@]}"; do kill -KILL "${PID[$name]}" 2>/dev/null || true; done
  if [ -f "$WORK/pg/postmaster.pid" ]; then "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  # Only the processes started here: a bare `wait` would also wait for the
  # stderr filter, which waits for this shell.
  for name in "${!PID[@]}"; do { wait "${PID[$name]}"; } 2>/dev/null || true; done
  if [ "$KEEP" = 1 ]; then echo "chaos: logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "chaos: $*" >&2; }
freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }
# wait_for CMD… — poll CMD (quietly) for up to 30 s.
wait_for() { local i; for i in $(seq 1 150); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
# reap NAME — wait for a process that was told to end (without the shell's "Killed").
reap() { { wait "${PID[$1]}"; } 2>/dev/null || true; }

log "building"
go build -o "$WORK/broker" ./cmd/broker
go build -o "$WORK/broker-load" ./cmd/broker-load
go build -o "$WORK/lb" ./scripts/chaos/lb
go build -o "$WORK/sink" ./scripts/chaos/sink
go build -o "$WORK/syskey" ./scripts/chaos/syskey
B="$WORK/broker"

PG_PORT=$(freeport); REDIS_PORT=$(freeport); SIM_PORT=$(freeport); LB_PORT=$(freeport); SINK_PORT=$(freeport)
R_PORT=("$(freeport)" "$(freeport)" "$(freeport)"); M_PORT=("$(freeport)" "$(freeport)" "$(freeport)")
ISSUER="http://127.0.0.1:$LB_PORT"

# --- PostgreSQL: a cluster of its own, production settings (autovacuum on, fsync on).
mkdir "$WORK/pg"; [ "${#AS_PG[@]}" = 0 ] || chown postgres "$WORK/pg"
"${AS_PG[@]}" "$PGBIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 --locale C.UTF-8 >"$WORK/initdb.log" 2>&1
pg_start() {
  "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$WORK/pg -c autovacuum=on -c max_connections=200" start >/dev/null
}
pg_start
DB="postgres://postgres@127.0.0.1:$PG_PORT/broker?sslmode=disable"
psql "postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable" -qc "CREATE DATABASE broker" >/dev/null
sql() { psql "$DB" -qAtX -v ON_ERROR_STOP=1 "$@"; }

# --- Redis: no persistence, so that a restart comes back empty.
redis_start() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no >"$WORK/redis.log" 2>&1 &
  PID[redis]=$!
  wait_for redis-cli -p "$REDIS_PORT" ping
}
redis_start

# --- the webhook sink, the operator's set-up, the fixtures.
"$WORK/sink" -addr "127.0.0.1:$SINK_PORT" >"$WORK/sink.log" 2>&1 & PID[sink]=$!
export BROKER_DATABASE_URL="$DB" BROKER_KEK; BROKER_KEK="$("$B" keys generate-kek)"
python3 scripts/chaos/fixtures.py 300 "$WORK/persons.json" "$WORK/roster.ndjson"
"$WORK/syskey" "$WORK/system.key.pem" "$WORK/system.crt.pem"
"$B" migrate up >"$WORK/setup.log" 2>&1
"$B" tenants create chaos --name "Дневник (прогон отказов)" --operator "ГБУ «Прогон»" --operator-address "Москва, ул. Тверская, 1" \
  --webhook-url "http://127.0.0.1:$SINK_PORT/hooks" >>"$WORK/setup.log" 2>&1
"$B" roster import --tenant chaos --quiet "$WORK/roster.ndjson" >>"$WORK/setup.log" 2>&1
REDIRECT="http://127.0.0.1:1/callback" # the diary's: never contacted
CLIENT="$("$B" clients create --tenant chaos --redirect-uri "$REDIRECT" --json)"
CLIENT_ID="$(jq -r .client_id <<<"$CLIENT")"; CLIENT_SECRET="$(jq -r .client_secret <<<"$CLIENT")"

# --- the ESIA simulator; restarting it makes a new token key (--cert-out rewritten).
sim_start() {
  : >"$WORK/sim.log"
  "$B" esia-sim --addr "127.0.0.1:$SIM_PORT" --client-id CHAOS --client-cert "$WORK/system.crt.pem" \
    --redirect-uri "$ISSUER/esia/callback" --esia-persons "$WORK/persons.json" --cert-out "$WORK/esia-sim.pem" \
    >>"$WORK/sim.log" 2>&1 &
  PID[sim]=$!
  wait_for grep -q "ESIA simulator listening" "$WORK/sim.log"
}
sim_start
SIM="http://127.0.0.1:$SIM_PORT"

# --- three replicas of `broker serve` and the balancer in front.
replica_start() { # replica_start I
  local i=$1
  env BROKER_ADDR="127.0.0.1:${R_PORT[$i]}" BROKER_METRICS_ADDR="127.0.0.1:${M_PORT[$i]}" BROKER_ISSUER="$ISSUER" \
    BROKER_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" BROKER_RATE_LIMIT=0 BROKER_LOG_FORMAT=json BROKER_LOG_LEVEL=warn \
    BROKER_ESIA_BASE_URL="$SIM" BROKER_ESIA_CLIENT_ID=CHAOS BROKER_ESIA_SIGNER="gost:$WORK/system.key.pem" \
    BROKER_ESIA_CERTIFICATE="$WORK/system.crt.pem" BROKER_ESIA_TRUST="$WORK/esia-sim.pem" BROKER_ESIA_ISSUER="$SIM/" \
    "$B" serve >>"$WORK/replica$i.log" 2>&1 &
  PID[replica$i]=$!
  wait_for curl -fsS "http://127.0.0.1:${R_PORT[$i]}/healthz"
}
for i in 0 1 2; do replica_start "$i"; done
"$WORK/lb" -addr "127.0.0.1:$LB_PORT" -backends "127.0.0.1:${R_PORT[0]},127.0.0.1:${R_PORT[1]},127.0.0.1:${R_PORT[2]}" \
  >"$WORK/lb.log" 2>&1 & PID[lb]=$!
wait_for curl -fsS "$ISSUER/readyz"
log "up: PostgreSQL :$PG_PORT, Redis :$REDIS_PORT, ESIA simulator :$SIM_PORT, replicas :${R_PORT[*]} behind :$LB_PORT"

load() { # load MODE PERSONS [ARGS…] — the driver, its JSON summary on stdout
  local mode=$1 persons=$2; shift 2
  exec "$WORK/broker-load" -target "$ISSUER" -client "$CLIENT_ID" -secret "$CLIENT_SECRET" -redirect "$REDIRECT" \
    -mode "$mode" -persons "$persons" -c "$WORKERS" "$@" 2>>"$WORK/load.log"
}

# --- faults: each NAME has fault_NAME (run FAULT_AT s into the load) and
# may have heal_NAME (run at HEAL_AT s).
fault_baseline() { :; }
fault_kill() { kill -KILL "${PID[replica1]}"; }
heal_kill() { reap replica1; replica_start 1; }
fault_term() { kill -TERM "${PID[replica2]}"; }
heal_term() { reap replica2; replica_start 2; }
fault_pgrestart() { "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -m fast -w -t 60 stop >/dev/null; pg_start; }
fault_redis() { kill -KILL "${PID[redis]}"; reap redis; }
heal_redis() { redis_start; }
fault_esiakill() { kill -KILL "${PID[sim]}"; reap sim; }
heal_esiakill() { # a new simulator, a new key: the operator reloads the replicas' trust
  sim_start
  local i; for i in 0 1 2; do kill -HUP "${PID[replica$i]}"; done
}
fault_esia503() { # the broker's calls (token, person): the login page itself still works
  local e; for e in te prns; do curl -fsS -X POST "$SIM/sim/faults" -d "{\"endpoint\":\"$e\",\"status\":503}" >/dev/null; done
}
heal_esia503() { curl -fsS -X DELETE "$SIM/sim/faults" >/dev/null; }
fault_esiaslow() { curl -fsS -X PUT "$SIM/sim/latency" -d '{"latency":"3s"}' >/dev/null; }
heal_esiaslow() { curl -fsS -X PUT "$SIM/sim/latency" -d '{"latency":"0s"}' >/dev/null; }

ROWS=(); VIOLATIONS=0; NEXT_PERSON=1
take_persons() { # take_persons N — PERSONS: the next N fixture persons, never logged in before
  local from=$((2000000000 + NEXT_PERSON)); NEXT_PERSON=$((NEXT_PERSON + $1))
  PERSONS="$from-$((from + $1 - 1))"
}

integrity() { # prints "ok" or the violated checks; counts them in VIOLATIONS
  local out bad
  out="$(sql -F '|' -f scripts/chaos/integrity.sql)" || { echo "check failed: database unreachable"; VIOLATIONS=$((VIOLATIONS + 1)); return; }
  bad="$(awk -F'|' '$2 != 0 { printf "%s%s: %s", sep, $1, $2; sep = "; " }' <<<"$out")"
  if [ -z "$bad" ]; then echo ok; else echo "VIOLATED: $bad"; VIOLATIONS=$((VIOLATIONS + 1)); fi
}

row() { # row SCENARIO SUMMARY_JSON FAULT_START_MS [LATE_MS]
  local name=$1 s=$2 start=$3 late=${4:-0} rec failures
  if [ -z "$s" ]; then s='{"attempted":0,"ok":0,"failed":0,"errors":{"load driver failed":1},"last_failure_ms":0}'; fi
  failures="$(jq -r '[.errors | to_entries | sort_by(-.value)[] | "\(.value)× \(.key)"]
    + (if .winners then ["winners per race: \(.winners | map(tostring) | join(","))"] else [] end) | join("; ")' <<<"$s")"
  rec="$(jq -r --argjson t "$start" --argjson late "$late" '
    if $t == 0 then "—"
    elif $late > 0 then "\((($late - $t) / 100 | round) / 10) s (after the load)"
    elif .last_failure_ms == 0 then "—"
    else "\(((.last_failure_ms - $t) / 100 | round) / 10) s" end' <<<"$s")"
  ROWS+=("| $name | $(jq -r .attempted <<<"$s") | $(jq -r .ok <<<"$s") | $(jq -r .failed <<<"$s")${failures:+ ($failures)} | $rec | $(integrity) |")
  log "done: ${ROWS[-1]}"
}

wanted() { [ -z "$SCENARIOS" ] || [[ " $SCENARIOS " == *" $1 "* ]]; }

scenario() { # scenario TITLE NAME HEAL_AT — mixed load with a fault
  local title=$1 name=$2 heal_at=$3 out="$WORK/load.$2.json" t0 start=0
  wanted "$name" || return 0
  log "scenario: $title"
  take_persons 30
  load mixed "$PERSONS" -d "${SECONDS_PER}s" >"$out" & local driver=$!
  PID[driver]=$driver; t0=$(date +%s)
  sleep "$FAULT_AT"
  if [ "$name" != baseline ]; then start=$(now_ms); fi
  "fault_$name"
  if [ -n "$heal_at" ]; then
    sleep "$((t0 + heal_at - $(date +%s)))" 2>/dev/null || true
    "heal_$name"
  fi
  wait "$driver" || true; unset 'PID[driver]'
  settle
  row "$title" "$(cat "$out")" "$start" "$LATE_MS"
}

# settle — after a scenario's load, probe (3 diaries, 1 s) until a probe sees
# no failure, up to 90 s, so that no scenario inherits the last one's state
# (an open circuit breaker). LATE_MS: when the last failing probe ended, 0
# when the first probe was clean.
settle() {
  local deadline=$(($(date +%s) + 90)) p
  LATE_MS=0
  while :; do
    p="$(load mixed "$PERSONS" -c 3 -d 1s)" || p=""
    if [ -n "$p" ] && [ "$(jq .failed <<<"$p")" = 0 ] && [ "$(jq .ok <<<"$p")" != 0 ]; then return; fi
    LATE_MS=$(now_ms)
    if [ "$(date +%s)" -ge "$deadline" ]; then log "not settled after 90 s"; return; fi
    sleep 1
  done
}

scenario "baseline, no fault" baseline ""
scenario "replica SIGKILL (restarted 5 s later)" kill $((FAULT_AT + 5))
scenario "replica SIGTERM (restarted 5 s later)" term $((FAULT_AT + 5))
scenario "PostgreSQL restart (fast shutdown)" pgrestart ""
scenario "Redis down 10 s, back empty" redis $((FAULT_AT + 10))
scenario "ESIA killed 10 s, back with a new key (SIGHUP)" esiakill $((FAULT_AT + 10))
scenario "ESIA's token and person endpoints answering 503 for 10 s" esia503 $((FAULT_AT + 10))
scenario "ESIA slow (3 s a request) for 10 s" esiaslow $((FAULT_AT + 10))

if wanted firstlogins; then
  log "scenario: concurrent first logins of the same people"
  take_persons 10
  row "concurrent first logins ($WORKERS at once, 10 people)" "$(load first-logins "$PERSONS")" 0
fi
if wanted race; then
  log "scenario: one refresh token raced"
  take_persons 1
  row "one refresh token sent by $WORKERS at once (10 races; invalid_grant and the same pair for all are ok)" \
    "$(load refresh-race "$PERSONS" -n 10)" 0
fi

# --- webhooks: every event delivered once the outbox drains.
log "waiting for the outbox to drain"
for _ in $(seq 1 30); do [ "$(sql -c "SELECT count(*) FROM outbox_events WHERE status <> 'delivered'")" = 0 ] && break; sleep 2; done
UNDELIVERED="$(sql -c "SELECT count(*) FROM outbox_events WHERE status <> 'delivered'")"
EVENTS="$(sql -c "SELECT count(*) FROM outbox_events")"
if [ "$UNDELIVERED" = 0 ]; then HOOKS=ok; else HOOKS="VIOLATED: $UNDELIVERED undelivered"; VIOLATIONS=$((VIOLATIONS + 1)); fi
ROWS+=("| webhook delivery after the campaign | $EVENTS events | $((EVENTS - UNDELIVERED)) delivered | $UNDELIVERED | — | $HOOKS |")
TOTALS="$(sql -F ' ' -c "SELECT (SELECT count(*) FROM links), (SELECT count(*) FROM consents WHERE status = 'granted'), (SELECT count(DISTINCT request_id) FROM oauth_records WHERE kind = 'refresh')")"
read -r N_LINKS N_CONSENTS N_GRANTS <<<"$TOTALS"

echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), WORKERS=$WORKERS SECONDS_PER=$SECONDS_PER FAULT_AT=$FAULT_AT"
echo "at the end: $N_LINKS links, $N_CONSENTS granted consents, $N_GRANTS grants with refresh tokens, $EVENTS webhook events"
echo
echo "| scenario | attempted | ok | failed (what they saw) | recovery | integrity |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
if [ "$VIOLATIONS" -gt 0 ]; then
  echo; echo "chaos: $VIOLATIONS scenario(s) left the database inconsistent"
  exit 1
fi
