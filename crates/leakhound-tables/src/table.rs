//! The one interface between readers and what consumes tables (`scan`, `assess`,
//! `trace`): a table is a name, column names and rows of cells, handed to a sink.

use leakhound_inputs::Problem;
use std::sync::atomic::{AtomicU64, Ordering};

/// One table being read. Rows come one at a time so a streamed file or a live table
/// never sits in memory whole; each row has as many cells as `columns` (missing
/// cells are empty).
pub struct Table<'a> {
    /// File path, `!` for archive members and tables inside a dump or database file,
    /// or `schema.table` for a live database.
    pub source: &'a str,
    /// `csv`, `tsv`, `json`, `jsonl`, `sql`, `sqlite` or `postgres`.
    pub format: &'static str,
    /// Column names (header, dotted JSON path, or `column_N`).
    pub columns: Vec<String>,
    /// The rows, in order.
    pub rows: &'a mut dyn Iterator<Item = Vec<String>>,
}

/// What readers hand tables and problems to.
pub trait TableSink {
    /// One table; the sink reads as many rows as it wants.
    fn table(&mut self, table: Table<'_>);
    /// Something that could not be read (the rest goes on).
    fn problem(&mut self, problem: Problem);
}

/// How far a read has got, for a progress line: updated by the readers as they go,
/// read from another thread.
#[derive(Debug, Default)]
pub struct Meter {
    bytes: AtomicU64,
    rows: AtomicU64,
}

impl Meter {
    /// Bytes of files read so far (a streamed file counts as it is read).
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    /// Table rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }
    pub(crate) fn add_bytes(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn add_rows(&self, n: u64) {
        self.rows.fetch_add(n, Ordering::Relaxed);
    }
}
