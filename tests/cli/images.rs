//! Container images (issue 22): `docker save` archives and OCI layouts, built here
//! from layers written by the test, no registry.

use crate::archives::{gz, tar_of};
use crate::tree::{scan_jsonl, values::*, Tree};
use serde_json::{json, Value};

const DB_PASSWORD: &str = "Qx7vLm2Zt9kRw4";

fn env_file() -> String {
    format!("AWS_ACCESS_KEY_ID={AWS_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n")
}

/// Layer 1 adds `app/.env` (a key pair) and `app/main.py`; layer 2 deletes `.env`;
/// layer 3 adds `etc/app/github.txt` (a token). The config carries a password in ENV.
fn layers() -> Vec<Vec<u8>> {
    vec![
        tar_of(&[
            ("app/.env", env_file().as_bytes()),
            ("app/main.py", b"print('hello')\n"),
        ]),
        tar_of(&[("app/.wh..env", b"")]),
        tar_of(&[("etc/app/github.txt", format!("token={GITHUB}\n").as_bytes())]),
    ]
}

fn config() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "architecture": "amd64",
        "config": {"Env": ["PATH=/usr/bin", format!("DB_PASSWORD={DB_PASSWORD}")]},
        "history": [{"created_by": "/bin/sh -c #(nop) ADD file:abc in / "}]
    }))
    .expect("config json")
}

fn findings_by_path(findings: &[Value]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .unwrap_or("?")
                    .trim_start_matches("./")
                    .to_string(),
                f["rule"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

fn assert_image_findings(findings: &[Value], name: &str) {
    let by = findings_by_path(findings);
    let has = |path: &str, rule: &str| by.iter().any(|(p, r)| p == path && r == rule);
    assert!(
        has(
            &format!("{name}!layer 1 (removed)/app/.env"),
            "aws-secret-access-key"
        ),
        "{by:#?}"
    );
    assert!(
        has(
            &format!("{name}!layer 3/etc/app/github.txt"),
            "github-pat-classic"
        ),
        "{by:#?}"
    );
    assert!(
        by.iter().any(|(p, _)| p == &format!("{name}!image config")),
        "{by:#?}"
    );
    // Nothing under the raw blob names, and no layer shown as a plain tar member.
    assert!(
        by.iter()
            .all(|(p, _)| !p.contains("blobs/") && !p.contains("layer.tar")),
        "{by:#?}"
    );
    // The value still present in the final filesystem is not marked removed.
    assert!(
        !by.iter().any(|(p, _)| p.contains("layer 3 (removed)")),
        "{by:#?}"
    );
}

#[test]
fn docker_save_archive_layers_are_scanned_in_order_with_deletions_marked() {
    let layers = layers();
    let config = config();
    let names: Vec<String> = (1..=3).map(|i| format!("{i:064x}/layer.tar")).collect();
    let manifest = serde_json::to_vec(&json!([{
        "Config": "cfg0000.json",
        "RepoTags": ["tsp/api:1.4"],
        "Layers": names,
    }]))
    .expect("manifest");
    let mut members: Vec<(&str, &[u8])> = names
        .iter()
        .zip(&layers)
        .map(|(n, l)| (n.as_str(), l.as_slice()))
        .collect();
    members.push(("cfg0000.json", &config));
    members.push(("manifest.json", &manifest));
    members.push(("repositories", b"{\"tsp/api\":{\"1.4\":\"x\"}}"));
    let t = Tree::new();
    t.file("api-image.tar", tar_of(&members));
    let (findings, run) = scan_jsonl(t.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_image_findings(&findings, "api-image.tar");
    // The config's ENV line is reported as a password.
    let config_rules: Vec<&str> = findings
        .iter()
        .filter(|f| {
            f["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("!image config"))
        })
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(
        config_rules.iter().any(|r| r.contains("password")),
        "{config_rules:?}"
    );
}

/// `sha256:HEX` of `bytes` and its blob path in an OCI layout.
fn address(bytes: &[u8]) -> (String, String) {
    use sha2::{Digest, Sha256};
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (format!("sha256:{hex}"), format!("blobs/sha256/{hex}"))
}

/// An OCI image layout's files (path, bytes): gzip'd `layers`, the test's config, a
/// manifest and an index naming the image `1.4`, every blob under its real digest.
fn oci_layout(layers: &[Vec<u8>]) -> Vec<(String, Vec<u8>)> {
    let blobs: Vec<Vec<u8>> = layers.iter().map(|l| gz(l)).collect();
    let config = config();
    let descriptor = |media: &str, bytes: &[u8]| json!({"mediaType": media, "digest": address(bytes).0, "size": bytes.len()});
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.oci.image.config.v1+json", &config),
        "layers": blobs.iter().map(|b| descriptor("application/vnd.oci.image.layer.v1.tar+gzip", b)).collect::<Vec<_>>(),
    }))
    .expect("manifest");
    let mut entry = descriptor("application/vnd.oci.image.manifest.v1+json", &manifest);
    entry["annotations"] = json!({"org.opencontainers.image.ref.name": "1.4"});
    let index =
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [entry]})).expect("index");
    let mut files = vec![
        (
            "oci-layout".to_string(),
            b"{\"imageLayoutVersion\":\"1.0.0\"}".to_vec(),
        ),
        ("index.json".to_string(), index),
    ];
    for blob in [manifest, config].into_iter().chain(blobs) {
        files.push((address(&blob).1, blob));
    }
    files
}

fn members(files: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect()
}

#[test]
fn oci_layout_tarball_with_gzip_layers_and_an_opaque_folder() {
    let mut layers = layers();
    // Layer 2 empties `app/` instead of deleting one file.
    layers[1] = tar_of(&[("app/.wh..wh..opq", b""), ("app/readme.txt", b"rebuilt\n")]);
    let files = oci_layout(&layers);
    let t = Tree::new();
    // Compressed as a whole too, as `docker save | gzip` gives.
    t.file("api-oci.tar.gz", gz(&tar_of(&members(&files))));
    let (findings, run) = scan_jsonl(t.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("digest"), "{}", run.stderr);
    assert_image_findings(&findings, "api-oci.tar.gz");
}

#[test]
fn a_layer_altered_after_the_build_is_reported_and_still_scanned() {
    let layers = layers();
    let mut files = oci_layout(&layers);
    // Swap layer 3's content for another layer's, under its old digest.
    let other = gz(&tar_of(&[(
        "etc/app/github.txt",
        format!("token={GITHUB}\nextra=1\n").as_bytes(),
    )]));
    let (_, third) = address(&gz(&layers[2]));
    if let Some(f) = files.iter_mut().find(|(p, _)| *p == third) {
        f.1 = other;
    }
    let t = Tree::new();
    t.file("api.tar", tar_of(&members(&files)));
    let (findings, run) = scan_jsonl(t.path(), &[]);
    assert!(
        run.stderr.contains("api.tar!layer 3") && run.stderr.contains("does not match its digest"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("layer 1:") && !run.stderr.contains("image config:"),
        "only the altered layer is named: {}",
        run.stderr
    );
    assert_image_findings(&findings, "api.tar");
}

#[test]
fn a_tar_that_only_looks_like_an_image_is_read_as_a_tar() {
    // A manifest.json naming layers that are not there: an ordinary tar.
    let manifest = br#"[{"Config":"c.json","Layers":["missing/layer.tar"]}]"#;
    let t = Tree::new();
    t.file(
        "bundle.tar",
        tar_of(&[
            ("manifest.json", manifest),
            ("app/.env", env_file().as_bytes()),
        ]),
    );
    let (findings, _) = scan_jsonl(t.path(), &[]);
    let by = findings_by_path(&findings);
    assert!(
        by.iter()
            .any(|(p, r)| p == "bundle.tar!app/.env" && r == "aws-secret-access-key"),
        "{by:#?}"
    );
}

#[test]
fn a_corrupt_layer_is_reported_and_the_others_are_still_scanned() {
    let mut layers = layers();
    layers[0] = b"\x1f\x8b\x08\x00garbage that is not a gzip stream".to_vec();
    let names: Vec<String> = (1..=3).map(|i| format!("l{i}/layer.tar")).collect();
    let manifest = serde_json::to_vec(&json!([{"Config": null, "Layers": names}])).expect("json");
    let mut members: Vec<(&str, &[u8])> = names
        .iter()
        .zip(&layers)
        .map(|(n, l)| (n.as_str(), l.as_slice()))
        .collect();
    members.push(("manifest.json", &manifest));
    let t = Tree::new();
    t.file("broken-image.tar", tar_of(&members));
    let (findings, run) = scan_jsonl(t.path(), &[]);
    let by = findings_by_path(&findings);
    assert!(
        by.iter()
            .any(|(p, _)| p == "broken-image.tar!layer 3/etc/app/github.txt"),
        "{by:#?}"
    );
    assert!(
        run.stderr.contains("broken-image.tar!layer 1"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_oci_layout_folder_is_read_as_one_image() {
    let t = Tree::new();
    for (path, bytes) in oci_layout(&layers()) {
        t.file(&format!("images/api/{path}"), bytes);
    }
    let (findings, run) = scan_jsonl(t.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("digest"), "{}", run.stderr);
    assert_image_findings(&findings, "images/api");
}
