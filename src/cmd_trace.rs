//! `leakhound trace`: prove a leaked dump is ours, scope who is in it, and tell which
//! copy leaked.

use crate::output;
use crate::progress::Progress;
use crate::table_sources::{read_all, ReadArgs};
use anyhow::Context;
use clap::{Args, Subcommand};
use leakhound_inputs::Problem;
use leakhound_tables::Meter;
use leakhound_trace::canary::{self, CanarySet};
use leakhound_trace::export::{positions, Exporter, RowCounter};
use leakhound_trace::matching::thousands;
use leakhound_trace::{BuildOptions, Index, IndexBuilder, Key, MatchReport, Matcher};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Subcommand)]
pub enum TraceCommand {
    /// Make a new random key (32 bytes, hex) in a new file readable only by you.
    Key(KeyArgs),
    /// Fingerprint customer records: keyed hashes of each record's identifiers, with
    /// its id and date. The index holds no raw personal data.
    Index(IndexArgs),
    /// Match a suspect dump against an index: how many rows are our records, by which
    /// identifiers, from which period, and whose canaries are in it.
    Match(MatchArgs),
    /// Print synthetic canary records for a recipient (CSV or JSON).
    Canary(CanaryArgs),
    /// Write a recipient's copy of a table with canary records mixed in.
    Export(ExportArgs),
}

#[derive(Args)]
pub struct KeyArgs {
    /// Where to write the key (must not exist).
    #[arg(long, short, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Args)]
pub struct IndexArgs {
    /// The secret key (see `leakhound trace key`).
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// Where to write the index.
    #[arg(long, value_name = "INDEX")]
    out: PathBuf,
    /// Column holding the record id to report for matches (default: the row number).
    #[arg(long, value_name = "COLUMN")]
    id_col: Option<String>,
    /// Column holding the record's date (created, registered…), for date ranges.
    #[arg(long, value_name = "COLUMN")]
    date_col: Option<String>,
    /// Customer data: files or folders (CSV, TSV, JSON, JSON Lines, SQL dumps, SQLite,
    /// XLSX/ODS, Parquet; archives and compressed files opened), or live databases:
    /// postgres://user@host/db, mysql://user@host/db (or mariadb://), every row read.
    #[arg(required = true, value_name = "SOURCE")]
    sources: Vec<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Args)]
pub struct MatchArgs {
    /// The secret key the index was made with.
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// The index made by `trace index`.
    #[arg(value_name = "INDEX")]
    index: PathBuf,
    /// The suspect dump: files or folders (the formats `trace index` reads) or
    /// postgres://, mysql:// or mariadb:// URLs.
    #[arg(required = true, value_name = "DUMP")]
    dumps: Vec<PathBuf>,
    /// Write the ids of the matched records, one per line, to FILE (for notifying
    /// the people concerned).
    #[arg(long, value_name = "FILE")]
    list_matches: Option<PathBuf>,
    /// Also look for the canaries of this recipient (those in the key's ledger are
    /// always looked for). Repeatable.
    #[arg(long, value_name = "NAME")]
    recipient: Vec<String>,
    /// Canaries per recipient to look for when the ledger does not say.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    canaries: u64,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = ["human", "json"])]
    format: String,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Args)]
pub struct CanaryArgs {
    /// The secret key.
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// Who receives them (a supplier, a partner, a team).
    #[arg(long, value_name = "NAME")]
    recipient: String,
    /// How many.
    #[arg(long, value_name = "N", default_value_t = 100)]
    count: u64,
    /// Index of real customers: no canary shares an identifier with them.
    #[arg(long, value_name = "INDEX")]
    index: Option<PathBuf>,
    /// Output format.
    #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
    format: String,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Args)]
pub struct ExportArgs {
    /// The secret key.
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// Who receives the copy.
    #[arg(long, value_name = "NAME")]
    recipient: String,
    /// Canaries to mix in (default: enough that a random 1,000-row sample of the copy
    /// holds one with 99% probability, at least 10).
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Index of real customers: no canary shares an identifier with them.
    #[arg(long, value_name = "INDEX")]
    index: Option<PathBuf>,
    /// Record-id column: canary rows get fresh ids of the same shape.
    #[arg(long, value_name = "COLUMN")]
    id_col: Option<String>,
    /// Where to write the copy (CSV).
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
    /// The table to copy (its first table, for a dump or database file).
    #[arg(value_name = "TABLE")]
    table: PathBuf,
    #[command(flatten)]
    read: ReadArgs,
}

pub fn run(c: TraceCommand) -> anyhow::Result<u8> {
    match c {
        TraceCommand::Key(a) => key(a),
        TraceCommand::Index(a) => index(a),
        TraceCommand::Match(a) => matching(a),
        TraceCommand::Canary(a) => canaries(a),
        TraceCommand::Export(a) => export(a),
    }
}

fn load_key(path: &Path) -> anyhow::Result<Key> {
    Key::load(path).with_context(|| format!("reading the key {}", path.display()))
}

fn warn(quiet: bool, problems: &[Problem]) {
    if !quiet {
        for p in problems {
            eprintln!("leakhound: warning: {}", crate::output::safe(p));
        }
    }
}

fn progress(meter: &Arc<Meter>, quiet: bool) -> Progress {
    Progress::tables(Arc::clone(meter), !quiet)
}

fn key(a: KeyArgs) -> anyhow::Result<u8> {
    let hex = Key::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&a.out).with_context(|| {
        format!(
            "creating {} (an existing key is never overwritten)",
            a.out.display()
        )
    })?;
    writeln!(f, "{hex}").with_context(|| format!("writing {}", a.out.display()))?;
    eprintln!(
        "leakhound: wrote a new key to {}. Keep it secret and keep a copy: indexes made with it are useless without it.",
        a.out.display()
    );
    Ok(crate::exit::CLEAN)
}

fn index(a: IndexArgs) -> anyhow::Result<u8> {
    let key = load_key(&a.key_file)?;
    let started = std::time::Instant::now();
    let mut builder = IndexBuilder::new(
        &key,
        BuildOptions {
            id_column: a.id_col.clone(),
            date_column: a.date_col.clone(),
        },
    );
    builder.several_sources(a.sources.len() > 1 || a.sources.iter().any(|p| p.is_dir()));
    let meter = Arc::new(Meter::default());
    let bar = progress(&meter, a.read.quiet);
    read_all(&a.sources, &a.read.reading(None), &meter, &mut builder)?;
    drop(bar);
    warn(a.read.quiet, builder.problems());
    if builder.records() == 0 {
        anyhow::bail!("no record with an identifier (resident ID, mobile, e-mail, VIN, plate, bank card, or name with birth date) was found in the sources");
    }
    let header = builder
        .write(&a.out)
        .with_context(|| format!("writing the index {}", a.out.display()))?;
    let size = std::fs::metadata(&a.out).map(|m| m.len()).unwrap_or(0);
    if !a.read.quiet {
        let kinds: Vec<String> = header
            .kinds
            .iter()
            .map(|(k, n)| format!("{k} {}", thousands(*n)))
            .collect();
        eprintln!(
            "leakhound: indexed {} records from {} tables ({} fingerprints: {}; {} dated) into {} ({:.1} MB) in {:.1} s",
            thousands(header.records),
            header.sources.len(),
            thousands(header.entries),
            kinds.join(", "),
            thousands(header.dated),
            a.out.display(),
            size as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(crate::exit::CLEAN)
}

#[derive(Serialize)]
struct MatchDocument<'a> {
    tool: &'static str,
    version: &'static str,
    #[serde(flatten)]
    report: &'a MatchReport,
}

fn matching(a: MatchArgs) -> anyhow::Result<u8> {
    let key = load_key(&a.key_file)?;
    let index = Index::open(&a.index, &key)
        .with_context(|| format!("opening the index {}", a.index.display()))?;
    let mut recipients = canary::read_ledger(&canary::ledger_path(&a.key_file))?;
    for r in &a.recipient {
        if !recipients.iter().any(|(n, _)| n == r) {
            recipients.push((r.clone(), a.canaries));
        }
    }
    let canaries = CanarySet::new(&key, &recipients, &index);
    let mut matcher = Matcher::new(&key, &index, &canaries);
    let meter = Arc::new(Meter::default());
    let bar = progress(&meter, a.read.quiet);
    read_all(&a.dumps, &a.read.reading(None), &meter, &mut matcher)?;
    drop(bar);
    warn(a.read.quiet, matcher.problems());
    let report = matcher.report();
    if report.rows == 0 && !matcher.problems().is_empty() {
        anyhow::bail!("no table could be read from the dump");
    }
    if let Some(path) = &a.list_matches {
        let mut f = output::open(Some(path))?;
        for id in matcher.matched_ids() {
            writeln!(f, "{id}")?;
        }
        f.flush()?;
    }
    let mut out = output::open(a.output.as_deref())?;
    if a.format == "json" {
        let doc = MatchDocument {
            tool: "leakhound",
            version: env!("CARGO_PKG_VERSION"),
            report: &report,
        };
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        human(&mut out, &report)?;
    }
    out.flush()?;
    Ok(crate::exit::CLEAN)
}

fn human(out: &mut dyn Write, r: &MatchReport) -> std::io::Result<()> {
    writeln!(out, "Verdict: {}.", r.summary)?;
    writeln!(out)?;
    let by: Vec<String> = r
        .matched_by
        .iter()
        .map(|(k, n)| format!("{k} {}", thousands(*n)))
        .collect();
    writeln!(
        out,
        "  rows read            {:>12}   ({} with identifiers)",
        thousands(r.rows),
        thousands(r.rows_with_identifiers)
    )?;
    writeln!(
        out,
        "  rows matching ours   {:>12}   {:.1}%{}",
        thousands(r.matched_rows),
        r.match_rate * 100.0,
        if by.is_empty() {
            String::new()
        } else {
            format!("; by {}", by.join(", "))
        }
    )?;
    writeln!(
        out,
        "  our records found    {:>12}",
        thousands(r.matched_records)
    )?;
    if let Some(d) = &r.date_range {
        writeln!(out, "  their dates          {} to {}", d.first, d.last)?;
        // Months when they fit on a screen, years otherwise (json keeps months).
        let mut periods: std::collections::BTreeMap<String, u64> = Default::default();
        for (month, n) in &r.months {
            let period = if r.months.len() > 24 {
                month[..4].to_string()
            } else {
                month.clone()
            };
            *periods.entry(period).or_insert(0) += n;
        }
        let top = periods.values().copied().max().unwrap_or(1).max(1);
        for (period, n) in &periods {
            let bar = "█".repeat(((n * 40).div_ceil(top)) as usize);
            writeln!(out, "    {period:<7}  {bar} {}", thousands(*n))?;
        }
    }
    let kinds: Vec<String> = r
        .not_ours
        .identifiers
        .iter()
        .map(|(k, n)| format!("{k} {}", thousands(*n)))
        .collect();
    writeln!(
        out,
        "  rows not ours        {:>12}{}",
        thousands(r.not_ours.rows),
        if kinds.is_empty() {
            String::new()
        } else {
            format!("   distinct identifiers not ours: {}", kinds.join(", "))
        }
    )?;
    for c in &r.canaries {
        writeln!(
            out,
            "  canaries of {:<20} {} rows",
            crate::output::safe(&c.recipient),
            thousands(c.rows)
        )?;
    }
    writeln!(out)?;
    for t in &r.tables {
        let ids: Vec<String> = t
            .identifiers
            .iter()
            .map(|(c, k)| format!("{} ({k})", crate::output::safe(c)))
            .collect();
        writeln!(
            out,
            "  {}: {} rows, {} ours; identifiers: {}",
            crate::output::safe(&t.source),
            thousands(t.rows),
            thousands(t.matched_rows),
            if ids.is_empty() {
                "none".to_string()
            } else {
                ids.join(", ")
            }
        )?;
    }
    Ok(())
}

fn canaries(a: CanaryArgs) -> anyhow::Result<u8> {
    let key = load_key(&a.key_file)?;
    let index = match &a.index {
        Some(p) => Some(
            Index::open(p, &key).with_context(|| format!("opening the index {}", p.display()))?,
        ),
        None => None,
    };
    let list = canary::canaries(&key, &a.recipient, a.count, index.as_ref());
    canary::record_in_ledger(&canary::ledger_path(&a.key_file), &a.recipient, a.count)?;
    let mut out = output::open(a.output.as_deref())?;
    if a.format == "json" {
        serde_json::to_writer_pretty(&mut out, &list)?;
        writeln!(out)?;
    } else {
        canary::write_csv(&list, &mut out)?;
    }
    out.flush()?;
    Ok(crate::exit::CLEAN)
}

fn export(a: ExportArgs) -> anyhow::Result<u8> {
    let key = load_key(&a.key_file)?;
    let index = match &a.index {
        Some(p) => Some(
            Index::open(p, &key).with_context(|| format!("opening the index {}", p.display()))?,
        ),
        None => None,
    };
    let reading = a.read.reading(None);
    let sources = [a.table.clone()];
    let meter = Meter::default();
    let mut counter = RowCounter::default();
    read_all(&sources, &reading, &meter, &mut counter)?;
    let rows = counter
        .rows
        .with_context(|| format!("no table found in {}", a.table.display()))?;
    let count = a
        .count
        .unwrap_or_else(|| canary::needed(rows, 1_000, 0.99).max(10));
    let list = canary::canaries(&key, &a.recipient, count, index.as_ref());
    let at = positions(&key, &a.recipient, rows, list.len());
    let file = std::fs::File::create(&a.output)
        .with_context(|| format!("creating {}", a.output.display()))?;
    let mut exporter = Exporter::new(
        std::io::BufWriter::new(file),
        &key,
        &a.recipient,
        &list,
        &at,
        a.id_col.clone(),
    );
    read_all(&sources, &reading, &meter, &mut exporter)?;
    let (written, problems) = exporter.finish()?;
    warn(a.read.quiet, &problems);
    canary::record_in_ledger(&canary::ledger_path(&a.key_file), &a.recipient, count)?;
    if !a.read.quiet {
        eprintln!(
            "leakhound: wrote {} rows ({} real, {} canaries for {}) to {}",
            thousands(written.saturating_sub(1)),
            thousands(rows),
            thousands(list.len() as u64),
            a.recipient,
            a.output.display()
        );
    }
    Ok(crate::exit::CLEAN)
}
