//! HTML: one self-contained page (no network, no external files) that a manager can
//! open offline: summary cards, charts, exposure counts and a filterable table.
//!
//! The findings travel as JSON inside the page and are drawn with `textContent` only,
//! so a file name or line crafted as HTML cannot run in the reader's browser; the
//! page's Content-Security-Policy forbids loading anything from anywhere.

use crate::exposure::{exposure, Exposure};
use crate::json::Record;
use crate::ReportOptions;
use leakhound_findings::{Finding, LineValues};
use leakhound_scan::Summary;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

const TEMPLATE: &str = include_str!("../assets/report.html");
const SLOT: &str = "/*LEAKHOUND_DATA*/";

#[derive(Serialize)]
struct Page<'a> {
    version: &'a str,
    generated: String,
    source: String,
    /// Findings carry datastore standing (status, new): show those parts.
    tracked: bool,
    summary: PageSummary,
    exposure: Vec<Exposure>,
    findings: Vec<Record<'a>>,
    assessments: &'a [crate::AssessedTable],
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<&'a leakhound_findings::run::RunOverview>,
    #[serde(skip_serializing_if = "Option::is_none")]
    people: Option<String>,
}

#[derive(Serialize)]
struct PageSummary {
    findings: u64,
    by_category: BTreeMap<&'static str, u64>,
    by_severity: BTreeMap<&'static str, u64>,
    files: u64,
    bytes: u64,
    suppressed: u64,
    baselined: u64,
}

pub(crate) fn write(
    out: &mut dyn Write,
    findings: &[Finding],
    s: &Summary,
    o: &ReportOptions,
) -> Result<(), crate::ReportError> {
    let lines = LineValues::new(findings);
    let page = Page {
        version: &o.tool_version,
        generated: jiff::Timestamp::now()
            .strftime("%Y-%m-%d %H:%M UTC")
            .to_string(),
        source: match (&o.datastore, &o.scope) {
            (Some(d), _) => format!("datastore {d}"),
            (None, Some(scope)) => scope.clone(),
            (None, None) => format!(
                "scan of {} files, {}",
                s.files,
                crate::human::human_bytes(s.bytes)
            ),
        },
        tracked: findings.iter().any(|f| f.triage.is_some()),
        summary: PageSummary {
            findings: s.findings,
            by_category: crate::by_word(&s.by_category, leakhound_findings::Category::as_str),
            by_severity: crate::by_word(&s.by_severity, leakhound_findings::Severity::as_str),
            files: s.files,
            bytes: s.bytes,
            suppressed: s.suppressed,
            baselined: s.baselined,
        },
        exposure: exposure(findings),
        findings: findings
            .iter()
            .map(|f| Record::new(f, &lines, o.reveal))
            .collect(),
        assessments: &o.assessments,
        run: o.run.as_ref(),
        people: o
            .run
            .as_ref()
            .map(|r| crate::estate_people_sentence(&r.people)),
    };
    let json = script_safe(&serde_json::to_string(&page)?);
    let template = with_script_hash(TEMPLATE);
    let (head, tail) = template.split_once(SLOT).unwrap_or((&template, ""));
    out.write_all(head.as_bytes())?;
    out.write_all(json.as_bytes())?;
    out.write_all(tail.as_bytes())?;
    Ok(())
}

const HASH_SLOT: &str = "/*SCRIPT_HASH*/";

/// The template with its CSP allowing exactly its own script, by SHA-256: no inline
/// script anyone else put into the page (through a file name, a line) can run.
fn with_script_hash(template: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let script = template
        .split_once("<script>")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map_or("", |(code, _)| code);
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
    template.replacen(HASH_SLOT, &format!("'sha256-{hash}'"), 1)
}

/// JSON that cannot end its `<script>` element: every `<` becomes `\u003c`, which JSON
/// reads back as the same character.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_allows_only_its_own_script() {
        let page = super::with_script_hash(super::TEMPLATE);
        assert!(
            !page.contains("'unsafe-inline'; img") && !page.contains("script-src 'unsafe-inline'")
        );
        assert!(page.contains("script-src 'sha256-"));
        assert_eq!(
            page.matches("<script>").count(),
            1,
            "one executable script, hashed"
        );
    }

    #[test]
    fn the_template_has_one_slot() {
        assert_eq!(super::TEMPLATE.matches(super::SLOT).count(), 1);
    }

    #[test]
    fn script_end_tags_in_values_are_escaped() {
        let s = super::script_safe(r#"{"path":"</script><script>alert(1)</script>"}"#);
        assert!(!s.contains("</script"));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap_or_default();
        assert_eq!(back["path"], "</script><script>alert(1)</script>");
    }
}
