//! `leakhound assess`: what kinds of personal data a set of exports holds, and about
//! how many people.

use crate::datastore::DatastoreArg;
use crate::progress::Progress;
use crate::table_sources::{read_all, ReadArgs};
use crate::{exit, output};
use anyhow::Context;
use clap::Args;
use leakhound_assess::{Assessment, TableReport};
use leakhound_inputs::ProblemKind;
use leakhound_store::AssessmentRow;
use leakhound_tables::Meter;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args)]
pub struct AssessArgs {
    /// Files or folders (CSV, TSV, JSON, JSON Lines, SQL dumps, SQLite files; archives
    /// and compressed files are opened; XLSX and other spreadsheets, every sheet), or a
    /// live database: postgres://user@host/db, mysql://user@host/db (or mariadb://).
    /// Default: the current folder.
    paths: Vec<PathBuf>,
    /// Rows read per table of a live database.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    sample: u64,
    /// Read every row of a live database's tables (instead of --sample).
    #[arg(long)]
    full: bool,
    /// Output format.
    #[arg(long, default_value = "human", value_parser = ["human", "json", "markdown"])]
    format: String,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
    /// Record the tables' verdicts (counts and column kinds, never values) here, for
    /// `leakhound report --format html`.
    #[command(flatten)]
    store: DatastoreArg,
    /// With --datastore: also keep every table's identifiers as fingerprints keyed with
    /// this key (`leakhound trace key`), never values, so that people can be counted
    /// across assessments made at different times or on different machines:
    /// `leakhound report --run ID`.
    #[arg(long, value_name = "FILE", requires = "datastore")]
    key: Option<PathBuf>,
    /// With --datastore: record this assessment as part of run ID (made if new), each
    /// source a target; assessments recorded under one run are counted together.
    /// Default with --key: `assess-` and the time.
    #[arg(long, value_name = "ID", requires = "datastore")]
    run: Option<String>,
}

#[derive(Serialize)]
struct Document<'a> {
    tool: &'static str,
    version: &'static str,
    tables: &'a [TableReport],
    summary: &'a SummaryRecord,
}

#[derive(Serialize)]
struct SummaryRecord {
    tables: u64,
    rows: u64,
    /// People across all tables: a person in two exports counts once.
    distinct_people: u64,
    /// What the data proves at least, and allows at most (see docs/assess.md).
    distinct_people_min: u64,
    distinct_people_max: u64,
    distinct_vehicles: u64,
    unreadable: usize,
}

pub fn run(a: AssessArgs) -> anyhow::Result<u8> {
    let mut sources = a.paths.clone();
    if sources.is_empty() {
        sources.push(PathBuf::from("."));
    }
    let reading = a.read.reading(if a.full { None } else { Some(a.sample) });
    let meter = Arc::new(Meter::default());
    let progress = Progress::tables(Arc::clone(&meter), !a.read.quiet);
    let mut store = a.store.open()?;
    let key = match &a.key {
        Some(path) => Some(
            leakhound_trace::Key::load(path)
                .with_context(|| format!("reading the key {}", path.display()))?,
        ),
        None => None,
    };
    let run_id = match (&a.run, &key) {
        (Some(id), _) => Some(id.clone()),
        (None, Some(_)) => Some(format!(
            "assess-{}",
            jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ")
        )),
        (None, None) => None,
    };
    if let Some(id) = &run_id {
        crate::cmd_run::check_run_id(id)?;
    }
    let mut assessment = Assessment::default();
    if let Some(key) = &key {
        assessment.totals = keyed_totals(key);
    }
    // Under a run each source is a target: read them one at a time to know whose
    // tables are whose.
    let mut per_source: Vec<(String, std::ops::Range<usize>)> = Vec::new();
    if run_id.is_some() {
        for source in &sources {
            let before = assessment.tables.len();
            read_all(
                std::slice::from_ref(source),
                &reading,
                &meter,
                &mut assessment,
            )?;
            let name = crate::datastore::shown(&source.display().to_string());
            per_source.push((name, before..assessment.tables.len()));
        }
    } else {
        read_all(&sources, &reading, &meter, &mut assessment)?;
    }
    drop(progress);
    if !a.read.quiet {
        for p in &assessment.problems {
            eprintln!("leakhound: warning: {}", crate::output::safe(p));
        }
    }
    if let (Some(store), Some(id)) = (store.as_mut(), &run_id) {
        record_run(
            store,
            id,
            &assessment,
            &per_source,
            &a.store.shown(),
            a.read.quiet,
        )?;
    } else if let Some(store) = store.as_mut() {
        let rows: Vec<AssessmentRow> = assessment.tables.iter().map(stored).collect();
        store
            .record_assessments(&rows)
            .with_context(|| format!("recording in the datastore {}", a.store.shown()))?;
        // Said as `scan` says it: a user should know the run was kept, and where.
        if !a.read.quiet {
            eprintln!(
                "leakhound: recorded the assessment of {} {} in {}",
                rows.len(),
                if rows.len() == 1 { "table" } else { "tables" },
                a.store.shown()
            );
        }
    }
    finish(&a, assessment)
}

/// Record an assessment as targets of run `id`, one per source, with their keyed
/// identities; people are then counted across every assessment of the run.
fn record_run(
    store: &mut leakhound_store::Store,
    id: &str,
    assessment: &Assessment,
    per_source: &[(String, std::ops::Range<usize>)],
    shown: &str,
    quiet: bool,
) -> anyhow::Result<()> {
    let planned: Vec<leakhound_store::PlannedTarget> = per_source
        .iter()
        .map(|(name, _)| leakhound_store::PlannedTarget {
            name: name.clone(),
            kind: if crate::table_sources::is_database_url(std::path::Path::new(name)) {
                "database"
            } else {
                "path"
            }
            .to_string(),
            shard: 0,
            weight: 1,
        })
        .collect();
    let ad_hoc = store
        .extend_run(id, &planned)
        .with_context(|| format!("recording in the datastore {shown}"))?;
    if !ad_hoc {
        anyhow::bail!(
            "run {id} is an estate run (`leakhound run`); give this assessment a --run of its own"
        );
    }
    for ((name, range), plan) in per_source.iter().zip(&planned) {
        let tables = assessment.tables.get(range.clone()).unwrap_or_default();
        let rows: Vec<AssessmentRow> = tables.iter().map(stored).collect();
        let target = leakhound_store::RunTarget {
            run: id.to_string(),
            target: name.clone(),
        };
        store
            .record_run_assessments(&rows, Some(&target), &keyed_identities(tables))
            .with_context(|| format!("recording in the datastore {shown}"))?;
        store
            .finish_target(&leakhound_store::TargetOutcome {
                run: target,
                shard: 0,
                kind: plan.kind.clone(),
                ..leakhound_store::TargetOutcome::default()
            })
            .with_context(|| format!("recording in the datastore {shown}"))?;
    }
    store
        .finish_shard(id, 0, false)
        .with_context(|| format!("recording in the datastore {shown}"))?;
    if !quiet {
        eprintln!(
            "leakhound: recorded the assessment of {} tables in {shown} as run {id} (`leakhound report --run {id}` counts people across every assessment of it)",
            assessment.tables.len()
        );
    }
    Ok(())
}

/// Keyed fingerprints of estate runs and kept assessments live in their own domain
/// (tags 0x80 and up), so they never equal the `trace` index's fingerprints of the same
/// values.
const ESTATE_TAG: u8 = 0x80;

/// Totals whose tables hash identifiers under `key` and report them.
pub(crate) fn keyed_totals(key: &leakhound_trace::Key) -> leakhound_assess::Totals {
    let key = key.clone();
    leakhound_assess::Totals::keyed(Arc::new(
        move |kind: leakhound_assess::Kind, normal: &str| {
            key.fingerprint(ESTATE_TAG | kind as u8, normal)
        },
    ))
}

/// The keyed identities of `tables`, as the store keeps them.
pub(crate) fn keyed_identities(tables: &[TableReport]) -> Vec<leakhound_store::Identity> {
    use leakhound_assess::Kind;
    use leakhound_store::IdentityClass;
    tables
        .iter()
        .flat_map(|table| table.identities.iter())
        .filter_map(|i| {
            let class = if Kind::STRONG.contains(&i.kind) {
                IdentityClass::Strong
            } else if Kind::CONTACTS.contains(&i.kind) {
                IdentityClass::Contact
            } else if i.kind == Kind::Vin {
                IdentityClass::Vehicle
            } else {
                return None;
            };
            Some(leakhound_store::Identity {
                class,
                kind: i.kind as u8,
                fp: i.fp,
                tie: i.tie,
                group: i.group,
                shared: i.shared,
            })
        })
        .collect()
}

/// What the datastore keeps of a table: counts and the sensitive columns' verdicts.
pub(crate) fn stored(t: &TableReport) -> AssessmentRow {
    let columns: Vec<&leakhound_assess::ColumnReport> =
        t.columns.iter().filter(|c| c.kind.is_some()).collect();
    AssessmentRow {
        source: t.source.clone(),
        format: t.format.to_string(),
        rows: t.rows,
        distinct_people: t.distinct_people,
        distinct_vehicles: t.distinct_vehicles,
        detail: serde_json::json!({
            "columns": columns,
            "distinct": t.distinct,
            "distinct_people_min": t.distinct_people_min,
            "distinct_people_max": t.distinct_people_max,
            "shared_contacts": t.shared_contacts,
        })
        .to_string(),
        ..AssessmentRow::default()
    }
}

fn finish(a: &AssessArgs, assessment: Assessment) -> anyhow::Result<u8> {
    let Assessment {
        mut tables,
        problems,
        totals,
    } = assessment;
    tables.sort_by(|x, y| x.source.cmp(&y.source));
    let (people, people_min, people_max) = totals.people();
    let summary = SummaryRecord {
        tables: totals.tables(),
        rows: totals.rows(),
        distinct_people: people,
        distinct_people_min: people_min,
        distinct_people_max: people_max,
        distinct_vehicles: totals.vehicles(),
        unreadable: problems
            .iter()
            .filter(|p| p.kind == ProblemKind::Unreadable)
            .count(),
    };
    let mut out = output::open(a.output.as_deref())?;
    if a.format == "json" {
        let doc = Document {
            tool: "leakhound",
            version: env!("CARGO_PKG_VERSION"),
            tables: &tables,
            summary: &summary,
        };
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else if a.format == "markdown" {
        markdown(&mut out, &tables, &summary)?;
    } else {
        human(&mut out, &tables, &summary)?;
    }
    out.flush()?;
    if tables.is_empty() && summary.unreadable > 0 {
        anyhow::bail!("no table could be read ({} unreadable)", summary.unreadable);
    }
    let sensitive = tables
        .iter()
        .any(|t| t.columns.iter().any(|c| c.kind.is_some()));
    Ok(if sensitive {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}

fn human(out: &mut dyn Write, tables: &[TableReport], s: &SummaryRecord) -> std::io::Result<()> {
    for t in tables {
        writeln!(
            out,
            "{} ({}): {} rows, {} people{}, {} vehicles",
            crate::output::safe(&t.source),
            t.format,
            t.rows,
            t.distinct_people,
            bounds(
                t.distinct_people,
                t.distinct_people_min,
                t.distinct_people_max
            ),
            t.distinct_vehicles
        )?;
        let width = t
            .columns
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(6)
            .clamp(6, 40);
        for c in t.columns.iter().filter(|c| c.kind.is_some()) {
            let kind = kind_name(c.kind);
            let pad = width.saturating_sub(c.name.chars().count());
            writeln!(
                out,
                "  {}{}  {:<12} {:>6.1}% valid  ({} confidence)",
                crate::output::safe(&c.name),
                " ".repeat(pad),
                kind,
                c.valid_ratio * 100.0,
                c.confidence.unwrap_or("-")
            )?;
        }
        for c in &t.shared_contacts {
            let why = match c.reason {
                "placeholder" => "a placeholder",
                "several_ids" => "on the rows of several identity numbers",
                _ => "seen with many other contacts",
            };
            writeln!(
                out,
                "  shared contact in {}: {} on {} rows ({why}): joins nobody",
                crate::output::safe(&c.column),
                crate::output::safe(&c.example),
                c.rows
            )?;
        }
        let plain = t.columns.iter().filter(|c| c.kind.is_none()).count();
        if plain > 0 {
            writeln!(out, "  ({plain} other columns hold nothing sensitive)")?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{} tables, {} rows: {} distinct people{} and {} distinct vehicles exposed (a person in several tables counts once).",
        s.tables,
        s.rows,
        s.distinct_people,
        bounds(s.distinct_people, s.distinct_people_min, s.distinct_people_max),
        s.distinct_vehicles
    )
}

/// The kind's name as json gives it (`resident_id`).
fn kind_name(kind: Option<leakhound_assess::Kind>) -> String {
    kind.and_then(|k| serde_json::to_value(k).ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Text in a markdown table cell: a pipe or a line break would end the cell.
fn md_cell(s: &str) -> String {
    crate::output::safe(s)
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// A report to paste into a ticket or a notification to the regulator: the people
/// figure with its bounds first, then one row per table, then the shared contacts.
fn markdown(out: &mut dyn Write, tables: &[TableReport], s: &SummaryRecord) -> std::io::Result<()> {
    writeln!(out, "# leakhound assessment\n")?;
    writeln!(
        out,
        "**{} distinct people** (at least {}, at most {}) and **{} distinct vehicles** in {} {}, {} rows. A person in several tables counts once; the method is in docs/assess.md, \"How people are counted\".\n",
        s.distinct_people,
        s.distinct_people_min,
        s.distinct_people_max,
        s.distinct_vehicles,
        s.tables,
        if s.tables == 1 { "table" } else { "tables" },
        s.rows
    )?;
    writeln!(
        out,
        "| Table | Format | Rows | People (at least–at most) | Vehicles | Personal data columns |\n|---|---|---:|---:|---:|---|"
    )?;
    for t in tables {
        let columns: Vec<String> = t
            .columns
            .iter()
            .filter(|c| c.kind.is_some())
            .map(|c| format!("{} ({})", md_cell(&c.name), kind_name(c.kind)))
            .collect();
        writeln!(
            out,
            "| {} | {} | {} | {} ({}–{}) | {} | {} |",
            md_cell(&t.source),
            t.format,
            t.rows,
            t.distinct_people,
            t.distinct_people_min,
            t.distinct_people_max,
            t.distinct_vehicles,
            if columns.is_empty() {
                "none".to_string()
            } else {
                columns.join(", ")
            }
        )?;
    }
    let shared: Vec<(&TableReport, &leakhound_assess::SharedContactReport)> = tables
        .iter()
        .flat_map(|t| t.shared_contacts.iter().map(move |c| (t, c)))
        .collect();
    if !shared.is_empty() {
        writeln!(
            out,
            "\n## Shared contacts (joined to nobody)\n\n| Table | Column | Example | Rows | Why |\n|---|---|---|---:|---|"
        )?;
        for (t, c) in shared {
            writeln!(
                out,
                "| {} | {} | `{}` | {} | {} |",
                md_cell(&t.source),
                md_cell(&c.column),
                md_cell(&c.example).replace('`', "'"),
                c.rows,
                c.reason
            )?;
        }
    }
    Ok(())
}

/// ` (at least 90, at most 120)` when the data leaves room either side of the estimate.
fn bounds(best: u64, min: u64, max: u64) -> String {
    if min == best && max == best {
        String::new()
    } else {
        format!(" (at least {min}, at most {max})")
    }
}
