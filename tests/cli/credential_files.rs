//! Credential files that tools write for their users, recognised by path and shape
//! (issue 22): one fixture per format in `tests/fixtures/credential-files/`.

use crate::tree::{scan_jsonl, Tree};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/credential-files")
}

/// (format, file below the format's folder, rule) from expected.tsv.
fn expected() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(fixtures().join("expected.tsv")).expect("expected.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut f = l.split('\t').map(str::to_string);
            let (Some(format), Some(file), Some(rule)) = (f.next(), f.next(), f.next()) else {
                panic!("bad expected.tsv line {l:?}");
            };
            (format, file, rule)
        })
        .collect()
}

fn rules_by_path(findings: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in findings {
        let path = f["path"].as_str().unwrap_or("?").trim_start_matches("./");
        by.entry(path.to_string())
            .or_default()
            .insert(f["rule"].as_str().unwrap_or("?").to_string());
    }
    by
}

#[test]
fn every_credential_file_format_is_reported_by_its_rule() {
    let expected = expected();
    assert!(expected.len() >= 40, "only {} formats", expected.len());
    let dir = fixtures();
    let (findings, run) = scan_jsonl(&dir, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let by = rules_by_path(&findings);
    let missed: Vec<String> = expected
        .iter()
        .filter(|(format, file, rule)| {
            !by.get(&format!("{format}/{file}"))
                .is_some_and(|rules| rules.contains(rule))
        })
        .map(|(format, file, rule)| {
            format!(
                "{format}/{file}: want {rule}, got {:?}",
                by.get(&format!("{format}/{file}"))
            )
        })
        .collect();
    assert!(missed.is_empty(), "missed:\n{}", missed.join("\n"));
    // Nothing is printed raw.
    for f in &findings {
        assert!(f.get("secret").is_none() || f["secret"].is_null());
    }
}

#[test]
fn path_rules_stay_quiet_when_the_same_bytes_sit_at_another_path() {
    let rules = leakhound_rules::RuleSet::builtin().expect("rules");
    let path_rules: BTreeSet<&str> = rules
        .rules()
        .iter()
        .filter(|r| !r.paths.is_empty())
        .map(|r| r.id.as_str())
        .collect();
    assert!(path_rules.len() >= 40, "{} path rules", path_rules.len());
    let t = Tree::new();
    let mut scoped = 0;
    for (format, file, rule) in expected() {
        let bytes = std::fs::read(fixtures().join(&format).join(&file)).expect("fixture");
        // Same bytes in a notes folder: no path rule applies there.
        t.file(&format!("notes/{format}.txt"), &bytes);
        scoped += usize::from(path_rules.contains(rule.as_str()));
    }
    assert!(scoped >= 40, "{scoped} fixtures are for path rules");
    let (findings, _) = scan_jsonl(t.path(), &[]);
    let loud: Vec<String> = findings
        .iter()
        .filter(|f| path_rules.contains(f["rule"].as_str().unwrap_or("?")))
        .map(|f| format!("{} {}", f["rule"], f["path"]))
        .collect();
    assert!(loud.is_empty(), "path rules fired elsewhere: {loud:?}");
}

#[test]
fn a_credential_file_inside_an_archive_is_found_by_its_member_path() {
    let s3cfg = std::fs::read(fixtures().join("s3cmd/.s3cfg")).expect("fixture");
    let pgpass = std::fs::read(fixtures().join("pgpass/.pgpass")).expect("fixture");
    let t = Tree::new();
    t.file(
        "home-backup.zip",
        crate::archives::zip_of(&[("ops/.s3cfg", &s3cfg), ("ops/.pgpass", &pgpass)]),
    );
    let (findings, _) = scan_jsonl(t.path(), &[]);
    let by = rules_by_path(&findings);
    assert!(
        by.get("home-backup.zip!ops/.s3cfg")
            .is_some_and(|r| r.contains("s3cmd-secret-key")),
        "{by:?}"
    );
    assert!(
        by.get("home-backup.zip!ops/.pgpass")
            .is_some_and(|r| r.contains("pgpass-password")),
        "{by:?}"
    );
}

#[test]
fn the_same_bytes_at_a_credential_path_and_elsewhere_are_judged_apart() {
    // Results are cached by content: the cache must not hand the plain file's empty
    // result to the credential file, nor the other way round.
    let text = "[client]\nuser=root\npassword=Jc5#rWq2Lm8x\n";
    let t = Tree::new();
    t.file("a/readme.txt", text)
        .file("b/.my.cnf", text)
        .file("c/.my.cnf", text);
    let (findings, _) = scan_jsonl(t.path(), &[]);
    let by = rules_by_path(&findings);
    for p in ["b/.my.cnf", "c/.my.cnf"] {
        assert!(
            by.get(p)
                .is_some_and(|r| r.contains("mysql-option-file-password")),
            "{p}: {by:?}"
        );
    }
    assert!(
        !by.get("a/readme.txt")
            .is_some_and(|r| r.contains("mysql-option-file-password")),
        "{by:?}"
    );
}
