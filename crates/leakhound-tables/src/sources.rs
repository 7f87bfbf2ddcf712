//! Reading a whole table file's text: which reader its name calls for, and CSV/TSV
//! with the delimiter and header sniffed (JSON in [`crate::json`], SQL dumps in
//! [`crate::sqldump`]).

use crate::json;
use crate::rows::{self, Rows};

/// Which reader a file's name calls for.
pub(crate) fn format_of(path: &str) -> Option<&'static str> {
    let name = path
        .rsplit(['/', '!'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    let ext = name.rsplit('.').next().unwrap_or("");
    match ext {
        "csv" | "txt" => Some("csv"),
        "tsv" | "tab" => Some("tsv"),
        "json" => Some("json"),
        "jsonl" | "ndjson" => Some("jsonl"),
        "sql" => Some("sql"),
        _ => None,
    }
}

/// The tables in a file: one for most formats (named `None`), one per table for a
/// SQL dump.
/// Tables, and a note on what was skipped inside them (bad JSON Lines lines).
pub(crate) type ReadTables = (Vec<(Option<String>, Rows)>, Option<String>);

pub(crate) fn read(format: &'static str, text: &str) -> Result<ReadTables, String> {
    let one = |r: Result<Rows, String>| r.map(|rows| (vec![(None, rows)], None));
    match format {
        "csv" | "tsv" => delimited(format, text).map(|(rows, note)| (vec![(None, rows)], note)),
        "json" => one(json::json(text)),
        "sql" => {
            let (tables, note) = crate::sqldump::read(text)?;
            Ok((
                tables
                    .into_iter()
                    .map(|(name, rows)| (Some(name), rows))
                    .collect(),
                note,
            ))
        }
        _ => json::jsonl(text).map(|(rows, note)| (vec![(None, rows)], note)),
    }
}

/// The delimiter that splits the first lines into the same number (> 1) of fields.
pub(crate) fn sniff_delimiter(text: &str, default: u8) -> u8 {
    let sample: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    let mut best = (default, 0usize);
    for d in [b',', b'\t', b';', b'|'] {
        let counts: Vec<usize> = sample
            .iter()
            .map(|l| l.bytes().filter(|&b| b == d).count())
            .collect();
        let Some(&first) = counts.first() else {
            continue;
        };
        let steady = counts.iter().filter(|&&c| c == first).count();
        if first > 0 && steady * 10 >= counts.len() * 8 && first * steady > best.1 {
            best = (d, first * steady);
        }
    }
    best.0
}

/// A CSV/TSV table, and a note when stray quotes had to be taken literally.
fn delimited(format: &'static str, text: &str) -> Result<(Rows, Option<String>), String> {
    let delimiter = sniff_delimiter(text, if format == "tsv" { b'\t' } else { b',' });
    let guard = crate::stray_quotes::QuoteGuard::new(text.as_bytes(), delimiter);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(guard);
    let mut rows: Vec<Vec<String>> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        rows.push(record.iter().map(str::to_string).collect());
    }
    let note = reader.get_ref().repairs().message();
    let columns = rows::take_header(&mut rows);
    Ok((
        Rows {
            format: if delimiter == b'\t' { "tsv" } else { "csv" },
            columns,
            rows,
        },
        note,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_one(format: &'static str, text: &str) -> Result<Rows, String> {
        read(format, text).map(|(mut v, _)| v.remove(0).1)
    }

    #[test]
    fn delimiters_and_headers_are_sniffed() {
        let r = read_one("csv", "name;phone\n张伟;13912345678\n李娜;13812345678\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.columns, ["name", "phone"]);
        assert_eq!(r.rows.len(), 2);
        let r = read_one("csv", "张伟,13912345678\n李娜,13812345678\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r.columns,
            ["column_1", "column_2"],
            "a data row is not a header"
        );
        assert_eq!(r.rows.len(), 2);
        let r = read_one("csv", "a\tb\n1\t2\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.format, "tsv");
    }

    #[test]
    fn json_is_flattened_to_dotted_columns() {
        let r = read_one(
            "json",
            r#"{"data":[{"id":1,"owner":{"name":"张伟","phones":["139","138"]}},{"id":2,"vin":"X"}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.columns, ["id", "owner.name", "owner.phones[]", "vin"]);
        assert_eq!(r.rows[0][2], "139\n138");
        assert_eq!(r.rows[1][3], "X");
        let l = read_one("jsonl", "{\"a\":1}\n\n{\"b\":2}\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(l.rows.len(), 2);
        // A bad line is skipped and counted; a file with no JSON line is no table.
        let (tables, note) =
            read("jsonl", "{\"a\":1}\nnot json\n{\"a\":2}\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(tables[0].1.rows.len(), 2);
        assert!(note.is_some_and(|n| n.contains("1 line is not JSON") && n.contains("line 2")));
        assert!(read_one("jsonl", "not json\n").is_err());
    }
}
