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
    // Table-level findings only: cells, distinct, first_row, last_row, examples.
    #[serde(skip_serializing_if = "Option::is_none")]
    column_values: Option<crate::column::ShownColumn>,
    // Found under encodings, outermost first: `base64>url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    decoded: Option<&'a str>,
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
            column_values: crate::column::shown(f, reveal),
            decoded: f.decoded.as_deref(),
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

#[derive(Serialize)]
struct Document<'a> {
    tool: &'static str,
    version: &'a str,
    findings: Records<'a>,
    summary: SummaryRecord<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<&'a leakhound_findings::run::RunOverview>,
}

/// The findings array, each record made as it is written: collecting them first took
/// as much memory again as the findings (800 MB for 1.5 million).
struct Records<'a> {
    findings: &'a Findings,
    reveal: bool,
}

impl Serialize for Records<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = s.serialize_seq(usize::try_from(self.findings.len()).ok())?;
        crate::each(self.findings, S::Error::custom, |f, lines| {
            seq.serialize_element(&Record::new(f, lines, self.reveal))
        })?;
        seq.end()
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

pub(crate) fn write_document(
    out: &mut dyn Write,
    findings: &Findings,
    s: &Summary,
    o: &ReportOptions,
) -> Result<(), crate::ReportError> {
    let doc = Document {
        tool: "leakhound",
        version: &o.tool_version,
        findings: Records {
            findings,
            reveal: o.reveal,
        },
        summary: SummaryRecord::new(s),
        run: o.run.as_ref(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
