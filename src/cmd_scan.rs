//! `leakhound scan`.

use crate::args::{load_rules, parse_pack, parse_size};
use crate::datastore::DatastoreArg;
use crate::progress::Progress;
use crate::{exit, output};
use anyhow::Context;
use clap::Args;
use leakhound_findings::{Category, Confidence, Severity};
use leakhound_inputs::walk::WalkOptions;
use leakhound_inputs::{Limits, Problem, ProblemKind};
use leakhound_matcher::Matcher;
use leakhound_reports::ReportOptions;
use leakhound_scan::{Findings, HistoryScanOptions, ScanOptions, Scanner};
use leakhound_store::ScanRecord;
use leakhound_suppress::{Baseline, Policy};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args)]
pub struct ScanArgs {
    /// Files, folders or `-` for standard input. Default: the current folder.
    paths: Vec<PathBuf>,
    /// Rule packs to run, comma-separated: secret, personal, vehicle, organisation, mining.
    #[arg(long, value_name = "PACKS", value_delimiter = ',', value_parser = parse_pack)]
    rules: Vec<Category>,
    /// Extra rule file(s) in leakhound's TOML rule format (see docs/rules.md).
    #[arg(long = "rules-file", value_name = "FILE")]
    rules_files: Vec<PathBuf>,
    /// Print raw matched values. Masked by default: reports get pasted into tickets.
    #[arg(long)]
    reveal: bool,
    /// Skip files larger than this (e.g. 100M, 2G; 0 = no limit).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "4G")]
    max_file_size: u64,
    /// Leave out paths matching GLOB (repeatable).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Honour .gitignore and .ignore files (off by default: ignored .env files leak too).
    #[arg(long)]
    respect_gitignore: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Archive layers opened inside one another.
    #[arg(long, value_name = "N", default_value_t = 5)]
    max_depth: usize,
    /// Most bytes one file may expand to across its archive layers.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "2G")]
    max_expanded_size: u64,
    /// Largest expansion ratio of a compressed member before it counts as a bomb.
    #[arg(long, value_name = "N", default_value_t = 200)]
    max_ratio: u64,
    /// One finding per table cell. By default the personal, vehicle and organisation
    /// values one rule matches in one column of a table (CSV, JSON, SQL dump,
    /// spreadsheet, database file) are one finding with the cell and distinct counts,
    /// first and last row and up to five masked examples; secrets are always one
    /// finding per value.
    #[arg(long)]
    each_cell: bool,
    /// Encodings searched for secrets inside one another: base64, hex, percent,
    /// quoted-printable and string escapes, nested this deep (0: off).
    #[arg(long, value_name = "N", default_value_t = 2)]
    decode_depth: usize,
    /// No progress bar, no warnings on stderr, no summary in human output.
    #[arg(long, short)]
    quiet: bool,
    /// Report only findings of this severity or above: info, low, medium, high,
    /// critical. Findings in tests, fixtures, examples and docs, and example-looking
    /// values, are one level lower (see docs/rules.md, "Severity and confidence").
    #[arg(long, value_name = "SEVERITY")]
    min_severity: Option<Severity>,
    /// Report only findings of this confidence or above: low, medium, high.
    #[arg(long, value_name = "CONFIDENCE")]
    min_confidence: Option<Confidence>,
    /// Exit 1 only for a reported finding of this severity or above. The default
    /// `low` lets `info` findings (contributor addresses, role mailboxes) through; a
    /// CI gate on a code repository uses `high`.
    #[arg(long, value_name = "SEVERITY", default_value = "low")]
    fail_on: Severity,
    /// Scan the full git history of the repository at PATH (or of every repository
    /// under it): every blob reachable from any ref, once, with the commit that
    /// introduced each finding.
    #[arg(long, help_heading = "Git")]
    history: bool,
    /// With --history: also objects no ref reaches (deleted branches, dangling blobs).
    #[arg(long, requires = "history", help_heading = "Git")]
    all_objects: bool,
    /// With --history: only this ref or revision and its history (repeatable).
    #[arg(long, value_name = "REF", requires = "history", help_heading = "Git")]
    branch: Vec<String>,
    /// With --history: only what is new since REV (for CI on pushes).
    #[arg(long, value_name = "REV", requires = "history", help_heading = "Git")]
    since_commit: Option<String>,
    /// With --history and --datastore: read only the commits added since this
    /// datastore's last history scan of each repository (nightly rescans). Every
    /// history scan into a datastore remembers where it stopped.
    #[arg(
        long,
        requires = "history",
        conflicts_with = "since_commit",
        help_heading = "Git"
    )]
    incremental: bool,
    /// With --history: keep the resident set smaller still (a pod with a tight
    /// memory limit) at some cost in time: free heap memory and mapped pack pages are
    /// handed back ten times a second. ansible's history: 277 MiB peak instead of
    /// 295 MiB, 6% slower (docs/performance.md).
    #[arg(long, requires = "history", help_heading = "Git")]
    low_memory: bool,
    /// Scan what is staged for the next commit (for pre-commit hooks).
    #[arg(long, conflicts_with = "history", help_heading = "Git")]
    staged: bool,
    /// Project policy (allowlists, rules turned off, severities). Default:
    /// leakhound.toml or .leakhound.toml in the current folder, if there is one.
    #[arg(long, value_name = "FILE", help_heading = "Suppression")]
    config: Option<PathBuf>,
    /// Ignore leakhound.toml in the current folder.
    #[arg(long, conflicts_with = "config", help_heading = "Suppression")]
    no_config: bool,
    /// Report only findings not in this earlier report (json, jsonl or sarif; also
    /// `leakhound report --format json` from a datastore). Lines may move.
    #[arg(long, value_name = "FILE", help_heading = "Suppression")]
    baseline: Option<PathBuf>,
    /// Report findings even on lines marked `leakhound:allow`.
    #[arg(long, help_heading = "Suppression")]
    no_inline_allow: bool,
    /// Findings held in memory before sorted runs of them go to anonymous temporary
    /// files (in TMPDIR). For tests and small machines; reports are the same either way.
    #[arg(long, value_name = "N", default_value_t = leakhound_spool_budget(), hide = true)]
    spill_after: usize,
    #[command(flatten)]
    store: DatastoreArg,
    #[command(flatten)]
    out: output::OutputArgs,
}

pub fn run(a: ScanArgs) -> anyhow::Result<u8> {
    let format = a.out.format()?;
    let mut rules = load_rules(&a.rules, &a.rules_files)?;
    let policy = load_policy(&a)?;
    if let Some(p) = &policy {
        let mut unknown = rules.disable(&p.rules.disable);
        unknown
            .extend(rules.set_severities(p.rules.severity.iter().map(|(id, s)| (id.as_str(), *s))));
        if !unknown.is_empty() && !a.quiet {
            eprintln!(
                "leakhound: warning: {} names rules that are not loaded: {}",
                p.origin,
                unknown.join(", ")
            );
        }
    }
    let allowlist = match &policy {
        Some(p) => Some(Arc::new(p.allowlist()?)),
        None => None,
    };
    let baseline = match &a.baseline {
        Some(path) => Some(Baseline::load(path)?),
        None => None,
    };
    // Open the datastore before scanning: a wrong URL should fail in a second, not
    // after an hour of history.
    let mut store = a.store.open()?;
    if rules.rules().is_empty() {
        anyhow::bail!("no rules selected");
    }
    let matcher = Matcher::new(&rules).context("compiling rules")?;
    let options = ScanOptions {
        limits: Limits {
            max_depth: a.max_depth,
            max_file_size: a.max_file_size,
            max_expanded_size: a.max_expanded_size,
            max_ratio: a.max_ratio.max(1),
        },
        walk: WalkOptions {
            respect_gitignore: a.respect_gitignore,
            exclude: a.exclude.clone(),
            threads: a.threads,
            skip_files: store.as_ref().map(|s| s.files()).unwrap_or_default(),
        },
        allowlist,
        inline_allow: !a.no_inline_allow,
        each_cell: a.each_cell,
        decode_depth: a.decode_depth.min(4),
        spill_after: a.spill_after,
        ..ScanOptions::default()
    };
    let started_at = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let scanner = Scanner::new(matcher, options);
    let paths = if a.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        a.paths.clone()
    };
    crate::args::named_paths_exist(&paths)?;
    if !(a.history || a.staged) {
        for p in &paths {
            if let Some(leakhound_scan::Special::Device) = leakhound_scan::special_file(p) {
                anyhow::bail!(
                    "{} is a device, not a file or folder; not read",
                    crate::output::safe(p.display())
                );
            }
        }
    }
    if a.history && !a.quiet {
        warn_shallow(&paths);
    }
    let quiet = a.quiet;
    let on_problem = move |p: &Problem| {
        if !quiet {
            let what = match p.kind {
                ProblemKind::Unreadable => "warning",
                ProblemKind::Skipped => "skipped",
            };
            eprintln!("leakhound: {what}: {}", crate::output::safe(p));
        }
    };
    let mut seen_tips = std::collections::HashMap::new();
    if a.incremental {
        let Some(store) = store.as_mut() else {
            anyhow::bail!("--incremental needs --datastore: it reads where the last history scan recorded there stopped");
        };
        for key in leakhound_scan::repository_keys(&paths) {
            let tips = store
                .history_tips(&key)
                .with_context(|| format!("reading {}", a.store.shown()))?;
            if !tips.is_empty() {
                seen_tips.insert(key, tips);
            }
        }
    }
    let (mut findings, mut summary) = {
        let _progress = Progress::scan(scanner.counters(), !a.quiet);
        if a.history || a.staged {
            let options = HistoryScanOptions {
                git: leakhound_scan::HistoryOptions {
                    branches: a.branch.clone(),
                    since: a.since_commit.clone(),
                    all_objects: a.all_objects,
                    threads: a.threads,
                    max_blob_size: a.max_file_size,
                    seen_tips: Vec::new(),
                    low_memory: a.low_memory,
                },
                staged: a.staged,
                seen_tips,
            };
            scanner
                .scan_history(&paths, &options, &on_problem)
                .context("scanning history")?
        } else {
            scanner
                .scan_paths(&paths, &on_problem)
                .context("scanning")?
        }
    };
    if let Some(e) = findings.spill_error() {
        if !a.quiet {
            eprintln!("leakhound: warning: findings kept in memory ({e})");
        }
    }
    if a.min_severity.is_some() || a.min_confidence.is_some() {
        let (severity, confidence) = (a.min_severity, a.min_confidence);
        let (kept, left_out) = summary
            .keep_only(findings, |f| {
                severity.is_none_or(|s| f.severity >= s)
                    && confidence.is_none_or(|c| f.confidence >= c)
            })
            .context("filtering findings")?;
        findings = kept;
        if left_out > 0 && !a.quiet {
            eprintln!(
                "leakhound: {left_out} findings below --min-severity/--min-confidence not reported"
            );
        }
    }
    if let Some(store) = store.as_mut() {
        let record = ScanRecord {
            started_at,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            kind: if a.staged {
                "staged"
            } else if a.history {
                "history"
            } else {
                "files"
            }
            .to_string(),
            targets: paths.iter().map(|p| p.display().to_string()).collect(),
            packs: a.rules.iter().map(|c| c.to_string()).collect(),
            rules: summary.rules as u64,
            files: summary.files,
            blobs: summary.blobs,
            bytes: summary.bytes,
            problems: summary.problems.len() as u64,
            run: None,
            carry_from: None,
        };
        // One transaction takes the whole run: spilled findings come back to memory.
        let mut all = findings
            .into_vec()
            .context("reading the scan's findings back")?;
        let scan_id =
            crate::datastore::record(store, &record, &mut all, &a.store.shown(), a.quiet)?;
        findings = Findings::from(all);
        // Where this history scan stopped, for the next --incremental one. A
        // --since-commit scan did not read what it left out, so it is not remembered.
        if a.since_commit.is_none() {
            for (repository, tips) in &summary.tips {
                store
                    .record_history_tips(repository, scan_id, tips)
                    .with_context(|| format!("recording in {}", a.store.shown()))?;
            }
        }
    }
    if let Some(b) = &baseline {
        findings = summary
            .drop_baselined(findings, |f| b.contains(&f.fingerprint, &f.location.path))
            .context("applying the baseline")?;
    }
    let options = ReportOptions {
        reveal: a.reveal,
        color: a.out.colour(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        no_summary: a.quiet,
        datastore: None,
        scope: None,
        assessments: Vec::new(),
        run: None,
    };
    a.out.write(format, &findings, &summary, &options)?;
    if summary.nothing_readable() {
        anyhow::bail!(
            "nothing could be read ({} unreadable)",
            summary.unreadable()
        );
    }
    // Spilled findings never went through a datastore: none has a triage decision.
    let failing = match findings.as_slice() {
        Some(all) => all.iter().any(|f| crate::datastore::fails(f, a.fail_on)),
        None => findings
            .tally()
            .by_severity
            .iter()
            .any(|(s, n)| *s >= a.fail_on && *n > 0),
    };
    Ok(if failing { exit::FINDINGS } else { exit::CLEAN })
}

/// A shallow clone's oldest commit holds everything from before the cut-off, so it is
/// named as the introducer of values that may be years older: say so.
fn warn_shallow(paths: &[PathBuf]) {
    for p in paths {
        let shallow = [p.join(".git").join("shallow"), p.join("shallow")]
            .iter()
            .any(|f| f.is_file());
        if shallow {
            eprintln!(
                "leakhound: warning: {} is a shallow clone: commits before its cut-off are missing, so a value first seen in the oldest commit may have been introduced earlier (git fetch --unshallow for the whole history)",
                crate::output::safe(p.display())
            );
        }
    }
}

fn leakhound_spool_budget() -> usize {
    ScanOptions::default().spill_after
}

/// `--config FILE`, else leakhound.toml in the current folder, unless `--no-config`.
fn load_policy(a: &ScanArgs) -> anyhow::Result<Option<Policy>> {
    if let Some(path) = &a.config {
        return Ok(Some(Policy::load(path)?));
    }
    if a.no_config {
        return Ok(None);
    }
    Ok(Policy::find(Path::new("."))?)
}
