//! leakhound.toml, inline `leakhound:allow` and `--baseline`.

use crate::tree::{compact, run_in, scan_jsonl, values::*, Tree};
use serde_json::Value;

#[test]
fn a_baseline_hides_known_findings_even_when_lines_move_and_shows_new_ones() {
    let t = Tree::new();
    t.file("app/.env", format!("GITHUB_TOKEN={GITHUB}\n"));
    t.file("crm.csv", format!("id\n{ID1}\n"));
    let base = run_in(
        t.path(),
        &[
            "scan",
            "--each-cell",
            "--format",
            "json",
            "-o",
            "base.json",
            ".",
        ],
    );
    assert_eq!(base.code, 1, "{}", base.stderr);

    // The old token moves down; a new ID number joins the old one; the old token is
    // also copied into a new file.
    t.file("app/.env", format!("# config\n\nGITHUB_TOKEN={GITHUB}\n"));
    t.file("crm.csv", format!("id\n{ID1}\n{ID2}\n"));
    t.file("deploy/ci.env", format!("TOKEN={GITHUB}\n"));
    let (found, run) = scan_jsonl(
        t.path(),
        &[
            "--baseline",
            "base.json",
            "--rules",
            "secret,personal",
            "--each-cell",
        ],
    );
    assert_eq!(run.code, 1);
    assert_eq!(
        compact(&found),
        [
            format!(
                "cn-resident-id crm.csv:3:1 {}",
                leakhound_findings::mask(ID2)
            ),
            format!(
                "github-pat-classic deploy/ci.env:1:7 {}",
                leakhound_findings::mask(GITHUB)
            ),
        ]
    );

    // Nothing new: the baseline makes CI pass, and the summary says what it hid.
    let again = run_in(
        t.path(),
        &["scan", "--format", "json", "-o", "now.json", "."],
    );
    assert_eq!(again.code, 1);
    let clean = run_in(t.path(), &["scan", "--baseline", "now.json", "."]);
    assert_eq!(clean.code, 0, "{}", clean.stdout);
    assert!(
        // Two tokens and the ID column (one table-level finding for both IDs).
        clean.stdout.contains("3 already in the baseline"),
        "{}",
        clean.stdout
    );

    let bad = run_in(t.path(), &["scan", "--baseline", "crm.csv", "."]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("not a leakhound json, jsonl or sarif report"),
        "{}",
        bad.stderr
    );
}

#[test]
fn a_sarif_or_jsonl_report_or_a_datastore_export_is_a_baseline_too() {
    let t = Tree::new();
    t.file(
        "a.env",
        format!("GITHUB_TOKEN={GITHUB}\nAWS_ACCESS_KEY_ID={AWS_ID}\n"),
    );
    for format in ["sarif", "jsonl"] {
        let out = format!("base.{format}");
        run_in(t.path(), &["scan", "--format", format, "-o", &out, "a.env"]);
        let run = run_in(t.path(), &["scan", "--baseline", &out, "a.env"]);
        assert_eq!(run.code, 0, "{format}: {}", run.stdout);
    }
    let db = t.join("store.db").display().to_string();
    run_in(t.path(), &["scan", "--datastore", &db, "a.env"]);
    let export = run_in(
        t.path(),
        &[
            "report",
            "--datastore",
            &db,
            "--format",
            "json",
            "-o",
            "export.json",
        ],
    );
    assert_eq!(export.code, 0, "{}", export.stderr);
    let run = run_in(t.path(), &["scan", "--baseline", "export.json", "a.env"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn leakhound_toml_allows_paths_values_and_turns_rules_off() {
    let t = Tree::new();
    t.file(
        "leakhound.toml",
        r#"
[allow]
paths = ["tests/fixtures/**", "vendor/**"]
stopwords = ["qa-fleet"]
fingerprints = []

[rules]
disable = ["email-address"]
severity = { cn-mobile = "critical" }
"#,
    );
    t.file(
        "tests/fixtures/keys.env",
        format!("GITHUB_TOKEN={GITHUB}\n"),
    );
    t.file(
        "src/app.env",
        format!("GITHUB_TOKEN={GITHUB}\nCONTACT=ops@carmaker.cn\nPHONE={MOBILE}\n"),
    );
    t.file(
        "src/qa.env",
        "DB_URL=mysql://app:QA-Fleet-Pass-123@10.0.0.5/crm\n",
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file::<_, ()>("inner/k.env", zip::write::SimpleFileOptions::default())
        .expect("zip entry");
    std::io::Write::write_all(&mut zip, format!("GITHUB_TOKEN={GITHUB}\n").as_bytes())
        .expect("zip write");
    t.file("vendor/sdk.zip", zip.finish().expect("zip").into_inner());

    let (found, run) = scan_jsonl(t.path(), &[]);
    let mut got: Vec<(String, String, String)> = found
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_string(),
                f["path"].as_str().unwrap_or("").to_string(),
                f["severity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "cn-mobile".into(),
                "./src/app.env".into(),
                "critical".into()
            ),
            (
                "github-pat-classic".into(),
                "./src/app.env".into(),
                "critical".into()
            ),
        ],
        "{}",
        run.stderr
    );
    let human = run_in(t.path(), &["scan", "."]);
    assert!(
        human.stdout.contains("Not shown: 3 allowed"),
        "{}",
        human.stdout
    );

    // --no-config shows everything again; --config picks another file.
    let (all, _) = scan_jsonl(t.path(), &["--no-config"]);
    assert!(
        all.iter().any(|f| f["rule"] == "mysql-url-password"),
        "{all:#?}"
    );
    assert!(
        all.iter()
            .any(|f| f["path"] == "./vendor/sdk.zip!inner/k.env"),
        "{all:#?}"
    );
    assert!(all.iter().any(|f| f["rule"] == "email-address"), "{all:#?}");
    t.file("strict.toml", "[rules]\ndisable = [\"cn-mobile\"]\n");
    let (strict, _) = scan_jsonl(t.path(), &["--config", "strict.toml"]);
    assert!(strict.iter().all(|f| f["rule"] != "cn-mobile"));
    assert!(strict.iter().any(|f| f["rule"] == "email-address"));
}

#[test]
fn a_broken_policy_is_an_error_not_a_silent_allow_nothing() {
    let t = Tree::new();
    t.file("a.env", "x=1\n");
    t.file("leakhound.toml", "[allow]\npath = [\"typo\"]\n");
    let run = run_in(t.path(), &["scan", "."]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("leakhound.toml"), "{}", run.stderr);
    t.file("leakhound.toml", "[allow]\nregexes = [\"(unclosed\"]\n");
    let run = run_in(t.path(), &["scan", "."]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("allow.regexes"), "{}", run.stderr);
    t.file("leakhound.toml", "[rules]\ndisable = [\"no-such-rule\"]\n");
    let run = run_in(t.path(), &["scan", "a.env"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stderr.contains("not loaded: no-such-rule"),
        "{}",
        run.stderr
    );
}

#[test]
fn inline_allow_silences_its_own_line_only() {
    let t = Tree::new();
    t.file(
        "config.py",
        format!("TEST_TOKEN = \"{GITHUB}\"  # leakhound:allow\nREAL_KEY = \"{AWS_ID}\"\n"),
    );
    let (found, _) = scan_jsonl(t.path(), &["--rules", "secret"]);
    let rules: Vec<&str> = found.iter().filter_map(|f| f["rule"].as_str()).collect();
    assert!(!rules.contains(&"github-pat-classic"), "{rules:?}");
    assert!(rules.contains(&"aws-access-key-id"), "{rules:?}");
    let (all, _) = scan_jsonl(t.path(), &["--rules", "secret", "--no-inline-allow"]);
    assert!(all.iter().any(|f| f["rule"] == "github-pat-classic"));
}

#[test]
fn inline_allow_works_in_git_history_too() {
    let t = Tree::new();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(t.path())
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q", "-b", "main"]);
    t.file("k.env", format!("A={GITHUB} # leakhound:allow\n"));
    git(&["add", "."]);
    git(&["commit", "-qm", "fixture"]);
    let run = run_in(t.path(), &["scan", "--history", "--format", "json", "."]);
    let doc: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["summary"]["findings"], 0, "{}", run.stdout);
    assert_eq!(run.code, 0);
}
