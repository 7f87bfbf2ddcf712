//! Spreadsheets, SQLite databases and Parquet files scanned cell by cell. As bytes they
//! are zipped XML, B-tree pages and compressed column chunks: matching them raw finds
//! a few strings at best (a workbook's phone numbers sit in `sharedStrings.xml`, with
//! no row or column). Read as tables, every cell is matched and every finding says
//! which sheet or table, column and row it is in.

use crate::{locate, BlobFinding, CellRef, Scanner};
use leakhound_inputs::Problem;
use leakhound_tables::{Row, Table, TableSink};

/// Cells are matched in batches of about this many bytes: few matcher calls, bounded
/// memory, and a location trace (many coordinate pairs) still seen as one.
const BATCH: usize = 4 << 20;

/// Longest cell text kept with a finding.
const MAX_CELL_TEXT: usize = 240;

/// What reading a table file gave: findings, and what could not be read.
pub(crate) struct TableScan {
    pub(crate) findings: Vec<BlobFinding>,
    pub(crate) problems: Vec<String>,
    pub(crate) tables: usize,
}

/// Read the tables in `bytes` (at `path`) and match every cell.
pub(crate) fn scan_tables(scanner: &Scanner, path: &str, bytes: &[u8]) -> TableScan {
    let mut sink = Cells {
        scanner,
        path,
        out: TableScan {
            findings: Vec::new(),
            problems: Vec::new(),
            tables: 0,
        },
    };
    leakhound_tables::read_blob(path, bytes, &scanner.options.limits, &mut sink);
    sink.out
}

struct Cells<'s> {
    scanner: &'s Scanner,
    path: &'s str,
    out: TableScan,
}

/// Where a cell of the batch starts, and which it is.
struct CellStart {
    at: usize,
    row: u64,
    field: usize,
}

impl TableSink for Cells<'_> {
    fn table(&mut self, table: Table<'_>) {
        self.out.tables += 1;
        // `book.xlsx!Sheet1` is stored as `!Sheet1`: the result is cached by content
        // and the same bytes may sit at another path.
        let suffix = table
            .source
            .strip_prefix(self.path)
            .unwrap_or(table.source)
            .to_string();
        let mut batch = Batch {
            text: Vec::new(),
            starts: Vec::new(),
        };
        let mut row = Row::default();
        let mut n = 0u64;
        while table.rows.next_into(&mut row) {
            for (field, cell) in row.cells().enumerate() {
                if cell.is_empty() {
                    continue;
                }
                batch.starts.push(CellStart {
                    at: batch.text.len(),
                    row: n + 1,
                    field,
                });
                batch.text.extend_from_slice(cell.as_bytes());
                batch.text.push(b'\t');
            }
            batch.text.push(b'\n');
            n += 1;
            if batch.text.len() >= BATCH {
                self.flush(&mut batch, &suffix, &table.columns);
            }
        }
        self.flush(&mut batch, &suffix, &table.columns);
    }

    fn problem(&mut self, problem: Problem) {
        self.out.problems.push(problem.message);
    }
}

struct Batch {
    text: Vec<u8>,
    starts: Vec<CellStart>,
}

impl Cells<'_> {
    fn flush(&mut self, batch: &mut Batch, suffix: &str, columns: &[String]) {
        if batch.starts.is_empty() {
            batch.text.clear();
            return;
        }
        let matches = self.scanner.matcher.scan(&batch.text);
        for mut f in locate::locate(&batch.text, &matches) {
            let offset = usize::try_from(f.offset).unwrap_or(usize::MAX);
            let Some(i) = batch
                .starts
                .partition_point(|c| c.at <= offset)
                .checked_sub(1)
            else {
                continue;
            };
            let cell = &batch.starts[i];
            let end = batch
                .starts
                .get(i + 1)
                .map_or(batch.text.len(), |c| c.at)
                .saturating_sub(1)
                .max(cell.at);
            let text = String::from_utf8_lossy(&batch.text[cell.at..end]);
            let text = text.trim_end_matches(['\t', '\n']);
            f.line = cell.row;
            f.column = cell.field as u64 + 1;
            f.offset = 0;
            f.line_text = text.chars().take(MAX_CELL_TEXT).collect::<String>().into();
            // A cell has no room for a `leakhound:allow` comment.
            f.inline_allowed = false;
            f.cell = Some(Box::new(CellRef {
                suffix: suffix.to_string(),
                column: columns
                    .get(cell.field)
                    .cloned()
                    .unwrap_or_else(|| format!("column_{}", cell.field + 1)),
                row: cell.row,
            }));
            self.out.findings.push(f);
        }
        batch.text.clear();
        batch.starts.clear();
    }
}
