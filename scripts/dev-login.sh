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
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

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

# 2. A person with no diary record: the broker's page with a reference code,
#    and a button back to the diary carrying error=access_denied.
rm -f "$WORK/jar"
page="$(curl -sS -L -c "$WORK/jar" -b "$WORK/jar" "$BASE/demo/login?person=1000100015")"
grep -q "Ваш дневник не найден" <<<"$page" || fail "not-found page missing"
ref="$(grep -o '[0-9A-Z]\{5\}-[0-9A-Z]\{5\}' <<<"$page" | head -1)"
[ -n "$ref" ] || fail "no reference code on the page"
back="$(grep -o 'href="[^"]*error=access_denied[^"]*"' <<<"$page" | head -1 | sed 's/^href="//; s/"$//; s/&amp;/\&/g')"
[ -n "$back" ] || fail "no way back to the diary"
grep -q "error_description=not_found" <<<"$back" || fail "reason not_found missing from the way back"

# 3. A child under 14 without a parent's consent: the block page.
rm -f "$WORK/jar"
page="$(curl -sS -L -c "$WORK/jar" -b "$WORK/jar" "$BASE/demo/login?person=1000100003")"
grep -q "Для входа в дневник нужно согласие одного из родителей" <<<"$page" || fail "no block page for the child"

echo "dev-login: ok (teacher consented and logged in; unknown person got reference $ref; child asked for a parent's consent)"
