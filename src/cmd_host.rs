//! `leakhound host`: is this machine mining?

use crate::args::{load_rules, parse_pack};
use crate::datastore::DatastoreArg;
use crate::{exit, output};
use anyhow::Context;
use clap::Args;
use leakhound_findings::Category;
use leakhound_host::{inspect, HostOptions};
use leakhound_matcher::Matcher;
use leakhound_reports::ReportOptions;
use leakhound_scan::{ScanOptions, Scanner, Summary};
use leakhound_store::ScanRecord;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct HostArgs {
    /// File system root whose start-up files are checked (a mounted image, say).
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// The /proc tree to read (a saved copy, or an image's). Default: /proc for the
    /// running machine, ROOT/proc otherwise.
    #[arg(long, value_name = "DIR")]
    proc_root: Option<PathBuf>,
    /// Report processes that used more than this share of one core over their life
    /// (percent, 0 = off).
    #[arg(long, value_name = "PERCENT", default_value_t = 80.0)]
    cpu_threshold: f64,
    /// ...and have run for at least this many minutes.
    #[arg(long, value_name = "MINUTES", default_value_t = 10.0)]
    cpu_min_age: f64,
    /// Look up pool host names found on the machine (DNS) to match connections by
    /// address. Off by default: it sends queries for those names.
    #[arg(long)]
    resolve: bool,
    /// Rule packs for command lines and start-up files (default: mining).
    #[arg(long, value_name = "PACKS", value_delimiter = ',', value_parser = parse_pack)]
    rules: Vec<Category>,
    /// Print raw matched values and command lines.
    #[arg(long)]
    reveal: bool,
    #[command(flatten)]
    out: output::OutputArgs,
    #[command(flatten)]
    store: DatastoreArg,
    /// No warnings on stderr, no summary in human output.
    #[arg(long, short)]
    quiet: bool,
    /// Exit 1 only for a finding of this severity or above (info, low, medium, high,
    /// critical).
    #[arg(long, value_name = "SEVERITY", default_value = "low")]
    fail_on: leakhound_findings::Severity,
}

pub fn run(a: HostArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    let format = a.out.format()?;
    let packs = if a.rules.is_empty() {
        vec![Category::Mining]
    } else {
        a.rules.clone()
    };
    // A wrong datastore URL should fail before the machine is read.
    let mut store = a.store.open()?;
    let started_at = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let rules = load_rules(&packs, &[])?;
    let matcher = Matcher::new(&rules).context("compiling rules")?;
    let scanner = Scanner::new(matcher, ScanOptions::default());
    let options = HostOptions {
        root: a.root.clone(),
        proc_root: a.proc_root.clone(),
        cpu_threshold: a.cpu_threshold,
        cpu_min_age_secs: a.cpu_min_age * 60.0,
        resolve: a.resolve,
        reveal: a.reveal,
    };
    let mut report = inspect(&options, &scanner).context("inspecting the host")?;
    if !a.quiet {
        for p in &report.problems {
            eprintln!("leakhound: warning: {}", crate::output::safe(p));
        }
    }
    if let Some(store) = store.as_mut() {
        let run = ScanRecord {
            started_at,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            kind: "host".to_string(),
            targets: vec![a.root.display().to_string()],
            packs: packs.iter().map(|c| c.to_string()).collect(),
            rules: scanner.matcher().len() as u64,
            files: report.startup_paths.len() as u64,
            blobs: report.processes as u64,
            bytes: 0,
            problems: report.problems.len() as u64,
            run: None,
            carry_from: None,
        };
        crate::datastore::record(store, &run, &mut report.findings, &a.store.shown(), a.quiet)?;
    }
    let mut summary = Summary::of_findings(&report.findings);
    summary.elapsed = started.elapsed();
    let options = ReportOptions {
        reveal: a.reveal,
        color: a.out.colour(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        no_summary: a.quiet,
        datastore: None,
        scope: Some(format!(
            "Checked {} processes, {} connections and {} start-up files or folders under {} in {:.2}s.",
            report.processes,
            report.connections,
            report.startup_paths.len(),
            a.root.display(),
            summary.elapsed.as_secs_f64()
        )),
        assessments: Vec::new(),
        run: None,
    };
    let failing = report
        .findings
        .iter()
        .any(|f| crate::datastore::fails(f, a.fail_on));
    a.out
        .write(format, &report.findings.into(), &summary, &options)?;
    Ok(if failing { exit::FINDINGS } else { exit::CLEAN })
}
