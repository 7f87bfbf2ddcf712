//! How fast a scan's findings reach the datastore: records N findings (default
//! 1,000,000: phone numbers in 10,000 CSV files) into a fresh SQLite file and a fresh
//! PostgreSQL database, then records the same scan again (every row an update), and
//! prints findings per second.
//!
//! ```sh
//! cargo bench -p leakhound-store --bench write
//! LEAKHOUND_BENCH_FINDINGS=200000 cargo bench -p leakhound-store --bench write
//! ```
//!
//! PostgreSQL is taken from `LEAKHOUND_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`); a scratch database is created and dropped.

use leakhound_findings::{fingerprint, Category, Confidence, Finding, Location, Severity};
use leakhound_store::{ScanRecord, Store};
use std::sync::Arc;
use std::time::Instant;

fn findings(n: usize) -> Vec<Finding> {
    let rule: Arc<str> = Arc::from("cn-mobile");
    let name: Arc<str> = Arc::from("Chinese mobile phone number");
    (0..n)
        .map(|i| {
            let value = format!("139{i:08}");
            Finding {
                fingerprint: fingerprint(&rule, &value),
                rule: Arc::clone(&rule),
                name: Arc::clone(&name),
                category: Category::Personal,
                severity: Severity::Medium,
                confidence: Confidence::Medium,
                location: Location {
                    path: format!("exports/customers-{:05}.csv", i / 100),
                    line: (i % 100) as u64 + 2,
                    column: 12,
                    offset: 0,
                },
                line_text: Some(format!("Zhang San,{value},Shenzhen").into()),
                value,
                validator: None,
                count: None,
                blob: format!("{:032x}", i / 100).into(),
                binary: false,
                git: None,
                triage: None,
                cell: None,
                process: None,
                column_values: None,
                decoded: None,
            }
        })
        .collect()
}

fn time(label: &str, store: &mut Store, found: &[Finding]) {
    let scan = ScanRecord {
        tool_version: "bench".into(),
        kind: "files".into(),
        ..ScanRecord::default()
    };
    for pass in ["first scan (inserts)", "same scan again (updates)"] {
        let start = Instant::now();
        let recorded = match store.record(&scan, found) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{label}: {e}");
                return;
            }
        };
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{label:<10} {pass:<27} {:>9} findings in {secs:>6.2} s = {:>9.0} findings/s ({} new)",
            found.len(),
            found.len() as f64 / secs,
            recorded.new.len()
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this with no flag and
    // should not take minutes.
    let benching = std::env::args().any(|a| a == "--bench");
    let n = std::env::var("LEAKHOUND_BENCH_FINDINGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 1_000_000 } else { 2_000 });
    let found = findings(n);

    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => return eprintln!("temp dir: {e}"),
    };
    let path = dir.path().join("bench.db");
    match Store::open(&path.display().to_string()) {
        Ok(mut s) => time("sqlite", &mut s, &found),
        Err(e) => eprintln!("sqlite: {e}"),
    }

    let admin = std::env::var("LEAKHOUND_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("leakhound_bench_{}", std::process::id());
    let Ok(mut admin_client) = postgres::Client::connect(&admin, postgres::NoTls) else {
        return eprintln!("postgres: {admin} does not answer; skipped");
    };
    if let Err(e) = admin_client.batch_execute(&format!("CREATE DATABASE {name}")) {
        return eprintln!("postgres: {e}");
    }
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    match Store::open(&format!("{base}/{name}")) {
        Ok(mut s) => time("postgres", &mut s, &found),
        Err(e) => eprintln!("postgres: {e}"),
    }
    let _ = admin_client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}
