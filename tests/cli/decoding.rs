//! Secrets under encodings (issue 22): base64, hex, percent-encoding, quoted-printable
//! and string escapes, nested; decoys that must stay quiet.

use crate::tree::{base64 as b64, scan_jsonl, values::*, Tree};
use serde_json::Value;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

const PG_URL: &str = "postgres://app:Zr8vQm2LtK9x@10.0.3.19:5432/crm";

fn find<'a>(findings: &'a [Value], path: &str, rule: &str) -> Option<&'a Value> {
    findings.iter().find(|f| {
        f["path"].as_str().map(|p| p.trim_start_matches("./")) == Some(path) && f["rule"] == rule
    })
}

fn tree() -> Tree {
    let t = Tree::new();
    t.file(
        "k8s/secret.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\ndata:\n  config: {}\n",
            b64(format!("DATABASE_URL={PG_URL}\n").as_bytes())
        ),
    )
    .file("plain.env", format!("DATABASE_URL={PG_URL}\n"))
    .file(
        "layered.txt",
        format!("blob={}\n", b64(percent(&format!("token={GITHUB}")).as_bytes())),
    )
    .file(
        "hex.txt",
        format!(
            "payload {}\n",
            hex(format!("aws_access_key_id={AWS_ID} aws_secret_access_key={AWS_SECRET}").as_bytes())
        ),
    )
    .file(
        "escaped.js",
        format!(
            "const cfg = \"{}\";\n",
            format!("token: {GITHUB}")
                .chars()
                .map(|c| format!("\\u{:04x}", c as u32))
                .collect::<String>()
        ),
    )
    .file(
        "mail.eml",
        format!(
            "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nour key=3D{}=\n{}\n",
            &GITHUB[..20],
            &GITHUB[20..]
        ),
    );
    t
}

#[test]
fn secrets_under_encodings_are_found_with_their_layers() {
    let t = tree();
    let (findings, run) = scan_jsonl(t.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let pg = find(&findings, "k8s/secret.yaml", "postgres-url-password").expect("base64");
    assert_eq!(pg["decoded"], "base64");
    // The fingerprint is the decoded value's: the same password found raw elsewhere.
    let raw = find(&findings, "plain.env", "postgres-url-password").expect("raw");
    assert_eq!(pg["fingerprint"], raw["fingerprint"]);
    assert!(raw.get("decoded").is_none());
    // The excerpt does not carry the encoded secret.
    let encoded = b64(format!("DATABASE_URL={PG_URL}\n").as_bytes());
    assert!(
        !pg["line_text"].as_str().unwrap_or("").contains(&encoded),
        "{pg}"
    );
    assert_eq!(pg["line"], 4);
    let layered = find(&findings, "layered.txt", "github-pat-classic").expect("layered");
    assert_eq!(layered["decoded"], "base64>url");
    assert_eq!(
        find(&findings, "hex.txt", "aws-secret-access-key").expect("hex")["decoded"],
        "hex"
    );
    assert_eq!(
        find(&findings, "escaped.js", "github-pat-classic").expect("escapes")["decoded"],
        "escapes"
    );
    assert_eq!(
        find(&findings, "mail.eml", "github-pat-classic").expect("quoted-printable")["decoded"],
        "quoted-printable"
    );
    // Masked unless revealed.
    assert!(!run.stdout.contains(GITHUB));
    assert!(!run.stdout.contains("Zr8vQm2LtK9x"));
}

#[test]
fn decode_depth_bounds_the_layers_and_zero_turns_decoding_off() {
    let t = tree();
    let (one, _) = scan_jsonl(t.path(), &["--decode-depth", "1", "."]);
    assert!(find(&one, "k8s/secret.yaml", "postgres-url-password").is_some());
    assert!(find(&one, "layered.txt", "github-pat-classic").is_none());
    let (off, _) = scan_jsonl(t.path(), &["--decode-depth", "0", "."]);
    assert!(off.iter().all(|f| f.get("decoded").is_none()), "{off:?}");
}

#[test]
fn random_blobs_hashes_and_words_decode_to_nothing() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut random = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect()
    };
    let mut text = String::new();
    for n in [12, 24, 48, 300, 3000] {
        text.push_str(&format!("blob: {}\n", b64(&random(n))));
        text.push_str(&format!("digest: {}\n", hex(&random(n.min(64)))));
    }
    text.push_str("path: lib/ansible/module_utils/common/text/converters.py\n");
    text.push_str("name = getAbstractFactoryBeanDefinitionNameForTesting\n");
    text.push_str("url = https://example.org/search?q=a%20b%20c&lang=zh%2DCN\n");
    text.push_str("printf(\"%2d items at %3.1f%%\\n\", n, pct);\n");
    let t = Tree::new();
    t.file("data/decoys.txt", &text);
    let (findings, _) = scan_jsonl(t.path(), &[]);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn the_datastore_keeps_the_layers_a_secret_was_decoded_from() {
    use crate::datastore::{on_both, report, scan};
    on_both(|t, store| {
        t.file(
            "k8s/secret.yaml",
            format!(
                "data:\n  config: {}\n",
                b64(format!("DATABASE_URL={PG_URL}\n").as_bytes())
            ),
        )
        .file("plain.env", format!("DATABASE_URL={PG_URL}\n"));
        scan(t, store, &[]);
        let back = report(t, store, &[]);
        let layers =
            |path: &str| find(&back, path, "postgres-url-password").map(|f| f["decoded"].clone());
        assert_eq!(
            layers("k8s/secret.yaml"),
            Some(Value::from("base64")),
            "{back:#?}"
        );
        assert_eq!(layers("plain.env"), Some(Value::Null), "{back:#?}");
    });
}
