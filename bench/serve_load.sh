#!/usr/bin/env bash
# Load test of `leakhound serve` on loopback: 50 concurrent clients browsing and
# filtering a datastore of 1,000,000 findings for 60 s; prints p50/p90/p99 latency and
# errors (wrk, from Debian's package).
#
#   bench/serve_load.sh                         # a fresh PostgreSQL database
#   STORE=/tmp/big.db bench/serve_load.sh       # or an SQLite file (made if missing)
#   FINDINGS=200000 CLIENTS=20 SECONDS=30 bench/serve_load.sh
#   LEAKHOUND_THINK_MS=0 bench/serve_load.sh    # clients that never pause: capacity
#
# Each client pauses 0.5-1.5 s between pages (LEAKHOUND_THINK_MS=1000, the mean), as
# people reading a page do.
set -euo pipefail
cd "$(dirname "$0")/.."
FINDINGS=${FINDINGS:-1000000}
CLIENTS=${CLIENTS:-50}
SECONDS_=${SECONDS:-60}
PORT=${PORT:-18090}
ADMIN=${LEAKHOUND_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 2; }
cargo build --release --locked --quiet
cargo build --release --locked --quiet -p leakhound-serve --example fill_store
bin=target/release/leakhound
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

if [ -z "${STORE:-}" ]; then
  db=leakhound_load
  psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  STORE="${ADMIN%/*}/$db"
  target/release/examples/fill_store "$STORE" "$FINDINGS"
elif [ ! -e "$STORE" ] && [[ "$STORE" != postgres* ]]; then
  target/release/examples/fill_store "$STORE" "$FINDINGS"
fi
echo "load test password" | $bin users add load --role analyst --password-stdin --datastore "$STORE" >/dev/null

$bin serve --datastore "$STORE" --listen "127.0.0.1:$PORT" 2>"$work/serve.log" &
server=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/login" && break; sleep 0.2; done
base="http://127.0.0.1:$PORT"
curl -s -c "$work/jar" -b "$work/jar" "$base/login" > "$work/login.html"
token=$(grep -o 'name="token" value="[0-9a-f]*"' "$work/login.html" | sed 's/.*value="//;s/"//')
curl -s -c "$work/jar" -b "$work/jar" -o /dev/null \
  --data-urlencode name=load --data-urlencode "password=load test password" \
  --data-urlencode "token=$token" "$base/login"
export LEAKHOUND_COOKIE=$(awk '$6 == "leakhound_session" {print $7}' "$work/jar")
# Later pages and fingerprints to open, as a user clicking "Next page" would find them.
: > "$work/next"
: > "$work/fps"
for q in "" "status=open" "severity=high" "rule=cn-mobile"; do
  page=$(curl -s -b "$work/jar" "$base/findings?$q")
  printf '%s\n' "$page" | grep -o 'href="/findings?[^"]*after=[^"]*"' | sed 's/href="//;s/"$//;s/&amp;/\&/g;s/&#38;/\&/g' >> "$work/next"
  printf '%s\n' "$page" | grep -o 'name="fp" value="[0-9a-f]*"' | sed 's/.*value="//;s/"//' >> "$work/fps"
done
export LEAKHOUND_NEXT_PAGES="$work/next" LEAKHOUND_FINGERPRINTS="$work/fps"
echo "store: $STORE; $(wc -l < "$work/fps") fingerprints, $(wc -l < "$work/next") later pages to open"
echo "clients: $CLIENTS for ${SECONDS_} s, think time ${LEAKHOUND_THINK_MS:-1000} ms (mean)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
wrk -t2 -c"$CLIENTS" -d"${SECONDS_}s" --timeout 10s -s bench/serve_load.lua "$base" | tail -8
grep -v "^leakhound serve: http" "$work/serve.log" || true
