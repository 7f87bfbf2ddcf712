//! Documents (issue 22): Word and PowerPoint text with keys cut across runs, Jupyter
//! notebooks, e-mail with base64 and quoted-printable parts, PDF pages, metadata and
//! attachments (fixtures written by real PDF producers: `tests/fixtures/documents`).

use crate::archives::zip_of;
use crate::tree::{base64, scan_jsonl, values::*, Tree};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn pdf_fixture(name: &str) -> Vec<u8> {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/documents")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rules_at(findings: &[Value], path: &str) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f["path"].as_str().map(|p| p.trim_start_matches("./")) == Some(path))
        .filter_map(|f| f["rule"].as_str().map(str::to_string))
        .collect()
}

/// Base64 wrapped at 76 columns, as MIME writes it.
fn b64_wrapped(bytes: &[u8]) -> String {
    base64(bytes)
        .as_bytes()
        .chunks(76)
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n")
}

#[test]
fn a_key_cut_across_word_runs_is_found_in_the_documents_text() {
    // Word splits text into runs where formatting or an edit changed.
    let (a, b) = GITHUB.split_at(12);
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t xml:space="preserve">Deploy token: </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>{a}</w:t></w:r><w:r><w:t>{b}</w:t></w:r></w:p><w:p><w:r><w:t>Call me</w:t></w:r></w:p></w:body></w:document>"#
    );
    let slide = format!(
        r#"<p:sld xmlns:p="p" xmlns:a="a"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>aws_secret_access_key = {}</a:t></a:r><a:r><a:t>{}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#,
        &AWS_SECRET[..20],
        &AWS_SECRET[20..]
    );
    let t = Tree::new();
    t.file(
        "handover.docx",
        zip_of(&[
            ("[Content_Types].xml", b"<Types/>"),
            ("word/document.xml", document.as_bytes()),
        ]),
    )
    .file(
        "onboarding.pptx",
        zip_of(&[("ppt/slides/slide1.xml", slide.as_bytes())]),
    );
    let (findings, run) = scan_jsonl(t.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let word = rules_at(&findings, "handover.docx!word/document.xml");
    assert!(
        word.contains(&"github-pat-classic".to_string()),
        "{findings:#?}"
    );
    let slide = rules_at(&findings, "onboarding.pptx!ppt/slides/slide1.xml");
    assert!(
        slide.contains(&"aws-secret-access-key".to_string()),
        "{findings:#?}"
    );
    // Line 1 is the first paragraph.
    let f = findings
        .iter()
        .find(|f| f["rule"] == "github-pat-classic")
        .expect("finding");
    assert_eq!(f["line"], 1);
}

#[test]
fn notebook_sources_and_outputs_are_scanned() {
    let notebook = serde_json::json!({
        "cells": [
            {"cell_type": "code", "source": ["import boto3\n", format!("s3 = boto3.client('s3', aws_access_key_id='{AWS_ID}',\n"), format!("    aws_secret_access_key='{AWS_SECRET}')\n")], "outputs": []},
            {"cell_type": "code", "source": ["print(token)\n"], "outputs": [{"output_type": "stream", "name": "stdout", "text": [format!("{GITHUB}\n")]}]}
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5
    });
    let t = Tree::new();
    t.file(
        "analysis.ipynb",
        serde_json::to_vec_pretty(&notebook).expect("json"),
    );
    let (findings, _) = scan_jsonl(t.path(), &[]);
    let rules = rules_at(&findings, "analysis.ipynb");
    for want in ["aws-secret-access-key", "github-pat-classic"] {
        assert!(rules.contains(&want.to_string()), "{want}: {rules:?}");
    }
}

#[test]
fn mail_parts_in_base64_and_quoted_printable_are_decoded() {
    let attachment = "config for the supplier\nDATABASE_URL=postgres://crm:Vt7pLq2Zx9Km@10.0.3.19:5432/crm\nthat is all, see you tomorrow at the plant\n";
    let mail = format!(
        "From: ops@example.cn\r\nTo: supplier@example.com\r\nSubject: access\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nthe token is {}=\r\n{}\r\n--b1\r\nContent-Type: text/plain; name=\"env.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        &GITHUB[..20],
        &GITHUB[20..],
        b64_wrapped(attachment.as_bytes())
    );
    let t = Tree::new();
    t.file("inbox/access.eml", mail);
    let (findings, _) = scan_jsonl(t.path(), &[]);
    let decoded: Vec<(String, String)> = findings
        .iter()
        .filter_map(|f| {
            Some((
                f["rule"].as_str()?.to_string(),
                f["decoded"].as_str()?.to_string(),
            ))
        })
        .collect();
    assert!(
        decoded.contains(&("github-pat-classic".into(), "quoted-printable".into())),
        "{decoded:?}"
    );
    assert!(
        decoded.contains(&("postgres-url-password".into(), "base64".into())),
        "{decoded:?}"
    );
}

#[test]
fn pdf_pages_metadata_and_attachments_are_read_as_text() {
    let t = Tree::new();
    for name in [
        "handover.pdf",
        "unicode-font.pdf",
        "contract.pdf",
        "attachment.pdf",
        "clean.pdf",
    ] {
        t.file(&format!("docs/{name}"), pdf_fixture(name));
    }
    let (findings, run) = scan_jsonl(t.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut got: Vec<String> = findings
        .iter()
        .filter_map(|f| {
            Some(format!(
                "{} {}:{}",
                f["rule"].as_str()?,
                f["path"].as_str()?.trim_start_matches("./"),
                f["line"]
            ))
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            // The document's title, from its Info dictionary.
            "aws-access-key-id docs/contract.pdf!document info:6",
            // A subset TrueType font: its text is only readable through ToUnicode.
            "aws-access-key-id docs/unicode-font.pdf!page 1:3",
            "aws-credential-pair docs/unicode-font.pdf!page 1:4",
            "aws-secret-access-key docs/unicode-font.pdf!page 1:4",
            "cn-mobile docs/contract.pdf!page 1:3",
            "cn-resident-id docs/contract.pdf!page 1:3",
            // A zip attached to a PDF is opened like any other.
            "github-pat-classic docs/attachment.pdf!attachment bundle.zip!.env:1",
            "github-pat-classic docs/handover.pdf!page 2:3",
        ],
        "{findings:#?}"
    );
    // Nothing read from a PDF is printed raw.
    assert!(!run.stdout.contains(GITHUB) && !run.stdout.contains(ID1));
}

#[test]
fn a_damaged_pdf_is_reported_and_its_bytes_still_matched() {
    let whole = pdf_fixture("handover.pdf");
    let t = Tree::new();
    // Cut inside the compressed page streams: what lenient reading recovers is kept,
    // and the scan goes on either way.
    t.file("cut.pdf", &whole[..whole.len() / 2])
        // A PDF header over junk: not readable as a PDF, so its raw bytes are matched.
        .file(
            "fake.pdf",
            format!("%PDF-1.7\nnot really a pdf\ntoken={GITHUB}\n"),
        )
        .file("after.txt", format!("token={GITHUB}\n"));
    let (findings, run) = scan_jsonl(t.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("fake.pdf") && run.stderr.contains("corrupt PDF"),
        "{}",
        run.stderr
    );
    assert_eq!(rules_at(&findings, "fake.pdf"), ["github-pat-classic"]);
    assert_eq!(rules_at(&findings, "after.txt"), ["github-pat-classic"]);
}
