#!/usr/bin/env python3
"""Generate a synthetic customer table for `leakhound assess` benchmarks: name, resident
ID (valid check character), mobile, e-mail, VIN (valid check digit), plate, address,
amount. Deterministic; every person appears on 1-3 rows. No real data.

Usage: gen_customers.py OUT.csv ROWS [records]

With `records`, each row is one customer record with a `customer_id` and a
`created_at` date (2016-01 to 2021-08), for `leakhound trace index` benchmarks.
"""
import random
import sys

out, rows = sys.argv[1], int(sys.argv[2])
records = len(sys.argv) > 3 and sys.argv[3] == "records"
rng = random.Random(7)
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
VW = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
TR = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9))),
      **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9, **dict(zip("STUVWXYZ", range(2, 10)))}
REGIONS = ["110105", "310115", "440304", "510107", "110101", "120101", "310104", "320106",
           "330106", "350203", "370202", "410105", "420106", "430104", "440106", "440305",
           "500103", "610113", "210202", "330102"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"


def resident_id(n):
    body = f"{rng.choice(REGIONS)}{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{n % 1000:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, W)) % 11]


def vin():
    chars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    v = ["L", "S", "V"] + [rng.choice(chars) for _ in range(14)]
    v[8] = "0"
    s = sum(TR[c] * w for c, w in zip(v, VW)) % 11
    v[8] = "X" if s == 10 else str(s)
    return "".join(v)


if records:
    with open(out, "w", encoding="utf-8") as f:
        f.write("customer_id,姓名,身份证号,手机号,邮箱,车架号,created_at,金额\n")
        for person in range(1, rows + 1):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", rng.choice(GIVEN)])
            phone = f"1{rng.choice('3589')}{rng.randint(0, 9)}{person % 100000000:08d}"
            month = rng.randint(0, 67)
            created = f"{2016 + month // 12}-{month % 12 + 1:02d}-{rng.randint(1, 28):02d}"
            f.write(f"{person},{name},{resident_id(person)},{phone},u{person}@carmaker.cn,{vin()},{created},{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}\n")
    print(f"{out}: {rows} records")
    sys.exit(0)

with open(out, "w", encoding="utf-8") as f:
    f.write("姓名,身份证号,手机号,邮箱,车架号,车牌,地址,金额\n")
    written, person = 0, 0
    while written < rows:
        person += 1
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", rng.choice(GIVEN)])
        pid, phone = resident_id(person), f"1{rng.choice('3589')}{rng.randint(0, 9)}{person % 100000000:08d}"
        email, car = f"u{person}@carmaker.cn", vin()
        plate = f"粤B{rng.randint(10000, 99999)}"
        addr = f"广东省深圳市南山区科技园路{rng.randint(1, 999)}号"
        for _ in range(min(rng.randint(1, 3), rows - written)):
            f.write(f"{name},{pid},{phone},{email},{car},{plate},{addr},{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}\n")
            written += 1
print(f"{out}: {rows} rows, {person} people")
