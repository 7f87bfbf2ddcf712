#!/usr/bin/env bash
# Times `leakhound trace index` on a generated customer table of RECORDS records and
# `trace match` of a 1,000,000-row sample of it (every RECORDS/1M-th record, columns
# reordered), and reports index size and peak memory.
# Usage: bench/trace.sh [RECORDS] [WORKDIR]   (default 1000000 records, /tmp/leakhound-trace-bench)
# Needs: python3, GNU time (/usr/bin/time). Generating 50M records takes ~25 minutes.
set -euo pipefail
records=${1:-1000000}
work=${2:-/tmp/leakhound-trace-bench}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/leakhound"
table="$work/customers-$records.csv"
[ -s "$table" ] || python3 "$root/bench/gen_customers.py" "$table" "$records" records
[ -s "$work/key" ] || "$bin" trace key --out "$work/key"
echo "== index: $records records, $(du -h "$table" | cut -f1) of CSV"
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$bin" trace index --key-file "$work/key" \
  --out "$work/index" --id-col customer_id --date-col created_at "$table"
ls -l "$work/index" | awk '{printf "index file: %.1f MB\n", $5/1e6}'
step=$(( records > 1000000 ? records / 1000000 : 1 ))
# A leaked-looking sample: every step-th record, columns in another order.
awk -F, -v s="$step" 'BEGIN{OFS=","} NR==1 || (NR-1)%s==0 {print $5,$3,$4,$2,$7}' "$table" > "$work/dump.csv"
echo "== match: $(( $(wc -l < "$work/dump.csv") - 1 )) rows"
/usr/bin/time -f "wall %e s, peak RSS %M KB" "$bin" trace match --key-file "$work/key" \
  "$work/index" "$work/dump.csv" | head -4
