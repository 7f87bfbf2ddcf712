//! Reading structured files as rows of named cells: CSV/TSV (delimiter and header
//! sniffed) and JSON / JSON Lines (nested objects flattened to dotted column names).

use serde_json::Value;

/// A table's column names and rows, each row as many cells as columns.
pub(crate) struct Rows {
    pub format: &'static str,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

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
        "json" => one(json(text)),
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
        _ => jsonl(text).map(|(rows, note)| (vec![(None, rows)], note)),
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
    let columns = take_header(&mut rows);
    Ok((
        Rows {
            format: if delimiter == b'\t' { "tsv" } else { "csv" },
            columns,
            rows,
        },
        note,
    ))
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
        crate::kinds::recognise(c, &crate::kinds::Column::new("")).is_none()
            && c.parse::<f64>().is_err()
    })
}

fn json(text: &str) -> Result<Rows, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let records: Vec<&Value> = match &doc {
        Value::Array(items) => items.iter().collect(),
        // `{"data": [...]}`: the largest array of objects inside.
        Value::Object(map) => map
            .values()
            .filter_map(Value::as_array)
            .max_by_key(|a| a.len())
            .map(|a| a.iter().collect())
            .unwrap_or_else(|| vec![&doc]),
        _ => return Err("not an array or object".into()),
    };
    Ok(tabulate("json", records))
}

/// Lines that are not JSON are skipped and counted; a file with no JSON line at all is
/// not a JSON Lines table.
fn jsonl(text: &str) -> Result<(Rows, Option<String>), String> {
    let mut values = Vec::new();
    let mut bad = crate::stream::BadLines::default();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        match serde_json::from_str::<Value>(line) {
            Ok(v) => values.push(v),
            Err(e) => bad.note(n as u64 + 1, &e),
        }
    }
    match bad.message() {
        Some(m) if values.is_empty() => Err(m),
        note => Ok((tabulate("jsonl", values.iter().collect()), note)),
    }
}

/// Records as rows; the columns are every flattened key, in order of first appearance.
fn tabulate(format: &'static str, records: Vec<&Value>) -> Rows {
    let mut columns: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut flat_rows = Vec::with_capacity(records.len());
    for r in records {
        let mut cells = Vec::new();
        flatten(r, String::new(), &mut cells);
        for (k, _) in &cells {
            if !index.contains_key(k) {
                index.insert(k.clone(), columns.len());
                columns.push(k.clone());
            }
        }
        flat_rows.push(cells);
    }
    let rows = flat_rows
        .into_iter()
        .map(|cells| place(cells, &index, columns.len()))
        .collect();
    Rows {
        format,
        columns,
        rows,
    }
}

/// A record's flattened cells placed in their columns (keys without a column are
/// dropped).
pub(crate) fn place(
    cells: Vec<(String, String)>,
    index: &std::collections::HashMap<String, usize>,
    width: usize,
) -> Vec<String> {
    let mut row = vec![String::new(); width];
    for (k, v) in cells {
        if let Some(&i) = index.get(&k) {
            if row[i].is_empty() {
                row[i] = v;
            } else {
                // Several values under one path (an array): keep them all.
                row[i].push('\n');
                row[i].push_str(&v);
            }
        }
    }
    row
}

pub(crate) fn flatten(v: &Value, path: String, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                flatten(x, p, out);
            }
        }
        Value::Array(items) => {
            let p = format!("{path}[]");
            for x in items {
                flatten(x, p.clone(), out);
            }
        }
        Value::Null => {}
        Value::String(s) => out.push((path, s.clone())),
        other => out.push((path, other.to_string())),
    }
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
