//! `leakhound scan`.

use crate::args::{load_rules, parse_pack, parse_size};
use crate::exit;
use crate::progress::Progress;
use anyhow::Context;
use clap::Args;
use leakhound_findings::Category;
use leakhound_inputs::walk::WalkOptions;
use leakhound_inputs::{Limits, Problem, ProblemKind};
use leakhound_matcher::Matcher;
use leakhound_reports::{write_report, Format, ReportOptions};
use leakhound_scan::{HistoryScanOptions, ScanOptions, Scanner};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

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
    /// Output format.
    #[arg(long, default_value = "human", value_parser = ["human", "json", "jsonl", "sarif"])]
    format: String,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
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
    /// No progress bar, no warnings on stderr, no summary in human output.
    #[arg(long, short)]
    quiet: bool,
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
    /// Scan what is staged for the next commit (for pre-commit hooks).
    #[arg(long, conflicts_with = "history", help_heading = "Git")]
    staged: bool,
    /// Colour human output: auto, always, never.
    #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
}

pub fn run(a: ScanArgs) -> anyhow::Result<u8> {
    let format: Format = a.format.parse().map_err(anyhow::Error::msg)?;
    let rules = load_rules(&a.rules, &a.rules_files)?;
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
        },
        ..ScanOptions::default()
    };
    let scanner = Scanner::new(matcher, options);
    let paths = if a.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        a.paths.clone()
    };
    let quiet = a.quiet;
    let on_problem = move |p: &Problem| {
        if !quiet {
            let what = match p.kind {
                ProblemKind::Unreadable => "warning",
                ProblemKind::Skipped => "skipped",
            };
            eprintln!("leakhound: {what}: {p}");
        }
    };
    let (findings, summary) = {
        let _progress = Progress::start(scanner.counters(), !a.quiet);
        if a.history || a.staged {
            let options = HistoryScanOptions {
                git: leakhound_scan::HistoryOptions {
                    branches: a.branch.clone(),
                    since: a.since_commit.clone(),
                    all_objects: a.all_objects,
                    threads: a.threads,
                    max_blob_size: a.max_file_size,
                },
                staged: a.staged,
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
    let to_terminal = a.output.is_none() && std::io::stdout().is_terminal();
    let options = ReportOptions {
        reveal: a.reveal,
        color: match a.color.as_str() {
            "always" => true,
            "never" => false,
            _ => to_terminal && std::env::var_os("NO_COLOR").is_none(),
        },
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        no_summary: a.quiet,
    };
    let mut out: Box<dyn Write> = match &a.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("creating --output {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    write_report(&mut out, format, &findings, &summary, &options).context("writing the report")?;
    if summary.nothing_readable() {
        anyhow::bail!(
            "nothing could be read ({} unreadable)",
            summary.unreadable()
        );
    }
    Ok(if findings.is_empty() {
        exit::CLEAN
    } else {
        exit::FINDINGS
    })
}
