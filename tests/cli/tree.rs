//! Helpers: temporary trees, running the binary, reading its findings.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Valid identifiers (checksums computed independently) used across tests.
pub mod values {
    pub const ID1: &str = "440304198706151231";
    pub const ID2: &str = "310115199011304565";
    pub const MOBILE: &str = "13912345678";
    pub const VIN_CN: &str = "LSVAU218XN2183294";
    pub const VIN_US: &str = "1G1ZD5ST0LF000123";
    pub const USCC: &str = "9144030054XHYBLD2U";
    pub const GITHUB: &str = "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";
    pub const AWS_ID: &str = "AKIAEEGF6DXRVV7K7V3I";
    pub const AWS_SECRET: &str = "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";
}

pub struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn file(&self, rel: &str, bytes: impl AsRef<[u8]>) -> &Tree {
        let p = self.dir.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, bytes).expect("write");
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

pub fn leakhound() -> Command {
    Command::new(env!("CARGO_BIN_EXE_leakhound"))
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    run_with_stdin(dir, args, None)
}

pub fn run_with_stdin(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = leakhound();
    cmd.current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn leakhound");
    if let Some(input) = stdin {
        use std::io::Write;
        if let Some(mut s) = child.stdin.take() {
            s.write_all(input).expect("write stdin");
        }
    } else {
        drop(child.stdin.take());
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("wait");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Scan `dir` (relative paths) as JSON Lines and return the parsed findings.
pub fn scan_jsonl(dir: &Path, extra: &[&str]) -> (Vec<Value>, Run) {
    let mut args = vec!["scan", "--format", "jsonl"];
    args.extend_from_slice(extra);
    if !extra.iter().any(|a| !a.starts_with('-') && !a.is_empty()) {
        args.push(".");
    }
    let run = run_in(dir, &args);
    let findings = run
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad jsonl line {l:?}: {e}")))
        .collect();
    (findings, run)
}

/// `rule path:line:column match` per finding, sorted: the exact-findings form tests
/// compare against.
pub fn compact(findings: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}:{} {}",
                f["rule"].as_str().unwrap_or("?"),
                f["path"].as_str().unwrap_or("?").trim_start_matches("./"),
                f["line"],
                f["column"],
                f["match"].as_str().unwrap_or("?")
            )
        })
        .collect();
    v.sort();
    v
}

/// Where `value` first appears in `text`: 1-based line and character column.
pub fn at(text: &str, value: &str) -> (usize, usize) {
    let idx = text
        .find(value)
        .unwrap_or_else(|| panic!("{value} not in fixture"));
    let before = &text[..idx];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[line_start..idx].chars().count() + 1)
}

/// The expected compact finding for `value` of `rule` in file `path` holding `text`.
pub fn expect(rule: &str, path: &str, text: &str, value: &str) -> String {
    let (l, c) = at(text, value);
    format!("{rule} {path}:{l}:{c} {value}")
}

/// Standard base64 with padding, written here so the tests do not share the decoder
/// they test.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let mut acc = 0u32;
        for (k, &b) in chunk.iter().enumerate() {
            acc |= u32::from(b) << (16 - 8 * k);
        }
        for k in 0..=chunk.len() {
            out.push(A[((acc >> (18 - 6 * k)) & 63) as usize] as char);
        }
    }
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}
