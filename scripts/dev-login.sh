#!/usr/bin/env bash
# scripts/dev-login.sh — logs in through `broker dev` with nothing but curl
# and a cookie jar, as a browser would: demo diary → broker → ESIA simulator
# → broker → demo diary, and checks the claims the diary received.
#
# Usage: scripts/dev-login.sh [ADDR]       (default 127.0.0.1:18080)
# It builds and starts `broker dev --addr ADDR` unless something already
# answers there, and stops what it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ADDR="${1:-127.0.0.1:18080}"
BASE="http://$ADDR"
WORK="$(mktemp -d)"
PID=""
cleanup() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT
curl() { command curl -m 30 "$@"; } # no request may hang the run

if ! curl -fsS "$BASE/healthz" >/dev/null 2>&1; then
  go build -o "$WORK/broker" ./cmd/broker
  "$WORK/broker" dev --addr "$ADDR" >"$WORK/broker.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 50); do curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
fi

login() { # login OID → the demo diary's page after the whole redirect chain
  curl -fsS -L -c "$WORK/jar" -b "$WORK/jar" "$BASE/demo/login?person=$1"
}

fail() { echo "dev-login: $*" >&2; [ -f "$WORK/broker.log" ] && tail -20 "$WORK/broker.log" >&2; exit 1; }

field() { # field NAME <<<PAGE → the value of a hidden form field
  grep -o "name=\"$1\" value=\"[^\"]*\"" | head -1 | sed 's/.*value="//; s/"$//; s/&#43;/+/g; s/&amp;/\&/g'
}

# 1. An adult teacher whose diary record matches: at her first login she
#    consents (a plain form with a CSRF token), then the diary gets her claims.
page="$(login 1000100001)"
grep -q "Согласие на обработку персональных данных" <<<"$page" || fail "no consent page at the first login"
csrf="$(field csrf <<<"$page")"; id="$(field login <<<"$page")"
page="$(curl -fsS -L -c "$WORK/jar" -b "$WORK/jar" --data-urlencode "csrf=$csrf" --data-urlencode "login=$id" \
  --data-urlencode "decision=accept" "$BASE/consent")"
grep -q "Дневник: вы вошли" <<<"$page" || fail "teacher login did not reach the diary"
grep -q "t-0001" <<<"$page" || fail "person_id t-0001 missing"
grep -q "confirmed" <<<"$page" || fail "esia_trust missing"

# 2. The same teacher through the OAuth endpoints themselves, as any diary's
#    OIDC client would: PKCE S256, sim_person to skip the simulator's page,
#    the external redirect URI (nothing listens there: the script reads the
#    code from the Location header), the code exchanged at /oauth2/token and
#    the ID token verified against the published JWKS.
rm -f "$WORK/jar"
verifier="$(head -c 48 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
challenge="$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n')"
state="st-$RANDOM$RANDOM"; nonce="nc-$RANDOM$RANDOM"
redirect="http://127.0.0.1:8089/callback"
next="$BASE/oauth2/auth?response_type=code&client_id=demo-diary&scope=openid%20profile&redirect_uri=$(jq -rn --arg u "$redirect" '$u|@uri')&state=$state&nonce=$nonce&code_challenge=$challenge&code_challenge_method=S256&sim_person=1000100001"
for _ in $(seq 1 10); do
  case "$next" in "$redirect"*) break ;; esac
  next="$(curl -sS -o /dev/null -c "$WORK/jar" -b "$WORK/jar" -w '%{redirect_url}' "$next")"
  [ -n "$next" ] || fail "the OAuth flow stopped before reaching $redirect"
done
case "$next" in "$redirect"*) ;; *) fail "the OAuth flow did not come back to $redirect" ;; esac
grep -q "[?&]state=$state" <<<"$next" || fail "state did not come back"
code="$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$next")"
[ -n "$code" ] || fail "no code in $next"
curl -fsS -u demo-diary:demo-secret --data-urlencode grant_type=authorization_code \
  --data-urlencode "code=$code" --data-urlencode "redirect_uri=$redirect" \
  --data-urlencode "code_verifier=$verifier" "$BASE/oauth2/token" >"$WORK/token.json" || fail "code exchange refused"
claims="$(go run ./scripts/verify-id-token -issuer "$BASE" -client-id demo-diary -nonce "$nonce" <"$WORK/token.json")" \
  || fail "the ID token did not verify with the published JWKS"
[ "$(jq -r .person_id <<<"$claims")" = "t-0001" ] || fail "person_id t-0001 missing from the verified ID token"
if curl -fsS -o /dev/null -u demo-diary:demo-secret --data-urlencode grant_type=authorization_code \
  --data-urlencode "code=$code" --data-urlencode "redirect_uri=$redirect" \
  --data-urlencode "code_verifier=$verifier" "$BASE/oauth2/token" 2>/dev/null; then
  fail "a replayed code was accepted"
fi

# 3. A person with no diary record: the broker's page with a reference code,
#    and a button back to the diary carrying error=access_denied.
rm -f "$WORK/jar"
page="$(curl -sS -L -c "$WORK/jar" -b "$WORK/jar" "$BASE/demo/login?person=1000100015")"
grep -q "Ваш дневник не найден" <<<"$page" || fail "not-found page missing"
ref="$(grep -o '[0-9A-Z]\{5\}-[0-9A-Z]\{5\}' <<<"$page" | head -1)"
[ -n "$ref" ] || fail "no reference code on the page"
back="$(grep -o 'href="[^"]*error=access_denied[^"]*"' <<<"$page" | head -1 | sed 's/^href="//; s/"$//; s/&amp;/\&/g')"
[ -n "$back" ] || fail "no way back to the diary"
grep -q "error_description=not_found" <<<"$back" || fail "reason not_found missing from the way back"

# 4. A child under 14 without a parent's consent: the block page.
rm -f "$WORK/jar"
page="$(curl -sS -L -c "$WORK/jar" -b "$WORK/jar" "$BASE/demo/login?person=1000100003")"
grep -q "Для входа в дневник нужно согласие одного из родителей" <<<"$page" || fail "no block page for the child"

echo "dev-login: ok (teacher consented and logged in through the demo diary and with curl alone, ID token verified with the JWKS; unknown person got reference $ref; child asked for a parent's consent)"
