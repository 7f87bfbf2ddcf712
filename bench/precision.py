#!/usr/bin/env python3
"""Precision of leakhound's high and critical findings on real trees, against hand labels.

Usage:
  bench/precision.py [--binary target/release/leakhound] [--labels bench/precision/labels.tsv] \
      NAME=DIR [NAME=DIR ...]

Each DIR is scanned with all packs and default settings; every high/critical finding
(with --all: every finding above info) is looked up in the labels by (tree NAME, fingerprint, path below DIR). Prints per tree and
per rule: findings, true, test/example, false, unlabelled, precision (true / labelled).
Also checks recall: every finding labelled true must still be reported (at any
severity). Exits 1 if one is not, or if any high/critical finding is unlabelled: label it (bench/precision/README.md
says how) before quoting a number. The trees and their pinned commits are in
bench/precision/trees.tsv.
"""
import argparse
import collections
import json
import os
import subprocess
import sys


def load_labels(path):
    labels = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or line.startswith("tree\t") or not line.strip():
                continue
            tree, fp, rule, p, _line, verdict, reason = line.rstrip("\n").split("\t")
            labels[(tree, fp, p)] = (verdict, reason)
    return labels


def scan(binary, directory):
    out = subprocess.run(
        # Labels are per value (fingerprint of rule and value): one finding per cell,
        # not the table-level findings a column gives by default.
        [binary, "scan", "--each-cell", "--format", "jsonl", "."],
        cwd=directory, capture_output=True, text=True, check=False,
    )
    if out.returncode not in (0, 1):
        sys.exit(f"{binary} failed on {directory}: {out.stderr[-2000:]}")
    return [json.loads(l) for l in out.stdout.splitlines() if l.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/leakhound")
    ap.add_argument("--labels", default=os.path.join(os.path.dirname(__file__), "precision", "labels.tsv"))
    ap.add_argument("--all", action="store_true",
                    help="label every finding above info, and print precision per confidence")
    ap.add_argument("trees", nargs="+", metavar="NAME=DIR")
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    labels = load_labels(a.labels)
    unlabelled = []
    # True findings (labelled on any run) that this binary no longer reports at all.
    missed = []
    # Precision by the confidence leakhound gave, over all trees (meaningful with --all).
    per_confidence = collections.defaultdict(collections.Counter)
    print(f"{'tree':10} {'rule':30} {'found':>6} {'true':>5} {'test':>5} {'false':>6} {'unlab':>6} {'precision':>9}")
    for spec in a.trees:
        name, directory = spec.split("=", 1)
        everything = scan(binary, directory)
        found = {(f["fingerprint"], f["path"][2:] if f["path"].startswith("./") else f["path"]) for f in everything}
        for (tree, fp, p), (verdict, _) in labels.items():
            if tree == name and verdict == "true" and (fp, p) not in found:
                missed.append((name, fp, p))
        graded = ("low", "medium", "high", "critical") if a.all else ("high", "critical")
        findings = [f for f in everything if f["severity"] in graded]
        per_rule = collections.defaultdict(collections.Counter)
        for f in findings:
            path = f["path"][2:] if f["path"].startswith("./") else f["path"]
            verdict = labels.get((name, f["fingerprint"], path), ("unlabelled", ""))[0]
            if verdict == "unlabelled":
                unlabelled.append((name, f["fingerprint"], f["rule"], path, f["line"]))
            per_rule[f["rule"]][verdict] += 1
            per_rule["(all)"][verdict] += 1
            per_confidence[f["confidence"]][verdict] += 1
            if f["severity"] in ("high", "critical"):
                per_rule["(high+)"][verdict] += 1
        if not findings:
            per_rule["(all)"]["true"] += 0

        def row(rule, c):
            labelled = c["true"] + c["test"] + c["false"]
            precision = f"{c['true'] / labelled:.2f}" if labelled else "-"
            total = sum(c.values())
            print(f"{name:10} {rule:30} {total:>6} {c['true']:>5} {c['test']:>5} {c['false']:>6} {c['unlabelled']:>6} {precision:>9}")

        for rule in sorted(r for r in per_rule if not r.startswith("(")):
            row(rule, per_rule[rule])
        if a.all:
            row("(high+)", per_rule["(high+)"])
        row("(all)", per_rule["(all)"])
    if a.all:
        # precision: a real secret or personal datum; of the kind named: the value is
        # what the rule says (true or a test/example value), not something else.
        print("\nAll trees, by confidence:")
        for level in ("high", "medium", "low"):
            c = per_confidence[level]
            labelled = c["true"] + c["test"] + c["false"]
            precision = f"{c['true'] / labelled:.2f}" if labelled else "-"
            kind = f"{(c['true'] + c['test']) / labelled:.2f}" if labelled else "-"
            print(f"  {level:7} findings {sum(c.values()):>5}  true {c['true']:>4}  test {c['test']:>4}  "
                  f"false {c['false']:>4}  unlabelled {c['unlabelled']:>4}  precision {precision}"
                  f"  (of the kind named: {kind})")
    if missed:
        print("\nTrue findings no longer reported (recall lost):")
        for m in missed:
            print("\t".join(map(str, m)))
    if unlabelled or missed:
        print("\nUnlabelled high/critical findings (add them to the labels):")
        for u in unlabelled:
            print("\t".join(map(str, u)))
        sys.exit(1)


if __name__ == "__main__":
    main()
