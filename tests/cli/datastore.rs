//! `scan --datastore`, `triage` and `report`, on SQLite and on the machine's PostgreSQL
//! (a scratch database per test; see `crates/leakhound-store/tests/store.rs` for the
//! environment variables).

use crate::tree::{run_in, values::*, Run, Tree};
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};

/// A datastore for one test; a PostgreSQL one is dropped afterwards.
pub(crate) struct Store {
    pub spec: String,
    drop_db: Option<(String, String)>,
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.drop_db {
            if let Ok(mut c) = postgres::Client::connect(admin, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

pub(crate) fn sqlite(t: &Tree) -> Store {
    Store {
        spec: t.join("findings.db").display().to_string(),
        drop_db: None,
    }
}

pub(crate) fn postgres() -> Option<Store> {
    if std::env::var_os("LEAKHOUND_SKIP_POSTGRES").is_some() {
        return None;
    }
    static N: AtomicU32 = AtomicU32::new(0);
    let admin = std::env::var("LEAKHOUND_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!(
        "leakhound_cli{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap_or_else(|e| {
        panic!("PostgreSQL at {admin} does not answer ({e}); start it or set LEAKHOUND_SKIP_POSTGRES=1")
    });
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create scratch database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(Store {
        spec: format!("{base}/{name}"),
        drop_db: Some((admin.clone(), name)),
    })
}

/// Run `test` with a fresh tree and an SQLite store, then with a PostgreSQL one.
pub(crate) fn on_both(test: impl Fn(&Tree, &str)) {
    let t = Tree::new();
    let s = sqlite(&t);
    test(&t, &s.spec);
    if let Some(p) = postgres() {
        let t = Tree::new();
        test(&t, &p.spec);
    }
}

pub(crate) fn scan(t: &Tree, store: &str, extra: &[&str]) -> Run {
    let mut args = vec!["scan", "--no-config", "--datastore", store];
    args.extend_from_slice(extra);
    args.push(".");
    let run = run_in(t.path(), &args);
    assert!(
        run.code == 0 || run.code == 1,
        "scan failed: {}",
        run.stderr
    );
    run
}

pub(crate) fn report(t: &Tree, store: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["report", "--datastore", store, "--format", "jsonl"];
    args.extend_from_slice(extra);
    let run = run_in(t.path(), &args);
    assert_eq!(run.code, 0, "report failed: {}", run.stderr);
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad jsonl {l:?}: {e}")))
        .collect()
}

fn by_rule<'a>(found: &'a [Value], rule: &str) -> Vec<&'a Value> {
    found.iter().filter(|f| f["rule"] == rule).collect()
}

#[test]
fn scanning_twice_gives_no_duplicates_and_a_moved_secret_stays_one_finding() {
    on_both(|t, store| {
        t.file(
            "app/.env",
            format!("GITHUB_TOKEN={GITHUB}\nOWNER_PHONE={MOBILE}\n"),
        );
        let first = scan(t, store, &[]);
        assert_eq!(first.code, 1);
        assert!(
            first.stderr.contains("2 distinct values, 2 new"),
            "{}",
            first.stderr
        );
        let second = scan(t, store, &[]);
        assert!(
            second.stderr.contains("2 distinct values, 0 new"),
            "{}",
            second.stderr
        );
        assert_eq!(report(t, store, &[]).len(), 2);

        t.file(
            "app/.env",
            format!("# moved\n\n\nOWNER_PHONE={MOBILE}\nGITHUB_TOKEN={GITHUB}\n"),
        );
        let third = scan(t, store, &[]);
        assert!(third.stderr.contains("0 new"), "{}", third.stderr);
        let stored = report(t, store, &[]);
        assert_eq!(stored.len(), 2, "{stored:#?}");
        let token = by_rule(&stored, "github-pat-classic");
        assert_eq!(token.len(), 1);
        assert_eq!(token[0]["line"], 5, "the place keeps the latest line");
        assert!(!t.join("findings.db").exists() || !report_mentions_db(&stored));
    });
}

fn report_mentions_db(found: &[Value]) -> bool {
    found.iter().any(|f| {
        f["path"]
            .as_str()
            .is_some_and(|p| p.contains("findings.db"))
    })
}

#[test]
fn triage_survives_rescans_and_a_revoked_secret_in_a_new_file_is_flagged() {
    on_both(|t, store| {
        t.file(
            "app/.env",
            format!("GITHUB_TOKEN={GITHUB}\nOWNER_PHONE={MOBILE}\n"),
        );
        scan(t, store, &[]);
        let stored = report(t, store, &[]);
        let fp = |rule: &str| -> String {
            by_rule(&stored, rule)[0]["fingerprint"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        let token_fp = fp("github-pat-classic");
        let phone_fp = fp("cn-mobile");
        let triage = |fp: &str, status: &str, comment: &str| {
            let run = run_in(
                t.path(),
                &[
                    "triage",
                    fp,
                    "--status",
                    status,
                    "--comment",
                    comment,
                    "--by",
                    "alice",
                    "--datastore",
                    store,
                ],
            );
            assert_eq!(run.code, 0, "{}", run.stderr);
            run.stdout
        };
        let said = triage(&token_fp[..10], "revoked", "rotated on 2026-11-20");
        assert!(said.contains("open -> revoked (by alice)"), "{said}");
        assert!(
            !said.contains(GITHUB),
            "triage output leaks the value: {said}"
        );
        triage(&phone_fp, "false-positive", "test fixture");

        // Every finding is decided: the scan passes, and says why.
        let rescan = scan(t, store, &["--format", "jsonl"]);
        assert_eq!(rescan.code, 0, "{}", rescan.stdout);
        let lines: Vec<Value> = rescan
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let token = by_rule(&lines, "github-pat-classic");
        assert_eq!(token[0]["status"], "revoked");
        assert_eq!(token[0]["comment"], "rotated on 2026-11-20");
        assert_eq!(token[0]["new"], false);

        // The revoked token copied somewhere new: flagged and failing.
        t.file("backup/old.env", format!("token: {GITHUB}\n"));
        let spread = scan(t, store, &["--format", "jsonl"]);
        assert_eq!(spread.code, 1);
        assert!(
            spread
                .stderr
                .contains("marked revoked and is now also in ./backup/old.env"),
            "{}",
            spread.stderr
        );
        let revoked = report(t, store, &["--status", "revoked"]);
        let flagged: Vec<&str> = revoked
            .iter()
            .filter(|f| f["reappeared"] == true)
            .filter_map(|f| f["path"].as_str())
            .collect();
        assert_eq!(flagged, ["./backup/old.env"]);
        assert_eq!(revoked.len(), 2);
        let fps = report(t, store, &["--status", "false-positive"]);
        assert_eq!(fps.len(), 1);
        assert_eq!(fps[0]["comment"], "test fixture");
    });
}

#[test]
fn report_filters_and_the_new_flag_follow_the_scans() {
    let t = Tree::new();
    let s = sqlite(&t);
    t.file("a.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    scan(&t, &s.spec, &[]);
    t.file("crm.csv", format!("name,id,phone\nZhang,{ID1},{MOBILE}\n"));
    scan(&t, &s.spec, &[]);
    let personal = report(&t, &s.spec, &["--category", "personal"]);
    let mut rules: Vec<&str> = personal.iter().filter_map(|f| f["rule"].as_str()).collect();
    rules.sort();
    assert_eq!(rules, ["cn-mobile", "cn-resident-id"]);
    assert!(personal.iter().all(|f| f["new"] == true));
    let all = report(&t, &s.spec, &[]);
    assert_eq!(by_rule(&all, "github-pat-classic")[0]["new"], false);
    assert_eq!(report(&t, &s.spec, &["--scan", "1"]).len(), 1);
    assert_eq!(report(&t, &s.spec, &["--scan", "latest"]).len(), 3);
    // A scan that never ran is an error, not "No findings" (it read as a clean scan).
    let missing = run_in(
        t.path(),
        &["report", "--datastore", &s.spec, "--scan", "99"],
    );
    assert_eq!(missing.code, 2, "{}", missing.stdout);
    assert!(
        missing
            .stderr
            .contains("has no scan 99 (its scans: 1 to 2)"),
        "{}",
        missing.stderr
    );
    assert_eq!(report(&t, &s.spec, &["--since", "1d"]).len(), 3);
    assert!(report(&t, &s.spec, &["--since", "2999-01-01"]).is_empty());
    // Stored values are masked; nothing to reveal.
    assert!(all
        .iter()
        .all(|f| !f["match"].as_str().unwrap_or("").contains(ID1)));
    let bad = run_in(
        t.path(),
        &["report", "--datastore", &s.spec, "--since", "soon"],
    );
    assert_eq!(bad.code, 2);
    let none = run_in(t.path(), &["report"]);
    assert_eq!(none.code, 2);
    assert!(none.stderr.contains("no datastore"), "{}", none.stderr);
}

#[test]
fn report_formats_from_a_datastore() {
    let t = Tree::new();
    let s = sqlite(&t);
    t.file(
        "crm.csv",
        format!("name,id,phone\nZhang,{ID1},{MOBILE}\nLi,{ID2},{MOBILE}\n"),
    );
    scan(&t, &s.spec, &[]);
    let run = |format: &str| {
        let r = run_in(
            t.path(),
            &["report", "--datastore", &s.spec, "--format", format],
        );
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        assert!(
            !r.stdout.contains(ID1) && !r.stdout.contains(MOBILE),
            "{format} leaks"
        );
        r.stdout
    };
    let csv = run("csv");
    assert!(csv.starts_with("severity,category,rule,"), "{csv}");
    // One table-level finding per column: the ID column and the phone column.
    assert_eq!(csv.lines().count(), 1 + 2);
    assert!(
        csv.contains("column id: 2 cells, 2 distinct, rows 1-2"),
        "{csv}"
    );
    // Exposure from the store is still exact: the value keys were kept.
    let md = run("markdown");
    assert!(
        md.contains("| Chinese resident identity card number (`cn-resident-id`) | 2 |"),
        "{md}"
    );
    assert!(
        md.contains("| Chinese mobile phone number (`cn-mobile`) | 1 |"),
        "{md}"
    );
    let human = run("human");
    assert!(human.contains("2 findings in"), "{human}");
    let sarif: Value = serde_json::from_str(&run("sarif")).expect("sarif json");
    let schema = crate::formats::sarif_schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        sarif["runs"][0]["results"][0]["properties"]["triage"]["status"],
        "open"
    );
}

#[test]
fn two_scans_writing_to_postgres_at_once_lose_nothing() {
    let Some(store) = postgres() else {
        return;
    };
    let a = Tree::new();
    let b = Tree::new();
    let rows = |from: u32| -> String {
        (from..from + 3_000)
            .map(|i| format!("user{i},1{}{:08}\n", [39, 58, 86][i as usize % 3], i))
            .collect()
    };
    a.file("a.csv", rows(10_000));
    b.file("b.csv", rows(11_500));
    std::thread::scope(|s| {
        for t in [&a, &b] {
            let spec = store.spec.clone();
            s.spawn(move || scan(t, &spec, &["--rules", "personal", "--each-cell", "--quiet"]));
        }
    });
    let stored = report(&a, &store.spec, &[]);
    let mut fps: Vec<&str> = stored
        .iter()
        .filter_map(|f| f["fingerprint"].as_str())
        .collect();
    fps.sort();
    fps.dedup();
    assert_eq!(fps.len(), 4_500, "distinct phone numbers across both scans");
    assert_eq!(stored.len(), 6_000, "one place per file per number");
}

#[test]
fn a_datastore_inside_the_scanned_folder_is_not_scanned() {
    let t = Tree::new();
    let s = sqlite(&t);
    t.file("a.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    scan(&t, &s.spec, &[]);
    let again = scan(&t, &s.spec, &["--format", "json"]);
    let doc: Value = serde_json::from_str(&again.stdout).expect("json");
    assert_eq!(doc["summary"]["files"], 1, "{}", again.stdout);
}

#[test]
fn a_wrong_datastore_fails_before_scanning() {
    let t = Tree::new();
    t.file("a.env", "x=1\n");
    let run = run_in(
        t.path(),
        &[
            "scan",
            "--datastore",
            "postgres://nobody:pw@127.0.0.1:1/none",
            ".",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("opening datastore postgres://nobody:***@"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains(":pw@"),
        "password shown: {}",
        run.stderr
    );
}

/// Root in a container and CI jobs often have no `$USER`: the decision is still
/// recorded under the account's name, not "unknown" (issue: new user, item 7).
#[test]
fn a_decision_without_user_variables_names_the_account() {
    let t = Tree::new();
    let s = sqlite(&t);
    t.file("a.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    scan(&t, &s.spec, &[]);
    let fp = report(&t, &s.spec, &[])[0]["fingerprint"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let out = crate::tree::leakhound()
        .args(["triage", &fp, "--status", "revoked", "--datastore", &s.spec])
        .current_dir(t.path())
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("USERNAME")
        .output()
        .expect("triage");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let account = std::process::Command::new("id")
        .arg("-un")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    assert!(!account.is_empty());
    assert!(
        stdout.contains(&format!("(by {account})")),
        "{stdout} (account {account})"
    );
}

/// Issue 21: `report` and `triage` read a datastore that `scan` recorded; a mistyped
/// SQLite path is an error, not a new empty store answering "No findings". Their help
/// says so, and never shows the datastore variable's value (it may hold a password).
#[test]
fn reading_commands_refuse_a_datastore_that_does_not_exist() {
    let t = Tree::new();
    for args in [
        &["report", "--datastore", "typo.db"][..],
        &[
            "triage",
            "--datastore",
            "typo.db",
            "0123abcd",
            "--status",
            "revoked",
        ][..],
    ] {
        let run = run_in(t.path(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.contains("no datastore at typo.db"),
            "{}",
            run.stderr
        );
        assert!(!t.join("typo.db").exists());
    }
    for command in ["report", "triage"] {
        let help = crate::tree::leakhound()
            .args([command, "--help"])
            .env("LEAKHOUND_DATASTORE", "postgres://u:hunter2@db/x")
            .output()
            .expect("help");
        let help = String::from_utf8_lossy(&help.stdout);
        assert!(!help.contains("created if missing"), "{help}");
        assert!(!help.contains("hunter2"), "{help}");
        let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("[env: LEAKHOUND_DATASTORE]"), "{help}");
    }
}
