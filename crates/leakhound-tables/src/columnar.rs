//! Parquet files from a data lake: one table per file, leaf columns named by their
//! dotted path (`owner.mobile`), rows read one at a time from the row groups. Snappy,
//! LZ4, gzip and zstd pages are read (zstd is what Spark and DuckDB write by default;
//! it adds the small zstd C library to the build). Brotli and LZO pages are reported
//! as unreadable.

use crate::table::{Table, TableSink};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row};

/// Parquet files start and end with `PAR1`; one named `.parquet` that only starts
/// with it is a torn copy, read so that the damage is reported.
pub(crate) fn is_parquet(path: &str, bytes: &[u8]) -> bool {
    bytes.starts_with(b"PAR1")
        && (bytes.len() >= 12 && bytes.ends_with(b"PAR1")
            || path.to_ascii_lowercase().ends_with(".parquet"))
}

/// Hand the file's table to `sink` as `path`.
pub(crate) fn parquet_table(
    path: &str,
    bytes: &[u8],
    sink: &mut dyn TableSink,
) -> Result<(), String> {
    let reader = SerializedFileReader::new(bytes::Bytes::copy_from_slice(bytes))
        .map_err(|e| e.to_string())?;
    let columns: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.path().string())
        .collect();
    let index: std::collections::HashMap<&str, usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let mut iter = reader.get_row_iter(None).map_err(|e| e.to_string())?;
    let mut failed = None;
    let width = columns.len();
    let mut rows = std::iter::from_fn(|| match iter.next()? {
        Ok(row) => {
            let mut cells = vec![String::new(); width];
            let mut flat = Vec::new();
            flatten_row(&row, "", &mut flat);
            for (name, value) in flat {
                // A list's elements share their column's path (`tags.list.element`).
                let slot = index.get(name.as_str()).copied().or_else(|| {
                    columns
                        .iter()
                        .position(|c| c.starts_with(&format!("{name}.")))
                });
                if let Some(i) = slot {
                    if !cells[i].is_empty() {
                        cells[i].push('\n');
                    }
                    cells[i].push_str(&value);
                }
            }
            Some(cells)
        }
        Err(e) => {
            failed = Some(e.to_string());
            None
        }
    });
    let table_columns = columns.clone();
    sink.table(Table {
        source: path,
        format: "parquet",
        columns: table_columns,
        rows: &mut rows,
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn flatten_row(row: &Row, prefix: &str, out: &mut Vec<(String, String)>) {
    for (name, field) in row.get_column_iter() {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        flatten_field(field, &path, out);
    }
}

fn flatten_field(field: &Field, path: &str, out: &mut Vec<(String, String)>) {
    match field {
        Field::Null => {}
        Field::Group(row) => flatten_row(row, path, out),
        Field::ListInternal(list) => {
            for f in list.elements() {
                flatten_field(f, path, out);
            }
        }
        Field::MapInternal(map) => {
            for (_, v) in map.entries() {
                flatten_field(v, path, out);
            }
        }
        Field::Str(s) => out.push((path.to_string(), s.clone())),
        Field::Bytes(b) => out.push((
            path.to_string(),
            String::from_utf8_lossy(b.data()).into_owned(),
        )),
        Field::Float(x) if x.fract() == 0.0 && x.abs() < 1e7 => {
            out.push((path.to_string(), format!("{}", *x as i64)))
        }
        Field::Double(x) if x.fract() == 0.0 && x.abs() < 1e17 => {
            out.push((path.to_string(), format!("{}", *x as i64)))
        }
        Field::Float(x) => out.push((path.to_string(), x.to_string())),
        Field::Double(x) => out.push((path.to_string(), x.to_string())),
        Field::Date(days) => out.push((path.to_string(), civil(*days))),
        other => out.push((path.to_string(), other.to_string())),
    }
}

/// Days since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian; Howard Hinnant's
/// days-to-civil).
fn civil(days: i32) -> String {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_become_dates() {
        assert_eq!(civil(0), "1970-01-01");
        assert_eq!(civil(18_842), "2021-08-03");
        assert_eq!(civil(-1), "1969-12-31");
        assert_eq!(civil(11_016), "2000-02-29");
    }

    #[test]
    fn junk_is_an_error_not_a_panic() {
        struct Nothing;
        impl TableSink for Nothing {
            fn table(&mut self, t: Table<'_>) {
                t.rows.vecs().for_each(drop);
            }
            fn problem(&mut self, _: leakhound_inputs::Problem) {}
        }
        let mut junk = b"PAR1".to_vec();
        junk.extend_from_slice(&[0xff; 64]);
        junk.extend_from_slice(b"PAR1");
        assert!(is_parquet("x", &junk));
        assert!(is_parquet("x.parquet", b"PAR1torn"));
        assert!(!is_parquet("x.bin", b"PAR1torn"));
        assert!(parquet_table("x.parquet", &junk, &mut Nothing).is_err());
    }
}
