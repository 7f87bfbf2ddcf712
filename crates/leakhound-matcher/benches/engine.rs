//! Hot-loop throughput of the matcher on generated text of each kind leakhound meets.
//! Run: `cargo bench -p leakhound-matcher`. Whole-run numbers live in docs/performance.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakhound_matcher::Matcher;
use leakhound_rules::RuleSet;
use std::hint::black_box;

/// Deterministic xorshift so the inputs are the same on every machine.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next() % 10) as u8))
            .collect()
    }
}

fn source_code(size: usize) -> Vec<u8> {
    let mut rng = Rng(7);
    let mut out = String::new();
    while out.len() < size {
        let n = rng.next() % 1000;
        out.push_str(&format!(
            "    fn handler_{n}(req: &Request) -> Result<Response, Error> {{\n        let user = db.query(\"SELECT * FROM users WHERE id = ?\", req.id)?;\n        log::info!(\"served {{}} in {{}}ms\", user.name, {n});\n        Ok(Response::json(&user))\n    }}\n"
        ));
    }
    out.into_bytes()
}

fn customer_csv(size: usize) -> Vec<u8> {
    let mut rng = Rng(11);
    let mut out = String::from("id,name,mobile,created_ms,amount,city\n");
    let mut i = 0u64;
    while out.len() < size {
        i += 1;
        out.push_str(&format!(
            "{i},客户{i},1{}{},{},{}.{},上海\n",
            3 + rng.next() % 7,
            rng.digits(9),
            rng.digits(13),
            rng.next() % 100000,
            rng.digits(2)
        ));
    }
    out.into_bytes()
}

/// A customer export as `bench/gen_customers.py` writes it: six identifiers a row
/// (valid resident ID, mobile, e-mail, VIN, plate, address), where `scan` of a table
/// spends its time.
fn dense_export(size: usize) -> Vec<u8> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let mut rng = Rng(17);
    let mut out = String::from("姓名,身份证号,手机号,邮箱,车架号,车牌,地址,金额\n");
    let mut i = 0u64;
    while out.len() < size {
        i += 1;
        let body = format!(
            "44030419{:02}0{}1{}",
            60 + rng.next() % 40,
            1 + rng.next() % 9,
            rng.digits(5)
        );
        let sum: u32 = body
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        let check = b"10X98765432"[(sum % 11) as usize] as char;
        out.push_str(&format!(
            "徐英,{body}{check},189{},u{i}@carmaker.cn,LSVD9PCFX3ESF4DHR,粤B{},广东省深圳市南山区科技园路{}号,{}.{}\n",
            rng.digits(8),
            rng.digits(5),
            rng.next() % 1000,
            rng.next() % 100000,
            rng.digits(2)
        ));
    }
    out.into_bytes()
}

fn logs(size: usize) -> Vec<u8> {
    let mut rng = Rng(13);
    let mut out = String::new();
    while out.len() < size {
        out.push_str(&format!(
            "2024-05-01T08:00:{:02}.{}Z INFO [tsp-gateway] trace={:x} vehicle online latency={}ms\n",
            rng.next() % 60,
            rng.digits(3),
            rng.next(),
            rng.next() % 500
        ));
    }
    out.into_bytes()
}

fn bench(c: &mut Criterion) {
    let matcher = match RuleSet::builtin().map(|s| Matcher::new(&s)) {
        Ok(Ok(m)) => m,
        _ => return,
    };
    let size = 4 << 20;
    let mut group = c.benchmark_group("matcher");
    group.sample_size(10);
    for (name, data) in [
        ("code", source_code(size)),
        ("csv", customer_csv(size)),
        ("dense export", dense_export(size)),
        ("logs", logs(size)),
    ] {
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| black_box(matcher.scan(black_box(&data))))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
