# scripts/lib/bench-services.sh — sourced by scripts/bench-broker.sh and
# scripts/bench-hydra.sh: a PostgreSQL cluster and a redis-server of the
# benchmark's own, so no figure depends on the machine's shared database
# (which CI runs with autovacuum off) or on what other tests left in it.
#
# Needs WORK (a temporary directory), PGPORT and REDISPORT. Sets PGDATA,
# PGBIN, AS (the command prefix that runs PostgreSQL's tools as the postgres
# user when the script runs as root) and, after start_services, PGURL.
PGDATA="$WORK/pg"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
# PostgreSQL refuses to run as root: the cluster belongs to the postgres user then.
AS=(); if [ "$(id -u)" -eq 0 ]; then AS=(runuser -u postgres --); fi

# start_services — initdb in $PGDATA with production settings (autovacuum
# on, fsync and synchronous_commit on), start it on $PGPORT, and start a
# redis-server without persistence on $REDISPORT.
start_services() {
  mkdir -p "$PGDATA"; if [ ${#AS[@]} -gt 0 ]; then chown postgres "$PGDATA"; fi
  "${AS[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale C.UTF-8 >/dev/null
  cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$PGDATA'
shared_buffers = 1GB
max_connections = 200
autovacuum = on
fsync = on
synchronous_commit = on
CONF
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w start >/dev/null
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDISPORT" --save "" --appendonly no >/dev/null
  PGURL="postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable"
}

# analyze_all — ANALYZE every database of the cluster, as autovacuum keeps
# a running database's statistics; the benchmarks call it before each run.
# Without it a run inherits the plans of the one before: a connection
# plans a prepared statement generically after its fifth execution and
# keeps that plan until the statistics of its tables change, so the code
# exchange's gate, first run while oauth_records held a few rows, kept a
# sequential scan into the next run and read all 5,000 codes there (360
# buffers and ~350 µs a call instead of 5 and ~35 µs: docs/performance.md).
# Autovacuum's ANALYZE replans it in a database that runs for minutes; the
# runs last seconds.
analyze_all() {
  "$PGBIN/vacuumdb" -h 127.0.0.1 -p "$PGPORT" -U postgres --all --analyze-only --quiet
}

# stop_services — stop both (for the script's EXIT trap; harmless if they
# never started).
stop_services() {
  if [ -f "$PGDATA/postmaster.pid" ]; then "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true; fi
  redis-cli -p "$REDISPORT" shutdown nosave >/dev/null 2>&1 || true
}
