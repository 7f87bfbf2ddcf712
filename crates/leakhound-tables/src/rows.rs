//! A table read whole: its column names and rows, and how the column names are found
//! (a header row, or `column_N`).

use crate::table::{Table, TableSink};

/// A table's column names and rows, each row as many cells as columns.
pub(crate) struct Rows {
    pub format: &'static str,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Rows {
    /// Hand these rows, named `source`, to a sink.
    pub(crate) fn hand_to(self, source: &str, sink: &mut dyn TableSink) {
        let mut rows = self.rows.into_iter();
        sink.table(Table {
            source,
            format: self.format,
            columns: self.columns,
            rows: &mut rows,
        });
    }
}

/// Column names for `rows`: the first row when it is a header (it is removed), else
/// `column_N`; every row is then padded to the width of the widest.
pub(crate) fn take_header(rows: &mut Vec<Vec<String>>) -> Vec<String> {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let header = rows.first().is_some_and(|first| looks_like_header(first));
    let columns = if header {
        let first = rows.remove(0);
        (0..width)
            .map(|i| {
                first
                    .get(i)
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| format!("column_{}", i + 1))
            })
            .collect()
    } else {
        (1..=width).map(|i| format!("column_{i}")).collect()
    };
    for r in rows.iter_mut() {
        r.resize(width, String::new());
    }
    columns
}

/// A first row is a header when none of its cells is data leakhound recognises and
/// none is a number.
pub(crate) fn looks_like_header(first: &[String]) -> bool {
    first.iter().all(|c| {
        let c = c.trim();
        !leakhound_validators::normal::is_identifier(c) && c.parse::<f64>().is_err()
    })
}
