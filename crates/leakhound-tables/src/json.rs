//! JSON and JSON Lines as tables: records are rows, nested objects are flattened to
//! dotted column names (`owner.phones[]`).

use crate::rows::Rows;
use serde_json::Value;

pub(crate) fn json(text: &str) -> Result<Rows, String> {
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
pub(crate) fn jsonl(text: &str) -> Result<(Rows, Option<String>), String> {
    let mut values = Vec::new();
    let mut bad = BadLines::default();
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

/// Lines of a JSON Lines file that are not JSON: how many, and the first one's error.
#[derive(Default)]
pub(crate) struct BadLines {
    count: u64,
    first: Option<String>,
}

impl BadLines {
    pub(crate) fn note(&mut self, line: u64, error: &serde_json::Error) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(format!("line {line}: {error}"));
        }
    }

    /// What to report, if any line was bad.
    pub(crate) fn message(&self) -> Option<String> {
        let first = self.first.as_ref()?;
        Some(format!(
            "{} line{} not JSON, skipped (first: {first})",
            self.count,
            if self.count == 1 { " is" } else { "s are" }
        ))
    }
}
