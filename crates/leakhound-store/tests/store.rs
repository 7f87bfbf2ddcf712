//! The same behaviour on both stores: every test runs on SQLite and on the PostgreSQL
//! server of the machine (a scratch database each, dropped afterwards).
//!
//! PostgreSQL is found at `LEAKHOUND_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`); `.ci/run` makes sure it answers. Set
//! `LEAKHOUND_SKIP_POSTGRES=1` to run the SQLite half alone on a machine without it.

use leakhound_findings::{
    fingerprint, Category, CommitRef, Confidence, Finding, GitOrigin, Location, Reach, Severity,
    Status,
};
use leakhound_store::{Filter, ScanRecord, Store, StoreError};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

fn finding(rule: &str, value: &str, path: &str, line: u64) -> Finding {
    Finding {
        rule: Arc::from(rule),
        name: Arc::from(rule),
        category: if rule == "cn-mobile" {
            Category::Personal
        } else {
            Category::Secret
        },
        severity: Severity::High,
        confidence: Confidence::High,
        location: Location {
            path: path.into(),
            line,
            column: 5,
            offset: 0,
        },
        value: value.into(),
        fingerprint: fingerprint(rule, value),
        validator: None,
        line_text: Some(format!("key={value} # note").into()),
        count: None,
        blob: "b1".into(),
        binary: false,
        git: None,
        triage: None,
        cell: None,
        process: None,
        column_values: None,
        decoded: None,
    }
}

const TOKEN: &str = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
const PHONE: &str = "13912345678";

fn scan() -> ScanRecord {
    ScanRecord {
        tool_version: "test".into(),
        kind: "files".into(),
        targets: vec![".".into()],
        ..ScanRecord::default()
    }
}

/// A fresh store of each kind; the guard drops the PostgreSQL database.
struct Scratch {
    spec: String,
    _dir: Option<tempfile::TempDir>,
    drop_db: Option<(String, String)>,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.drop_db {
            if let Ok(mut c) = postgres::Client::connect(admin, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

fn sqlite() -> Scratch {
    let dir = tempfile::tempdir().expect("temp dir");
    Scratch {
        spec: dir.path().join("findings.db").display().to_string(),
        _dir: Some(dir),
        drop_db: None,
    }
}

fn postgres() -> Option<Scratch> {
    if std::env::var_os("LEAKHOUND_SKIP_POSTGRES").is_some() {
        return None;
    }
    static N: AtomicU32 = AtomicU32::new(0);
    let admin = std::env::var("LEAKHOUND_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!(
        "leakhound_t{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap_or_else(|e| {
        panic!("PostgreSQL at {admin} does not answer ({e}); start it or set LEAKHOUND_SKIP_POSTGRES=1")
    });
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create scratch database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(Scratch {
        spec: format!("{base}/{name}"),
        _dir: None,
        drop_db: Some((admin.clone(), name)),
    })
}

/// Run `test` on SQLite and on PostgreSQL.
fn both(test: impl Fn(&str)) {
    let s = sqlite();
    test(&s.spec);
    if let Some(p) = postgres() {
        test(&p.spec);
    }
}

fn count(store: &mut Store) -> (usize, usize) {
    let all = store.findings(&Filter::default()).expect("load");
    let mut fps: Vec<&str> = all.iter().map(|f| f.fingerprint.as_str()).collect();
    fps.sort();
    fps.dedup();
    (fps.len(), all.len())
}

#[test]
fn the_layers_a_value_was_decoded_from_are_kept_per_place() {
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        let raw = finding("github-pat", TOKEN, "app/.env", 3);
        let mut encoded = finding("github-pat", TOKEN, "k8s/secret.yaml", 7);
        encoded.decoded = Some(Arc::from("base64>url"));
        store.record(&scan(), &[raw, encoded]).expect("record");
        let mut back: Vec<(String, Option<String>)> = store
            .findings(&Filter::default())
            .expect("load")
            .into_iter()
            .map(|f| (f.location.path, f.decoded.map(|d| d.to_string())))
            .collect();
        back.sort();
        assert_eq!(
            back,
            [
                ("app/.env".to_string(), None),
                (
                    "k8s/secret.yaml".to_string(),
                    Some("base64>url".to_string())
                ),
            ],
            "{spec}"
        );
    });
}

#[test]
fn scanning_twice_records_no_duplicates() {
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        let found = vec![
            finding("github-pat", TOKEN, "app/.env", 3),
            finding("cn-mobile", PHONE, "crm.csv", 2),
        ];
        let first = store.record(&scan(), &found).expect("record");
        assert_eq!(first.new.len(), 2);
        let second = store.record(&scan(), &found).expect("record");
        assert_eq!(second.scan_id, first.scan_id + 1);
        assert!(second.new.is_empty(), "{:?}", second.new);
        assert_eq!(count(&mut store), (2, 2));
        let scans = store.scans(10).expect("scans");
        assert_eq!(scans.len(), 2);
        assert_eq!((scans[0].findings, scans[0].new_findings), (2, 0));
        assert_eq!((scans[1].findings, scans[1].new_findings), (2, 2));
    });
}

#[test]
fn a_value_that_moves_lines_is_the_same_finding() {
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        store
            .record(&scan(), &[finding("github-pat", TOKEN, "app/.env", 3)])
            .expect("record");
        let moved = store
            .record(&scan(), &[finding("github-pat", TOKEN, "app/.env", 40)])
            .expect("record");
        assert!(moved.new.is_empty());
        let all = store.findings(&Filter::default()).expect("load");
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].location.line, 40, "the place keeps the latest line");
        // Another file: the same finding, one more place.
        store
            .record(&scan(), &[finding("github-pat", TOKEN, "docs/setup.md", 1)])
            .expect("record");
        assert_eq!(count(&mut store), (1, 2));
    });
}

#[test]
fn triage_survives_rescans_and_a_revoked_value_in_a_new_place_is_flagged() {
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        let fp = fingerprint("github-pat", TOKEN);
        store
            .record(&scan(), &[finding("github-pat", TOKEN, "app/.env", 3)])
            .expect("record");
        let outcome = store
            .triage(
                &fp[..10],
                Status::Revoked,
                Some("rotated 2026-11-20"),
                "alice",
            )
            .expect("triage");
        assert_eq!(outcome.fingerprint, fp);
        assert_eq!(outcome.previous, Status::Open);
        assert!(!outcome.masked.contains(TOKEN));

        // Same place again: revoked, not flagged.
        let again = store
            .record(&scan(), &[finding("github-pat", TOKEN, "app/.env", 3)])
            .expect("record");
        let t = &again.triage[&fp];
        assert_eq!(t.status, Status::Revoked);
        assert_eq!(t.comment.as_deref(), Some("rotated 2026-11-20"));
        assert!(again.reappeared.is_empty());

        // A new place: flagged.
        let spread = store
            .record(
                &scan(),
                &[
                    finding("github-pat", TOKEN, "app/.env", 3),
                    finding("github-pat", TOKEN, "backup/old.env", 9),
                ],
            )
            .expect("record");
        assert_eq!(spread.reappeared.len(), 1);
        assert_eq!(spread.reappeared[0].path, "backup/old.env");
        assert!(spread.triage[&fp].reappeared);
        let flagged: Vec<_> = store
            .findings(&Filter::default())
            .expect("load")
            .into_iter()
            .filter(|f| f.triage.as_ref().is_some_and(|t| t.reappeared))
            .map(|f| f.location.path)
            .collect();
        assert_eq!(flagged, vec!["backup/old.env".to_string()]);
    });
}

#[test]
fn triage_needs_one_known_fingerprint() {
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        store
            .record(&scan(), &[finding("github-pat", TOKEN, "a", 1)])
            .expect("record");
        assert!(matches!(
            store.triage("abc", Status::Confirmed, None, "bob"),
            Err(StoreError::BadFingerprint(_))
        ));
        assert!(matches!(
            store.triage("0000000000", Status::Confirmed, None, "bob"),
            Err(StoreError::UnknownFingerprint(_))
        ));
        // 300 findings: some 8-character prefixes... use a 1-character-longer shared one.
        let many: Vec<Finding> = (0..300)
            .map(|i| finding("cn-mobile", &format!("139{i:08}"), "m.csv", i + 1))
            .collect();
        store.record(&scan(), &many).expect("record");
        let first = &many[0].fingerprint;
        let shared = many
            .iter()
            .skip(1)
            .map(|f| {
                f.fingerprint
                    .bytes()
                    .zip(first.bytes())
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .max()
            .unwrap_or(0);
        if shared >= 8 {
            assert!(matches!(
                store.triage(&first[..shared], Status::Confirmed, None, "bob"),
                Err(StoreError::AmbiguousFingerprint { .. })
            ));
        }
        store
            .triage(first, Status::FalsePositive, None, "bob")
            .expect("full fingerprint");
    });
}

#[test]
fn filters_select_by_status_category_time_and_scan() {
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        let before = store
            .record(&scan(), &[finding("github-pat", TOKEN, "a.env", 1)])
            .expect("record");
        std::thread::sleep(std::time::Duration::from_millis(5));
        let since = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let later = store
            .record(&scan(), &[finding("cn-mobile", PHONE, "b.csv", 1)])
            .expect("record");
        store
            .triage(
                &fingerprint("github-pat", TOKEN),
                Status::Confirmed,
                None,
                "carol",
            )
            .expect("triage");
        let rules = |f: &Filter, store: &mut Store| -> Vec<String> {
            store
                .findings(f)
                .expect("load")
                .iter()
                .map(|x| x.rule.to_string())
                .collect()
        };
        let by_status = Filter {
            statuses: vec![Status::Confirmed],
            ..Filter::default()
        };
        assert_eq!(rules(&by_status, &mut store), ["github-pat"]);
        let by_category = Filter {
            categories: vec![Category::Personal],
            ..Filter::default()
        };
        assert_eq!(rules(&by_category, &mut store), ["cn-mobile"]);
        let by_time = Filter {
            since: Some(since),
            ..Filter::default()
        };
        assert_eq!(rules(&by_time, &mut store), ["cn-mobile"]);
        let by_scan = Filter {
            scan: Some(before.scan_id),
            ..Filter::default()
        };
        assert_eq!(rules(&by_scan, &mut store), ["github-pat"]);
        // New means first seen by the latest scan.
        let all = store.findings(&Filter::default()).expect("load");
        let new: Vec<&str> = all
            .iter()
            .filter(|f| f.triage.as_ref().is_some_and(|t| t.new))
            .map(|f| &*f.rule)
            .collect();
        assert_eq!(new, ["cn-mobile"]);
        assert_eq!(later.new.len(), 1);
    });
}

#[test]
fn stored_values_and_lines_are_masked() {
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        store
            .record(&scan(), &[finding("github-pat", TOKEN, "a.env", 1)])
            .expect("record");
        let all = store.findings(&Filter::default()).expect("load");
        assert_eq!(all[0].value, leakhound_findings::mask(TOKEN));
        let line = all[0].line_text.as_deref().unwrap_or_default();
        assert!(
            line.starts_with("key=ghp_aB") && !line.contains(TOKEN),
            "{line}"
        );
    });
}

#[test]
fn the_sqlite_file_never_holds_a_raw_value() {
    let s = sqlite();
    {
        let mut store = Store::open(&s.spec).expect("open");
        store
            .record(
                &scan(),
                &[
                    finding("github-pat", TOKEN, "a.env", 1),
                    finding("cn-mobile", PHONE, "b.csv", 1),
                ],
            )
            .expect("record");
    }
    let mut bytes = std::fs::read(&s.spec).expect("db");
    if let Ok(wal) = std::fs::read(format!("{}-wal", s.spec)) {
        bytes.extend(wal);
    }
    let has = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(has("a.env"), "the store holds the path");
    assert!(!has(TOKEN) && !has(PHONE), "a raw value reached the file");
}

#[test]
fn git_origin_round_trips() {
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        let mut f = finding("github-pat", TOKEN, "src/config.rs", 7);
        f.git = Some(Box::new(GitOrigin {
            repository: "/repos/app".into(),
            blob: "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391".into(),
            commit: Some(CommitRef {
                id: "1111111111111111111111111111111111111111".into(),
                author: "Dev One".into(),
                email: "dev@example.com".into(),
                date: "2021-03-04T05:06:07+08:00".into(),
                path: "src/config.rs".into(),
            }),
            removed: Some("2222222222222222222222222222222222222222".into()),
            reach: Reach::Ref,
        }));
        store.record(&scan(), &[f.clone()]).expect("record");
        let back = store.findings(&Filter::default()).expect("load");
        let g = back[0].git.as_deref().expect("git origin");
        assert_eq!(g.repository, "/repos/app");
        assert_eq!(g.commit, f.git.as_ref().and_then(|g| g.commit.clone()));
        assert_eq!(
            g.removed.as_deref(),
            f.git.as_ref().and_then(|g| g.removed.as_deref())
        );
    });
}

#[test]
fn a_store_from_a_newer_leakhound_is_refused_and_reopening_keeps_data() {
    let s = sqlite();
    {
        let mut store = Store::open(&s.spec).expect("open");
        store
            .record(&scan(), &[finding("github-pat", TOKEN, "a.env", 1)])
            .expect("record");
    }
    let mut store = Store::open(&s.spec).expect("reopen");
    assert_eq!(count(&mut store), (1, 1));
    let version = store.schema_version().expect("version");
    drop(store);
    let c = write_schema_version(&s.spec, version + 40);
    assert!(c, "could not fake a newer schema");
    match Store::open(&s.spec) {
        Err(StoreError::TooNew { found, .. }) => assert_eq!(found, version + 40),
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("a newer schema was accepted"),
    }
}

/// Pretend a newer leakhound migrated the file.
fn write_schema_version(path: &str, version: i64) -> bool {
    let Ok(c) = rusqlite::Connection::open(path) else {
        return false;
    };
    c.execute(
        "INSERT INTO leakhound_schema (version, applied_at) VALUES (?1, 'later')",
        [version],
    )
    .is_ok()
}

#[test]
fn two_writers_at_once_lose_nothing() {
    let run = |spec: &str| {
        // Two scans sharing half their values, written at the same moment.
        let make = |from: u64| -> Vec<Finding> {
            (from..from + 4_000)
                .map(|i| {
                    finding(
                        "cn-mobile",
                        &format!("139{i:08}"),
                        &format!("f{}.csv", i % 7),
                        i,
                    )
                })
                .collect()
        };
        let a = make(0);
        let b = make(2_000);
        std::thread::scope(|s| {
            for batch in [&a, &b] {
                s.spawn(move || {
                    let mut store = Store::open(spec).expect("open");
                    store.record(&scan(), batch).expect("record");
                });
            }
        });
        let mut store = Store::open(spec).expect("open");
        assert_eq!(count(&mut store), (6_000, 6_000));
        let scans = store.scans(10).expect("scans");
        assert_eq!(scans.len(), 2);
        let new: i64 = scans.iter().map(|s| s.new_findings).sum();
        assert_eq!(new, 6_000, "each value is new to exactly one scan");
    };
    let s = sqlite();
    run(&s.spec);
    if let Some(p) = postgres() {
        run(&p.spec);
    }
}

#[test]
fn nul_bytes_from_binary_files_are_stored() {
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        let mut f = finding("github-pat", TOKEN, "fw.zip!bin\0ary", 1);
        f.line_text = Some(format!("\0\0{TOKEN}\0").into());
        store.record(&scan(), &[f]).expect("record");
        let back = store.findings(&Filter::default()).expect("load");
        assert_eq!(back[0].location.path, "fw.zip!bin\u{fffd}ary");
    });
}

/// Regression: two scans starting at once on a new store both open it (one migrates
/// while the other waits) instead of one failing. Seen once under load, on a fresh store.
#[test]
fn many_writers_opening_a_new_store_at_once_all_succeed() {
    let open_all = |spec: &str, round: usize| {
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(move || {
                    let mut store =
                        Store::open(spec).unwrap_or_else(|e| panic!("round {round}: {e}"));
                    store
                        .record(&scan(), &[finding("github-pat", TOKEN, "a.env", 1)])
                        .unwrap_or_else(|e| panic!("round {round}: {e}"));
                });
            }
        });
    };
    for round in 0..10 {
        let s = sqlite();
        open_all(&s.spec, round);
    }
    for round in 0..3 {
        if let Some(p) = postgres() {
            open_all(&p.spec, round);
        }
    }
}

fn assessed(source: &str, rows: u64, people: u64) -> leakhound_store::AssessmentRow {
    leakhound_store::AssessmentRow {
        source: source.into(),
        format: "csv".into(),
        rows,
        distinct_people: people,
        distinct_vehicles: 1,
        detail: r#"{"columns":[{"name":"手机号","kind":"mobile","valid_ratio":1.0}]}"#.into(),
        ..Default::default()
    }
}

#[test]
fn the_newest_assessment_of_each_table_is_kept_and_read_back() {
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        assert!(store.assessments().expect("none yet").is_empty());
        store
            .record_assessments(&[assessed("b.csv", 10, 5), assessed("a.csv", 20, 7)])
            .expect("first run");
        store
            .record_assessments(&[assessed("b.csv", 12, 6)])
            .expect("second run");
        let got = store.assessments().expect("read");
        let brief: Vec<(&str, u64, u64)> = got
            .iter()
            .map(|a| (a.source.as_str(), a.rows, a.distinct_people))
            .collect();
        assert_eq!(brief, [("a.csv", 20, 7), ("b.csv", 12, 6)], "{spec}");
        assert!(got[0].detail.contains("手机号"));
        assert!(got[0].at.ends_with('Z'), "{}", got[0].at);
    });
}

#[test]
fn a_store_from_before_assessments_is_migrated_and_keeps_its_findings() {
    let s = sqlite();
    {
        let mut store = Store::open(&s.spec).expect("open");
        store
            .record(&scan(), &[finding("github-pat", TOKEN, "a.env", 1)])
            .expect("record");
    }
    // Make it a version-1 store, as the previous release left it.
    {
        let c = rusqlite::Connection::open(&s.spec).expect("sqlite");
        c.execute_batch(
            "DROP TABLE assessments; ALTER TABLE locations DROP COLUMN column_values; \
             DROP TABLE history_tips; DROP INDEX scans_run; ALTER TABLE scans DROP COLUMN run_id; \
             ALTER TABLE scans DROP COLUMN target; DROP TABLE runs; DROP TABLE run_shards; \
             DROP TABLE run_targets; DROP TABLE run_identities; \
             ALTER TABLE locations DROP COLUMN decoded; \
             DROP TABLE users; DROP TABLE web_sessions; DROP TABLE audit; \
             DROP INDEX findings_newest; DROP INDEX findings_status; DROP INDEX findings_rule; \
             DROP INDEX findings_first_scan; DROP INDEX locations_repository; \
             DROP INDEX triage_fingerprint; DROP INDEX triage_at; \
             DELETE FROM leakhound_schema WHERE version > 1;",
        )
        .expect("downgrade");
    }
    let mut store = Store::open(&s.spec).expect("reopen migrates");
    assert_eq!(store.schema_version().expect("version"), 7);
    assert_eq!(count(&mut store), (1, 1));
    store
        .record_assessments(&[assessed("a.csv", 1, 1)])
        .expect("the new table works");
    assert_eq!(store.assessments().expect("read").len(), 1);
}

#[test]
fn history_tips_replace_those_of_the_repository_s_last_scan() {
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        assert!(store.history_tips("/r/a").expect("read").is_empty());
        let tips = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        store
            .record_history_tips("/r/a", 1, &tips(&["bb", "aa", "aa"]))
            .expect("record");
        store
            .record_history_tips("/r/b", 1, &tips(&["cc"]))
            .expect("record");
        assert_eq!(store.history_tips("/r/a").expect("read"), ["aa", "bb"]);
        store
            .record_history_tips("/r/a", 2, &tips(&["dd"]))
            .expect("record");
        assert_eq!(store.history_tips("/r/a").expect("read"), ["dd"]);
        assert_eq!(store.history_tips("/r/b").expect("read"), ["cc"]);
    });
}

mod runs {
    use super::*;
    use leakhound_store::{
        Identity, IdentityClass, PlannedTarget, RunPlan, RunTarget, TargetOutcome,
    };

    fn plan(id: &str, shards: u32) -> RunPlan {
        RunPlan {
            id: id.into(),
            shards,
            inventory: "digest".into(),
            targets: ["a", "b", "c", "d"]
                .iter()
                .enumerate()
                .map(|(i, n)| PlannedTarget {
                    name: (*n).into(),
                    kind: "database".into(),
                    shard: i as u32 % shards,
                    weight: 1,
                })
                .collect(),
        }
    }

    fn strong(fp: u64, person: u64) -> Identity {
        Identity {
            class: IdentityClass::Strong,
            kind: 0,
            fp,
            tie: person,
            group: 0,
            shared: false,
        }
    }

    fn contact(fp: u64, tie: u64, group: u64, shared: bool) -> Identity {
        Identity {
            class: IdentityClass::Contact,
            kind: 1,
            fp,
            tie,
            group,
            shared,
        }
    }

    fn target(run: &str, name: &str) -> RunTarget {
        RunTarget {
            run: run.into(),
            target: name.into(),
        }
    }

    #[test]
    fn new_in_a_run_is_what_the_run_before_did_not_see() {
        both(|spec| {
            let mut store = Store::open(spec).unwrap();
            let (a, b, c) = (
                finding("github-pat", &format!("{TOKEN}a"), "x.env", 1),
                finding("github-pat", &format!("{TOKEN}b"), "x.env", 2),
                finding("github-pat", &format!("{TOKEN}c"), "x.env", 3),
            );
            for (run, found) in [
                ("r1", vec![a.clone(), b.clone()]),
                ("r2", vec![b, c.clone()]),
            ] {
                store.start_run(&plan(run, 1), 0).unwrap();
                let record = ScanRecord {
                    run: Some(target(run, "t")),
                    ..scan()
                };
                store.record(&record, &found).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            let new_in = |run: &str, store: &mut Store| {
                let f = Filter {
                    new_in_run: Some(run.into()),
                    ..Filter::default()
                };
                let page = store.finding_page(&f, None, 10, 100).unwrap();
                let mut fps: Vec<String> =
                    page.findings.into_iter().map(|f| f.fingerprint).collect();
                fps.sort();
                fps
            };
            assert_eq!(
                new_in("r2", &mut store),
                std::slice::from_ref(&c.fingerprint),
                "{spec}"
            );
            assert_eq!(new_in("r1", &mut store).len(), 2, "the first run: all new");
            let from_runs: Vec<String> = store
                .run_new_fingerprints("r2")
                .unwrap()
                .into_iter()
                .collect();
            assert_eq!(from_runs, [c.fingerprint], "the same as report --run");
        });
    }

    #[test]
    fn the_first_shard_writes_the_plan_and_the_others_read_it() {
        both(|spec| {
            let mut store = Store::open(spec).unwrap();
            let first = store.start_run(&plan("r", 2), 0).unwrap();
            assert_eq!(first, plan("r", 2));
            // A later shard with another idea of the plan gets the stored one.
            let mut other = plan("r", 2);
            other.targets[0].shard = 1;
            other.inventory = "changed".into();
            let stored = Store::open(spec).unwrap().start_run(&other, 1).unwrap();
            assert_eq!(stored, plan("r", 2));
            let o = store.run_overview("r").unwrap().unwrap();
            assert_eq!(o.shard_states.len(), 2);
            assert!(o.targets.iter().all(|t| t.status == "not run"));
            assert!(store.run_overview("nope").unwrap().is_none());
        });
    }

    #[test]
    fn people_are_counted_once_across_tables_and_re_recording_replaces() {
        both(|spec| {
            let mut store = Store::open(spec).unwrap();
            store.start_run(&plan("r", 1), 0).unwrap();
            // a: person 10 (resident ID 10 and passport 11 on one row), phone 100 theirs.
            // b: passport 11 alone (the same person), phone 100 alone (theirs), person 20.
            // c: phones 200 and 201 on one row without an ID (one more person), a
            //    placeholder 300 (shared: nobody), phone 202 alone (one more).
            // d: phone 100 tied to person 20 here: now shared (two people's).
            let tables: [(&str, Vec<Identity>); 3] = [
                (
                    "a",
                    vec![strong(10, 10), strong(11, 10), contact(100, 10, 100, false)],
                ),
                (
                    "b",
                    vec![strong(11, 11), contact(100, 0, 100, false), strong(20, 20)],
                ),
                (
                    "c",
                    vec![
                        contact(200, 0, 200, false),
                        contact(201, 0, 200, false),
                        contact(300, 0, 300, true),
                        contact(202, 0, 202, false),
                    ],
                ),
            ];
            for (name, ids) in &tables {
                store
                    .record_run_assessments(&[], Some(&target("r", name)), ids)
                    .unwrap();
            }
            let people = |store: &mut Store| store.run_overview("r").unwrap().unwrap().people;
            let p = people(&mut store);
            assert_eq!(p.distinct_people, 4, "{p:?}"); // 10, 20, {200, 201}, 202
            assert_eq!(p.distinct_people_min, 2, "{p:?}");
            assert_eq!(p.identities, 10);
            // Recording table c again (a re-run shard) replaces it: same figure.
            store
                .record_run_assessments(&[], Some(&target("r", "c")), &tables[2].1)
                .unwrap();
            assert_eq!(people(&mut store), p);
            // Phone 100 tied to person 20 too: shared, joins nobody; still 4.
            store
                .record_run_assessments(
                    &[],
                    Some(&target("r", "d")),
                    &[contact(100, 20, 100, false)],
                )
                .unwrap();
            assert_eq!(people(&mut store).distinct_people, 4);
            // A lone phone nobody claims is one more person.
            store
                .record_run_assessments(
                    &[],
                    Some(&target("r", "d")),
                    &[contact(900, 0, 900, false)],
                )
                .unwrap();
            assert_eq!(people(&mut store).distinct_people, 5);
            // Outcomes are recorded and read back with the plan's targets.
            store
                .finish_target(&TargetOutcome {
                    run: target("r", "a"),
                    shard: 0,
                    kind: "database".into(),
                    failed: true,
                    problems: vec!["connection refused".into()],
                    millis: 12,
                    bytes: 0,
                })
                .unwrap();
            store.finish_shard("r", 0, false).unwrap();
            let o = store.run_overview("r").unwrap().unwrap();
            assert_eq!(o.targets[0].status, "failed");
            assert_eq!(o.targets[0].problems, ["connection refused"]);
            assert_eq!(o.shard_states[0].status, "finished");
            assert_eq!(
                store.target_costs().unwrap().get("a"),
                None,
                "failed: no cost"
            );
        });
    }
}

#[test]
fn findings_page_newest_first_with_a_cursor_and_filters() {
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        let first: Vec<Finding> = (0..5)
            .map(|i| {
                finding(
                    "github-pat",
                    &format!("{TOKEN}{i}"),
                    &format!("src/a{i}.env"),
                    1,
                )
            })
            .collect();
        store.record(&scan(), &first).expect("record");
        std::thread::sleep(std::time::Duration::from_millis(5));
        let second = vec![
            finding("cn-mobile", PHONE, "export/50%_off.csv", 2),
            finding("cn-mobile", PHONE, "export/copy.csv", 9),
        ];
        let later = store.record(&scan(), &second).expect("record");

        // Pages of two: 1 (the phone, newest) then 5 tokens, no finding twice.
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .finding_page(&Filter::default(), after.as_ref(), 2, 100)
                .expect("page");
            assert!(page.findings.len() <= 2);
            assert_eq!(page.count, 6);
            seen.extend(page.findings.iter().map(|f| f.fingerprint.clone()));
            match page.next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        assert_eq!(seen.len(), 6, "{spec}");
        let phone = fingerprint("cn-mobile", PHONE);
        assert_eq!(seen[0], phone);
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 6);

        let top = store.finding(&phone).expect("one").expect("exists");
        assert_eq!(top.places, 2);
        assert_eq!(top.path, "export/50%_off.csv");
        assert_eq!(top.first_scan, later.scan_id);
        assert!(!top.masked.contains(PHONE), "{}", top.masked);

        // A path filter takes `%` and `_` literally, and any case.
        let by_path = |p: &str, store: &mut Store| {
            let f = Filter {
                path: Some(p.into()),
                ..Filter::default()
            };
            store.count_findings(&f, 100).expect("count")
        };
        assert_eq!(by_path("50%_OFF", &mut store), 1);
        assert_eq!(by_path("50%", &mut store), 1);
        assert_eq!(by_path("a_.env", &mut store), 0);
        assert_eq!(by_path("src/", &mut store), 5);
        // Through places: the same pages and count from the matching findings' keys.
        let under_src = Filter {
            path: Some("SRC/".into()),
            ..Filter::default()
        };
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .finding_page(&under_src, after.as_ref(), 2, 100)
                .expect("page");
            assert_eq!(page.count, 5, "{spec}");
            assert!(page.findings.len() <= 2);
            paged.extend(page.findings.iter().map(|f| f.fingerprint.clone()));
            match page.next {
                Some(c) => after = Some(c),
                None => break,
            }
        }
        assert_eq!(paged, seen[1..].to_vec(), "{spec}");
        let capped_page = store.finding_page(&under_src, None, 2, 3).expect("page");
        assert_eq!(capped_page.count, 4, "counted to the cap and one more");
        let capped = store.count_findings(&Filter::default(), 3).expect("count");
        assert_eq!(capped, 3);
        let new_in_second = Filter {
            new_in_scan: Some(later.scan_id),
            ..Filter::default()
        };
        assert_eq!(store.count_findings(&new_in_second, 100).expect("n"), 1);
        let by_rule = Filter {
            rules: vec!["github-pat".into()],
            severities: vec![Severity::High],
            ..Filter::default()
        };
        assert_eq!(store.count_findings(&by_rule, 100).expect("n"), 5);
        // The per-place export honours the same filter.
        let places = store
            .findings(&Filter {
                path: Some("copy".into()),
                ..Filter::default()
            })
            .expect("places");
        assert_eq!(places.len(), 1);
        assert_eq!(places[0].location.line, 9);
        let first_two = store
            .findings(&Filter {
                at_most: Some(2),
                ..Filter::default()
            })
            .expect("places");
        assert_eq!(first_two.len(), 2, "at most two places, in path order");
        assert_eq!(first_two[0].location.path, "export/50%_off.csv");
    });
}

#[test]
fn triage_of_many_findings_is_logged_with_the_cli_decisions() {
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        let found: Vec<Finding> = (0..3)
            .map(|i| finding("github-pat", &format!("{TOKEN}{i}"), "a.env", i + 1))
            .collect();
        store.record(&scan(), &found).expect("record");
        let fps: Vec<String> = found.iter().map(|f| f.fingerprint.clone()).collect();
        store
            .triage(&fps[2], Status::Confirmed, Some("from the CLI"), "cli-user")
            .expect("cli triage");
        let mut asked = fps[..2].to_vec();
        asked.push("00000000deadbeef".into());
        let done = store
            .triage_many(&asked, Status::Revoked, Some("rotated"), "ana")
            .expect("triage");
        assert_eq!(done, fps[..2].to_vec(), "an unknown fingerprint is skipped");
        let one = store.finding(&fps[0]).expect("read").expect("exists");
        assert_eq!(
            (
                one.status.as_str(),
                one.status_by.as_deref(),
                one.comment.as_deref()
            ),
            ("revoked", Some("ana"), Some("rotated"))
        );
        let decisions = store.decisions(&fps[0]).expect("decisions");
        assert_eq!(decisions.len(), 1);
        assert_eq!(decisions[0].by, "ana");
        store
            .audit("ana", "login", "ana", "from 127.0.0.1")
            .expect("log");
        let (log, next) = store.audit_log(None, 100).expect("log");
        assert_eq!(next, None);
        let lines: Vec<(&str, &str)> = log
            .iter()
            .map(|e| (e.action.as_str(), e.by.as_str()))
            .collect();
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(lines.contains(&("triage", "cli-user")), "{lines:?}");
        assert_eq!(lines.iter().filter(|l| **l == ("triage", "ana")).count(), 2);
        // Pages of one entry give the same four, in the same order: the two decisions
        // made at once share a millisecond and neither is lost at a page boundary.
        let mut paged = Vec::new();
        let mut from = None;
        loop {
            let (page, next) = store.audit_log(from.as_ref(), 1).expect("page");
            paged.extend(page);
            match next {
                Some(c) => from = Some(c),
                None => break,
            }
        }
        assert_eq!(paged, log);
    });
}

#[test]
fn accounts_and_sessions() {
    use leakhound_store::User;
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        let mut ana = User {
            name: "ana".into(),
            role: "analyst".into(),
            password: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            created_at: "2026-12-07T00:00:00.000Z".into(),
            disabled: false,
        };
        assert!(store.put_user(&ana, "admin").expect("create"));
        assert_eq!(store.user("ana").expect("read"), Some(ana.clone()));
        assert_eq!(store.user("bob").expect("read"), None);
        store
            .start_session("hash-of-token", "ana", "csrf-1", "2999-01-01T00:00:00.000Z")
            .expect("session");
        store
            .start_session("old", "ana", "csrf-0", "2000-01-01T00:00:00.000Z")
            .expect("session");
        let s = store.session("hash-of-token").expect("read").expect("live");
        assert_eq!((s.user.name.as_str(), s.csrf.as_str()), ("ana", "csrf-1"));
        assert_eq!(store.session("old").expect("read"), None, "expired");
        assert_eq!(store.session("nope").expect("read"), None);
        ana.role = "viewer".into();
        assert!(!store.put_user(&ana, "admin").expect("change"));
        let s = store.session("hash-of-token").expect("read").expect("live");
        assert_eq!(s.user.role, "viewer", "a role change holds at once");
        ana.disabled = true;
        store.put_user(&ana, "admin").expect("disable");
        assert_eq!(store.session("hash-of-token").expect("read"), None);
        store
            .start_session("again", "ana", "c", "2999-01-01T00:00:00.000Z")
            .expect("session");
        assert_eq!(store.session("again").expect("read"), None, "disabled");
        store.end_session("again").expect("end");
        assert_eq!(store.users().expect("users").len(), 1);
        let (log, _) = store.audit_log(None, 10).expect("log");
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions.len(), 3);
        assert!(actions.contains(&"user-created") && actions.contains(&"user-disabled"));
    });
}

#[test]
fn the_same_table_in_two_systems_is_two_assessments() {
    use leakhound_store::RunTarget;
    both(|spec| {
        let mut store = Store::open(spec).expect("open");
        for (target, people) in [("crm-db", 7), ("billing-db", 3)] {
            let rt = RunTarget {
                run: "nightly".into(),
                target: target.into(),
            };
            store
                .record_run_assessments(&[assessed("public.customers", 10, people)], Some(&rt), &[])
                .expect("record");
        }
        store
            .record_assessments(&[assessed("public.customers", 4, 2)])
            .expect("record");
        let got = store.assessments().expect("read");
        let brief: Vec<(Option<&str>, u64)> = got
            .iter()
            .map(|a| (a.target.as_deref(), a.distinct_people))
            .collect();
        assert_eq!(brief.len(), 3, "{brief:?} on {spec}");
        for want in [(Some("crm-db"), 7), (Some("billing-db"), 3), (None, 2)] {
            assert!(
                brief.contains(&want),
                "{want:?} missing: {brief:?} on {spec}"
            );
        }
    });
}
