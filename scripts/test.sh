#!/usr/bin/env bash
# scripts/test.sh — runs every test of the broker.
#
# It first makes sure what the tests need is there, installing or starting
# what is missing (Debian; needs root or sudo):
#   PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379,
#   OpenSSL's GOST engine (libengine-gost-openssl), Chromium, Apache with
#   mod_auth_openidc (apache2, libapache2-mod-auth-openidc), Python Authlib
#   (python3-authlib, python3-requests), Node and npm (nodejs, npm) with the
#   tools of scripts/node (npm ci: among them openid-client).
# It lints api/openapi.yaml (redocly lint: any problem fails the run).
# Then it runs gofmt, go vet, go test -race ./... with CI=true (a test that
# needs a missing service fails instead of skipping), the dev-mode login
# script (scripts/dev-login.sh) and the README's serve recipe
# (scripts/serve-demo.sh).
#
# Environment: BROKER_TEST_DATABASE_URL and BROKER_TEST_REDIS_URL point the
# tests elsewhere; GO_TEST_FLAGS adds flags to go test (e.g. "-run Login").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CI="${CI:-true}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export BROKER_TEST_DATABASE_URL="${BROKER_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
export BROKER_TEST_REDIS_URL="${BROKER_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"

log() { printf '\033[1m== %s\033[0m (%d s)\n' "$*" "$SECONDS" >&2; }
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

apt_install() {
  log "installing $*"
  timeout -k 15 600 $SUDO apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive timeout -k 15 1200 $SUDO apt-get install -y -qq "$@" >/dev/null
}

# --- PostgreSQL ---------------------------------------------------------------
pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
if ! pg_up; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install postgresql; fi
  log "starting PostgreSQL"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
pg_up || { echo "test.sh: PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }

# --- Redis --------------------------------------------------------------------
redis_up() { (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; }
if ! redis_up; then
  command -v redis-server >/dev/null || apt_install redis-server
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi
redis_up || { echo "test.sh: Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }

# --- OpenSSL's GOST engine (the independent reference for pkg/esia/gost) ----
if ! openssl engine gost -t >/dev/null 2>&1; then apt_install openssl libengine-gost-openssl; fi
openssl engine gost -t >/dev/null 2>&1 || { echo "test.sh: OpenSSL's gost engine is not available" >&2; exit 1; }

# --- Chromium (browser tests of the broker's pages) --------------------------
if ! command -v chromium >/dev/null; then apt_install chromium; fi

# --- Apache with mod_auth_openidc (pkg/server's TestModAuthOpenIDC) ---------
if [ ! -x /usr/sbin/apache2 ] || [ ! -f /usr/lib/apache2/modules/mod_auth_openidc.so ]; then
  apt_install apache2 libapache2-mod-auth-openidc
fi

# --- Python Authlib from Debian (pkg/server's TestAuthlib; /usr/bin/python3) --
if ! /usr/bin/python3 -c 'import authlib.integrations.requests_client, authlib.oidc.core' 2>/dev/null; then
  apt_install python3-authlib python3-requests
fi

# --- curl, jq and psql (scripts/dev-login.sh and serve-demo.sh need them) -----
missing=""
for tool in curl jq; do command -v "$tool" >/dev/null || missing="$missing $tool"; done
command -v psql >/dev/null || missing="$missing postgresql-client"
# shellcheck disable=SC2086
[ -z "$missing" ] || apt_install $missing

# --- Node: the OpenAPI linter, the Standard Webhooks verifier, openid-client,
# axe-core. scripts/node pins them (package-lock.json); pkg/webhook's tests run
# the standardwebhooks package from there with node, pkg/server's TestOpenIDClient
# the openid-client package (scripts/node/openid-client-rp.mjs), and its Chromium
# tests inject axe-core's axe.min.js (TestAccessibilityInChromium).
command -v npm >/dev/null || apt_install nodejs npm
log "npm ci (scripts/node)"
# Bounded: a registry that stalls fails the run in minutes, not at CI's limit.
(cd scripts/node && timeout -k 15 600 npm ci --no-audit --no-fund --loglevel=error --fetch-timeout=60000 --fetch-retries=2 >/dev/null)
log "redocly lint api/openapi.yaml"
scripts/node/node_modules/.bin/redocly lint --config scripts/node/redocly.yaml --format=stylish api/openapi.yaml

# --- Go -------------------------------------------------------------------------
log "gofmt and go vet"
unformatted="$(gofmt -l cmd pkg scripts)"
if [ -n "$unformatted" ]; then echo "gofmt needed:" >&2; echo "$unformatted" >&2; exit 1; fi
go vet ./...

log "go test -race ./..."
# shellcheck disable=SC2086
go test -race -count=1 -timeout 30m ${GO_TEST_FLAGS:-} ./...

# Each script is bounded: a broker that never gets ready fails the run (and
# shows its log) instead of holding it until CI's own limit.
log "dev-mode login with a cookie jar (scripts/dev-login.sh)"
timeout -k 15 600 scripts/dev-login.sh || { echo "test.sh: scripts/dev-login.sh failed (status $?; 124 is a timeout)" >&2; exit 1; }

log "the README's serve recipe against PostgreSQL, Redis and the simulator (scripts/serve-demo.sh)"
timeout -k 15 900 scripts/serve-demo.sh || { echo "test.sh: scripts/serve-demo.sh failed (status $?; 124 is a timeout)" >&2; exit 1; }

log "all tests passed"
