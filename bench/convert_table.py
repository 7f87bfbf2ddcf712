#!/usr/bin/env python3
"""Convert a CSV table (e.g. from gen_customers.py) to JSON Lines, to one JSON document
(`{"total": N, "data": [records]}`, one record per line, as API exports are) or to a
mysqldump-style SQL dump (extended INSERTs of 500 rows), so `assess` and `scan` can be
timed on the same data in each format.

Usage: convert_table.py IN.csv OUT.jsonl|OUT.json|OUT.sql
"""
import csv
import json
import sys

src, out = sys.argv[1], sys.argv[2]
with open(src, newline="", encoding="utf-8") as f, open(out, "w", encoding="utf-8") as w:
    rows = csv.reader(f)
    header = next(rows)
    if out.endswith(".jsonl"):
        for r in rows:
            w.write(json.dumps(dict(zip(header, r)), ensure_ascii=False) + "\n")
    elif out.endswith(".json"):
        records = [json.dumps(dict(zip(header, r)), ensure_ascii=False) for r in rows]
        w.write(f'{{"total": {len(records)}, "data": [\n' + ",\n".join(records) + "\n]}\n")
    elif out.endswith(".sql"):
        cols = ", ".join(f"`{h}`" for h in header)
        w.write("CREATE TABLE `customers` (" + ", ".join(f"`{h}` varchar(255)" for h in header) + ");\n")
        batch = []

        def flush():
            if batch:
                w.write(f"INSERT INTO `customers` ({cols}) VALUES " + ",".join(batch) + ";\n")
                batch.clear()

        for r in rows:
            batch.append("(" + ",".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in r) + ")")
            if len(batch) == 500:
                flush()
        flush()
    else:
        sys.exit("OUT must end in .jsonl, .json or .sql")
print(f"{out}: written")
