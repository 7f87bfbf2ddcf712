#!/usr/bin/env python3
"""Write a `git fast-import` stream of a long synthetic history, to measure how a
history scan's memory grows with the number of objects (issue 23) on repositories
larger than any that can be fetched here.

Each commit changes one file three folders deep, so it adds five objects: a blob, three
trees and the commit. COMMITS commits make a repository of ~5 x COMMITS objects
(2,000,000 commits: 10 million objects). Contents are distinct small config files; one
commit in 50,000 adds an e-mail address, so there are findings to describe and
removals to answer. Deterministic; no real data.

Usage:
    git init -q --bare big.git
    bench/gen_history.py 2000000 | git -C big.git fast-import --quiet
    bench/history.sh big.git
"""
import sys

commits = int(sys.argv[1])
out = sys.stdout.buffer
when = 1_500_000_000
for i in range(commits):
    path = f"svc{i % 97:02d}/mod{(i // 97) % 89:02d}/conf{(i // 8633) % 64:02d}.ini"
    body = f"[service]\nname = svc{i % 97}\nrevision = {i}\nworkers = {i % 17 + 1}\n"
    if i % 50_000 == 49_999:
        body += f"owner = ops{i}@example.org\n"
    data = body.encode()
    message = f"change {i}\n".encode()
    out.write(b"commit refs/heads/main\n")
    out.write(f"committer Dev <dev@example.com> {when + i * 60} +0000\n".encode())
    out.write(b"data %d\n%s\n" % (len(message), message))
    out.write(f"M 100644 inline {path}\n".encode())
    out.write(b"data %d\n%s\n" % (len(data), data))
