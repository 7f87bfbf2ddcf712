//! Plain files and folders: exact findings, masking, exclusions, stdin, exit codes.

use crate::tree::{compact, expect, run_in, run_with_stdin, scan_jsonl, values::*, Tree};

fn env_file() -> String {
    format!(
        "# service config\nDB_URL=mysql://crm:Xk9mQ2vpL7@10.2.3.4:3306/crm\nGITHUB_TOKEN={GITHUB}\n[default]\naws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\n"
    )
}

#[test]
fn finds_exact_secrets_with_positions() {
    let text = env_file();
    let t = Tree::new();
    t.file(".env", &text);
    let (found, run) = scan_jsonl(t.path(), &["--reveal"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut want = vec![
        expect("mysql-url-password", ".env", &text, "Xk9mQ2vpL7"),
        expect("github-pat-classic", ".env", &text, GITHUB),
        expect("aws-access-key-id", ".env", &text, AWS_ID),
        expect("aws-secret-access-key", ".env", &text, AWS_SECRET),
        expect("aws-credential-pair", ".env", &text, AWS_SECRET),
    ];
    want.sort();
    assert_eq!(compact(&found), want);
    let gh = found
        .iter()
        .find(|f| f["rule"] == "github-pat-classic")
        .expect("github finding");
    assert_eq!(gh["validator"], "github-token");
    assert_eq!(gh["category"], "secret");
    assert_eq!(gh["severity"], "critical");
    assert_eq!(gh["fingerprint"].as_str().map(str::len), Some(64));
}

#[test]
fn values_are_masked_unless_revealed() {
    let t = Tree::new();
    t.file(".env", env_file());
    for format in ["human", "json", "jsonl", "sarif"] {
        let run = run_in(t.path(), &["scan", "--format", format, "."]);
        for secret in [GITHUB, AWS_SECRET, "Xk9mQ2vpL7"] {
            assert!(
                !run.stdout.contains(secret),
                "{format} output leaks {secret}"
            );
        }
    }
    let run = run_in(t.path(), &["scan", "--reveal", "."]);
    assert!(run.stdout.contains(GITHUB));
}

#[test]
fn personal_and_vehicle_data_in_a_csv() {
    let text = format!(
        "姓名,身份证号,手机,车架号,车牌,统一社会信用代码\n张伟,{ID1},{MOBILE},{VIN_CN},粤B8K3Q1,{USCC}\n李娜,{ID2},+86 186 0000 1234,{VIN_US},沪AD12345,\n"
    );
    let t = Tree::new();
    t.file("customers.csv", &text);
    let (found, _) = scan_jsonl(t.path(), &["--reveal", "--each-cell"]);
    let mut want = vec![
        expect("cn-resident-id", "customers.csv", &text, ID1),
        expect("cn-resident-id", "customers.csv", &text, ID2),
        expect("cn-mobile", "customers.csv", &text, MOBILE),
        expect("cn-mobile", "customers.csv", &text, "+86 186 0000 1234"),
        expect("vin", "customers.csv", &text, VIN_CN),
        expect("vin", "customers.csv", &text, VIN_US),
        expect("cn-plate", "customers.csv", &text, "粤B8K3Q1"),
        expect("cn-plate", "customers.csv", &text, "沪AD12345"),
        expect("uscc", "customers.csv", &text, USCC),
    ];
    want.sort();
    assert_eq!(compact(&found), want);
}

#[test]
fn gitignored_files_are_scanned_unless_asked_and_git_internals_never() {
    let t = Tree::new();
    t.file(".gitignore", ".env\n")
        .file(".env", format!("TOKEN={GITHUB}\n"))
        .file(
            ".git/config",
            format!("[remote]\n url = https://x:{GITHUB}@github.com/a/b\n"),
        )
        .file("src/main.rs", "fn main() {}\n");
    let (found, _) = scan_jsonl(t.path(), &[]);
    let paths: Vec<&str> = found.iter().filter_map(|f| f["path"].as_str()).collect();
    assert!(paths.iter().any(|p| p.ends_with(".env")), "{paths:?}");
    assert!(!paths.iter().any(|p| p.contains(".git/")), "{paths:?}");
    let (found, run) = scan_jsonl(t.path(), &["--respect-gitignore"]);
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(run.code, 0);
}

#[test]
fn exclude_globs_leave_paths_out() {
    let t = Tree::new();
    t.file("keep/a.env", format!("TOKEN={GITHUB}\n"))
        .file("vendor/b.env", format!("TOKEN={GITHUB}\n"));
    let (found, _) = scan_jsonl(t.path(), &["--exclude", "vendor/**"]);
    let paths: Vec<&str> = found.iter().filter_map(|f| f["path"].as_str()).collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert!(paths[0].ends_with("keep/a.env"));
}

#[test]
fn identical_content_is_matched_once_and_reported_everywhere() {
    let t = Tree::new();
    for i in 0..5 {
        t.file(&format!("copy{i}/.env"), format!("TOKEN={GITHUB}\n"));
    }
    let run = run_in(t.path(), &["scan", "--format", "json", "."]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(5));
    assert_eq!(doc["summary"]["blobs"], 5);
    assert_eq!(doc["summary"]["duplicate_blobs"], 4);
}

#[test]
fn standard_input() {
    let t = Tree::new();
    let run = run_with_stdin(
        t.path(),
        &["scan", "--format", "jsonl", "-"],
        Some(format!("x={GITHUB}\n").as_bytes()),
    );
    assert_eq!(run.code, 1);
    let f: serde_json::Value =
        serde_json::from_str(run.stdout.lines().next().unwrap_or("{}")).expect("jsonl");
    assert_eq!(f["path"], "<stdin>");
    assert_eq!(f["rule"], "github-pat-classic");
}

/// Regression: standard input longer than --max-file-size was cut without a word.
#[test]
fn truncated_standard_input_is_reported() {
    let t = Tree::new();
    let input = format!("{}\nT={GITHUB}\n", "x".repeat(2000));
    let run = run_with_stdin(
        t.path(),
        &["scan", "--max-file-size", "1K", "-"],
        Some(input.as_bytes()),
    );
    assert!(
        run.stderr.contains("only the first 1024 bytes"),
        "{}",
        run.stderr
    );
    assert_eq!(run.code, 0);
}

#[test]
fn exit_codes() {
    let t = Tree::new();
    t.file("clean.txt", "nothing to see\n");
    assert_eq!(run_in(t.path(), &["scan", "clean.txt"]).code, 0);
    t.file("dirty.txt", format!("{GITHUB}\n"));
    assert_eq!(run_in(t.path(), &["scan", "dirty.txt"]).code, 1);
    let missing = run_in(t.path(), &["scan", "no-such-dir"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("no-such-dir"));
    // Issue 21: a missing path next to a readable one still fails the run, quiet or
    // not, and the error names the path once.
    for quiet in [&[][..], &["-q"][..]] {
        let mut args = vec!["scan"];
        args.extend_from_slice(quiet);
        args.extend_from_slice(&["no-such-dir", "clean.txt"]);
        let run = run_in(t.path(), &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(
            run.stderr.matches("no-such-dir").count(),
            1,
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("No such file"), "{}", run.stderr);
    }
    let assess = run_in(t.path(), &["assess", "clean.txt", "no-such-dir"]);
    assert_eq!(assess.code, 2, "{}", assess.stderr);
    assert_eq!(run_in(t.path(), &["scan", "--format", "xml", "."]).code, 2);
    assert_eq!(
        run_in(t.path(), &["scan", "--rules", "secretz", "."]).code,
        2
    );
}

#[test]
fn unreadable_files_are_reported_and_the_scan_goes_on() {
    let t = Tree::new();
    t.file("ok.env", format!("T={GITHUB}\n"))
        .file("big.bin", vec![b'a'; 4096]);
    let run = run_in(
        t.path(),
        &["scan", "--max-file-size", "1K", "--format", "json", "."],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("big.bin") && run.stderr.contains("--max-file-size"),
        "{}",
        run.stderr
    );
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["summary"]["skipped"], 1);
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(1));
}

#[test]
fn output_file_and_quiet() {
    let t = Tree::new();
    t.file("a.env", format!("T={GITHUB}\n"));
    let run = run_in(
        t.path(),
        &[
            "scan",
            "-q",
            "--format",
            "jsonl",
            "-o",
            "out.jsonl",
            "a.env",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty() && run.stderr.is_empty());
    let written = std::fs::read_to_string(t.join("out.jsonl")).expect("report file");
    assert_eq!(written.lines().count(), 1);
}

#[test]
fn quiet_human_output_is_the_findings_and_nothing_else() {
    // Regression: -q printed a bogus "Scanned 0 files ... 0 findings: ." summary.
    let t = Tree::new();
    t.file("a.env", format!("T={GITHUB}\n"));
    let run = run_in(t.path(), &["scan", "-q", "--color", "never", "a.env"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("github-pat-classic"), "{}", run.stdout);
    assert!(!run.stdout.contains("Scanned"), "{}", run.stdout);
    assert!(!run.stdout.contains("findings"), "{}", run.stdout);
    assert!(run.stderr.is_empty());
}

#[test]
fn rule_packs_can_be_picked() {
    let t = Tree::new();
    t.file("a.txt", format!("T={GITHUB}\nid={ID1}\n"));
    let (found, _) = scan_jsonl(t.path(), &["--rules", "personal"]);
    let rules: Vec<&str> = found.iter().filter_map(|f| f["rule"].as_str()).collect();
    assert_eq!(rules, vec!["cn-resident-id"]);
}

/// `leakhound scan . | head -1`: the reader closing the pipe is a normal end, not
/// `error: … Broken pipe` and exit 2 (issue: what a new user trips over, item 4).
#[test]
fn a_reader_that_stops_early_ends_the_scan_quietly() {
    use std::io::BufRead;
    let t = Tree::new();
    let rows: String = (0..20_000)
        .map(|i| format!("客户{i},{ID1},{MOBILE}\n"))
        .collect();
    t.file("big.csv", format!("name,id,mobile\n{rows}"));
    for args in [
        &["scan", "--each-cell", "--format", "jsonl", "big.csv"][..],
        &["scan", "--each-cell", "--format", "csv", "big.csv"][..],
        &["scan", "--each-cell", "--color", "never", "big.csv"][..],
    ] {
        let mut child = crate::tree::leakhound()
            .args(args)
            .current_dir(t.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start leakhound");
        let stdout = child.stdout.take().expect("stdout");
        let mut first = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut first)
            .expect("a line");
        // The reader goes away after one line, as `head -1` does.
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!first.is_empty(), "{args:?}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
}
