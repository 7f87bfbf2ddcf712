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

/// One JSON record's cells, flattened as [`flatten`] and [`place`] do, straight from
/// the text: no `Value` tree, no string per key or value, buffers kept from record to
/// record. Past a streamed file's first records (which fix its columns) every record
/// goes through here; building the tree and its maps was two thirds of reading a
/// JSON Lines file.
///
/// Keys are visited in the order written (a `Value` keeps them sorted); that only
/// changes the order of values within one cell, which needs one key to be spelt two
/// ways (`a: [1]` and `"a[]": 2`), or a key written twice (kept twice here).
pub(crate) struct Flattener {
    index: std::collections::HashMap<String, usize>,
    cells: Vec<String>,
    path: String,
    /// Each leaf's path and column in the previous record, by position: records of one
    /// file mostly have the same shape, so most leaves need no map lookup.
    last: Vec<(String, Option<usize>)>,
    leaf: usize,
}

impl Flattener {
    /// Cells for the columns of `index` (`width` of them).
    pub(crate) fn new(index: std::collections::HashMap<String, usize>, width: usize) -> Self {
        Flattener {
            index,
            cells: vec![String::new(); width],
            path: String::new(),
            last: Vec::new(),
            leaf: 0,
        }
    }

    /// Flatten one record; its cells are [`Flattener::cells`] until the next.
    pub(crate) fn record(&mut self, text: &str) -> Result<(), serde_json::Error> {
        for c in &mut self.cells {
            c.clear();
        }
        self.path.clear();
        self.leaf = 0;
        let mut de = serde_json::Deserializer::from_str(text);
        let read =
            serde::de::DeserializeSeed::deserialize(Leaf(self), &mut de).and_then(|()| de.end());
        if read.is_err() {
            for c in &mut self.cells {
                c.clear();
            }
        }
        read
    }

    /// The last record's cells, one per column.
    pub(crate) fn cells(&self) -> &[String] {
        &self.cells
    }

    /// A value at the current path: into its column's cell, after a line break if
    /// the cell has one already (an array's values).
    fn put(&mut self, value: impl std::fmt::Display) {
        use std::fmt::Write;
        if let Some(cell) = self.cell() {
            let _ = write!(cell, "{value}");
        }
    }

    /// A string at the current path, as [`Flattener::put`] without the formatting
    /// machinery (most leaves are strings).
    fn put_str(&mut self, value: &str) {
        if let Some(cell) = self.cell() {
            cell.push_str(value);
        }
    }

    /// The cell the current path's value goes into, a line break already added if it
    /// holds a value; `None` for a path that is not a column.
    fn cell(&mut self) -> Option<&mut String> {
        let column = match self.last.get(self.leaf) {
            Some((path, column)) if *path == self.path => *column,
            _ => {
                let column = self.index.get(self.path.as_str()).copied();
                let entry = (self.path.clone(), column);
                match self.last.get_mut(self.leaf) {
                    Some(slot) => *slot = entry,
                    None => self.last.push(entry),
                }
                column
            }
        };
        self.leaf += 1;
        let cell = column.and_then(|i| self.cells.get_mut(i))?;
        if !cell.is_empty() {
            cell.push('\n');
        }
        Some(cell)
    }
}

/// The value at the flattener's current path.
struct Leaf<'f>(&'f mut Flattener);

impl<'de> serde::de::DeserializeSeed<'de> for Leaf<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Leaf<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.0.put(v);
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.0.put(v);
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.0.put(v);
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        // As a `Value` prints it (`1.0`, `1e300`).
        match serde_json::Number::from_f64(v) {
            Some(n) => self.0.put(n),
            None => self.0.put(v),
        }
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.put_str(v);
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let base = self.0.path.len();
        self.0.path.push_str("[]");
        while seq.next_element_seed(Leaf(self.0))?.is_some() {}
        self.0.path.truncate(base);
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let base = self.0.path.len();
        while map.next_key_seed(Key(self.0))?.is_some() {
            map.next_value_seed(Leaf(self.0))?;
            self.0.path.truncate(base);
        }
        Ok(())
    }
}

/// An object's key: appended to the flattener's path (`a` then `a.b`).
struct Key<'f>(&'f mut Flattener);

impl<'de> serde::de::DeserializeSeed<'de> for Key<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Key<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        if !self.0.path.is_empty() {
            self.0.path.push('.');
        }
        self.0.path.push_str(v);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cells through `Value`, `flatten` and `place`: what `Flattener` must give.
    fn placed(records: &[&str]) -> (HashMap<String, usize>, usize, Vec<Vec<String>>) {
        let flat: Vec<Vec<(String, String)>> = records
            .iter()
            .map(|r| {
                let mut cells = Vec::new();
                let v: Value = serde_json::from_str(r).unwrap_or_else(|e| panic!("{r}: {e}"));
                flatten(&v, String::new(), &mut cells);
                cells
            })
            .collect();
        let mut index = HashMap::new();
        for (k, _) in flat.iter().flatten() {
            let n = index.len();
            index.entry(k.clone()).or_insert(n);
        }
        let width = index.len();
        let rows = flat.into_iter().map(|c| place(c, &index, width)).collect();
        (index, width, rows)
    }

    use std::collections::HashMap;

    #[test]
    fn the_flattener_gives_the_cells_a_value_tree_gives() {
        let records = [
            r#"{"name": "张伟", "phone": "13912345678", "n": 5, "x": -3, "f": 1.0}"#,
            r#"{"f": 2.5e300, "big": 123456789012345678901234, "ok": true, "gone": null}"#,
            r#"{"owner": {"ids": ["a", "b\n\"c\""], "car": {"vin": "LSV"}}, "name": "李娜"}"#,
            r#"{"items": [{"p": 1}, {"p": 2}, {"q": [3, [4]]}], "name": ""}"#,
            r#"["top", {"k": "v"}]"#,
            r#""just a string""#,
            r#"{"esc\u00e9": "\u5f20", "name": "a", "phone": "x", "n": 0}"#,
        ];
        let (index, width, want) = placed(&records);
        let mut flat = Flattener::new(index, width);
        for (record, want) in records.iter().zip(&want) {
            flat.record(record)
                .unwrap_or_else(|e| panic!("{record}: {e}"));
            assert_eq!(flat.cells(), want.as_slice(), "{record}");
        }
    }

    /// Any JSON value: nested objects and arrays of strings (escapes, Chinese, line
    /// breaks), integers, floats, booleans and nulls.
    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e300f64..1e300).prop_map(Value::from),
            r#"[a-z张伟"\\\n\t\x7f😀 ]{0,12}"#.prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                proptest::collection::btree_map("[a-z_0-9]{1,4}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn the_flattener_agrees_with_the_tree_on_any_records(
            records in proptest::collection::vec(any_json(), 1..6)
        ) {
            let texts: Vec<String> = records.iter().map(Value::to_string).collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let (index, width, want) = placed(&refs);
            let mut flat = Flattener::new(index, width);
            for (text, want) in texts.iter().zip(&want) {
                proptest::prop_assert!(flat.record(text).is_ok(), "{}", text);
                proptest::prop_assert_eq!(flat.cells(), want.as_slice(), "{}", text);
            }
        }

        #[test]
        fn the_flattener_never_panics(text in r#"[\[\]{}":,a-z0-9.eE+\-\\ \n]{0,64}"#) {
            let (index, width, _) = placed(&[r#"{"a": 1, "b": [2]}"#]);
            let mut flat = Flattener::new(index, width);
            let _ = flat.record(&text);
        }
    }

    #[test]
    fn a_broken_record_leaves_no_cells_behind() {
        let (index, width, _) = placed(&[r#"{"a": "1", "b": "2"}"#]);
        let mut flat = Flattener::new(index, width);
        for broken in [r#"{"a": "1", "b": "#, r#"{"a": "1"} x"#, "{", ""] {
            assert!(flat.record(broken).is_err(), "{broken}");
            assert!(flat.cells().iter().all(String::is_empty), "{broken}");
        }
        let deep = "[".repeat(10_000);
        assert!(
            flat.record(&deep).is_err(),
            "nesting is limited, not a stack overflow"
        );
        flat.record(r#"{"b": "2", "a": "1"}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(flat.cells(), ["1", "2"]);
    }
}
