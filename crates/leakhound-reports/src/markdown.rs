//! Markdown: a report to paste into a ticket, a merge request or a wiki page.

use crate::exposure::exposure;
use crate::ReportOptions;
use leakhound_findings::Finding;
use leakhound_scan::Summary;
use std::io::{self, Write};

/// Most findings listed; a ticket with 100,000 rows helps nobody (the count is given).
const MAX_ROWS: usize = 1_000;

pub(crate) fn write(
    out: &mut dyn Write,
    findings: &[Finding],
    s: &Summary,
    o: &ReportOptions,
) -> io::Result<()> {
    writeln!(out, "# leakhound report\n")?;
    match (&o.datastore, &o.scope) {
        (Some(store), _) => writeln!(out, "Findings recorded in `{}`.\n", cell(store))?,
        (None, Some(scope)) => writeln!(out, "{}\n", cell(scope))?,
        (None, None) => writeln!(
            out,
            "Scanned {} files ({} bytes) with {} rules in {:.2} s.\n",
            s.files,
            s.bytes,
            s.rules,
            s.elapsed.as_secs_f64()
        )?,
    }
    if let Some(run) = &o.run {
        run_section(out, run)?;
    }
    writeln!(out, "**{} findings**\n", s.findings)?;
    writeln!(out, "| Category | Findings |\n|---|---:|")?;
    for (c, n) in &s.by_category {
        writeln!(out, "| {c} | {n} |")?;
    }
    writeln!(out, "\n| Severity | Findings |\n|---|---:|")?;
    for (sev, n) in s.by_severity.iter().rev() {
        writeln!(out, "| {sev} | {n} |")?;
    }
    let new = findings
        .iter()
        .filter(|f| f.triage.as_ref().is_some_and(|t| t.new))
        .count();
    if findings.iter().any(|f| f.triage.is_some()) {
        writeln!(out, "\nNew since the previous scan: **{new}**.")?;
    }
    let exposed = exposure(findings);
    if !exposed.is_empty() {
        writeln!(
            out,
            "\n## Exposure\n\n| Data | Distinct values |\n|---|---:|"
        )?;
        for e in &exposed {
            writeln!(out, "| {} (`{}`) | {} |", cell(&e.name), e.rule, e.distinct)?;
        }
    }
    if findings.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\n## Findings\n\n| Severity | Rule | Where | Value | Status | Commit |\n|---|---|---|---|---|---|"
    )?;
    for f in findings.iter().take(MAX_ROWS) {
        let status = f.triage.as_ref().map_or(String::new(), |t| {
            let mut s = t.status.to_string();
            if t.reappeared {
                s.push_str(" ⚠ new place");
            }
            if t.new {
                s.push_str(" (new)");
            }
            s
        });
        let commit = f
            .git
            .as_ref()
            .and_then(|g| g.commit.as_ref())
            .map_or(String::new(), |c| {
                format!(
                    "`{}` {}",
                    c.id.chars().take(10).collect::<String>(),
                    cell(&c.author)
                )
            });
        let value = match crate::column::describe(f, o.reveal) {
            Some(column) => code(&column),
            None => code(&f.shown_value(o.reveal)),
        };
        writeln!(
            out,
            "| {} | `{}` | `{}:{}` | `{}` | {} | {} |",
            f.severity,
            f.rule,
            code(&f.location.path),
            f.location.line,
            value,
            status,
            commit
        )?;
    }
    if findings.len() > MAX_ROWS {
        writeln!(
            out,
            "\n{} more findings not listed; use `--format csv` or `json` for all.",
            findings.len() - MAX_ROWS
        )?;
    }
    Ok(())
}

/// Text in a table cell: pipes and newlines would break the table.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Text inside a code span in a table cell: backticks would end the span.
fn code(s: &str) -> String {
    cell(s).replace('`', "'")
}

/// An estate run: the people figure first (what a notification needs), then shards
/// and targets.
fn run_section(out: &mut dyn Write, run: &leakhound_findings::run::RunOverview) -> io::Result<()> {
    writeln!(out, "## Run `{}`\n", cell(&run.id).replace('`', "'"))?;
    writeln!(out, "{}\n", crate::estate_people_sentence(&run.people))?;
    writeln!(
        out,
        "{} shards, started {}{}.\n",
        run.shards,
        run.started_at,
        match &run.previous {
            Some(p) => format!("; new = not seen in run `{}`", cell(p).replace('`', "'")),
            None => String::new(),
        }
    )?;
    writeln!(out, "| Shard | Status | Attempts |\n|---:|---|---:|")?;
    for shard in 0..run.shards {
        match run.shard_states.iter().find(|s| s.shard == shard) {
            Some(s) => writeln!(
                out,
                "| {shard} | {} | {} |",
                crate::run_status(&s.status),
                s.attempts
            )?,
            None => writeln!(out, "| {shard} | never started | 0 |")?,
        }
    }
    writeln!(
        out,
        "\n| Target | Kind | Shard | Status | Findings | New | Tables | Problems |\n|---|---|---:|---|---:|---:|---:|---|"
    )?;
    for t in &run.targets {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&t.name),
            t.kind,
            t.shard,
            t.status,
            t.findings,
            t.new_findings,
            t.tables,
            cell(&t.problems.join("; "))
        )?;
    }
    writeln!(out)
}
