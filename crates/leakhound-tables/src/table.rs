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
    pub rows: &'a mut dyn RowSource,
}

/// One row's cells in one buffer that is filled again for the next row: reading a
/// long table allocates nothing per row or per cell (a `Vec<String>` per row was a
/// fifth of `assess`'s time on a million-row CSV).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Row {
    text: String,
    ends: Vec<usize>,
}

impl Row {
    /// Forget the cells, keeping the buffers.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }
    /// Add a cell at the end.
    pub fn push(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.ends.push(self.text.len());
    }
    /// How many cells.
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    /// No cells at all.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// Cell `i`, if the row has it.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).copied().unwrap_or(0),
            None => 0,
        };
        self.text.get(start..end)
    }
    /// The cells, in order.
    pub fn cells(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let cell = self.text.get(start..end).unwrap_or_default();
            start = end;
            cell
        })
    }
    /// The cells as owned strings, for a consumer that keeps rows.
    pub fn to_vec(&self) -> Vec<String> {
        self.cells().map(str::to_string).collect()
    }
    /// Fill from owned cells.
    pub fn set<S: AsRef<str>>(&mut self, cells: &[S]) {
        self.clear();
        for c in cells {
            self.push(c.as_ref());
        }
    }
}

/// Many rows in one buffer: their cells one after another, each cell's end and each
/// row's end. For a reader that parses many rows at once (an INSERT's tuples) and a
/// consumer that hands rows on in batches (`assess`'s checkers): reused, it allocates
/// only when it grows.
#[derive(Debug, Default, Clone)]
pub struct RowBuffer {
    text: String,
    /// Where each cell ends in `text`.
    cell_ends: Vec<usize>,
    /// Where each row ends in `cell_ends`.
    row_ends: Vec<usize>,
}

impl RowBuffer {
    /// Add a cell to the row being built.
    pub fn push_cell(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.cell_ends.push(self.text.len());
    }
    /// End the row being built (a row may have no cells).
    pub fn end_row(&mut self) {
        self.row_ends.push(self.cell_ends.len());
    }
    /// How many rows.
    pub fn len(&self) -> usize {
        self.row_ends.len()
    }
    /// No rows at all.
    pub fn is_empty(&self) -> bool {
        self.row_ends.is_empty()
    }
    /// Forget the rows, keeping the buffers.
    pub fn clear(&mut self) {
        self.text.clear();
        self.cell_ends.clear();
        self.row_ends.clear();
    }
    /// Row `r`'s cells (none past the end).
    pub fn row(&self, r: usize) -> impl Iterator<Item = &str> {
        let before = |ends: &[usize], i: usize| match i.checked_sub(1) {
            Some(p) => ends.get(p).copied().unwrap_or(0),
            None => 0,
        };
        let cells = before(&self.row_ends, r)..self.row_ends.get(r).copied().unwrap_or(0);
        let mut start = before(&self.cell_ends, cells.start);
        self.cell_ends
            .get(cells)
            .unwrap_or_default()
            .iter()
            .map(move |&end| {
                let cell = self.text.get(start..end).unwrap_or_default();
                start = end;
                cell
            })
    }
    /// Every row's cells, in order.
    pub fn rows(&self) -> impl Iterator<Item = impl Iterator<Item = &str>> {
        (0..self.len()).map(|r| self.row(r))
    }
    /// The widest row's cell count.
    pub fn width(&self) -> usize {
        let mut before = 0;
        self.row_ends
            .iter()
            .map(|&end| {
                let n = end - before;
                before = end;
                n
            })
            .max()
            .unwrap_or(0)
    }
}

/// Where a table's rows come from, one at a time into a [`Row`] the consumer owns and
/// reuses. Readers that build each row anyway (JSON, SQL dumps, databases) are
/// iterators of `Vec<String>` and are a `RowSource` as they are.
pub trait RowSource {
    /// Read the next row into `row` (its old cells are dropped); `false` at the end.
    fn next_into(&mut self, row: &mut Row) -> bool;
}

impl<I: Iterator<Item = Vec<String>>> RowSource for I {
    fn next_into(&mut self, row: &mut Row) -> bool {
        match self.next() {
            Some(cells) => {
                row.set(&cells);
                true
            }
            None => false,
        }
    }
}

impl dyn RowSource + '_ {
    /// The rows as owned cells, for consumers that keep them or do not need the speed.
    pub fn vecs(&mut self) -> Vecs<'_> {
        Vecs {
            source: self,
            row: Row::default(),
        }
    }
}

/// The rows of a [`RowSource`] as `Vec<String>`s (see [`RowSource::vecs`]).
pub struct Vecs<'s> {
    source: &'s mut dyn RowSource,
    row: Row,
}

impl Iterator for Vecs<'_> {
    type Item = Vec<String>;
    fn next(&mut self) -> Option<Vec<String>> {
        self.source
            .next_into(&mut self.row)
            .then(|| self.row.to_vec())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_keeps_its_cells_apart_empty_ones_included() {
        let mut row = Row::default();
        row.set(&["a", "", "张伟", "x,y"]);
        assert_eq!(row.len(), 4);
        assert_eq!(row.get(0), Some("a"));
        assert_eq!(row.get(1), Some(""));
        assert_eq!(row.get(2), Some("张伟"));
        assert_eq!(row.get(4), None);
        assert_eq!(row.cells().collect::<Vec<_>>(), ["a", "", "张伟", "x,y"]);
        row.clear();
        assert!(row.is_empty());
        row.push("b");
        assert_eq!(row.to_vec(), ["b"]);
    }

    #[test]
    fn a_row_buffer_keeps_rows_and_cells_apart() {
        let mut b = RowBuffer::default();
        for cell in ["a", "", "张伟"] {
            b.push_cell(cell);
        }
        b.end_row();
        b.end_row();
        b.push_cell("x,y");
        b.end_row();
        assert_eq!(b.len(), 3);
        assert_eq!(b.width(), 3);
        let rows: Vec<Vec<&str>> = b.rows().map(Iterator::collect).collect();
        assert_eq!(rows, [vec!["a", "", "张伟"], vec![], vec!["x,y"]]);
        assert_eq!(b.row(3).count(), 0, "past the end");
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.width(), 0);
    }

    #[test]
    fn an_iterator_of_rows_is_a_row_source_and_back() {
        let rows = vec![vec!["1".to_string(), "2".into()], vec!["3".into()]];
        let mut it = rows.clone().into_iter();
        let source: &mut dyn RowSource = &mut it;
        assert_eq!(source.vecs().collect::<Vec<_>>(), rows);
        let mut row = Row::default();
        assert!(!source.next_into(&mut row), "ended");
    }
}
