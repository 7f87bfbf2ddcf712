#!/usr/bin/env bash
# Regenerate docs/report.png: a small generated corpus (synthetic people, vehicles and
# a planted token; no real data), two scans into a scratch datastore with a triage
# decision between them, the HTML report, and a headless Chromium screenshot.
#
# Usage: docs/report-screenshot.sh            (needs chromium and python3)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
repo=$PWD
bin="$repo/target/release/leakhound"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen_corpus.py "$work/share" 3 >/dev/null
cd "$work/share"
"$bin" scan --quiet --datastore "$work/findings.db" . >/dev/null || true
fp=$("$bin" report --datastore "$work/findings.db" --format jsonl --category secret \
  | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["fingerprint"])')
"$bin" triage "$fp" --status revoked --comment "rotated by the platform team" \
  --by security --datastore "$work/findings.db" >/dev/null
# The revoked token's file copied into a backup folder: flagged as spreading.
mkdir -p leaked-backup
first=$("$bin" report --datastore "$work/findings.db" --format jsonl --category secret \
  | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["path"])')
cp "$first" leaked-backup/
"$bin" scan --quiet --datastore "$work/findings.db" . >/dev/null || true
"$bin" report --datastore "$work/findings.db" --format html -o "$work/report.html"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1000 \
  --screenshot="$repo/docs/report.png" "file://$work/report.html" 2>/dev/null
echo "wrote docs/report.png"
