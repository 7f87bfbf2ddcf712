//! Output formats: JSON document shape, SARIF against the official schema, and
//! snapshots of the human and JSON Lines reports.

use crate::tree::{run_in, values::*, Tree};
use std::path::PathBuf;

fn fixture() -> Tree {
    let t = Tree::new();
    t.file(
        "app/.env",
        format!("DB_URL=postgres://app:Zq8wErT5yU@db:5432/crm\nGITHUB_TOKEN={GITHUB}\n"),
    )
    .file(
        "export/customers.csv",
        format!("name,id,mobile,vin\n张伟,{ID1},{MOBILE},{VIN_CN}\n"),
    );
    t
}

#[test]
fn json_document_has_findings_and_summary() {
    let t = fixture();
    let run = run_in(t.path(), &["scan", "--format", "json", "."]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(doc["tool"], "leakhound");
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(5));
    let s = &doc["summary"];
    assert_eq!(s["files"], 2);
    assert_eq!(s["findings"], 5);
    assert_eq!(s["by_category"]["secret"], 2);
    assert_eq!(s["by_category"]["personal"], 2);
    assert_eq!(s["by_category"]["vehicle"], 1);
    assert!(s["rules"].as_u64().unwrap_or(0) >= 250);
}

/// The SARIF 2.1.0 schema as published by OASIS, shipped inside the serde-sarif crate
/// (a dev-dependency) so the test needs no network.
pub(crate) fn sarif_schema() -> serde_json::Value {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let src = home.join("registry").join("src");
    let mut found = None;
    for index in std::fs::read_dir(&src).expect("cargo registry").flatten() {
        for krate in std::fs::read_dir(index.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = krate.file_name().to_string_lossy().into_owned();
            if name.starts_with("serde-sarif-") {
                let schema = krate.path().join("src").join("schema.json");
                if schema.exists() {
                    found = Some(schema);
                }
            }
        }
    }
    let path = found.expect("serde-sarif's schema.json in the cargo registry");
    serde_json::from_str(&std::fs::read_to_string(path).expect("read schema")).expect("schema JSON")
}

#[test]
fn sarif_validates_against_the_published_schema() {
    let t = fixture();
    let run = run_in(t.path(), &["scan", "--format", "sarif", "."]);
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).expect("SARIF JSON");
    let schema = sarif_schema();
    let validator = jsonschema::validator_for(&schema).expect("compile SARIF schema");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema errors:\n{}",
        errors.join("\n")
    );
    // What GitHub code scanning needs beyond the schema.
    let run0 = &sarif["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "leakhound");
    let results = run0["results"].as_array().expect("results");
    assert_eq!(results.len(), 5);
    for r in results {
        assert!(r["ruleId"].is_string() && r["message"]["text"].is_string());
        assert!(r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64() >= Some(1));
        assert_eq!(
            r["partialFingerprints"]["leakhound/v1"]
                .as_str()
                .map(str::len),
            Some(64)
        );
        let idx = r["ruleIndex"].as_u64().unwrap_or(999) as usize;
        assert_eq!(run0["tool"]["driver"]["rules"][idx]["id"], r["ruleId"]);
    }
    // Typed round trip through an independent SARIF model.
    let typed: Result<serde_sarif::sarif::Sarif, _> = serde_json::from_value(sarif);
    assert!(typed.is_ok(), "{:?}", typed.err());
}

fn snapshot_settings(t: &Tree) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(&regex_escape(&t.path().display().to_string()), "[TMP]");
    s.add_filter(r"in [0-9.]+s \([0-9.]+ MB/s\)", "in [TIME]");
    s.set_snapshot_path("snapshots");
    s
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

#[test]
fn human_report_snapshot() {
    let t = fixture();
    let run = run_in(t.path(), &["scan", "--color", "never", "."]);
    snapshot_settings(&t).bind(|| insta::assert_snapshot!("human_report", run.stdout));
}

#[test]
fn jsonl_report_snapshot() {
    let t = fixture();
    let run = run_in(t.path(), &["scan", "--format", "jsonl", "."]);
    snapshot_settings(&t).bind(|| insta::assert_snapshot!("jsonl_report", run.stdout));
}

/// `--each-cell` gives one finding per table cell, as before table-level findings
/// existed: this snapshot is byte for byte the JSON Lines report of 0.1 (the
/// `jsonl_report` snapshot before table-level findings).
#[test]
fn jsonl_each_cell_report_snapshot() {
    let t = fixture();
    let run = run_in(t.path(), &["scan", "--each-cell", "--format", "jsonl", "."]);
    snapshot_settings(&t).bind(|| insta::assert_snapshot!("jsonl_each_cell_report", run.stdout));
}

#[test]
fn csv_report_snapshot() {
    let t = fixture();
    let run = run_in(t.path(), &["scan", "--format", "csv", "."]);
    snapshot_settings(&t).bind(|| insta::assert_snapshot!("csv_report", run.stdout));
}

#[test]
fn markdown_report_snapshot() {
    let t = fixture();
    let run = run_in(t.path(), &["scan", "--format", "markdown", "."]);
    let mut s = snapshot_settings(&t);
    s.add_filter(r"rules in [0-9.]+ s", "rules in [TIME]");
    s.bind(|| insta::assert_snapshot!("markdown_report", run.stdout));
}

/// A report from a datastore after a triage decision: fingerprints, statuses and
/// comments as a reader sees them.
#[test]
fn human_report_from_a_datastore_snapshot() {
    let t = fixture();
    let db = t.join("store.db").display().to_string();
    run_in(t.path(), &["scan", "--quiet", "--datastore", &db, "."]);
    let token = crate::datastore::report(&t, &db, &["--category", "secret"])
        .iter()
        .find(|f| f["rule"] == "github-pat-classic")
        .and_then(|f| f["fingerprint"].as_str().map(str::to_string))
        .expect("token recorded");
    let triaged = run_in(
        t.path(),
        &[
            "triage",
            &token,
            "--status",
            "revoked",
            "-m",
            "rotated",
            "--datastore",
            &db,
        ],
    );
    assert_eq!(triaged.code, 0, "{}", triaged.stderr);
    let run = run_in(
        t.path(),
        &["report", "--color", "never", "--datastore", &db],
    );
    let mut s = snapshot_settings(&t);
    s.add_filter(r"\d{4}-\d\d-\d\dT[0-9:.]+Z", "[TIMESTAMP]");
    s.bind(|| insta::assert_snapshot!("human_report_from_datastore", run.stdout));
}
