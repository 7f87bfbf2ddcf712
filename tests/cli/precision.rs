//! Precision on real code (issue: precision): values in tests, fixtures, examples and
//! docs, values that look like examples, and shapes that are not secrets at all. Each
//! case is one that raised a high-severity alarm on a public repository.

use crate::tree::{scan_jsonl, Tree};
use serde_json::Value;

/// (path, rule, severity, confidence) of each finding, sorted.
fn graded(findings: &[Value]) -> Vec<(String, String, String, String)> {
    let mut v: Vec<(String, String, String, String)> = findings
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
            (s("path"), s("rule"), s("severity"), s("confidence"))
        })
        .collect();
    v.sort();
    v
}

/// The same password in production code, in a test and in the docs: high in code;
/// reported one severity lower and with low confidence elsewhere (a real key in a test
/// folder is still a leak, so nothing is hidden). A value that looks like an example is
/// lowered the same way wherever it is.
#[test]
fn tests_docs_and_example_values_are_lowered_not_hidden() {
    let t = Tree::new();
    let line = "db_host = 'x'\nsmtp_password = \"k7qGSRBhuQQme2\"\n";
    t.file("repo/src/mail.py", line)
        .file("repo/tests/test_mail.py", line)
        .file("repo/docs/setup.md", line)
        .file(
            "repo/src/demo.py",
            "smtp_password = \"MySekretPassword1\"\n",
        );
    let (findings, run) = scan_jsonl(t.path(), &["--rules", "secret", "repo"]);
    assert_eq!(
        graded(&findings),
        [
            ("repo/docs/setup.md", "password-assignment", "medium", "low"),
            ("repo/src/demo.py", "password-assignment", "medium", "low"),
            ("repo/src/mail.py", "password-assignment", "high", "medium"),
            (
                "repo/tests/test_mail.py",
                "password-assignment",
                "medium",
                "low"
            ),
        ]
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string())),
        "{}",
        run.stderr
    );
    // Folders above the scanned root do not count: a checkout under `tests/` is code.
    let (findings, _) = scan_jsonl(&t.join("repo/tests"), &["--rules", "secret", "."]);
    assert_eq!(
        findings[0]["severity"], "medium",
        "the file is named test_mail.py"
    );
    let (findings, _) = scan_jsonl(&t.join("repo"), &["--rules", "secret", "src"]);
    assert!(findings.iter().any(|f| f["severity"] == "high"));
    let outer = Tree::new();
    outer.file("tests/checkout/src/mail.py", line);
    let root = outer.join("tests/checkout");
    let (findings, _) = scan_jsonl(
        outer.path(),
        &["--rules", "secret", &root.display().to_string()],
    );
    assert_eq!(findings[0]["severity"], "high", "{findings:?}");
}

/// Shapes that raised high alarms on public trees and are not secrets or cards.
#[test]
fn identifiers_paths_ui_strings_and_uuid_tails_are_not_findings() {
    let t = Tree::new();
    t.file(
        "src/urls.py",
        "    password = urlpassword\n        self.url_password = url_password\n    b_password = secret.bytes\n",
    )
    .file(
        "src/consts.py",
        "TLS_TRUST_PWD = \".tls.cert.password\"\nTOKEN_HEADER = \"Client-RequestToken\"\norig_token_path = C.GALAXY_TOKEN_PATH\n",
    )
    .file(
        "web/src/lang/zh.js",
        "export default { invalidPassword: '原密码错误', pleaseInputNewPassword: '请输入新密码' }\n",
    )
    .file(
        "src/ids.yml",
        "namespace: '11111111-2222-3333-4444-555555555555'\nfacilities: 0 1 2 3 4 6 7 8 9 10 12 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 30 31 32 33 34 35 36 37 38 40 41 42 43 44 45 46 47 48 49 50\n",
    )
    .file("src/auth.rs", "AuthPlugin::MysqlClearPassword => \"mysql_clear_password\",\n");
    let (findings, run) = scan_jsonl(t.path(), &["."]);
    let high: Vec<&Value> = findings
        .iter()
        .filter(|f| f["severity"] == "high" || f["severity"] == "critical")
        .collect();
    assert!(high.is_empty(), "{high:#?} {}", run.stderr);
    // A real card written in groups is still found.
    t.file("src/pay.txt", "card: 4964-8540-6402-7523\n");
    let (findings, _) = scan_jsonl(t.path(), &["src/pay.txt"]);
    assert_eq!(findings[0]["rule"], "payment-card");
}

/// `--min-severity` and `--min-confidence` leave out what is below them, say how many,
/// and the exit code follows what is reported.
#[test]
fn min_severity_and_confidence_filter_what_is_reported() {
    let t = Tree::new();
    let line = "smtp_password = \"k7qGSRBhuQQme2\"\n";
    t.file("src/mail.py", line).file("tests/test_mail.py", line);
    let (findings, run) = scan_jsonl(t.path(), &["--min-severity", "high", "."]);
    assert_eq!(graded(&findings).len(), 1, "{}", run.stderr);
    assert_eq!(findings[0]["path"], "./src/mail.py");
    assert!(run.stderr.contains("1 findings below"), "{}", run.stderr);
    assert_eq!(run.code, 1);
    let (findings, run) = scan_jsonl(
        t.path(),
        &["--min-confidence", "high", "--rules", "secret", "."],
    );
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Contributors' addresses (a `Cargo.toml` authors line, a copyright header, a
/// `.mailmap`) are their own kind at info severity, not customer e-mail: ansible's
/// `.mailmap` alone gave 743 "personal data" findings.
#[test]
fn contributor_addresses_are_their_own_kind() {
    let t = Tree::new();
    t.file(
        "Cargo.toml",
        "[package]\nname = \"x\"\nauthors = [\"Wang Fang <wang.fang@carmaker-dealer.com.cn>\"]\n",
    )
    .file(
        "src/lib.rs",
        "// Copyright 2019 Li Na <li.na@tsp-vendor.cn>\n",
    )
    .file(
        ".mailmap",
        "Zhang Wei <zhang.wei@carmaker.com.cn> <zw@old-host.cn>\n",
    )
    .file(
        "export/owners.csv",
        "name,email\n王芳,wang.fang@carmaker-dealer.com.cn\n",
    );
    let (findings, run) = scan_jsonl(t.path(), &["--rules", "personal", "."]);
    let mut got: Vec<(String, String, String)> = findings
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
            (s("path"), s("rule"), s("severity"))
        })
        .collect();
    got.sort();
    let want: Vec<(String, String, String)> = [
        ("./.mailmap", "contributor-email", "info"),
        ("./.mailmap", "contributor-email", "info"),
        ("./Cargo.toml", "contributor-email", "info"),
        ("./export/owners.csv", "email-address", "low"),
        ("./src/lib.rs", "contributor-email", "info"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(got, want, "{}", run.stderr);
}

/// In a table the column decides: a Luhn-valid number in a column of coupon codes (a
/// sample shop's SQL dump) is not a card, in `card_no` it is.
#[test]
fn a_column_of_coupon_codes_holds_no_cards() {
    let t = Tree::new();
    t.file(
        "export/coupons.csv",
        "id,coupon_code,note\n1,4532017366182205,spring sale\n",
    )
    .file(
        "export/payments.csv",
        "id,card_no,note\n1,4532017366182205,paid\n",
    );
    let (findings, run) = scan_jsonl(t.path(), &["--rules", "personal", "export"]);
    let card = |path: &str| {
        findings
            .iter()
            .find(|f| f["path"] == path && f["rule"] == "payment-card")
            .map(|f| (f["severity"].clone(), f["confidence"].clone()))
    };
    assert_eq!(
        card("export/payments.csv"),
        Some(("high".into(), "high".into())),
        "{}",
        run.stdout
    );
    assert_eq!(
        card("export/coupons.csv"),
        Some(("low".into(), "low".into())),
        "{}",
        run.stdout
    );
}

/// Numbers in a URL's path or fragment are page and event ids; in a query they are
/// data (an access log). The `password@host` of a URL is no e-mail address.
#[test]
fn numbers_in_urls_and_url_passwords_are_not_personal_data() {
    let t = Tree::new();
    t.file(
        "notes.txt",
        "fixed in <https://git.tsp-vendor.cn/libc/pull/3856#event-13924913068>\n\
         GET /login?mobile=13924913068 200\n\
         parts: \"http://user:password@www.acme.com:9000/dir\"\n",
    );
    let (findings, run) = scan_jsonl(t.path(), &["--rules", "personal", "."]);
    let mut seen: Vec<(u64, String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap_or(0),
                f["rule"].as_str().unwrap_or("").to_string(),
                f["severity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (1, "cn-mobile".to_string(), "low".to_string()),
            (2, "cn-mobile".to_string(), "medium".to_string()),
            (3, "email-address".to_string(), "info".to_string()),
        ],
        "{}",
        run.stdout
    );
}

/// Package manifests, licences and change logs name contributors; role and list
/// mailboxes are nobody's. Both are reported at info, and info never fails a scan.
#[test]
fn manifests_and_role_mailboxes_are_info_and_do_not_fail_the_scan() {
    let t = Tree::new();
    t.file(
        "crate/Cargo.toml",
        "[package]\nname = \"x\"\nauthors = [\n  \"Li Na <li.na@tsp-vendor.cn>\",\n  \"Wang Fang <wang.fang@tsp-vendor.cn>\",\n]\n",
    )
    .file("crate/LICENSE-MIT", "Copyright (c) 2020\nZhang Wei, zhang.wei@tsp-vendor.cn\n")
    .file(
        "crate/src/lib.rs",
        "pub const LIST: &str = \"dev-subscribe@tsp-vendor.org\";\npub const HELP: &str = \"support@tsp-vendor.cn\";\n",
    );
    let (findings, run) = scan_jsonl(t.path(), &["--rules", "personal", "crate"]);
    assert_eq!(findings.len(), 5, "{}", run.stdout);
    assert!(
        findings.iter().all(|f| f["severity"] == "info"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 0, "info findings do not fail a scan");
    // A real address elsewhere still does.
    t.file("crate/notes.txt", "call li.na@tsp-vendor.cn\n");
    let (_, run) = scan_jsonl(t.path(), &["--rules", "personal", "crate"]);
    assert_eq!(run.code, 1);
    // A CI gate at --fail-on high lets it through, and still reports it.
    let (findings, run) = scan_jsonl(
        t.path(),
        &["--rules", "personal", "--fail-on", "high", "crate"],
    );
    assert_eq!(run.code, 0);
    assert_eq!(findings.len(), 6);
}
