#!/usr/bin/env bash
# scripts/bench-roster.sh — linking-at-scale figures for docs/performance.md.
#
# 1. generates a roster of PERSONS people (default 1,000,000) with
#    `broker roster generate` (seed SEED),
# 2. imports it into a throw-away database with `broker roster import`,
#    timing it and taking the peak RSS (/usr/bin/time) and the CPU time of
#    the PostgreSQL backends that served it: with the default batches of
#    1000 rows, again into a fresh database with --batch 4000, and then once
#    more into that one (every record exists: the update path),
# 3. runs BenchmarkMatch (Ladder.Match on a kept roster of as many persons,
#    made the first time only — about two minutes),
# 4. rotates the personal-data key with `broker keys rotate --kind pii`,
#    which re-encrypts every record of step 2.
# PostgreSQL runs on this machine and shares its cores with the broker.
#
# Usage: scripts/bench-roster.sh      (PERSONS=1000000 SEED=1 MATCH_N=20000 KEEP=)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PERSONS="${PERSONS:-1000000}"; SEED="${SEED:-1}"; MATCH_N="${MATCH_N:-20000}"
PGURL="${BROKER_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
DB="broker_bench_roster"
BASE="${PGURL%%\?*}"; DBURL="${BASE%/*}/$DB${PGURL#"$BASE"}" # the same server, database $DB
[[ "$DBURL" == */$DB || "$DBURL" == */$DB\?* ]] || { echo "bench-roster.sh: cannot make a database URL from $PGURL" >&2; exit 1; }
WORK="$(mktemp -d)"; MON=""
cleanup() {
  if [ -n "$MON" ]; then kill "$MON" 2>/dev/null || true; fi # a failed kill must not end the trap early
  rm -rf "$WORK"
  [ -n "${KEEP:-}" ] || psql "$PGURL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

go build -o "$WORK/broker" ./cmd/broker
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), $(go version | cut -d' ' -f3), $(psql "$PGURL" -Atc 'SHOW server_version'), shared_buffers $(psql "$PGURL" -Atc 'SHOW shared_buffers'), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# pg_cpu FILE: samples the CPU time of the PostgreSQL backends connected to
# $DB until killed, then writes their total (seconds) to FILE.
pg_cpu() {
  local out=$1; declare -A cpu
  trap 'tot=0; for p in "${!cpu[@]}"; do tot=$((tot+cpu[$p])); done; echo "scale=1; $tot/$(getconf CLK_TCK)" | bc >"$out"; exit 0' TERM
  while true; do
    for p in $(psql "$PGURL" -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$DB'" 2>/dev/null); do
      t=$(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || true)
      [ -n "$t" ] && cpu[$p]=$t
    done
    sleep 0.5
  done
}

echo "== generate $PERSONS persons (seed $SEED)"
/usr/bin/time -f "generated in %e s, peak RSS %M KB" "$WORK/broker" roster generate --tenant bench --persons "$PERSONS" --seed "$SEED" \
  --error-share 0.05 --esia-sample 2000 --out "$WORK/roster" >"$WORK/summary.json"
grep -E '"(persons|relations)"' "$WORK/summary.json" | tr -d ' ,\n'; echo; ls -l "$WORK/roster/roster.ndjson" | awk '{printf "roster.ndjson: %.0f MB\n", $5/1e6}'

export BROKER_DATABASE_URL="$DBURL"
BROKER_KEK="$("$WORK/broker" keys generate-kek)"; export BROKER_KEK
fresh_db() {
  psql "$PGURL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null 2>&1
  "$WORK/broker" migrate up >/dev/null
  "$WORK/broker" tenants create bench --name "Bench" --operator "Bench" --operator-address "Bench" --allow-name-match >/dev/null
}

import() { # import LABEL [FLAGS]: one timed import of the generated roster
  local label=$1; shift
  pg_cpu "$WORK/pgcpu" & MON=$!
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$WORK/broker" roster import --tenant bench --quiet "$@" "$WORK/roster/roster.ndjson" >"$WORK/report.json"
  kill "$MON" 2>/dev/null || true; wait "$MON" 2>/dev/null || true; MON=""
  read -r wall user sys rss <"$WORK/time"
  local lines; lines=$(wc -l <"$WORK/roster/roster.ndjson")
  echo "$label: ${wall} s wall, $(echo "$PERSONS/$wall" | bc) persons/s, $(echo "$lines/$wall" | bc) lines/s;" \
    "broker CPU ${user}+${sys} s, peak RSS $((rss/1024)) MB; PostgreSQL backends CPU $(cat "$WORK/pgcpu") s;" \
    "load average $load -> $(cut -d' ' -f1 /proc/loadavg); report: $(grep -E '"(persons|relations)"' "$WORK/report.json" | tr -d ' \n')"
}
echo "== import"
fresh_db; import "first import"
fresh_db; import "first import, --batch 4000" --batch 4000
import "same roster again (updates), --batch 4000" --batch 4000
psql "$DBURL" -Atc "SELECT 'table ' || pg_size_pretty(pg_table_size('roster_persons')) || ', indexes ' || pg_size_pretty(pg_indexes_size('roster_persons'))"

echo "== match (BenchmarkMatch, $MATCH_N matches each)"
MATCH_PERSONS="$PERSONS" MATCH_SEED="$SEED" go test ./pkg/linking -run '^$' -bench 'BenchmarkMatch' -benchtime "${MATCH_N}x" -timeout 60m | grep -E '^Benchmark'

echo "== rotate the personal-data key and re-encrypt"
"$WORK/broker" keys rotate --kind pii --quiet --retire-after 0s
