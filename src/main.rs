//! The `leakhound` binary: argument parsing and wiring. The work happens in the
//! library crates; each subcommand lives in its own `cmd_*.rs`.

mod args;
mod cmd_assess;
mod cmd_host;
mod cmd_report;
mod cmd_rules;
mod cmd_run;
mod cmd_scan;
mod cmd_serve;
mod cmd_trace;
mod cmd_triage;
mod datastore;
mod output;
mod progress;
mod table_sources;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Find credentials, personal data and vehicle data before they leak.
#[derive(Parser)]
#[command(name = "leakhound", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan files, folders, archives or standard input (`-`); or git history.
    Scan(Box<cmd_scan::ScanArgs>),
    /// Assess structured data (CSV, TSV, JSON, SQL dumps, SQLite, spreadsheets, Parquet,
    /// live PostgreSQL/MySQL; also inside archives): per column, the kind of data it
    /// holds, and how many people and vehicles are exposed.
    Assess(cmd_assess::AssessArgs),
    /// Trace a leaked dump: index customer records (keyed fingerprints), match a
    /// dump against the index, and give recipients copies with canary records.
    #[command(subcommand)]
    Trace(cmd_trace::TraceCommand),
    /// Check this machine (or a mounted image) for crypto-mining: processes,
    /// connections, start-up files.
    Host(cmd_host::HostArgs),
    /// One shard of an estate run: the targets of an inventory (git repositories,
    /// folders, databases), split across processes or Kubernetes pods, recorded into
    /// one datastore for `report --run`.
    Run(Box<cmd_run::RunArgs>),
    /// Record a decision about a finding in the datastore (false positive, revoked…).
    Triage(cmd_triage::TriageArgs),
    /// Report the findings of a datastore: human, json, jsonl, sarif, csv, html, markdown.
    Report(cmd_report::ReportArgs),
    /// Team triage in the browser over a datastore: findings, scans, exposure, audit
    /// log; accounts with roles (see `users`).
    Serve(cmd_serve::ServeArgs),
    /// Accounts of `leakhound serve`: add (or reset), disable, list.
    #[command(subcommand)]
    Users(cmd_serve::UsersCommand),
    /// List or check the detection rules.
    #[command(subcommand)]
    Rules(cmd_rules::RulesCommand),
}

/// Exit codes are part of the CLI contract: CI pipelines branch on them.
pub(crate) mod exit {
    /// Scanned, nothing found.
    pub const CLEAN: u8 = 0;
    /// Findings (or failing rule examples).
    pub const FINDINGS: u8 = 1;
    /// Bad arguments, unusable rules, nothing readable.
    pub const ERROR: u8 = 2;
}

/// Did writing the output fail because its reader went away?
fn closed_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    e.chain().any(|cause| {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return io.kind() == BrokenPipe;
        }
        if let Some(json) = cause.downcast_ref::<serde_json::Error>() {
            return json.io_error_kind() == Some(BrokenPipe);
        }
        if let Some(report) = cause.downcast_ref::<leakhound_reports::ReportError>() {
            return report.is_closed_pipe();
        }
        false
    })
}

/// An error and its causes, each said once: libraries often repeat their cause in their
/// own message and again as its source, which `{:#}` would print twice.
fn described(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if text.is_empty() || out.contains(text.as_str()) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(a) => cmd_scan::run(*a),
        Command::Assess(a) => cmd_assess::run(a),
        Command::Host(a) => cmd_host::run(a),
        Command::Run(a) => cmd_run::run(*a),
        Command::Trace(c) => cmd_trace::run(c),
        Command::Triage(a) => cmd_triage::run(a),
        Command::Report(a) => cmd_report::run(a),
        Command::Rules(c) => cmd_rules::run(c),
        Command::Serve(a) => cmd_serve::run(a),
        Command::Users(c) => cmd_serve::users(c),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // `leakhound scan . | head`: the reader had enough. A normal end, as for rg.
        Err(e) if closed_pipe(&e) => ExitCode::from(exit::CLEAN),
        Err(e) => {
            eprintln!("leakhound: error: {}", output::safe(described(&e)));
            ExitCode::from(exit::ERROR)
        }
    }
}
