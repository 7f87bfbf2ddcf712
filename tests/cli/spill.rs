//! Past `--spill-after` findings, sorted runs go to temporary files and are merged back
//! for the report: every format must print exactly what it prints from memory.

use crate::tree::{run_in, values, Tree};

fn tree() -> Tree {
    let t = Tree::new();
    let mut rows = String::from("name,id,mobile\n");
    for i in 0..40 {
        // Two values on one line: the shown line must mask both, spilled or not.
        rows.push_str(&format!("客户{i},{},{}\n", values::ID1, values::MOBILE));
    }
    t.file("crm/customers.csv", &rows)
        .file(
            "crm/copy/customers-2.csv",
            format!("{rows}x,{},\n", values::ID2),
        )
        .file(
            "app/.env",
            format!(
                "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\nGITHUB_TOKEN={}\n",
                values::AWS_ID,
                values::AWS_SECRET,
                values::GITHUB
            ),
        )
        .file(
            "fleet/vins.txt",
            format!("{} {}\n", values::VIN_CN, values::VIN_US),
        );
    t
}

/// Lines that hold the time a run took.
fn timeless(report: &str) -> String {
    report
        .lines()
        .filter(|l| !l.contains("elapsed_ms") && !l.contains("megabytes_per_second"))
        .filter(|l| !l.starts_with("Scanned "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_format_prints_the_same_whether_findings_were_spilled_or_not() {
    let t = tree();
    // Per cell (many findings), and table-level (column values through the spool).
    for (format, each_cell) in ["human", "jsonl", "json", "csv", "sarif", "markdown"]
        .into_iter()
        .flat_map(|f| [(f, true), (f, false)])
    {
        let mut args = vec!["scan", ".", "--format", format, "--color", "never"];
        if each_cell {
            args.push("--each-cell");
        }
        let memory = run_in(t.path(), &args);
        let spilled = run_in(t.path(), &[&args[..], &["--spill-after", "1"]].concat());
        assert_eq!(memory.code, 1, "{format}: {}", memory.stderr);
        assert_eq!(spilled.code, 1, "{format}: {}", spilled.stderr);
        assert!(memory.stdout.len() > 1000, "{format}: {}", memory.stdout);
        assert_eq!(
            timeless(&spilled.stdout),
            timeless(&memory.stdout),
            "{format}"
        );
    }
    // Values stay masked on shared lines after the round trip through disk.
    let human = run_in(
        t.path(),
        &[
            "scan",
            ".",
            "--each-cell",
            "--color",
            "never",
            "--spill-after",
            "1",
        ],
    );
    assert!(!human.stdout.contains(values::ID1), "{}", human.stdout);
    assert!(!human.stdout.contains(values::MOBILE), "{}", human.stdout);
    assert!(
        human.stdout.contains("4403**********1231,13*******78"),
        "{}",
        human.stdout
    );
}

#[test]
fn a_baseline_applies_to_spilled_findings_and_counts_them() {
    let t = tree();
    let first = run_in(t.path(), &["scan", ".", "--each-cell", "--format", "jsonl"]);
    let total = first.stdout.lines().count();
    assert!(total > 80, "{}", first.stdout);
    t.file("baseline.jsonl", &first.stdout);
    t.file("new.env", format!("TOKEN={}\n", values::GITHUB));
    let again = run_in(
        t.path(),
        &[
            "scan",
            ".",
            "--format",
            "json",
            "--each-cell",
            "--spill-after",
            "3",
            "--baseline",
            "baseline.jsonl",
            "--exclude",
            "baseline.jsonl",
        ],
    );
    assert_eq!(again.code, 1, "{}", again.stderr);
    let doc: serde_json::Value = serde_json::from_str(&again.stdout).expect("json");
    let found = doc["findings"].as_array().expect("findings");
    assert_eq!(found.len(), 1, "{}", again.stdout);
    assert_eq!(found[0]["path"], "./new.env");
    assert_eq!(doc["summary"]["findings"], 1);
    assert_eq!(doc["summary"]["by_category"]["secret"], 1);
}

/// A temporary folder that cannot be written costs memory, never findings.
#[test]
fn when_temporary_files_cannot_be_made_findings_stay_in_memory() {
    let t = tree();
    let expected = run_in(t.path(), &["scan", ".", "--format", "jsonl"]);
    let out = crate::tree::leakhound()
        .current_dir(t.path())
        .env("TMPDIR", t.join("no/such/folder"))
        .args(["scan", ".", "--format", "jsonl", "--spill-after", "1"])
        .output()
        .expect("run leakhound");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected.stdout);
    assert!(
        stderr.contains("warning: findings kept in memory"),
        "{stderr}"
    );
}
