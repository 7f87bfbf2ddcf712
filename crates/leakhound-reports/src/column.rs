//! How every format shows a table-level finding (one column's values for one rule):
//! the same fields and the same one-line description, examples masked unless
//! revealing.

use leakhound_findings::{Finding, TableCell};
use serde::Serialize;

/// A table-level finding's column, as JSON and SARIF carry it.
#[derive(Debug, Serialize)]
pub(crate) struct ShownColumn {
    /// Cells the rule matched in the column.
    cells: u64,
    /// Distinct values among them.
    distinct: u64,
    /// First and last data row holding one.
    first_row: u64,
    last_row: u64,
    /// Up to five distinct values, masked unless revealing.
    examples: Vec<String>,
}

/// `f`'s column, if it is a table-level finding.
pub(crate) fn shown(f: &Finding, reveal: bool) -> Option<ShownColumn> {
    let v = f.column_values.as_deref()?;
    Some(ShownColumn {
        cells: f.count.unwrap_or(0),
        distinct: v.distinct,
        first_row: f.cell.as_ref().map_or(0, |c| c.row),
        last_row: v.last_row,
        examples: v.shown_examples(reveal),
    })
}

/// `table customers, ` when the file holds several tables (a dump, a database, a
/// workbook): the one the cell is in. Empty for a file that is one table.
pub(crate) fn table_named(f: &Finding, cell: &TableCell) -> String {
    cell.name
        .strip_prefix(f.location.path.as_str())
        .and_then(|t| t.strip_prefix('!'))
        .map(|t| format!("table {t}, "))
        .unwrap_or_default()
}

/// `column 手机号: 3 cells, 2 distinct, rows 1-3; e.g. 139*****678, 139*****679`
/// (with `table T, ` first for a file that holds several tables).
pub(crate) fn describe(f: &Finding, reveal: bool) -> Option<String> {
    let v = f.column_values.as_deref()?;
    let cell = f.cell.as_deref()?;
    let table = table_named(f, cell);
    let cells = f.count.unwrap_or(0);
    Some(format!(
        "{table}column {}: {} {}, {} distinct, rows {}-{}; e.g. {}",
        cell.column,
        cells,
        if cells == 1 { "cell" } else { "cells" },
        v.distinct,
        cell.row,
        v.last_row,
        v.shown_examples(reveal).join(", ")
    ))
}
