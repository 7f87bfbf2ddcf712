//! What `assess` and `trace` read: files and folders (walked, in a stable order) and
//! live databases given as URLs, all handed to one table sink.

use anyhow::Context;
use leakhound_inputs::walk::{walk, Entry, WalkOptions};
use leakhound_inputs::{Limits, Problem, ProblemKind};
use leakhound_tables::Meter;
use leakhound_tables::{read_database, read_path, TableSink};
use std::path::PathBuf;
use std::sync::Mutex;

/// Is this argument a live database rather than a path?
pub fn is_database_url(arg: &std::path::Path) -> bool {
    arg.to_str().is_some_and(leakhound_tables::is_database_url)
}

/// How table sources are read: shared by `assess` and `trace`.
#[derive(clap::Args)]
pub struct ReadArgs {
    /// Skip files larger than this that must be read whole (JSON, archives; about 4x
    /// the file in memory). CSV/TSV files and SQL dumps are streamed whatever their
    /// size.
    #[arg(long, value_name = "SIZE", value_parser = crate::args::parse_size, default_value = "1G")]
    pub max_file_size: u64,
    /// CSV/TSV files and SQL dumps larger than this are streamed (constant memory)
    /// rather than read whole.
    #[arg(long, value_name = "SIZE", value_parser = crate::args::parse_size, default_value = "64M")]
    pub stream_above: u64,
    /// No warnings and no progress line on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

impl ReadArgs {
    /// The reading these flags ask for, with `sample` rows per live table.
    pub fn reading(&self, sample: Option<u64>) -> Reading {
        Reading {
            limits: Limits {
                max_file_size: self.max_file_size,
                ..Limits::default()
            },
            stream_above: self.stream_above,
            sample,
        }
    }
}

/// How table sources are read.
pub struct Reading {
    /// Size limits for files read whole.
    pub limits: Limits,
    /// CSV/TSV files above this are streamed.
    pub stream_above: u64,
    /// Rows per live table (`None`: all).
    pub sample: Option<u64>,
}

/// Every file under `paths`, sorted, so results do not depend on thread timing; and
/// the problems met listing them.
pub fn files(paths: &[PathBuf]) -> anyhow::Result<(Vec<PathBuf>, Vec<Problem>)> {
    let found: Mutex<(Vec<PathBuf>, Vec<Problem>)> = Mutex::new((Vec::new(), Vec::new()));
    walk(paths, &WalkOptions::default(), || {
        |entry: Entry| {
            if let Ok(mut f) = found.lock() {
                match entry {
                    Entry::File(p) => f.0.push(p),
                    // Container images hold files, not tables: `scan` reads them.
                    Entry::Image(_) => {}
                    Entry::Error(path, message) => f.1.push(Problem {
                        path,
                        message,
                        kind: ProblemKind::Unreadable,
                    }),
                }
            }
        }
    })
    .context("walking")?;
    let (mut files, problems) = found
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a walker thread failed"))?;
    files.sort();
    Ok((files, problems))
}

/// Read every source (paths and database URLs) into `sink`; listing problems go to
/// the sink too. A database that cannot be read is an error: the user named it.
pub fn read_all(
    sources: &[PathBuf],
    reading: &Reading,
    meter: &Meter,
    sink: &mut dyn TableSink,
) -> anyhow::Result<()> {
    crate::args::named_paths_exist(sources)?;
    let paths: Vec<PathBuf> = sources
        .iter()
        .filter(|p| !is_database_url(p))
        .cloned()
        .collect();
    for url in sources
        .iter()
        .filter(|p| is_database_url(p))
        .filter_map(|p| p.to_str())
    {
        read_database(url, reading.sample, sink)
            .with_context(|| format!("reading {}", crate::datastore::shown(url)))?;
    }
    if paths.is_empty() {
        return Ok(());
    }
    let (files, problems) = files(&paths)?;
    for p in problems {
        sink.problem(p);
    }
    for path in files {
        let shown = path.display().to_string();
        read_path(
            &path,
            &shown,
            &reading.limits,
            reading.stream_above,
            meter,
            sink,
        );
    }
    Ok(())
}
