//! The terminal report: findings grouped by file, values masked, a summary at the end.

use crate::ReportOptions;
use leakhound_findings::{for_terminal, GitOrigin, Reach, Severity};
use leakhound_scan::{Findings, Summary};
use std::io::Write;

fn paint(o: &ReportOptions, code: &str, text: &str) -> String {
    if o.color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    }
}

/// Characters of a command line shown per finding.
const MAX_CMDLINE: usize = 200;

/// Bytes for people: 1.5 MB, 320 KB.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

pub(crate) fn write(
    out: &mut dyn Write,
    findings: &Findings,
    s: &Summary,
    o: &ReportOptions,
) -> Result<(), crate::ReportError> {
    crate::parallel::write_batches(out, findings, |batch, before, lines, buf| {
        let mut current: Option<&str> = before;
        for f in batch {
            if current != Some(f.location.path.as_str()) {
                if current.is_some() {
                    writeln!(buf)?;
                }
                writeln!(buf, "{}", paint(o, "1", &for_terminal(&f.location.path)))?;
                current = Some(&f.location.path);
            }
            let count = match (f.count, &f.column_values) {
                (Some(1), Some(_)) => " (1 cell)".to_string(),
                (Some(c), Some(_)) => format!(" ({c} cells)"),
                (Some(c), None) => format!(" ({c} points)"),
                (None, _) => String::new(),
            };
            writeln!(
                buf,
                "  {:>5}:{:<4} {} {} {}{} [{}]",
                f.location.line,
                f.location.column,
                paint(
                    o,
                    severity_colour(f.severity),
                    &format!("{:<8}", f.severity.as_str())
                ),
                paint(o, "1", &for_terminal(&f.rule)),
                for_terminal(&f.shown_value(o.reveal)),
                count,
                for_terminal(&f.name),
            )?;
            if let Some(line) = lines.shown_line(f, o.reveal) {
                let line = line.trim();
                if !line.is_empty() && !f.binary {
                    let line = for_terminal(line);
                    writeln!(buf, "{}", paint(o, "2", &format!("              {line}")))?;
                }
            }
            if let Some(layers) = &f.decoded {
                let line = format!("              found under {layers} encoding");
                writeln!(buf, "{}", paint(o, "2", &for_terminal(&line)))?;
            }
            if let Some(column) = crate::column::describe(f, o.reveal) {
                let line = format!("              {column}");
                writeln!(buf, "{}", paint(o, "2", &for_terminal(&line)))?;
            } else if let Some(c) = &f.cell {
                let table = crate::column::table_named(f, c);
                let line = format!("              {table}row {}, column {}", c.row, c.column);
                writeln!(buf, "{}", paint(o, "2", &for_terminal(&line)))?;
            }
            if let Some(git) = &f.git {
                writeln!(
                    buf,
                    "{}",
                    paint(
                        o,
                        "2",
                        &for_terminal(&format!("              {}", git_line(git)))
                    )
                )?;
            }
            if let Some(p) = &f.process {
                // Command lines can carry kilobytes of environment; json has it whole.
                let cmdline: String = if p.cmdline.chars().count() > MAX_CMDLINE {
                    p.cmdline.chars().take(MAX_CMDLINE).chain(['…']).collect()
                } else {
                    p.cmdline.clone()
                };
                let line = format!(
                    "              process {} ({}), started {}, {:.1}% CPU: {} — {cmdline}",
                    p.pid, p.user, p.started, p.cpu_percent, p.exe
                );
                writeln!(buf, "{}", paint(o, "2", &for_terminal(&line)))?;
            }
            if let Some(t) = &f.triage {
                let line = format!("              {}", triage_line(&f.fingerprint, t));
                let colour = if t.reappeared { "1;31" } else { "2" };
                writeln!(buf, "{}", paint(o, colour, &for_terminal(&line)))?;
            }
        }
        Ok(())
    })?;
    if o.no_summary {
        return Ok(());
    }
    if !findings.is_empty() {
        writeln!(out)?;
    }
    let by_cat: Vec<String> = s
        .by_category
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    let repositories = format!(
        "{} repositor{}",
        s.repositories,
        if s.repositories == 1 { "y" } else { "ies" }
    );
    if let Some(source) = &o.datastore {
        if findings.is_empty() {
            writeln!(out, "No findings in {source} match.")?;
        } else {
            writeln!(
                out,
                "{} findings in {source}: {}.",
                s.findings,
                by_cat.join(", ")
            )?;
        }
        if let Some(run) = &o.run {
            writeln!(out)?;
            run_section(out, run)?;
        }
        return Ok(());
    }
    if let Some(scope) = &o.scope {
        writeln!(out, "{scope}")?;
        if findings.is_empty() {
            writeln!(out, "No findings.")?;
        } else {
            writeln!(out, "{} findings: {}.", s.findings, by_cat.join(", "))?;
        }
        return Ok(());
    }
    let what = if s.staged {
        format!("the index of {repositories}")
    } else if s.repositories > 0 && s.commits > 0 {
        format!("{} commits in {repositories}", s.commits)
    } else if s.repositories > 0 {
        // `--since-commit HEAD` with nothing new.
        format!("no new commits in {repositories}")
    } else {
        format!("{} files", s.files)
    };
    writeln!(
        out,
        "Scanned {what} ({} blobs, {} duplicate), {} in {:.2}s ({:.1} MB/s) with {} rules.",
        s.blobs,
        s.duplicate_blobs,
        human_bytes(s.bytes),
        s.elapsed.as_secs_f64(),
        s.megabytes_per_second(),
        s.rules
    )?;
    if findings.is_empty() {
        writeln!(out, "No findings.")?;
    } else {
        writeln!(out, "{} findings: {}.", s.findings, by_cat.join(", "))?;
    }
    if s.suppressed > 0 || s.baselined > 0 {
        writeln!(
            out,
            "Not shown: {} allowed (leakhound.toml, leakhound:allow), {} already in the baseline.",
            s.suppressed, s.baselined
        )?;
    }
    if !s.problems.is_empty() {
        writeln!(
            out,
            "{} unreadable, {} skipped (details above on stderr; --format json lists them).",
            s.unreadable(),
            s.skipped()
        )?;
    }
    Ok(())
}

/// The datastore's word on a finding: its fingerprint (to triage it), status, news.
fn triage_line(fingerprint: &str, t: &leakhound_findings::Triage) -> String {
    let mut parts = vec![format!(
        "fingerprint {}",
        fingerprint.chars().take(12).collect::<String>()
    )];
    let status = match &t.comment {
        Some(c) if !c.is_empty() => format!("{} ({c})", t.status),
        _ => t.status.to_string(),
    };
    parts.push(status);
    if t.reappeared {
        parts.push("REVOKED VALUE SEEN IN A NEW PLACE".into());
    }
    if t.new {
        parts.push("new".into());
    } else if !t.first_seen.is_empty() {
        parts.push(format!("first seen {}", t.first_seen));
    }
    parts.join(" · ")
}

/// Who put it there and whether it is still there, in one line.
fn git_line(g: &GitOrigin) -> String {
    let short = |id: &str| id.chars().take(10).collect::<String>();
    let origin = match (&g.commit, g.reach) {
        (Some(c), _) => format!(
            "introduced in {} by {} <{}> on {}",
            short(&c.id),
            c.author,
            c.email,
            c.date
        ),
        (None, Reach::Staged) => "staged, not yet committed".to_string(),
        (None, _) => format!("in blob {}, which no commit holds", short(&g.blob)),
    };
    let reach = match g.reach {
        Reach::UnreachableCommit => "; on no branch or tag (deleted or rewritten history)",
        _ => "",
    };
    match &g.removed {
        Some(r) => format!("{origin}{reach}; removed in {}", short(r)),
        None if g.reach == Reach::Ref => format!("{origin}; still on a branch or tag"),
        None => format!("{origin}{reach}"),
    }
}

/// An estate run: its shards, each target's outcome, and the estate-wide people.
fn run_section(
    out: &mut dyn Write,
    run: &leakhound_findings::run::RunOverview,
) -> std::io::Result<()> {
    writeln!(
        out,
        "Run {}: {} shard{}, started {}{}.",
        for_terminal(&run.id),
        run.shards,
        if run.shards == 1 { "" } else { "s" },
        run.started_at,
        match &run.previous {
            Some(p) => format!("; new means not seen in run {}", for_terminal(p)),
            None => "; no earlier run, so everything is new".to_string(),
        }
    )?;
    for shard in 0..run.shards {
        let state = run.shard_states.iter().find(|s| s.shard == shard);
        let line = match state {
            None => "never started".to_string(),
            Some(s) => format!(
                "{} ({} attempt{})",
                crate::run_status(&s.status),
                s.attempts,
                if s.attempts == 1 { "" } else { "s" }
            ),
        };
        writeln!(out, "  shard {shard}: {line}")?;
    }
    for t in &run.targets {
        let mut line = format!("  {} ({}, shard {}): {}", t.name, t.kind, t.shard, t.status);
        if t.status == "done" {
            line.push_str(&format!(
                ", {} findings ({} new)",
                t.findings, t.new_findings
            ));
            if t.tables > 0 {
                line.push_str(&format!(", {} tables", t.tables));
            }
        }
        if !t.problems.is_empty() {
            let first = t.problems.first().map(String::as_str).unwrap_or_default();
            line.push_str(&format!(
                "; {}{}",
                first,
                if t.problems.len() > 1 {
                    format!(" (and {} more problems)", t.problems.len() - 1)
                } else {
                    String::new()
                }
            ));
        }
        writeln!(out, "{}", for_terminal(&line))?;
    }
    writeln!(out, "{}", crate::estate_people_sentence(&run.people))
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn bytes_for_people() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500_000), "1.5 MB");
        assert_eq!(human_bytes(2_000_000_000), "2.0 GB");
    }
}
