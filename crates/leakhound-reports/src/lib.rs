//! Report writers. Every format takes the same findings and summary; masking happens
//! here, through [`leakhound_findings::Finding::shown_value`], and nowhere else.
//!
//! ```
//! use leakhound_reports::{write_report, Format, ReportOptions};
//! let mut out = Vec::new();
//! let findings = leakhound_scan::Findings::from(Vec::new());
//! write_report(&mut out, Format::Jsonl, &findings, &Default::default(), &ReportOptions::default()).unwrap();
//! assert!(out.is_empty());
//! ```
#![deny(missing_docs)]

mod column;
mod csv_report;
mod exposure;
mod html;
mod human;
mod json;
mod markdown;
mod parallel;
mod sarif;

pub use exposure::{exposure, Exposure};

use leakhound_findings::{Finding, LineValues};
use leakhound_scan::{Findings, SpoolError, Summary};
use std::borrow::Cow;
use std::io::Write;
use std::str::FromStr;

/// Output formats of `leakhound scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Grouped by file, for people.
    Human,
    /// One JSON document: findings and summary.
    Json,
    /// One JSON object per finding per line, for pipelines.
    Jsonl,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// One row per finding, for spreadsheets.
    Csv,
    /// One self-contained page with charts and a filterable table.
    Html,
    /// Tables to paste into tickets and merge requests.
    Markdown,
}

impl Format {
    /// Every format's name, as `--format` takes it.
    pub const NAMES: &'static [&'static str] =
        &["human", "json", "jsonl", "sarif", "csv", "html", "markdown"];
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "human" => Ok(Format::Human),
            "json" => Ok(Format::Json),
            "jsonl" => Ok(Format::Jsonl),
            "sarif" => Ok(Format::Sarif),
            "csv" => Ok(Format::Csv),
            "html" => Ok(Format::Html),
            "markdown" | "md" => Ok(Format::Markdown),
            other => Err(format!(
                "unknown format `{other}` ({})",
                Format::NAMES.join(", ")
            )),
        }
    }
}

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Print raw matched values instead of masked ones.
    pub reveal: bool,
    /// ANSI colours (human format only).
    pub color: bool,
    /// leakhound's version, recorded in JSON and SARIF.
    pub tool_version: String,
    /// Leave the closing summary out of human output (`--quiet`: a pre-commit hook
    /// shows the findings and nothing else).
    pub no_summary: bool,
    /// Set when the findings come from a datastore (`leakhound report`), named here:
    /// there was no scan to sum up.
    pub datastore: Option<String>,
    /// What was inspected, when it was not files (`leakhound host`): replaces the
    /// "Scanned N files" sentence of the summary.
    pub scope: Option<String>,
    /// Tables `leakhound assess` recorded in the datastore (`leakhound report`): the
    /// HTML report shows them in a section of their own.
    pub assessments: Vec<AssessedTable>,
    /// An estate run put together from its shards (`leakhound report --run`): shards,
    /// targets and estate-wide people, shown before the findings.
    pub run: Option<leakhound_findings::run::RunOverview>,
}

/// A table as `leakhound assess` recorded it: counts and its personal-data columns.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AssessedTable {
    /// File path or `schema.table`.
    pub source: String,
    /// `csv`, `sql`, `xlsx`, `postgres`…
    pub format: String,
    /// Data rows.
    pub rows: u64,
    /// Distinct people in the table (best estimate).
    pub distinct_people: u64,
    /// What the data proves at least (the estimate, for tables recorded before bounds).
    pub distinct_people_min: u64,
    /// What the data allows at most.
    pub distinct_people_max: u64,
    /// Distinct vehicles in the table.
    pub distinct_vehicles: u64,
    /// When it was assessed, RFC 3339 UTC.
    pub at: String,
    /// The columns that hold something sensitive.
    pub columns: Vec<AssessedColumn>,
}

impl AssessedTable {
    /// A table as the datastore recorded it: counts, and the detail JSON that holds
    /// its columns and bounds (tables recorded before bounds get the estimate as both).
    pub fn from_stored(
        source: String,
        format: String,
        rows: u64,
        (distinct_people, distinct_vehicles): (u64, u64),
        at: String,
        detail: &str,
    ) -> AssessedTable {
        let detail: serde_json::Value = serde_json::from_str(detail).unwrap_or_default();
        let columns = detail["columns"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                Some(AssessedColumn {
                    name: c["name"].as_str()?.to_string(),
                    kind: c["kind"].as_str()?.to_string(),
                    valid_ratio: c["valid_ratio"].as_f64().unwrap_or(0.0),
                })
            })
            .collect();
        AssessedTable {
            source,
            format,
            rows,
            distinct_people,
            distinct_people_min: detail["distinct_people_min"]
                .as_u64()
                .unwrap_or(distinct_people),
            distinct_people_max: detail["distinct_people_max"]
                .as_u64()
                .unwrap_or(distinct_people),
            distinct_vehicles,
            at,
            columns,
        }
    }
}

/// One sensitive column of an assessed table.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AssessedColumn {
    /// Column name.
    pub name: String,
    /// What it holds (`resident_id`, `mobile`…).
    pub kind: String,
    /// Share of its non-empty values that validate.
    pub valid_ratio: f64,
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Writing failed (closed pipe, full disk).
    #[error("cannot write report: {0}")]
    Io(#[from] std::io::Error),
    /// Serialising failed.
    #[error("cannot serialise report: {0}")]
    Json(#[from] serde_json::Error),
    /// Writing CSV failed.
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    /// Findings spilled to a temporary file could not be read back.
    #[error("cannot read the scan's findings back: {0}")]
    Spool(#[from] SpoolError),
}

impl ReportError {
    /// The report's reader went away (`leakhound scan | head`): a normal end, not an
    /// error to print.
    pub fn is_closed_pipe(&self) -> bool {
        use std::io::ErrorKind::BrokenPipe;
        match self {
            ReportError::Io(e) => e.kind() == BrokenPipe,
            ReportError::Json(e) => e.io_error_kind() == Some(BrokenPipe),
            ReportError::Csv(e) => {
                matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == BrokenPipe)
            }
            ReportError::Spool(_) => false,
        }
    }
}

/// Every finding in report order, with the values found on its line (a shown line
/// masks them all). In memory, one index covers every finding, in whatever order they
/// are; spilled findings come back sorted, so a line's findings are neighbours and are
/// indexed a line at a time, and memory stays flat.
pub(crate) fn each<E>(
    findings: &Findings,
    spool_error: impl Fn(SpoolError) -> E,
    mut visit: impl FnMut(&Finding, &LineValues<'_>) -> Result<(), E>,
) -> Result<(), E> {
    if let Some(all) = findings.as_slice() {
        let lines = LineValues::new(all);
        for f in all {
            visit(f, &lines)?;
        }
        return Ok(());
    }
    let mut line: Vec<Finding> = Vec::new();
    let mut flush = |line: &mut Vec<Finding>| -> Result<(), E> {
        let values = LineValues::new(line);
        for f in line.iter() {
            visit(f, &values)?;
        }
        line.clear();
        Ok(())
    };
    for f in findings.iter() {
        let f = f.map_err(&spool_error)?.into_owned();
        if line.first().is_some_and(|first| {
            first.location.line != f.location.line || first.location.path != f.location.path
        }) {
            flush(&mut line)?;
        }
        line.push(f);
    }
    flush(&mut line)
}

/// Every finding at once, for the reports that need them together (HTML, Markdown);
/// borrowed unless they were spilled.
pub(crate) fn all(findings: &Findings) -> Result<Cow<'_, [Finding]>, SpoolError> {
    if let Some(all) = findings.as_slice() {
        return Ok(Cow::Borrowed(all));
    }
    let all: Result<Vec<Finding>, SpoolError> =
        findings.iter().map(|f| f.map(Cow::into_owned)).collect();
    Ok(Cow::Owned(all?))
}

/// Counts keyed by a vocabulary's words (`secret`, `high`…), as JSON and HTML show them.
pub(crate) fn by_word<K: Copy>(
    counts: &std::collections::BTreeMap<K, u64>,
    word: fn(K) -> &'static str,
) -> std::collections::BTreeMap<&'static str, u64> {
    counts.iter().map(|(k, v)| (word(*k), *v)).collect()
}

/// Write `findings` and `summary` in `format`.
pub fn write_report(
    out: &mut dyn Write,
    format: Format,
    findings: &Findings,
    summary: &Summary,
    options: &ReportOptions,
) -> Result<(), ReportError> {
    match format {
        Format::Human => human::write(out, findings, summary, options)?,
        Format::Json => json::write_document(out, findings, summary, options)?,
        Format::Jsonl => json::write_lines(out, findings, options)?,
        Format::Sarif => sarif::write(out, findings, options)?,
        Format::Csv => csv_report::write(out, findings, options)?,
        Format::Html => html::write(out, &all(findings)?, summary, options)?,
        Format::Markdown => markdown::write(out, &all(findings)?, summary, options)?,
    }
    out.flush()?;
    Ok(())
}

/// A shard's status as reports say it: a shard killed mid-run never says it stopped.
pub(crate) fn run_status(status: &str) -> &str {
    match status {
        "running" => "running, or died (re-run it: it replaces its own results)",
        other => other,
    }
}

/// The estate-wide people figure in one sentence, bounds included.
pub(crate) fn estate_people_sentence(p: &leakhound_findings::run::EstatePeople) -> String {
    if p.identities == 0 {
        return "Estate-wide people: not counted (no table with personal data, or the run had no --key).".to_string();
    }
    let bounds = if p.distinct_people_min == p.distinct_people
        && p.distinct_people_max == p.distinct_people
    {
        String::new()
    } else {
        format!(
            " (at least {}, at most {})",
            p.distinct_people_min, p.distinct_people_max
        )
    };
    format!(
        "Estate-wide: {} distinct people{bounds} and {} distinct vehicles across every table of the run (a person in several systems counts once; from {} keyed identifiers).",
        p.distinct_people, p.distinct_vehicles, p.identities
    )
}
