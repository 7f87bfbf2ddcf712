//! JSON and JSON Lines. The record shape is the output contract other tools parse:
//! add fields, never rename or remove them.

use crate::ReportOptions;
use leakhound_findings::{CommitRef, Finding, Reach};
use leakhound_inputs::ProblemKind;
use leakhound_scan::{Findings, Summary};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

/// One finding as JSON.
#[derive(Serialize)]
pub(crate) struct Record<'a> {
    rule: &'a str,
    name: &'a str,
    category: &'a str,
    severity: &'a str,
    confidence: &'a str,
    path: &'a str,
    line: u64,
    column: u64,
    offset: u64,
    #[serde(rename = "match")]
    value: String,
    fingerprint: &'a str,
    validator: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    line_text: Option<String>,
    blob: &'a str,
    binary: bool,
    // Git history scans only; absent for files so their records stay as they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    repository: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    git_blob: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reach: Option<Reach>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<&'a CommitRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    introduced: Option<&'a str>,
    /// `null` (not absent) on a git finding still present on a branch.
    #[serde(skip_serializing_if = "is_absent")]
    removed: Option<Option<&'a str>>,
    // Datastore scans and reports only.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_seen: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_seen: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reappeared: Option<bool>,
    // `leakhound host` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    process: Option<&'a leakhound_findings::ProcessRef>,
    // CSV/TSV files only: `{"name", "column", "row"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    table: Option<&'a leakhound_findings::TableCell>,
}

fn is_absent(v: &Option<Option<&str>>) -> bool {
    v.is_none()
}

impl<'a> Record<'a> {
    pub(crate) fn new(
        f: &'a Finding,
        lines: &leakhound_findings::LineValues<'_>,
        reveal: bool,
    ) -> Record<'a> {
        Record {
            rule: &f.rule,
            name: &f.name,
            category: f.category.as_str(),
            severity: f.severity.as_str(),
            confidence: f.confidence.as_str(),
            path: &f.location.path,
            line: f.location.line,
            column: f.location.column,
            offset: f.location.offset,
            value: f.shown_value(reveal),
            fingerprint: &f.fingerprint,
            validator: f.validator.as_deref(),
            count: f.count,
            line_text: lines.shown_line(f, reveal),
            blob: &f.blob,
            binary: f.binary,
            repository: f.git.as_ref().map(|g| g.repository.as_str()),
            git_blob: f.git.as_ref().map(|g| g.blob.as_str()),
            reach: f.git.as_ref().map(|g| g.reach),
            commit: f.git.as_ref().and_then(|g| g.commit.as_ref()),
            introduced: f
                .git
                .as_ref()
                .and_then(|g| g.commit.as_ref())
                .map(|c| c.id.as_str()),
            removed: f.git.as_ref().map(|g| g.removed.as_deref()),
            status: f.triage.as_ref().map(|t| t.status.as_str()),
            comment: f.triage.as_ref().and_then(|t| t.comment.as_deref()),
            first_seen: f.triage.as_ref().map(|t| t.first_seen.as_str()),
            last_seen: f.triage.as_ref().map(|t| t.last_seen.as_str()),
            new: f.triage.as_ref().map(|t| t.new),
            reappeared: f.triage.as_ref().map(|t| t.reappeared),
            process: f.process.as_deref(),
            table: f.cell.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct ProblemRecord<'a> {
    path: &'a str,
    message: &'a str,
    kind: &'a str,
}

#[derive(Serialize)]
struct SummaryRecord<'a> {
    files: u64,
    blobs: u64,
    bytes: u64,
    duplicate_blobs: u64,
    findings: u64,
    #[serde(skip_serializing_if = "is_zero")]
    repositories: u64,
    #[serde(skip_serializing_if = "is_zero")]
    commits: u64,
    by_category: BTreeMap<&'static str, u64>,
    by_severity: BTreeMap<&'static str, u64>,
    unreadable: usize,
    skipped: usize,
    problems: Vec<ProblemRecord<'a>>,
    elapsed_ms: u128,
    megabytes_per_second: f64,
    rules: usize,
}

impl<'a> SummaryRecord<'a> {
    fn new(s: &'a Summary) -> SummaryRecord<'a> {
        SummaryRecord {
            files: s.files,
            blobs: s.blobs,
            bytes: s.bytes,
            duplicate_blobs: s.duplicate_blobs,
            findings: s.findings,
            repositories: s.repositories,
            commits: s.commits,
            by_category: crate::by_word(&s.by_category, leakhound_findings::Category::as_str),
            by_severity: crate::by_word(&s.by_severity, leakhound_findings::Severity::as_str),
            unreadable: s.unreadable(),
            skipped: s.skipped(),
            problems: s
                .problems
                .iter()
                .map(|p| ProblemRecord {
                    path: &p.path,
                    message: &p.message,
                    kind: match p.kind {
                        ProblemKind::Unreadable => "unreadable",
                        ProblemKind::Skipped => "skipped",
                    },
                })
                .collect(),
            elapsed_ms: s.elapsed.as_millis(),
            megabytes_per_second: (s.megabytes_per_second() * 10.0).round() / 10.0,
            rules: s.rules,
        }
    }
}

pub(crate) fn write_lines(
    out: &mut dyn Write,
    findings: &Findings,
    o: &ReportOptions,
) -> Result<(), crate::ReportError> {
    // Records go to a batch's buffer: serde_json writes a record in dozens of small
    // pieces, each a call through `dyn Write` when written straight out.
    crate::parallel::write_batches(out, findings, |batch, _, lines, buf| {
        for f in batch {
            serde_json::to_writer(&mut *buf, &Record::new(f, lines, o.reveal))?;
            buf.push(b'\n');
        }
        Ok(())
    })
}

/// One document: `{"tool", "version", "findings": [...], "summary"}`, pretty-printed.
/// Written in pieces so that records are formatted on worker threads: each piece is
/// serde_json's pretty form indented to its depth, which is exactly what serde_json
/// writes for the whole document (a test compares the bytes).
pub(crate) fn write_document(
    out: &mut dyn Write,
    findings: &Findings,
    s: &Summary,
    o: &ReportOptions,
) -> Result<(), crate::ReportError> {
    write!(
        out,
        "{{\n  \"tool\": {},\n  \"version\": {},\n  \"findings\": [",
        serde_json::to_string("leakhound")?,
        serde_json::to_string(&o.tool_version)?
    )?;
    crate::parallel::write_batches(out, findings, |batch, before, lines, buf| {
        // Only the very first record has no batch before it and no comma.
        let mut first = before.is_none();
        for f in batch {
            buf.extend_from_slice(if first { b"\n    " } else { b",\n    " });
            first = false;
            indented(buf, &Record::new(f, lines, o.reveal), 4)?;
        }
        Ok(())
    })?;
    if !findings.is_empty() {
        out.write_all(b"\n  ")?;
    }
    out.write_all(b"],\n  \"summary\": ")?;
    let mut summary = Vec::new();
    indented(&mut summary, &SummaryRecord::new(s), 2)?;
    out.write_all(&summary)?;
    out.write_all(b"\n}\n")?;
    Ok(())
}

/// `value` pretty-printed as if it sat `depth` spaces deep: JSON strings hold no raw
/// newlines, so every newline is the formatter's and takes the indent.
fn indented(buf: &mut Vec<u8>, value: &impl Serialize, depth: usize) -> serde_json::Result<()> {
    let pretty = serde_json::to_vec_pretty(value)?;
    for &b in &pretty {
        buf.push(b);
        if b == b'\n' {
            buf.extend(std::iter::repeat_n(b' ', depth));
        }
    }
    Ok(())
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_findings::{fingerprint, Category, Confidence, Location, Severity};
    use std::sync::Arc;

    /// The document as serde_json writes it whole.
    #[derive(Serialize)]
    struct Whole<'a> {
        tool: &'static str,
        version: &'a str,
        findings: Vec<Record<'a>>,
        summary: SummaryRecord<'a>,
    }

    fn finding(path: &str, line: u64, value: &str, text: &Arc<str>) -> Finding {
        Finding {
            rule: Arc::from("cn-mobile"),
            name: Arc::from("Mobile \"number\""),
            category: Category::Personal,
            severity: Severity::Medium,
            confidence: Confidence::High,
            location: Location {
                path: path.into(),
                line,
                column: 3,
                offset: 9,
            },
            fingerprint: fingerprint("cn-mobile", value),
            value: value.into(),
            validator: Some("prefix".into()),
            line_text: Some(Arc::clone(text)),
            count: None,
            blob: Arc::from("ab"),
            binary: false,
            git: None,
            triage: None,
            cell: None,
            process: None,
        }
    }

    #[test]
    fn the_document_in_pieces_is_what_serde_json_writes_whole() {
        let text: Arc<str> = Arc::from("张伟\t13912345678, 13800000001\n\"q\"");
        let few = vec![
            finding("a.csv", 2, "13912345678", &text),
            finding("a.csv", 2, "13800000001", &text),
            finding("b/c.csv", 7, "13912345678", &text),
        ];
        // Enough for worker threads (20,000 and up), in report order.
        let many: Vec<Finding> = (1..=25_000u64)
            .map(|i| {
                finding(
                    &format!("t{:02}.csv", i / 3_000),
                    i,
                    &format!("139{i:08}"),
                    &text,
                )
            })
            .collect();
        let summary = Summary {
            files: 3,
            findings: 3,
            ..Summary::default()
        };
        let o = ReportOptions {
            tool_version: "1.2.3".into(),
            ..ReportOptions::default()
        };
        for all in [Vec::new(), few, many] {
            let lines = leakhound_findings::LineValues::new(&all);
            let whole = Whole {
                tool: "leakhound",
                version: &o.tool_version,
                findings: all.iter().map(|f| Record::new(f, &lines, false)).collect(),
                summary: SummaryRecord::new(&summary),
            };
            let mut expected = serde_json::to_vec_pretty(&whole).unwrap();
            expected.push(b'\n');
            let mut out = Vec::new();
            write_document(&mut out, &Findings::from(all.clone()), &summary, &o).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&expected)
            );
        }
    }
}
