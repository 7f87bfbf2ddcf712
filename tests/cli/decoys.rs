//! Strings that look like findings but are not: every one must give zero findings with
//! every pack enabled.

use crate::tree::{compact, scan_jsonl, values::*, Tree};

#[test]
fn decoys_give_no_findings() {
    // An 18-digit order number shaped like a resident ID, with the wrong check char.
    let order = format!(
        "{}{}",
        &ID1[..17],
        if ID1.ends_with('0') { '1' } else { '0' }
    );
    // A VIN with a wrong check digit.
    let bad_vin = format!(
        "{}{}{}",
        &VIN_CN[..8],
        if &VIN_CN[8..9] == "0" { '1' } else { '0' },
        &VIN_CN[9..]
    );
    let files = [
        ("logs/app.log", format!(
            "ts=1716000000000 order={order} took=13800138000ns\n2024-05-01T08:00:12.345Z trace=5f2b9c1e8a7d4e3f\nvin={bad_vin}\n"
        )),
        ("hashes.txt", "md5 d41d8cd98f00b204e9800998ecf8427e\nsha1 da39a3ee5e6b4b0d3255bfef95601890afd80709\nsha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\ncommit 1f2e3d4c5b6a79881726354453627180a9b8c7d6\n".to_string()),
        ("ids.txt", "uuid 550e8400-e29b-41d4-a716-446655440000\nrequest 6ba7b810-9dad-11d1-80b4-00c04fd430c8\n".to_string()),
        ("package-lock.json", r#"{"node_modules/lodash": {"version": "4.17.21", "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz", "integrity": "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg=="}}"#.to_string()),
        ("yarn.lock", "lodash@^4.17.21:\n  version \"4.17.21\"\n  integrity sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==\n".to_string()),
        ("Cargo.lock", "[[package]]\nname = \"regex\"\nversion = \"1.11.1\"\nchecksum = \"b544ef1b4eac5dc2db33ea63606ae9ffcfac26c1416a2806ae0bf5f56b201191\"\n".to_string()),
        ("docs/aws.md", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n".to_string()),
        ("docs/github.md", "Authorization: token gho_16C7e42F292c6912E7710c838347Ae178B4a\n".to_string()),
        ("config/app.yml", "password: ${DB_PASSWORD}\napi_key: <your-api-key>\nsecret: changeme\ntoken: xxxxxxxxxxxxxxxxxxxx\nclient_secret: os.environ[\"CLIENT_SECRET\"]\n".to_string()),
        ("src/ui.css", ".logo { background: url(logo@2x.png); }\n@media (max-width: 600px) {}\n".to_string()),
        ("src/deps.txt", "git clone git@github.com:carmaker/tsp.git\nreact@18.2.0 lodash@4.17.21\n".to_string()),
        ("tests/sample.txt", "示例身份证 11010519491231002X 测试手机 13800138000 test card 4111111111111111\n".to_string()),
        ("math.py", "PI = 3.14159265358979323846\nE = 2.71828182845904523536\nx = 1.13912345678\n".to_string()),
        // Shapes met scanning real crates: struct fields, type constants, method chains,
        // document ids, doc-example URLs.
        ("src/real.rs", concat!(
            "    password: Cow::Borrowed(password),\n",
            "    pw_passwd: u.pw_passwd(),\n",
            "pub token_stream: __IncompleteArrayField<__u8>,\n",
            "pub const PrivateKeyAttestMask: X509CertificateTemplatePrivateKeyFlag = 12288i32;\n",
            "let tokens = self.0.to_token_stream();\n",
            "pub type U1125899906842623 = UInt<UTerm, B1>;\n",
            "// see https://doi.org/S1570866706000353\n",
            "let uri = \"http://user:pass@192.168.1.1:8080/path\";\n",
        ).to_string()),
    ];
    let t = Tree::new();
    for (name, text) in &files {
        t.file(name, text);
    }
    let (found, run) = scan_jsonl(t.path(), &["--reveal"]);
    assert_eq!(compact(&found), Vec::<String>::new());
    assert_eq!(run.code, 0, "{}", run.stderr);
}
