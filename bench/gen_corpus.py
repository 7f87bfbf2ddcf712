#!/usr/bin/env python3
"""Generate a mixed corpus for whole-run benchmarks: source code, configs, CSV and JSON
exports, logs. Deterministic (fixed seed); sparse, realistic secrets and personal data.

Usage: gen_corpus.py OUT_DIR [SIZE_MB]   (default 1100 MB, a little over 1 GiB)
"""
import os
import random
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "bench-corpus"
TARGET = int(sys.argv[2] if len(sys.argv) > 2 else 1100) * 1_000_000
rng = random.Random(42)
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def resident_id():
    body = f"{rng.choice(['110105', '310115', '440304', '510107'])}{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, W)) % 11]


def mobile():
    return f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}"


def token(n, alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"):
    return "".join(rng.choice(alphabet) for _ in range(n))


CODE = """package com.carmaker.tsp.{mod};

import java.util.List;
import org.springframework.stereotype.Service;

@Service
public class {cls}Service {{
    private final {cls}Repository repository;
    private static final int PAGE_SIZE = {n};

    public List<{cls}> findByVehicle(String vin, int page) {{
        log.debug("query {{}} page {{}}", vin, page);
        return repository.findByVin(vin, PageRequest.of(page, PAGE_SIZE));
    }}

    public void update({cls} entity) {{
        if (entity.getUpdatedAt() > System.currentTimeMillis()) {{
            throw new IllegalStateException("clock skew " + entity.getId());
        }}
        repository.save(entity);
    }}
}}
"""

LOG = "2024-05-{d:02d}T{h:02d}:{m:02d}:{s:02d}.{ms:03d}Z INFO  [tsp-gateway-{pod}] trace={trace:016x} vehicle={veh} event=heartbeat latency={lat}ms\n"


def write(path, text):
    full = os.path.join(OUT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as f:
        f.write(text)
    return len(text.encode("utf-8"))


def code_file(i):
    parts = []
    for k in range(rng.randint(20, 60)):
        parts.append(CODE.format(mod=f"m{i % 50}", cls=f"Entity{i}x{k}", n=rng.randint(10, 500)))
    if i % 150 == 0:
        parts.append(f'\n    private static final String GITHUB_TOKEN = "ghp_{token(36)}";\n')
    if i % 97 == 0:
        parts.append(f'\n    // TODO remove\n    String dsn = "mysql://report:{token(14)}@10.20.{i % 255}.5:3306/crm";\n')
    return write(f"src/module{i % 40}/Entity{i}.java", "".join(parts))


def config_file(i):
    lines = [f"server.port={8000 + i % 1000}", "spring.datasource.url=jdbc:mysql://db:3306/tsp", "spring.datasource.password=${DB_PASSWORD}", f"feature.flag.{i}=true"]
    if i % 10 == 0:
        lines.append(f"aliyun.oss.access-key-id=LTAI{token(20)}")
        lines.append(f"aliyun.oss.access-key-secret={token(30)}")
    return write(f"config/service{i}/application.properties", "\n".join(lines * 30) + "\n")


def csv_file(i):
    rows = ["order_id,created_ms,amount,city,status"]
    for r in range(rng.randint(20000, 60000)):
        if r % 100 == 0:
            rows.append(f"{rng.randint(10**17, 10**18 - 1)},{resident_id()},{mobile()},上海,PII")
        else:
            rows.append(f"{rng.randint(10**17, 10**18 - 1)},{rng.randint(1_600_000_000_000, 1_720_000_000_000)},{rng.randint(1, 99999)}.{rng.randint(0, 99):02d},杭州,done")
    return write(f"exports/orders_{i}.csv", "\n".join(rows) + "\n")


def json_file(i):
    recs = []
    for r in range(rng.randint(5000, 15000)):
        recs.append(f'{{"id": {rng.randint(1, 10**9)}, "ts": {rng.randint(1_600_000_000_000, 1_720_000_000_000)}, "uuid": "{rng.getrandbits(128):032x}", "lat": {rng.uniform(-80, 80):.6f}, "lon": {rng.uniform(-170, 170):.6f}, "speed": {rng.randint(0, 160)}}}')
    return write(f"exports/telemetry_{i}.json", "[\n" + ",\n".join(recs) + "\n]\n")


def log_file(i):
    lines = []
    for r in range(rng.randint(20000, 50000)):
        lines.append(LOG.format(d=rng.randint(1, 28), h=rng.randint(0, 23), m=rng.randint(0, 59), s=rng.randint(0, 59), ms=rng.randint(0, 999), pod=rng.randint(1, 9), trace=rng.getrandbits(64), veh=rng.randint(10**6, 10**7), lat=rng.randint(1, 900)))
    return write(f"logs/gateway_{i}.log", "".join(lines))


def main():
    total = 0
    i = 0
    kinds = [(code_file, 40), (config_file, 5), (csv_file, 25), (json_file, 10), (log_file, 20)]
    budget = {k.__name__: TARGET * share // 100 for k, share in kinds}
    used = {k.__name__: 0 for k, _ in kinds}
    while total < TARGET:
        for k, _ in kinds:
            if used[k.__name__] < budget[k.__name__]:
                n = k(i)
                used[k.__name__] += n
                total += n
        i += 1
    print(f"{OUT}: {total / 1e6:.0f} MB in {sum(len(f) for _, _, f in os.walk(OUT))} files")


main()
