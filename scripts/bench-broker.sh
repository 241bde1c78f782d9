#!/usr/bin/env bash
# scripts/bench-broker.sh — load figures of the broker for docs/performance.md.
#
# Builds broker and broker-load, starts `broker dev` twice — on the memory
# store, and on PostgreSQL + Redis — and drives each with concurrent
# diaries: refresh rotations, code exchanges (codes made beforehand),
# client-credentials tokens and whole logins (one person 20 times at once,
# then LOGIN_PERSONS side by side). After the PostgreSQL run it
# prints the size of every table and its dead rows.
#
# PostgreSQL and Redis are the script's own: a fresh cluster (initdb in a
# temporary directory, production settings — autovacuum on, fsync and
# synchronous_commit on) and a redis-server on a port of their own, so no
# figure depends on the machine's shared database (which CI runs with
# autovacuum off) or on what other tests left in it. Each PostgreSQL run
# starts with ANALYZE, as autovacuum keeps a running database's statistics
# (scripts/lib/bench-services.sh says why). Everything runs on
# this machine: the load generator, the broker, PostgreSQL and Redis share
# its cores.
#
# On PostgreSQL + Redis, refresh, exchange and whole logins also print the cluster's WAL
# per operation over the timed run (after the grants or codes are made);
# with CPU_SPLIT=1, the CPU time per operation of the broker process, of the
# cluster (postmaster, backends, autovacuum and other workers) and of
# redis-server over the same run (/proc/PID/stat utime+stime), and the
# machine's idle time and steal (the time the hypervisor gave its cores to
# other guests) per operation. With STATEMENTS=1 the cluster preloads
# pg_stat_statements and each of those runs also prints the broker's
# statements by execution time: calls per operation, execution time and WAL per call.
#
# With FLAT_REFRESHES=N it does only the flatness run instead (issue 13,
# "tables flat over 1M refreshes"): `broker dev` on the script's own
# PostgreSQL + Redis with the janitors every JANITOR_EVERY (10s), N refresh
# rotations from CONCURRENCY diaries, and at the start of the timed run and
# after every FLAT_EVERY (100000) refreshes the size of oauth_records and
# oauth_grants (pg_total_relation_size, heap = pg_table_size, indexes =
# pg_indexes_size, in kB), their live and dead rows, the WAL per refresh
# since the previous line, the load average and the time.
#
# With RSS_LOGINS=N it does only the memory run instead (issue 13, "broker
# dev RSS ≤ 150 MB after 100k logins"): `broker dev` on the memory store
# (its defaults: BROKER_MEMORY_MAX_ROWS 5000, janitors every minute), N
# whole logins from 20 diaries, VmHWM and VmRSS of the broker every RSS_EVERY (20000)
# logins, and at the end VmHWM (the peak) and VmRSS with the load average.
#
# Usage: scripts/bench-broker.sh   (DURATION=20s CONCURRENCY=100 CODES=5000 CPU_SPLIT=0 STATEMENTS=0 PG_SOCKET=0 PGPORT=55432 REDISPORT=56379
#                                    MODES="refresh exchange client-credentials login logins" BACKENDS=both|memory|postgres+redis)
#        FLAT_REFRESHES=1000000 scripts/bench-broker.sh   (FLAT_EVERY=100000 JANITOR_EVERY=10s CONCURRENCY=100)
#        RSS_LOGINS=100000 scripts/bench-broker.sh   (RSS_EVERY=20000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION="${DURATION:-20s}"; C="${CONCURRENCY:-100}"; CODES="${CODES:-5000}"
# The dev fixture persons whose login ends in the diary (linked, of age or
# consented): the second whole-login run spreads its clients over them.
LOGIN_PERSONS="${LOGIN_PERSONS:-1000100001,1000100002,1000100006,1000100010,1000100011,1000100013,1000100014,1000100017,1000100019,1000100020,1000100022,1000100023,1000100025,1000100028}"
PGPORT="${PGPORT:-55432}"; REDISPORT="${REDISPORT:-56379}"
# MODES: the scenarios to run (refresh exchange client-credentials login
# logins — the last is login over LOGIN_PERSONS); BACKENDS: memory,
# postgres+redis or both (the default).
MODES="${MODES:-refresh exchange client-credentials login logins}"; BACKENDS="${BACKENDS:-both}"
case "$BACKENDS" in both | memory | postgres+redis) ;; *) echo "BACKENDS=$BACKENDS: both, memory or postgres+redis" >&2; exit 2 ;; esac
for m in $MODES; do
  case "$m" in refresh | exchange | client-credentials | login | logins) ;; *) echo "MODES: no scenario $m (refresh exchange client-credentials login logins)" >&2; exit 2 ;; esac
done
WORK="$(mktemp -d)"; chmod 755 "$WORK"; PID=""; SERVICES=""
source scripts/lib/bench-services.sh
cleanup() {
  # "|| true": under set -e a failed kill (the broker died already) would
  # end the trap here, leaving the cluster running and $WORK behind.
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi
  # Only services this run started (RSS_LOGINS starts none; a Redis of
  # another run on the default port must not be shut down).
  [ -n "$SERVICES" ] && stop_services
  rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/broker" ./cmd/broker
go build -o "$WORK/broker-load" ./cmd/broker-load
echo "machine: $(nproc) cores, $(uname -sr), $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# CPU ticks (utime+stime, and the reaped children's with "all") of a process.
ticks() { awk -v all="${2:-}" '{ sub(/^.*\) /, ""); t = $12 + $13; if (all) t += $14 + $15; print t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# cpu_now — "broker postgres redis idle steal" in ticks: the broker process;
# the cluster's postmaster with every backend, worker and exited child; the
# redis-server; the machine's idle time and the time the hypervisor gave its
# cores to other guests (steal; all cores).
cpu_now() {
  local pm pg c; pm=$(head -1 "$PGDATA/postmaster.pid"); pg=$(ticks "$pm" all)
  for c in $(ps -o pid= --ppid "$pm"); do pg=$(( pg + $(ticks "$c") )); done
  echo "$(ticks "$PID") $pg $(ticks "$REDISPID") $(awk '/^cpu / { print $5 + $6, $9 }' /proc/stat)"
}

drive() { # drive ADDR MODE ARGS... — one broker-load run; on PostgreSQL, refresh, exchange and login print WAL and CPU per operation
  local addr=$1 mode=$2; shift 2
  if [ -n "${PGURL:-}" ] && [ "$mode" = login ] && [ "$(psql "$PGURL" -Atc 'SELECT count(*) FROM attempts')" -lt 1000 ]; then
    # Logins run first (MODES=login): a running database has attempts, so
    # the statistics below must not be those of an empty table (each
    # connection would keep a sequential scan as its generic plan for the
    # attempts' foreign-key checks: docs/performance.md, fourth pass).
    "$WORK/broker-load" -target "http://$addr" -mode login -c 20 -total 1000 "$@" >/dev/null 2>&1 || true
  fi
  if [ -n "${PGURL:-}" ]; then analyze_all; fi # the statistics of a running database (bench-services.sh)
  if [ -z "${PGURL:-}" ] || { [ "$mode" != refresh ] && [ "$mode" != exchange ] && [ "$mode" != login ]; }; then
    "$WORK/broker-load" -target "http://$addr" -mode "$mode" "$@" 2>/dev/null; return
  fi
: >"$WORK/load.err"
  "$WORK/broker-load" -target "http://$addr" -mode "$mode" "$@" >"$WORK/load.out" 2>"$WORK/load.err" &
  local lp=$! lsn0 cpu0 cpu1 ok
  # Count from the moment the grants or codes are made and the timed run starts.
  while ! grep -q 'timed run starts' "$WORK/load.err" && kill -0 "$lp" 2>/dev/null; do sleep 0.02; done
  if [ "${STATEMENTS:-0}" = 1 ]; then psql "$PGURL" -Atc 'SELECT pg_stat_statements_reset()' >/dev/null; fi
  cpu0=$(cpu_now); lsn0=$(psql "$PGURL" -Atc 'SELECT pg_current_wal_lsn()')
  wait "$lp"
  cpu1=$(cpu_now); cat "$WORK/load.out"
  ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' "$WORK/load.out" | head -1)
  # WAL per operation: the whole cluster's WAL over the timed run, by the operations done.
  psql "$PGURL" -Atc "SELECT 'WAL per $mode: ' || round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0') / greatest($ok, 1)) || ' bytes ($ok operations)'"
  if [ "${CPU_SPLIT:-0}" = 1 ]; then
    awk -v a="$cpu0" -v b="$cpu1" -v n="$ok" -v hz="$(getconf CLK_TCK)" -v cores="$(nproc)" -v mode="$mode" 'BEGIN {
      split(a, x, " "); split(b, y, " "); n = (n > 0 ? n : 1); ms = 1000 / hz
      printf "CPU per %s: broker %.3f ms, postgres %.3f ms, redis %.3f ms; machine idle %.3f ms, stolen by the hypervisor %.3f ms, of %d cores (the rest: broker-load, the kernel, others)\n",
        mode, (y[1]-x[1])*ms/n, (y[2]-x[2])*ms/n, (y[3]-x[3])*ms/n, (y[4]-x[4])*ms/n, (y[5]-x[5])*ms/n, cores }'
  fi
  if [ "${STATEMENTS:-0}" = 1 ]; then
    # The broker's statements over the timed run (the script's own psql
    # excluded): calls per operation, and per call the mean and largest
    # execution time and the WAL. Counting starts a moment after the timed
    # run does, so calls per operation may fall a little short of 1.
    psql "$PGURL" -P footer=off -c "SELECT round(calls::numeric / greatest($ok, 1), 2) AS calls_per_op,
        round((mean_exec_time * 1000)::numeric, 1) AS exec_us, round((max_exec_time * 1000)::numeric) AS max_us,
        round(wal_bytes / greatest(calls, 1)) AS wal_bytes,
        left(regexp_replace(query, '\s+', ' ', 'g'), 90) AS statement
      FROM pg_stat_statements
      WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_current_wal_lsn%' AND calls >= greatest($ok, 1) / 100
      ORDER BY total_exec_time DESC LIMIT 8"
  fi
}

# want SCENARIO — whether MODES names it (all of them by default).
want() { case " $MODES " in *" $1 "*) return 0 ;; esac; return 1; }

run() { # run NAME ADDR ARGS... — start broker dev with ARGS, drive it, stop it
  local name=$1 addr=$2; shift 2
  "$WORK/broker" dev --addr "$addr" --rate-limit 0 --log-level warn "$@" >"$WORK/$name.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 50); do curl -fsS "http://$addr/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  echo "== $name"
  want refresh && drive "$addr" refresh -c "$C" -d "$DURATION"
  want exchange && drive "$addr" exchange -c "$C" -n "$CODES"
  want client-credentials && drive "$addr" client-credentials -c "$C" -d "$DURATION"
  want login && drive "$addr" login -c 20 -d "$DURATION"
  if want logins; then
    echo "-- the same, 20 clients logging in $(echo "$LOGIN_PERSONS" | tr ',' '\n' | wc -l) different people (LOGIN_PERSONS) instead of one person 20 times at once:"
    drive "$addr" login -c 20 -d "$DURATION" -persons "$LOGIN_PERSONS"
  fi
  kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""
}

# flat — the flatness run (FLAT_REFRESHES): table sizes at checkpoints.
flat() {
  local addr=127.0.0.1:18183 every="${FLAT_EVERY:-100000}" lp
  SERVICES=1; start_services
  echo "postgres: $("$PGBIN/postgres" --version), autovacuum $(psql "$PGURL" -Atc 'SHOW autovacuum'), janitors every ${JANITOR_EVERY:-10s}"
  BROKER_KEK="$("$WORK/broker" keys generate-kek)" BROKER_JANITOR_EVERY="${JANITOR_EVERY:-10s}" \
    "$WORK/broker" dev --addr "$addr" --rate-limit 0 --log-level warn --database-url "$PGURL" \
    --redis-url "redis://127.0.0.1:$REDISPORT/0" >"$WORK/flat.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do curl -fsS "http://$addr/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  : >"$WORK/load.err"
  "$WORK/broker-load" -target "http://$addr" -mode refresh -c "$C" -total "$FLAT_REFRESHES" -checkpoint "$every" \
    >"$WORK/load.out" 2>"$WORK/load.err" &
  lp=$!
  echo "refreshes | oauth_records total / heap / indexes kB, live, dead | oauth_grants total / heap / indexes kB, live, dead | WAL per refresh since the previous line | load average | UTC"
  local lsn last=0 n
  tail -n +1 -f --pid "$lp" "$WORK/load.err" | while read -r line; do
    case "$line" in
      "timed run starts") n=0 ;;
      "checkpoint "*) n=${line#checkpoint } ;;
      *) continue ;;
    esac
    psql "$PGURL" -Atc "SELECT '$n | ' || string_agg(pg_total_relation_size(relid) / 1024 || ' / ' || pg_table_size(relid) / 1024 || ' / ' ||
        pg_indexes_size(relid) / 1024 || ', ' || n_live_tup || ', ' || n_dead_tup, ' | ' ORDER BY relname DESC)
      FROM pg_stat_user_tables WHERE relname IN ('oauth_records', 'oauth_grants')" | tr -d '\n'
    if [ -n "${lsn:-}" ]; then
      psql "$PGURL" -Atc "SELECT ' | ' || round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn') / greatest($n - $last, 1))" | tr -d '\n'
    else
      printf ' | -'
    fi
    echo " | $(cut -d' ' -f1-3 /proc/loadavg) | $(date -u +%T)"
    lsn=$(psql "$PGURL" -Atc 'SELECT pg_current_wal_lsn()'); last=$n
  done
  wait "$lp"; cat "$WORK/load.out"
}
# rss — the memory run (RSS_LOGINS): VmRSS of broker dev over N logins.
rss() {
  local addr=127.0.0.1:18184 lp line
  "$WORK/broker" dev --addr "$addr" --rate-limit 0 --log-level warn >"$WORK/rss.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 50); do curl -fsS "http://$addr/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  vm() { awk '/^(VmRSS|VmHWM):/ { printf "%s %d MB  ", $1, $2 / 1024 }' "/proc/$PID/status"; }
  echo "logins | broker VmHWM (peak), VmRSS | load average | UTC"
  echo "0 | $(vm)| $(cut -d' ' -f1-3 /proc/loadavg) | $(date -u +%T)"
  : >"$WORK/load.err"
  "$WORK/broker-load" -target "http://$addr" -mode login -c 20 -total "$RSS_LOGINS" -checkpoint "${RSS_EVERY:-20000}" \
    >"$WORK/load.out" 2>"$WORK/load.err" &
  lp=$!
  tail -n +1 -f --pid "$lp" "$WORK/load.err" | while read -r line; do
    case "$line" in
      "checkpoint "*) echo "${line#checkpoint } | $(vm)| $(cut -d' ' -f1-3 /proc/loadavg) | $(date -u +%T)" ;;
    esac
  done
  wait "$lp"; cat "$WORK/load.out"
  echo "end: $(vm)load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
if [ -n "${RSS_LOGINS:-}" ]; then
  rss
  exit 0
fi
if [ -n "${FLAT_REFRESHES:-}" ]; then
  flat
  exit 0
fi

if [ "$BACKENDS" != postgres+redis ]; then run memory 127.0.0.1:18181; fi
if [ "$BACKENDS" = memory ]; then exit 0; fi

# The script's own PostgreSQL (production settings) and Redis.
SERVICES=1; start_services
if [ "${STATEMENTS:-0}" = 1 ]; then
  # pg_stat_statements needs preloading: one restart of the fresh cluster.
  printf "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\n" >>"$PGDATA/postgresql.conf"
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w restart >/dev/null || { tail -20 "$PGDATA/server.log"; exit 1; }
  psql "$PGURL" -qc 'CREATE EXTENSION pg_stat_statements'
fi
REDISPID=$(redis-cli -p "$REDISPORT" info server | sed -n 's/^process_id:\([0-9]*\).*/\1/p')
echo "postgres: $("$PGBIN/postgres" --version), autovacuum $(psql "$PGURL" -Atc 'SHOW autovacuum'), redis: $(redis-server --version | cut -d' ' -f3)"

# With PG_SOCKET=1 the broker reaches PostgreSQL over its Unix socket, as a
# broker on the database's own machine would (the script's psql keeps TCP).
DBURL="$PGURL"
if [ "${PG_SOCKET:-0}" = 1 ]; then
  DBURL="postgres://postgres@/postgres?host=$PGDATA&port=$PGPORT&sslmode=disable"
  echo "the broker reaches PostgreSQL over its Unix socket"
fi
BROKER_KEK="$("$WORK/broker" keys generate-kek)" run postgres+redis 127.0.0.1:18182 --database-url "$DBURL" --redis-url "redis://127.0.0.1:$REDISPORT/0"

echo "== tables after the runs (heap, indexes, live and dead rows)"
psql "$PGURL" -qc "SELECT relname AS table, pg_size_pretty(pg_table_size(relid)) AS heap,
    pg_size_pretty(pg_indexes_size(relid)) AS indexes, n_live_tup AS live, n_dead_tup AS dead
  FROM pg_stat_user_tables WHERE pg_total_relation_size(relid) > 65536 ORDER BY pg_total_relation_size(relid) DESC"
