//! `leakhound rules` and custom rule files.

use crate::tree::{run_in, scan_jsonl, Tree};

const CUSTOM: &str = r#"
category = "secret"

[[rules]]
id = "acme-tsp-key"
name = "ACME telematics platform key"
severity = "critical"
keywords = ["tspk_"]
regex = '(?P<value>tspk_[a-f0-9]{32})'
examples = ['TSP_KEY=tspk_0123456789abcdef0123456789abcdef']
negative_examples = ['TSP_KEY=tspk_short']
"#;

#[test]
fn list_prints_every_rule() {
    let t = Tree::new();
    let run = run_in(t.path(), &["rules", "list"]);
    assert_eq!(run.code, 0);
    let last = run.stdout.lines().last().unwrap_or("");
    let n: usize = last
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(n >= 250, "{last}");
    assert!(run.stdout.contains("cn-resident-id") && run.stdout.contains("github-pat-classic"));
}

#[test]
fn check_runs_every_builtin_example() {
    let run = run_in(Tree::new().path(), &["rules", "check"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("all pass"), "{}", run.stdout);
}

#[test]
fn custom_rules_are_checked_and_used() {
    let t = Tree::new();
    t.file("acme.toml", CUSTOM)
        .file("svc.env", "TSP_KEY=tspk_9f8e7d6c5b4a39281706f5e4d3c2b1a0\n");
    let run = run_in(t.path(), &["rules", "check", "acme.toml"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.starts_with("1 rules, 2 examples"),
        "{}",
        run.stdout
    );
    let (found, _) = scan_jsonl(t.path(), &["--rules-file", "acme.toml", "svc.env"]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["rule"], "acme-tsp-key");
}

#[test]
fn a_wrong_example_fails_the_check() {
    let t = Tree::new();
    t.file(
        "bad.toml",
        CUSTOM.replace("tspk_short", "tspk_00000000000000000000000000000001"),
    );
    let run = run_in(t.path(), &["rules", "check", "bad.toml"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("negative example matched"),
        "{}",
        run.stdout
    );
}

#[test]
fn broken_rule_files_are_clear_errors() {
    let t = Tree::new();
    t.file("bad.toml", "[[rules]]\nid = \"x\"\nname = \"x\"\ncategory = \"secret\"\nregex = \"(unclosed\"\nexamples=[\"a\"]\nnegative_examples=[\"b\"]\n");
    let run = run_in(t.path(), &["scan", "--rules-file", "bad.toml", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("bad.toml") || run.stderr.contains("rule `x`"),
        "{}",
        run.stderr
    );
}
