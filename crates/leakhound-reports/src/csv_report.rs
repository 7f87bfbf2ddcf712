//! CSV: one row per finding, for spreadsheets and ticket imports. Values masked.

use crate::ReportOptions;
use leakhound_scan::Findings;
use std::io::Write;

const HEADER: &[&str] = &[
    "severity",
    "category",
    "rule",
    "name",
    "confidence",
    "path",
    "line",
    "column",
    "match",
    "fingerprint",
    "validator",
    "status",
    "comment",
    "first_seen",
    "new",
    "reappeared",
    "repository",
    "commit",
    "author",
    "email",
    "date",
    "removed",
    "line_text",
];

pub(crate) fn write(
    out: &mut dyn Write,
    findings: &Findings,
    o: &ReportOptions,
) -> Result<(), crate::ReportError> {
    {
        let mut w = csv::Writer::from_writer(&mut *out);
        w.write_record(HEADER)?;
        w.flush()?;
    }
    crate::parallel::write_batches(out, findings, |batch, _, lines, buf| {
        let mut w = csv::Writer::from_writer(buf);
        for f in batch {
            row(&mut w, f, lines, o.reveal)?;
        }
        w.flush()?;
        Ok(())
    })
}

/// One finding's row.
fn row(
    w: &mut csv::Writer<&mut Vec<u8>>,
    f: &leakhound_findings::Finding,
    lines: &leakhound_findings::LineValues<'_>,
    reveal: bool,
) -> Result<(), crate::ReportError> {
    let t = f.triage.as_deref();
    let g = f.git.as_deref();
    let c = g.and_then(|g| g.commit.as_ref());
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    // Every cell is guarded: paths, rule names from a user's rule file, authors and
    // lines all come from the input.
    // A table-level finding has no line of its own: its column is described instead.
    let line = crate::column::describe(f, reveal)
        .or_else(|| lines.shown_line(f, reveal))
        .unwrap_or_default();
    let value = f.shown_value(reveal);
    let record = [
        f.severity.as_str(),
        f.category.as_str(),
        &f.rule,
        &f.name,
        f.confidence.as_str(),
        &f.location.path,
        &f.location.line.to_string(),
        &f.location.column.to_string(),
        &value,
        &f.fingerprint,
        f.validator.as_deref().unwrap_or(""),
        t.map_or("", |t| t.status.as_str()),
        t.and_then(|t| t.comment.as_deref()).unwrap_or(""),
        t.map_or("", |t| t.first_seen.as_str()),
        t.map_or("", |t| yes_no(t.new)),
        t.map_or("", |t| yes_no(t.reappeared)),
        g.map_or("", |g| g.repository.as_str()),
        c.map_or("", |c| c.id.as_str()),
        c.map_or("", |c| c.author.as_str()),
        c.map_or("", |c| c.email.as_str()),
        c.map_or("", |c| c.date.as_str()),
        g.and_then(|g| g.removed.as_deref()).unwrap_or(""),
        &line,
    ];
    w.write_record(record.iter().map(|cell| guard(cell)))?;
    Ok(())
}

/// Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula; text
/// from scanned files must not (CSV injection). A leading apostrophe makes it text.
fn guard(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_defused() {
        assert_eq!(super::guard("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(super::guard("-----BEGIN"), "'-----BEGIN");
        assert_eq!(super::guard("ghp_x"), "ghp_x");
        assert_eq!(super::guard("@SUM(A1)"), "'@SUM(A1)");
    }
}
