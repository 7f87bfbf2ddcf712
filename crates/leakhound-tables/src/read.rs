//! Which reader a source calls for: a file read whole or streamed, an archive's members,
//! a live database. Every reader hands its tables to the same [`TableSink`].

use crate::databases::{self, DatabaseError};
use crate::table::{Meter, Row, RowSource, Table, TableSink};
use crate::{columnar, sources, stream, workbook};
use leakhound_inputs::archive::{expand, Visitor};
use leakhound_inputs::{decode, Limits, Problem, ProblemKind};

/// Read the tables of the file at `path` (shown as `shown`): CSV/TSV files larger
/// than `stream_above` bytes are streamed in constant memory; anything else is read
/// whole and goes through [`read_blob`] (archives, SQLite files, JSON, SQL dumps),
/// within `limits.max_file_size`. The meter counts bytes and rows as they pass.
pub fn read_path(
    path: &std::path::Path,
    shown: &str,
    limits: &Limits,
    stream_above: u64,
    meter: &Meter,
    sink: &mut dyn TableSink,
) {
    let problem = |message: String, kind| Problem {
        path: shown.to_string(),
        message,
        kind,
    };
    let size = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) => return sink.problem(problem(e.to_string(), ProblemKind::Unreadable)),
    };
    let mut metered = Metered { inner: sink, meter };
    if let Some(name) = stream::streamable(path, shown, size, stream_above) {
        return match sources::format_of(&name) {
            Some("sql") => stream::read_sql_file(path, &name, meter, &mut metered),
            Some("jsonl") => stream::read_jsonl_file(path, &name, meter, &mut metered),
            Some("json") => stream::read_json_file(path, &name, meter, &mut metered),
            _ => stream::read_csv_file(path, &name, meter, &mut metered),
        };
    }
    if limits.max_file_size > 0 && size > limits.max_file_size {
        return metered.problem(problem(
            format!(
                "larger than --max-file-size ({size} bytes) and not a CSV/TSV that can be streamed"
            ),
            ProblemKind::Skipped,
        ));
    }
    match std::fs::read(path) {
        Ok(bytes) => {
            meter.add_bytes(bytes.len() as u64);
            read_blob(shown, &bytes, limits, &mut metered);
        }
        Err(e) => metered.problem(problem(e.to_string(), ProblemKind::Unreadable)),
    }
}

/// Is this a table file that is not text: a spreadsheet (by name), a SQLite database
/// or a Parquet file (by content)? The scanner reads these cell by cell instead of as
/// bytes, where a workbook is zipped XML and a database is pages.
pub fn is_binary_table(path: &str, bytes: &[u8]) -> bool {
    workbook::is_workbook(path) || columnar::is_parquet(path, bytes) || databases::is_sqlite(bytes)
}

/// Is this path a spreadsheet (taken whole, not opened as a zip)?
pub fn is_workbook(path: &str) -> bool {
    workbook::is_workbook(path)
}

/// Read the tables in `bytes` found at `path`: a table file, or an archive or
/// compressed stream holding some. Files that are not tables are ignored; tables that
/// cannot be parsed are reported as problems.
pub fn read_blob(path: &str, bytes: &[u8], limits: &Limits, sink: &mut dyn TableSink) {
    struct Leaves<'s> {
        sink: &'s mut dyn TableSink,
    }
    impl Visitor for Leaves<'_> {
        fn whole(&mut self, path: &str) -> bool {
            workbook::is_workbook(path)
        }
        fn leaf(&mut self, path: &str, bytes: &[u8]) {
            if workbook::is_workbook(path) {
                if let Err(message) = workbook::workbook_tables(path, bytes, self.sink) {
                    self.sink.problem(Problem {
                        path: path.to_string(),
                        message: format!("not a readable spreadsheet: {message}"),
                        kind: ProblemKind::Unreadable,
                    });
                }
                return;
            }
            if columnar::is_parquet(path, bytes) {
                if let Err(message) = columnar::parquet_table(path, bytes, self.sink) {
                    self.sink.problem(Problem {
                        path: path.to_string(),
                        message: format!("not a readable Parquet file: {message}"),
                        kind: ProblemKind::Unreadable,
                    });
                }
                return;
            }
            if databases::is_sqlite(bytes) {
                if let Err(message) = databases::sqlite_tables(path, bytes, self.sink) {
                    self.sink.problem(Problem {
                        path: path.to_string(),
                        message: format!("SQLite database: {message}"),
                        kind: ProblemKind::Unreadable,
                    });
                }
                return;
            }
            let Some(format) = sources::format_of(path) else {
                return;
            };
            let text = decode::to_utf8(bytes, decode::sniff(bytes));
            let text = String::from_utf8_lossy(&text);
            match sources::read(format, &text) {
                Ok((tables, note)) => {
                    if let Some(message) = note {
                        self.sink.problem(Problem {
                            path: path.to_string(),
                            message,
                            kind: ProblemKind::Unreadable,
                        });
                    }
                    for (name, rows) in tables {
                        // A table inside a dump is one layer in, like an archive member.
                        let source = match name {
                            Some(n) => format!("{path}!{n}"),
                            None => path.to_string(),
                        };
                        rows.hand_to(&source, self.sink);
                    }
                }
                Err(message) => self.sink.problem(Problem {
                    path: path.to_string(),
                    message: format!("not a readable {format} table: {message}"),
                    kind: ProblemKind::Unreadable,
                }),
            }
        }
        fn problem(&mut self, problem: Problem) {
            self.sink.problem(problem);
        }
    }
    expand(path, bytes, limits, &mut Leaves { sink });
}

/// Is `arg` a live database this crate can read (`postgres://`, `postgresql://`,
/// `mysql://`, `mariadb://`)?
pub fn is_database_url(arg: &str) -> bool {
    ["postgres://", "postgresql://", "mysql://", "mariadb://"]
        .iter()
        .any(|s| arg.starts_with(s))
}

/// Read every table of a live PostgreSQL, MySQL or MariaDB database (read-only
/// session): the first `sample` rows of each, or all of them, streamed, with `None`.
/// Sources are `schema.table` (`database.table` for MySQL).
pub fn read_database(
    url: &str,
    sample: Option<u64>,
    sink: &mut dyn TableSink,
) -> Result<(), DatabaseError> {
    if url.starts_with("mysql://") || url.starts_with("mariadb://") {
        databases::mysql_tables(url, sample, sink)?;
    } else {
        databases::postgres_tables(url, sample, sink)?;
    }
    Ok(())
}

/// Counts the rows of every table passing through into the meter.
struct Metered<'s> {
    inner: &'s mut dyn TableSink,
    meter: &'s Meter,
}

impl TableSink for Metered<'_> {
    fn table(&mut self, table: Table<'_>) {
        let mut counted = CountedRows {
            inner: table.rows,
            meter: self.meter,
        };
        self.inner.table(Table {
            source: table.source,
            format: table.format,
            columns: table.columns,
            rows: &mut counted,
        });
    }
    fn problem(&mut self, problem: Problem) {
        self.inner.problem(problem);
    }
}

/// A table's rows, counted into the meter as they are read.
struct CountedRows<'r, 's> {
    inner: &'r mut dyn RowSource,
    meter: &'s Meter,
}

impl RowSource for CountedRows<'_, '_> {
    fn next_into(&mut self, row: &mut Row) -> bool {
        let more = self.inner.next_into(row);
        if more {
            self.meter.add_rows(1);
        }
        more
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects tables whole, for tests.
    #[derive(Default)]
    struct Collect {
        tables: Vec<(String, Vec<String>, Vec<Vec<String>>)>,
        problems: Vec<Problem>,
    }

    impl TableSink for Collect {
        fn table(&mut self, t: Table<'_>) {
            let rows = t.rows.vecs().collect();
            self.tables.push((t.source.to_string(), t.columns, rows));
        }
        fn problem(&mut self, p: Problem) {
            self.problems.push(p);
        }
    }

    #[test]
    fn a_table_file_is_sniffed_and_decoded_once() {
        let utf16: Vec<u8> = "\u{feff}name,phone\nA,13912345678\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let (s0, d0) = decode::work_on_this_thread();
        let mut c = Collect::default();
        read_blob("x.csv", &utf16, &Limits::default(), &mut c);
        let (s1, d1) = decode::work_on_this_thread();
        assert_eq!(c.tables.len(), 1);
        assert_eq!(c.tables[0].1, ["name", "phone"]);
        assert_eq!((s1 - s0, d1 - d0), (1, 1), "(sniffs, decodes)");
    }

    #[test]
    fn tables_in_a_dump_are_named_one_layer_in() {
        let dump =
            "INSERT INTO `users` (`id`,`phone`) VALUES (1,'13912345678'),(2,'13812345678');\n";
        let mut c = Collect::default();
        read_blob("d.sql", dump.as_bytes(), &Limits::default(), &mut c);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.tables.len(), 1);
        assert_eq!(c.tables[0].0, "d.sql!users");
        assert_eq!(c.tables[0].1, ["id", "phone"]);
        assert_eq!(c.tables[0].2.len(), 2);
    }

    proptest::proptest! {
        /// Every reader takes any bytes under any table name without panicking: a
        /// damaged export is reported, never a crash. (`fuzz/` has the same as a
        /// coverage-guided target.)
        #[test]
        fn any_bytes_under_any_name_never_panic(
            name in proptest::sample::select(vec![
                "t.csv", "t.tsv", "t.json", "t.jsonl", "t.sql", "t.xlsx", "t.xls", "t.ods", "t.parquet",
            ]),
            prefix in proptest::sample::select(vec![
                &b""[..], b"PK\x03\x04", b"PAR1", b"SQLite format 3\0", b"INSERT INTO t VALUES (", b"COPY t (a) FROM stdin;\n",
                b"{\"data\": [", b"\xd0\xcf\x11\xe0",
            ]),
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..2048),
        ) {
            let mut bytes = prefix.to_vec();
            bytes.extend_from_slice(&body);
            let mut c = Collect::default();
            read_blob(name, &bytes, &Limits::default(), &mut c);
        }
    }

    #[test]
    fn a_streamed_csv_that_stops_being_utf8_is_read_to_the_end() {
        // UTF-8, then a row in GBK (`张伟` as two double bytes), then UTF-8 again: the
        // row is kept with its bad bytes replaced and the rows after it are read.
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("mixed.csv");
        let mut bytes = "姓名,手机号\n李娜,13912345678\n".as_bytes().to_vec();
        bytes.extend_from_slice(b"\xd5\xc5\xce\xb0,13812345678\n");
        bytes.extend_from_slice("王芳,13712345678\n".as_bytes());
        std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{e}"));
        let mut c = Collect::default();
        read_path(
            &path,
            "mixed.csv",
            &Limits::default(),
            1,
            &Meter::default(),
            &mut c,
        );
        assert_eq!(c.tables.len(), 1);
        let rows = &c.tables[0].2;
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!(rows[0], ["李娜", "13912345678"]);
        assert!(rows[1][0].contains('\u{fffd}'), "{:?}", rows[1]);
        assert_eq!(rows[1][1], "13812345678");
        assert_eq!(rows[2], ["王芳", "13712345678"]);
    }

    #[test]
    fn a_sink_may_stop_reading_early() {
        struct FirstOnly(usize);
        impl TableSink for FirstOnly {
            fn table(&mut self, t: Table<'_>) {
                self.0 += t.rows.vecs().take(1).count();
            }
            fn problem(&mut self, _: Problem) {}
        }
        let mut s = FirstOnly(0);
        read_blob("a.csv", b"a\n1\n2\n3\n", &Limits::default(), &mut s);
        assert_eq!(s.0, 1);
    }

    /// A streamed JSON document past its column sample gives the rows its records give
    /// read as `Value` trees and flattened (nested objects, arrays, escapes, numbers,
    /// null, missing keys, keys first seen after the sample), and damage after the
    /// sample ends the rows where it starts.
    #[test]
    fn a_streamed_json_document_flattens_like_its_value_trees() {
        let records: Vec<serde_json::Value> = (0..10_400)
            .map(|i| {
                let mut r = serde_json::json!({
                    "id": i,
                    "name": format!("客户{i} \"q\" \\ \u{1F600}"),
                    "contact": {"mobile": format!("139{:08}", i * 7), "tags": ["a", i % 3, null]},
                    "amount": (i as f64) / 8.0,
                    "big": 18_446_744_073_709_551_615u64,
                    "ok": i % 2 == 0,
                });
                if i % 5 == 0 {
                    r["contact"].as_object_mut().map(|c| c.remove("mobile"));
                }
                if i > 10_100 {
                    r["later"] = serde_json::json!("not a column");
                }
                r
            })
            .collect();
        let doc = serde_json::json!({"total": 1, "data": records});
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("d.json");
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{e}"));
        let flat: Vec<Vec<(String, String)>> = records
            .iter()
            .map(|r| {
                let mut cells = Vec::new();
                crate::json::flatten(r, String::new(), &mut cells);
                cells
            })
            .collect();
        let mut columns: Vec<String> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (k, _) in flat.iter().take(10_000).flatten() {
            if !index.contains_key(k) {
                index.insert(k.clone(), columns.len());
                columns.push(k.clone());
            }
        }
        let expected: Vec<Vec<String>> = flat
            .into_iter()
            .map(|cells| crate::json::place(cells, &index, columns.len()))
            .collect();
        let read = |path: &std::path::Path| {
            let mut c = Collect::default();
            read_path(
                path,
                "d.json",
                &Limits::default(),
                1,
                &Meter::default(),
                &mut c,
            );
            c
        };
        let c = read(&path);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.tables.len(), 1);
        assert_eq!(c.tables[0].1, columns);
        assert_eq!(c.tables[0].2.len(), expected.len());
        for (i, (got, want)) in c.tables[0].2.iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "record {i}");
        }
        // Damage in record 10,200: the rows before it, and a problem.
        let at = text
            .match_indices("\"id\": 10200")
            .next()
            .map_or(0, |(at, _)| at);
        let mut damaged = text.clone();
        damaged.replace_range(at..at + 1, "#");
        std::fs::write(&path, &damaged).unwrap_or_else(|e| panic!("{e}"));
        let c = read(&path);
        assert_eq!(c.tables[0].2.len(), 10_200);
        assert_eq!(c.tables[0].2[..], expected[..10_200]);
        assert_eq!(c.problems.len(), 1, "{:?}", c.problems);
        assert!(c.problems[0].message.contains("damaged JSON"));
    }
}
