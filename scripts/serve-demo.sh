#!/usr/bin/env bash
# scripts/serve-demo.sh — runs the README's `serve` recipe for real and logs one person in.
#
# The lines between "recipe begins" and "recipe ends" are what README.md shows, verbatim
# (TestREADMEShowsServeRecipe in cmd/broker fails when they differ); scripts/test.sh runs this
# script, so the recipe cannot stop working unnoticed. Around the recipe the script builds the
# broker, makes a PostgreSQL database of its own and drops it, takes free ports, and at the end
# logs the roster's teacher in through the OAuth endpoints with curl (PKCE, the simulator's
# login page, the broker's consent page, the code exchanged, the ID token verified against the
# JWKS), then stops what it started and removes what it made.
#
# Needs: go, curl, jq, openssl, psql, PostgreSQL and Redis. BROKER_TEST_DATABASE_URL (an
# account that may CREATE DATABASE) and BROKER_TEST_REDIS_URL say where they are.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"
ADMIN_URL="${BROKER_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
DB="serve_demo_$$_$RANDOM"
PREFIX="serve-demo-$$-$RANDOM:"
REDIS_URL="${BROKER_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
WORK="$(mktemp -d)"
started=$SECONDS

cleanup() {
  local pids
  pids="$(jobs -p)"
  if [ -n "$pids" ]; then # TERM, 10 s to stop, then KILL: cleaning up never hangs
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    for _ in $(seq 1 50); do
      local alive=""
      for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ -n "$alive" ] || break
      sleep 0.2
    done
    # shellcheck disable=SC2086
    { kill -KILL $pids; wait $pids; } 2>/dev/null || true
  fi
  psql "$ADMIN_URL" -qXc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || echo "serve-demo: could not drop database $DB" >&2
  if command -v redis-cli >/dev/null; then
    redis-cli -u "$REDIS_URL" --scan --pattern "$PREFIX*" 2>/dev/null | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
exec 3>&1 4>&2 # the terminal; the recipe's own output goes to recipe.log, shown on failure
fail() {
  echo "serve-demo: $*" >&4
  [ -f "$WORK/recipe.log" ] && { echo "--- recipe.log (the end)" >&4; tail -30 "$WORK/recipe.log" >&4; }
  exit 1
}
# scripts/test.sh runs this under timeout(1): its TERM shows where the recipe was.
trap 'fail "stopped by a signal after $((SECONDS - started)) s"' TERM INT
free_port() { # a port nothing answers on, below the kernel's ephemeral range (32768 and up by
  local p     # default), so that no outgoing connection of PostgreSQL's or curl's takes it first
  while :; do
    p=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

go build -o "$WORK/bin/broker" ./cmd/broker
go build -o "$WORK/bin/verify-id-token" ./scripts/verify-id-token
export PATH="$WORK/bin:$PATH"
psql "$ADMIN_URL" -qXc "CREATE DATABASE $DB" >/dev/null || fail "cannot create database $DB at $ADMIN_URL"
# The recipe's defaults, pointed at this run's database, Redis prefix and ports.
export BROKER_DATABASE_URL
BROKER_DATABASE_URL="$(sed -E "s#^(postgres(ql)?://[^/]*)/[^?]*#\1/$DB#" <<<"$ADMIN_URL")"
export BROKER_REDIS_URL="$REDIS_URL" BROKER_REDIS_PREFIX="$PREFIX"
export BROKER_METRICS_ADDR="127.0.0.1:$(free_port)"
ADDR="127.0.0.1:$(free_port)" SIM_ADDR="127.0.0.1:$(free_port)"
cd "$WORK"
exec >"$WORK/recipe.log" 2>&1
trap 'fail "the recipe stopped at line $LINENO"' ERR

# ---- recipe begins (README.md shows these lines) ----
# 1. The information system's GOST key and certificate. The simulator and ESIA's test
#    environment take a self-signed one; production: docs/esia-signing.md.
broker gost keygen --paramset A --out system.key.pem
broker gost selfsign --key system.key.pem --subject "/CN=MYSYSTEM/O=Тестовая система/C=RU" --out system.crt.pem

# 2. Settings. BROKER_ISSUER is where browsers reach the broker; ESIA sends people back to
#    $BROKER_ISSUER/esia/callback, which must be registered exactly so (else ESIA-007023).
ADDR=${ADDR:-127.0.0.1:8080} SIM_ADDR=${SIM_ADDR:-127.0.0.1:8090}
export BROKER_DATABASE_URL=${BROKER_DATABASE_URL:-postgres://broker@127.0.0.1:5432/broker}
export BROKER_REDIS_URL=${BROKER_REDIS_URL:-redis://127.0.0.1:6379/0}
export BROKER_KEK=$(broker keys generate-kek)   # keep it secret and safe
export BROKER_ADDR=$ADDR BROKER_ISSUER=http://$ADDR
export BROKER_ESIA_BASE_URL=http://$SIM_ADDR BROKER_ESIA_ISSUER=http://$SIM_ADDR/ BROKER_ESIA_CLIENT_ID=MYSYSTEM
export BROKER_ESIA_SIGNER=gost:system.key.pem BROKER_ESIA_CERTIFICATE=system.crt.pem
export BROKER_ESIA_TRUST=esia-sim.pem           # the simulator's token certificate (--cert-out)

# 3. ESIA: the simulator, with the system and its redirect URI registered.
broker esia-sim --addr "$SIM_ADDR" --client-id MYSYSTEM --client-cert system.crt.pem \
  --redirect-uri "$BROKER_ISSUER/esia/callback" --cert-out esia-sim.pem &
# Up, and esia-sim.pem written, once it answers; curl gives up after 30 s.
curl -fs --retry-connrefused --retry 30 --retry-delay 1 -m 5 -o /dev/null "http://$SIM_ADDR/sim/certificates.pem"

# 4. The database, a tenant, a diary's OAuth client and the diary's roster.
broker migrate up
broker tenants create msk --name "Электронный дневник" \
  --operator "ГБУ «Школьные системы»" --operator-address "125009, Москва, ул. Примерная, д. 1"
broker clients create --tenant msk --id diary --redirect-uri http://127.0.0.1:8089/callback --json >client.json
cat >roster.ndjson <<'EOF'
{"type":"person","external_id":"t-0001","role":"teacher","last_name":"Смирнова","first_name":"Елена","middle_name":"Викторовна","birth_date":"1985-03-14","snils":"112-233-401 83"}
EOF
broker roster import --tenant msk roster.ndjson

# 5. The broker; it answers /readyz once PostgreSQL, Redis and ESIA's certificates are there.
broker serve &
curl -fs --retry-connrefused --retry 60 --retry-delay 1 -m 5 -o /dev/null "http://$ADDR/readyz"   # 503 until then; up to 60 s
# ---- recipe ends ----
trap - ERR

# One login, as a diary's OIDC client would make it: PKCE S256, the simulator's login page
# (the roster's teacher, 1000100001 in its fixture set), the broker's consent page, the code
# exchanged with the client's secret, the ID token verified against the published JWKS. The
# redirect URI is not listened on: the code is read from the Location header.
BASE="http://$ADDR"
JAR="$WORK/jar"
redirect="http://127.0.0.1:8089/callback"
secret="$(jq -r .client_secret client.json)"
[ -n "$secret" ] && [ "$secret" != null ] || fail "clients create printed no secret"
verifier="$(head -c 48 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
challenge="$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n')"
state="st-$RANDOM$RANDOM"; nonce="nc-$RANDOM$RANDOM"

walk() { # walk URL: follow redirects with the cookie jar until a page or the diary's redirect URI
  local next="$1"
  for _ in $(seq 1 10); do
    case "$next" in "$redirect"*) echo "$next"; return ;; esac
    local to
    to="$(curl -sS -m 30 -o "$WORK/page.html" -c "$JAR" -b "$JAR" -w '%{redirect_url}' "$next")" || fail "GET $next failed"
    [ -n "$to" ] || { echo "$next"; return; }
    next="$to"
  done
  fail "too many redirects"
}
post() { # post URL FIELD=VALUE…: like walk, from a form's POST
  local url="$1" to; shift
  local args=()
  for f in "$@"; do args+=(--data-urlencode "$f"); done
  to="$(curl -sS -m 30 -o "$WORK/page.html" -c "$JAR" -b "$JAR" -w '%{redirect_url}' "${args[@]}" "$url")" || fail "POST $url failed"
  if [ -n "$to" ]; then walk "$to"; else echo "$url"; fi
}
field() { # field NAME: the value of a form field on the last page
  grep -o "name=\"$1\" value=\"[^\"]*\"" "$WORK/page.html" | head -1 | sed 's/.*value="//; s/"$//; s/&#43;/+/g; s/&amp;/\&/g'
}

at="$(walk "$BASE/oauth2/auth?response_type=code&client_id=diary&scope=openid%20profile&redirect_uri=$(jq -rn --arg u "$redirect" '$u|@uri')&state=$state&nonce=$nonce&code_challenge=$challenge&code_challenge_method=S256")"
case "$at" in "http://$SIM_ADDR/"*) ;; *) fail "the broker did not send the browser to the simulator (ended at $at)" ;; esac
action="$(grep -o '<form method="post" action="[^"]*"' "$WORK/page.html" | head -1 | sed 's/.*action="//; s/"$//; s/&amp;/\&/g' || true)"
request="$(field request || true)"
[ -n "$action" ] && [ -n "$request" ] || fail "no login form on the simulator's page: $(grep -o 'ESIA-[0-9]*[^<]*' "$WORK/page.html" | head -1 || head -c 300 "$WORK/page.html")"
at="$(post "$action" "request=$request" "person=1000100001")"
grep -q "Согласие на обработку персональных данных" "$WORK/page.html" || fail "no consent page after the simulator (at $at): $(grep -o '<h1>[^<]*' "$WORK/page.html" | head -1 || true)"
at="$(post "$BASE/consent" "csrf=$(field csrf)" "login=$(field login)" "decision=accept")"
case "$at" in "$redirect"*) ;; *) fail "the login did not come back to the diary (ended at $at)" ;; esac
grep -q "[?&]state=$state" <<<"$at" || fail "state did not come back"
code="$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$at")"
[ -n "$code" ] || fail "no code in $at"
curl -fsS -m 30 -u "diary:$secret" --data-urlencode grant_type=authorization_code --data-urlencode "code=$code" \
  --data-urlencode "redirect_uri=$redirect" --data-urlencode "code_verifier=$verifier" \
  "$BASE/oauth2/token" >token.json || fail "the code exchange was refused"
claims="$(verify-id-token -issuer "$BASE" -client-id diary -nonce "$nonce" <token.json)" || fail "the ID token did not verify with the JWKS"
[ "$(jq -r .person_id <<<"$claims")" = t-0001 ] || fail "person_id t-0001 missing from the ID token: $claims"

echo "serve-demo: ok in $((SECONDS - started)) s (recipe ran on database $DB; the roster's teacher logged in through the simulator, consented, and the diary's ID token verified)" >&3
