//! Hot-loop throughput of the streamed table readers (CSV, JSON Lines, SQL dump) on a
//! generated customer export: the reading thread of `assess` and `scan`, without the
//! checking. Run: `cargo bench -p leakhound-tables`. Whole runs: docs/performance.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakhound_inputs::{Limits, Problem};
use leakhound_tables::read::read_path;
use leakhound_tables::table::{Meter, Row, Table, TableSink};
use std::hint::black_box;

const ROWS: usize = 50_000;

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
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

const COLUMNS: [&str; 8] = [
    "name", "id", "mobile", "email", "vin", "plate", "address", "amount",
];

/// Rows shaped like `bench/gen_customers.py`'s: Chinese names and addresses, IDs.
fn rows() -> Vec<[String; 8]> {
    let mut rng = Rng(11);
    (0..ROWS)
        .map(|i| {
            [
                format!(
                    "{}{}",
                    rng.pick(&["王", "李", "张", "刘"]),
                    rng.pick(&["伟", "芳", "娜", "敏"])
                ),
                format!("440304{}{}", rng.digits(11), rng.pick(&["1", "X"])),
                format!("139{}", rng.digits(8)),
                format!("u{i}@carmaker.cn"),
                format!("LSVD9PCF{}ESF4DHR", rng.digits(1)),
                format!("粤B{}", rng.digits(5)),
                format!("广东省深圳市南山区科技园路{}号", rng.digits(3)),
                format!("{}.{}", rng.digits(4), rng.digits(2)),
            ]
        })
        .collect()
}

fn csv(rows: &[[String; 8]]) -> String {
    let mut out = COLUMNS.join(",") + "\n";
    for r in rows {
        out.push_str(&r.join(","));
        out.push('\n');
    }
    out
}

fn jsonl(rows: &[[String; 8]]) -> String {
    let mut out = String::new();
    for r in rows {
        let fields: Vec<String> = COLUMNS
            .iter()
            .zip(r)
            .map(|(k, v)| format!("\"{k}\": \"{v}\""))
            .collect();
        out.push_str(&format!("{{{}}}\n", fields.join(", ")));
    }
    out
}

/// mysqldump's shape: a CREATE TABLE, then INSERTs of 500 rows on one line each.
fn sql(rows: &[[String; 8]]) -> String {
    let cols: Vec<String> = COLUMNS
        .iter()
        .map(|c| format!("  `{c}` varchar(64)"))
        .collect();
    let mut out = format!("CREATE TABLE `customers` (\n{}\n);\n", cols.join(",\n"));
    for chunk in rows.chunks(500) {
        let tuples: Vec<String> = chunk
            .iter()
            .map(|r| format!("('{}')", r.join("','")))
            .collect();
        out.push_str(&format!(
            "INSERT INTO `customers` VALUES {};\n",
            tuples.join(",")
        ));
    }
    out
}

/// Takes every row, as `assess` does, and counts the bytes of its cells.
struct Drain(usize);
impl TableSink for Drain {
    fn table(&mut self, table: Table<'_>) {
        let mut row = Row::default();
        while table.rows.next_into(&mut row) {
            self.0 += row.cells().map(str::len).sum::<usize>();
        }
    }
    fn problem(&mut self, problem: Problem) {
        panic!("{}", problem.message);
    }
}

fn readers(c: &mut Criterion) {
    let rows = rows();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut group = c.benchmark_group("streamed table");
    for (name, text) in [
        ("t.csv", csv(&rows)),
        ("t.jsonl", jsonl(&rows)),
        ("t.sql", sql(&rows)),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{e}"));
        group.throughput(Throughput::Elements(ROWS as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut sink = Drain(0);
                // Streamed whatever the size, as a file over 64 MiB would be.
                read_path(
                    &path,
                    name,
                    &Limits::default(),
                    0,
                    &Meter::default(),
                    &mut sink,
                );
                assert!(sink.0 > 0);
                black_box(sink.0)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, readers);
criterion_main!(benches);
