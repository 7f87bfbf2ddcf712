//! SARIF 2.1.0 as GitHub code scanning reads it: one run, one rule entry per rule that
//! fired, one result per finding with a stable partial fingerprint.
//!
//! Hand-written structs for the subset we emit; a test validates the output against the
//! official schema.

use crate::ReportOptions;
use leakhound_findings::{Finding, Severity};
use leakhound_scan::Findings;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    results: Results<'a>,
    column_kind: &'static str,
}

/// The results array, each result made as it is written (collecting them first took
/// more memory than the findings themselves).
struct Results<'a> {
    findings: &'a Findings,
    rule_index: &'a BTreeMap<String, usize>,
    reveal: bool,
}

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = s.serialize_seq(usize::try_from(self.findings.len()).ok())?;
        crate::each(self.findings, S::Error::custom, |f, lines| {
            seq.serialize_element(&result(f, self.rule_index, lines, self.reveal))
        })?;
        seq.end()
    }
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'static str,
    version: &'a str,
    semantic_version: &'a str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Text,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    #[serde(rename = "security-severity")]
    security_severity: String,
    precision: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    properties: ResultProperties<'a>,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    category: &'static str,
    confidence: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    validator: Option<&'a str>,
    /// Datastore standing: status, comment, first seen, new, reappeared.
    #[serde(skip_serializing_if = "Option::is_none")]
    triage: Option<&'a leakhound_findings::Triage>,
    /// `leakhound host`: the process (pid, user, exe, command line, start).
    #[serde(skip_serializing_if = "Option::is_none")]
    process: Option<&'a leakhound_findings::ProcessRef>,
    /// Git history scans: repository, blob, introducing commit, removing commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    git: Option<&'a leakhound_findings::GitOrigin>,
    /// CSV/TSV files: the table, column and row.
    #[serde(skip_serializing_if = "Option::is_none")]
    table: Option<&'a leakhound_findings::TableCell>,
    /// Table-level findings: how many cells and distinct values, which rows, examples.
    #[serde(skip_serializing_if = "Option::is_none")]
    column_values: Option<crate::column::ShownColumn>,
    /// Found under encodings, outermost first (`base64>url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    decoded: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u64,
    start_column: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<Text>,
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub ranks alerts by this 0-10 score.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// A relative URI reference (RFC 3986) with forward slashes: every byte outside the
/// unreserved set and `/` is percent-encoded (UTF-8), so `#`, `?`, `:` and non-ASCII
/// names cannot change what the URI points at. Archive layers keep their `!`.
fn uri(path: &str) -> String {
    let p = path.replace('\\', "/");
    let p = p.strip_prefix("./").unwrap_or(&p);
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn write(
    out: &mut dyn Write,
    findings: &Findings,
    o: &ReportOptions,
) -> Result<(), crate::ReportError> {
    // A first pass for the rules that fired: the driver lists them before the results.
    let mut rule_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut rules = Vec::new();
    for f in findings.iter() {
        let f = f?;
        if !rule_index.contains_key(&*f.rule) {
            rule_index.insert(f.rule.to_string(), rules.len());
            rules.push(Rule {
                id: f.rule.to_string(),
                name: f.name.to_string(),
                short_description: Text {
                    text: f.name.to_string(),
                },
                default_configuration: Configuration {
                    level: level(f.severity),
                },
                properties: RuleProperties {
                    tags: vec!["security".into(), f.category.as_str().into()],
                    security_severity: security_severity(f.severity).into(),
                    precision: match f.confidence {
                        leakhound_findings::Confidence::High => "very-high",
                        leakhound_findings::Confidence::Medium => "high",
                        leakhound_findings::Confidence::Low => "medium",
                    },
                },
            });
        }
    }
    let results = Results {
        findings,
        rule_index: &rule_index,
        reveal: o.reveal,
    };
    let log = Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "leakhound",
                    version: &o.tool_version,
                    semantic_version: &o.tool_version,
                    information_uri: "https://example.invalid/leakhound",
                    rules,
                },
            },
            results,
            column_kind: "unicodeCodePoints",
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn result<'a>(
    f: &'a Finding,
    rule_index: &BTreeMap<String, usize>,
    lines: &leakhound_findings::LineValues<'_>,
    reveal: bool,
) -> SarifResult<'a> {
    SarifResult {
        rule_id: f.rule.to_string(),
        rule_index: rule_index.get(&*f.rule).copied().unwrap_or(0),
        level: level(f.severity),
        message: Text {
            text: match crate::column::describe(f, reveal) {
                Some(column) => format!("{}: {column}", f.name),
                None => format!("{}: {}", f.name, f.shown_value(reveal)),
            },
        },
        locations: vec![Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: uri(&f.location.path),
                },
                region: Region {
                    start_line: f.location.line.max(1),
                    start_column: f.location.column.max(1),
                    snippet: lines.shown_line(f, reveal).map(|text| Text { text }),
                },
            },
        }],
        partial_fingerprints: BTreeMap::from([("leakhound/v1", f.fingerprint.clone())]),
        properties: ResultProperties {
            category: f.category.as_str(),
            confidence: f.confidence.as_str(),
            validator: f.validator.as_deref(),
            triage: f.triage.as_deref(),
            process: f.process.as_deref(),
            table: f.cell.as_deref(),
            column_values: crate::column::shown(f, reveal),
            git: f.git.as_deref(),
            decoded: f.decoded.as_deref(),
        },
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(super::uri("./a b/c#d?.txt"), "a%20b/c%23d%3F.txt");
        assert_eq!(super::uri("x.zip!客户.csv"), "x.zip!%E5%AE%A2%E6%88%B7.csv");
        assert_eq!(super::uri("C:\\x:y"), "C%3A/x%3Ay");
    }
}
