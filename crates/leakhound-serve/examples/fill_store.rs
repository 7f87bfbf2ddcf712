//! Fill a datastore with N findings (default 1,000,000) for the `leakhound serve` load
//! test (`bench/serve_load.sh`): several rules and severities, paths across 200
//! repositories, recorded by 20 scans (so "new in scan" and date filters select
//! something), and one finding in twenty triaged.
//!
//! ```sh
//! cargo run --release -p leakhound-serve --example fill_store -- /tmp/big.db 1000000
//! ```

use leakhound_findings::{fingerprint, Category, Confidence, Finding, Location, Severity, Status};
use leakhound_store::{ScanRecord, Store};
use std::sync::Arc;
use std::time::Instant;

/// (rule, name, category, severity)
const RULES: &[(&str, &str, Category, Severity)] = &[
    (
        "cn-mobile",
        "Chinese mobile number",
        Category::Personal,
        Severity::Medium,
    ),
    (
        "cn-resident-id",
        "Chinese resident ID",
        Category::Personal,
        Severity::High,
    ),
    (
        "vin",
        "Vehicle identification number",
        Category::Vehicle,
        Severity::Medium,
    ),
    (
        "aws-access-key-id",
        "AWS access key ID",
        Category::Secret,
        Severity::High,
    ),
    (
        "github-pat-classic",
        "GitHub personal access token",
        Category::Secret,
        Severity::Critical,
    ),
    ("email", "E-mail address", Category::Personal, Severity::Low),
    (
        "private-key",
        "Private key",
        Category::Secret,
        Severity::Critical,
    ),
    (
        "cn-plate",
        "Chinese licence plate",
        Category::Vehicle,
        Severity::Low,
    ),
];

fn finding(i: usize) -> Finding {
    let (rule, name, category, severity) = RULES[i % RULES.len()];
    let value = format!("{rule}-value-{i:09}");
    let repo = i % 200;
    Finding {
        fingerprint: fingerprint(rule, &value),
        rule: Arc::from(rule),
        name: Arc::from(name),
        category,
        severity,
        confidence: Confidence::High,
        location: Location {
            path: format!(
                "repo-{repo:03}/src/module-{}/file-{}.conf",
                i % 97,
                i % 1013
            ),
            line: (i % 500) as u64 + 1,
            column: 9,
            offset: 0,
        },
        line_text: Some(format!("key = {value}").into()),
        value,
        validator: None,
        count: None,
        blob: format!("{i:040x}").into(),
        binary: false,
        git: None,
        triage: None,
        cell: None,
        process: None,
        column_values: None,
        decoded: None,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let spec = args.next().ok_or("usage: fill_store STORE [N]")?;
    let n: usize = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let mut store = Store::open(&spec)?;
    let scans = 20;
    let per_scan = n.div_ceil(scans);
    let started = Instant::now();
    for s in 0..scans {
        let batch: Vec<Finding> = (s * per_scan..((s + 1) * per_scan).min(n))
            .map(finding)
            .collect();
        let record = ScanRecord {
            tool_version: "fill_store".into(),
            kind: "files".into(),
            targets: vec![format!("batch-{s}")],
            ..ScanRecord::default()
        };
        store.record(&record, &batch)?;
        let triaged: Vec<String> = batch
            .iter()
            .step_by(20)
            .map(|f| f.fingerprint.clone())
            .collect();
        store.triage_many(
            &triaged,
            Status::FalsePositive,
            Some("fixture"),
            "fill_store",
        )?;
        eprintln!(
            "scan {}/{scans}: {} findings, {:.1} s",
            s + 1,
            batch.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
