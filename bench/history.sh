#!/usr/bin/env bash
# Time a full-history scan of a git repository and report what docs/performance.md
# records: commits, blobs, bytes, MB/s, wall time, peak memory: anonymous (what the
# scanner holds) and peak RSS (the kernel's high-water mark, VmHWM, which also counts
# mapped pack pages; what /usr/bin/time and a pod's memory accounting see).
#
#   bench/history.sh /path/to/repo [extra scan options, e.g. --branch master]
#
# A long public history to try: a mirror of git/git (200,000 commits with its pull
# request refs, 82,000 on master). A larger one than can be fetched:
# bench/gen_history.py 2000000 | git -C big.git fast-import (10 million objects).
set -euo pipefail
repo=${1:?usage: bench/history.sh REPO [scan options]}
shift
here=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/leakhound"
out=$(mktemp)
log=$(mktemp)
trap 'rm -f "$out" "$log"' EXIT

"$bin" scan --history -q --format json -o "$out" "$@" "$repo" &
pid=$!
peak_anon=0
hwm=0
while kill -0 "$pid" 2>/dev/null; do
  read -r anon rss < <(awk '/^RssAnon/ {a=$2} /^VmHWM/ {h=$2} END {print a+0, h+0}' "/proc/$pid/status" 2>/dev/null || echo "0 0")
  if [ "${anon:-0}" -gt "$peak_anon" ]; then peak_anon=$anon; fi
  if [ "${rss:-0}" -gt "$hwm" ]; then hwm=$rss; fi
  sleep 0.1
done
wait "$pid" || true

python3 - "$out" "$peak_anon" "$hwm" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(f"commits          {s.get('commits', 0):>14,}")
print(f"blobs            {s['blobs']:>14,}")
print(f"bytes            {s['bytes']:>14,}")
print(f"findings         {s['findings']:>14,}")
print(f"unreadable       {s['unreadable']:>14,}")
print(f"wall             {s['elapsed_ms'] / 1000:>13.1f}s")
print(f"MB/s             {s['megabytes_per_second']:>14.1f}")
print(f"peak anon memory {int(sys.argv[2]) / 1024:>11.0f} MiB")
print(f"peak RSS (VmHWM) {int(sys.argv[3]) / 1024:>11.0f} MiB (sampled every 0.1 s)")
PY
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
