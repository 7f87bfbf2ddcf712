//! Tabular data as tables: CSV/TSV, JSON, JSON Lines, SQL dumps, spreadsheets, Parquet,
//! SQLite files (damaged ones recovered from their pages) and live PostgreSQL/MySQL
//! databases, each read into one shape, a [`Table`] (name, column names, rows of
//! cells) handed to a [`TableSink`].
//!
//! Three capabilities consume tables: `scan` (findings per cell), `assess` (column
//! kinds, people) and `trace` (index and match). They all read through this crate, so
//! whatever format one reads, all read, and a column is named the same way in each.
//! Nothing here classifies a value or counts people: the only value test is whether a
//! first row is data or a header.
//!
//! Layout: [`table`] is the interface; `sources`, `json`, `sqldump`, `workbook`,
//! `columnar` and `databases` read one family of formats each; `stream` reads big
//! files in constant memory; [`read`] picks the reader for a file, blob or URL;
//! [`places`] maps a byte offset of a table file back to its cell.
#![deny(missing_docs)]

mod columnar;
mod databases;
mod json;
mod json_stream;
mod lines;
pub mod places;
pub mod read;
mod rows;
mod sources;
mod sqldump;
mod sqlite_pages;
mod stray_quotes;
mod stream;
pub mod table;
mod workbook;

pub use databases::DatabaseError;
pub use read::{
    is_binary_table, is_database_url, is_workbook, read_blob, read_database, read_path,
};
pub use stream::STREAM_ABOVE;
pub use table::{Meter, Row, RowBuffer, RowSource, Table, TableSink, Vecs};
