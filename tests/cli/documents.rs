//! Documents (issue 22): Word and PowerPoint text with keys cut across runs, Jupyter
//! notebooks, e-mail with base64 and quoted-printable parts.

use crate::archives::zip_of;
use crate::tree::{base64, scan_jsonl, values::*, Tree};
use serde_json::Value;

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
