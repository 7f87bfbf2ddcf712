//! Where a byte of a table file sits in its table: the column (by header name or
//! dotted JSON path) and the data row. The scanner matches a file's text, so its
//! findings have byte offsets; "row 1,204, column 手机号" is what a data-protection
//! team acts on, "line 1,205, column 38" is not. Column names are the ones the table
//! readers give, so `scan` and `assess` name a column the same way.

use crate::sources::format_of;

/// A finding's place in a table file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The table inside the file, for files that hold several (a SQL dump).
    pub table: Option<String>,
    /// Header name, dotted JSON path, or `column_N`.
    pub column: String,
    /// 1-based data row (header not counted; JSON: record number).
    pub row: u64,
}

/// Is `path` (its last layer) a text table whose offsets [`places`] can place?
pub fn is_text_table(path: &str) -> bool {
    format_of(path).is_some() && !path.to_ascii_lowercase().ends_with(".txt")
}

/// The place of each byte offset of `text`, the UTF-8 text of the table file at
/// `path` (CSV/TSV, JSON, JSON Lines, SQL dump); `None` where an offset is not inside
/// a cell (a header, a comment, a `CREATE TABLE`). One pass up to the last offset.
pub fn places(path: &str, text: &[u8], offsets: &[u64]) -> Vec<Option<Place>> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let sorted: Vec<usize> = order
        .iter()
        .map(|&i| usize::try_from(offsets[i]).unwrap_or(usize::MAX))
        .collect();
    let found = match format_of(path) {
        Some(format @ ("csv" | "tsv")) => delimited(format, text, &sorted),
        Some("json") => json(text, &sorted),
        Some("jsonl") => json_lines(text, &sorted),
        Some("sql") => {
            let text = String::from_utf8_lossy(text);
            crate::sqldump::places(&text, &sorted)
                .into_iter()
                .map(|p| {
                    p.map(|(table, column, row)| Place {
                        table: Some(table),
                        column,
                        row,
                    })
                })
                .collect()
        }
        _ => vec![None; offsets.len()],
    };
    let mut out = vec![None; offsets.len()];
    for (place, i) in found.into_iter().zip(order) {
        out[i] = place;
    }
    out
}

/// CSV/TSV, honouring quotes, so a quoted field with commas or newlines is one cell.
/// The whole text is checked for stray quotes first (see [`crate::stray_quotes`]).
fn delimited(format: &str, text: &[u8], offsets: &[usize]) -> Vec<Option<Place>> {
    let delimiter = if format == "tsv" {
        b'\t'
    } else {
        let first = &text[..memchr::memchr(b'\n', text).unwrap_or(text.len())];
        [b',', b'\t', b';', b'|']
            .into_iter()
            .max_by_key(|d| (first.iter().filter(|b| *b == d).count(), *d == b','))
            .unwrap_or(b',')
    };
    // Stray quotes are taken literally, as the table readers take them, so findings
    // after one are not all placed in its row.
    let (text, _) = crate::stray_quotes::repaired(text, delimiter);
    let text = &text[..];
    let mut at: Vec<(u64, usize)> = Vec::with_capacity(offsets.len());
    let (mut record, mut field) = (0u64, 0usize);
    let mut header: Vec<String> = Vec::new();
    let mut current = Vec::new();
    let mut in_quotes = false;
    let last = offsets.last().copied().unwrap_or(0);
    let mut i = 0usize;
    while i < text.len() && i <= last {
        while at.len() < offsets.len() && offsets[at.len()] <= i {
            at.push((record, field));
        }
        let b = text[i];
        if record == 0 && (in_quotes || !(b == delimiter || b == b'\n' || b == b'\r')) {
            current.push(b);
        }
        match b {
            b'"' if in_quotes && text.get(i + 1) == Some(&b'"') => i += 1,
            b'"' if in_quotes => in_quotes = false,
            // A quote opens a quoted field only at the field's start (as the CSV
            // readers have it); elsewhere it is part of the text.
            b'"' if i == 0 || matches!(text[i - 1], b'\n' | b'\r') || text[i - 1] == delimiter => {
                in_quotes = true
            }
            _ if in_quotes => {}
            _ if b == b'\n' || b == delimiter => {
                if record == 0 {
                    header.push(header_text(&current));
                    current.clear();
                }
                if b == b'\n' {
                    record += 1;
                    field = 0;
                } else {
                    field += 1;
                }
            }
            _ => {}
        }
        i += 1;
        // Past the header nothing changes between quotes, delimiters and newlines:
        // jump to the next one (the offsets on the way share the current cell).
        if record > 0 && i < text.len() {
            let rest = &text[i..];
            let next = if in_quotes {
                memchr::memchr(b'"', rest)
            } else {
                memchr::memchr3(b'"', delimiter, b'\n', rest)
            };
            i = next.map_or(text.len(), |k| i + k).min(last + 1);
        }
    }
    while at.len() < offsets.len() {
        at.push((record, field));
    }
    // A header row holds names: no finding in it, and no field that is a number.
    let has_header = !header.is_empty()
        && at.iter().all(|&(r, _)| r > 0)
        && header
            .iter()
            .all(|h| !h.is_empty() && h.parse::<f64>().is_err());
    at.into_iter()
        .map(|(record, field)| {
            let named = header.get(field).filter(|h| has_header && !h.is_empty());
            Some(Place {
                table: None,
                column: named
                    .cloned()
                    .unwrap_or_else(|| format!("column_{}", field + 1)),
                row: if has_header { record } else { record + 1 },
            })
        })
        .collect()
}

fn header_text(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    s.trim().trim_matches('"').trim().to_string()
}

/// One JSON document: records are the elements of the top-level array, or of an
/// array under a top-level key (`{"data": [...]}`), else the document is one record.
fn json(text: &[u8], offsets: &[usize]) -> Vec<Option<Place>> {
    let mut out = Vec::with_capacity(offsets.len());
    JsonWalk::new(text, offsets, &mut |path: &[Frame], _| {
        let records_at = match path {
            [Frame::Array(_), ..] => Some(0),
            [Frame::Object { .. }, Frame::Array(_), ..] => Some(1),
            _ => None,
        };
        match records_at {
            Some(depth) => {
                let Frame::Array(index) = path[depth] else {
                    return None;
                };
                Some(Place {
                    table: None,
                    column: column_of(&path[depth + 1..]),
                    row: index as u64 + 1,
                })
            }
            None => Some(Place {
                table: None,
                column: column_of(path),
                row: 1,
            }),
        }
    })
    .run(&mut out);
    out
}

/// JSON Lines: each non-blank line is a record.
fn json_lines(text: &[u8], offsets: &[usize]) -> Vec<Option<Place>> {
    let mut out = Vec::with_capacity(offsets.len());
    JsonWalk::new(text, offsets, &mut |path: &[Frame], record| {
        Some(Place {
            table: None,
            column: column_of(path),
            row: record,
        })
    })
    .run(&mut out);
    out
}

/// The flattened column name of a path inside a record, as the JSON reader names it:
/// `a.b`, and `a[]` for the elements of an array.
fn column_of(path: &[Frame]) -> String {
    let mut name = String::new();
    for frame in path {
        match frame {
            Frame::Object { key, .. } => {
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(key);
            }
            Frame::Array(_) => name.push_str("[]"),
        }
    }
    name
}

/// A container being walked: an object with the key of the value being read, or an
/// array with the index of the element being read.
#[derive(Debug)]
enum Frame {
    Object { key: String, want_key: bool },
    Array(usize),
}

type Placer<'p> = dyn FnMut(&[Frame], u64) -> Option<Place> + 'p;

/// A tokenizer over JSON text that knows, at each value, the path of containers it
/// sits in. It never fails: broken JSON gives whatever places it gives.
struct JsonWalk<'t, 'p> {
    text: &'t [u8],
    offsets: &'t [usize],
    place: &'p mut Placer<'p>,
}

impl<'t, 'p> JsonWalk<'t, 'p> {
    fn new(text: &'t [u8], offsets: &'t [usize], place: &'p mut Placer<'p>) -> Self {
        JsonWalk {
            text,
            offsets,
            place,
        }
    }

    fn run(self, out: &mut Vec<Option<Place>>) {
        let b = self.text;
        let mut stack: Vec<Frame> = Vec::new();
        // Records counted by top-level values (JSON Lines: one per line).
        let mut record = 0u64;
        let mut i = 0;
        while out.len() < self.offsets.len() && i < b.len() {
            let c = b[i];
            match c {
                b'{' | b'[' => {
                    if stack.is_empty() {
                        record += 1;
                    }
                    stack.push(if c == b'{' {
                        Frame::Object {
                            key: String::new(),
                            want_key: true,
                        }
                    } else {
                        Frame::Array(0)
                    });
                    i += 1;
                }
                b'}' | b']' => {
                    stack.pop();
                    i += 1;
                }
                b',' => {
                    match stack.last_mut() {
                        Some(Frame::Array(n)) => *n += 1,
                        Some(Frame::Object { want_key, .. }) => *want_key = true,
                        None => {}
                    }
                    i += 1;
                }
                b':' | b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                _ => {
                    let end = if c == b'"' {
                        string_end(b, i)
                    } else {
                        scalar_end(b, i)
                    };
                    if let Some(Frame::Object { key, want_key }) = stack.last_mut() {
                        if *want_key && c == b'"' {
                            // A string cut short (`"` at the end) has no text.
                            let text = b.get(i + 1..end.saturating_sub(1)).unwrap_or_default();
                            *key = String::from_utf8_lossy(text).into_owned();
                            *want_key = false;
                            self.skip_to(out, end);
                            i = end;
                            continue;
                        }
                    }
                    if stack.is_empty() {
                        record += 1;
                    }
                    // Offsets before this value fall between values: no cell.
                    while out.len() < self.offsets.len() && self.offsets[out.len()] < i {
                        out.push(None);
                    }
                    while out.len() < self.offsets.len() && self.offsets[out.len()] < end {
                        out.push((self.place)(&stack, record));
                    }
                    i = end.max(i + 1);
                }
            }
        }
        while out.len() < self.offsets.len() {
            out.push(None);
        }
    }

    /// Offsets before `end` (inside keys) have no cell.
    fn skip_to(&self, out: &mut Vec<Option<Place>>, end: usize) {
        while out.len() < self.offsets.len() && self.offsets[out.len()] < end {
            out.push(None);
        }
    }
}

/// Just past the closing quote of the string opening at `at`.
fn string_end(b: &[u8], at: usize) -> usize {
    let mut i = at + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The end of a number, `true`, `false` or `null` (or of junk).
fn scalar_end(b: &[u8], at: usize) -> usize {
    let mut i = at;
    while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(path: &str, text: &str, needle: &str) -> Place {
        let offset = text.find(needle).unwrap_or_else(|| panic!("{needle}")) as u64;
        places(path, text.as_bytes(), &[offset])
            .remove(0)
            .unwrap_or_else(|| panic!("no place for {needle}"))
    }

    fn at(p: &Place) -> (Option<&str>, &str, u64) {
        (p.table.as_deref(), p.column.as_str(), p.row)
    }

    #[test]
    fn csv_rows_and_columns_follow_the_header_and_quotes() {
        let csv =
            "姓名,\"备注, 含逗号\",手机号\n张伟,\"多行\n备注\",13912345678\n李娜,x,13812345678\n";
        assert_eq!(at(&one("a.csv", csv, "13912345678")), (None, "手机号", 1));
        assert_eq!(
            at(&one("a.csv", csv, "13812345678")),
            (None, "手机号", 2),
            "a quoted newline is not a row"
        );
        assert_eq!(one("a.csv", csv, "李娜").column, "姓名");
    }

    #[test]
    fn csv_without_a_header_numbers_columns() {
        let csv = "张伟,13912345678\n李娜,13812345678\n";
        assert_eq!(at(&one("x.csv", csv, "13812345678")), (None, "column_2", 2));
        let tsv = "a\tb\n1\t13912345678\n";
        assert_eq!(at(&one("x.tsv", tsv, "13912345678")), (None, "b", 1));
        let semi = "name;phone\nx;13912345678\n";
        assert_eq!(one("x.csv", semi, "13912345678").column, "phone");
    }

    #[test]
    fn offsets_in_any_order_get_their_own_places() {
        let csv = "a,b\n1,2\n3,4\n";
        let got = places("t.csv", csv.as_bytes(), &[10, 4]);
        let got: Vec<(u64, String)> = got
            .into_iter()
            .flatten()
            .map(|p| (p.row, p.column))
            .collect();
        assert_eq!(got, [(2, "b".to_string()), (1, "a".to_string())]);
    }

    #[test]
    fn sql_dump_rows_count_across_statements_and_tables() {
        let dump = "-- 13900000000 in a comment\nCREATE TABLE `customers` (\n  `id` int,\n  `mobile` varchar(20),\n  `note` text\n);\n\
            INSERT INTO `customers` VALUES (1,'13912345678','a,b (c)'),(2,'x','it''s');\n\
            INSERT INTO `other` (`k`, `vin`) VALUES ('q','LSVAU218XN2183294');\n\
            INSERT INTO `customers` VALUES (3,'13812345678','ok');\n\
            COPY public.owners (id, phone) FROM stdin;\n1\t13712345678\n\\.\n";
        assert_eq!(
            at(&one("d.sql", dump, "13912345678")),
            (Some("customers"), "mobile", 1)
        );
        assert_eq!(
            at(&one("d.sql", dump, "13812345678")),
            (Some("customers"), "mobile", 3)
        );
        assert_eq!(at(&one("d.sql", dump, "LSVAU")), (Some("other"), "vin", 1));
        assert_eq!(
            at(&one("d.sql", dump, "13712345678")),
            (Some("public.owners"), "phone", 1)
        );
        let comment = dump.find("13900000000").unwrap_or(0) as u64;
        assert_eq!(places("d.sql", dump.as_bytes(), &[comment]), [None]);
    }

    #[test]
    fn json_records_are_array_elements_and_columns_are_dotted_paths() {
        let doc = r#"{"meta": {"n": 2}, "data": [
            {"name": "张伟", "contact": {"mobile": "13912345678"}},
            {"name": "李娜", "cars": [{"vin": "LSVAU218XN2183294"}], "id": 7}
        ]}"#;
        assert_eq!(
            at(&one("c.json", doc, "13912345678")),
            (None, "contact.mobile", 1)
        );
        assert_eq!(at(&one("c.json", doc, "LSVAU")), (None, "cars[].vin", 2));
        let top = r#"[{"m": "13912345678"}, {"m": "13812345678"}]"#;
        assert_eq!(at(&one("c.json", top, "13812345678")), (None, "m", 2));
    }

    #[test]
    fn a_json_string_cut_short_does_not_panic() {
        // Found by fuzzing: ` {"` sliced backwards.
        for name in ["x.json", "x.jsonl"] {
            let _ = places(name, b" {\"", &[0, 1, 2, 3]);
        }
    }

    #[test]
    fn json_lines_count_records() {
        let lines = "{\"a\": 1}\n\n{\"p\": {\"mobile\": \"13912345678\"}}\n";
        assert_eq!(
            at(&one("e.jsonl", lines, "13912345678")),
            (None, "p.mobile", 2)
        );
    }

    /// The plain byte-by-byte walk the jumping one must agree with.
    fn reference(text: &[u8], offset: usize) -> (u64, usize) {
        let (text, _) = crate::stray_quotes::repaired(text, b',');
        let (mut record, mut field, mut in_quotes, mut i) = (0u64, 0usize, false, 0usize);
        while i < text.len() && i < offset {
            match text[i] {
                b'"' if in_quotes && text.get(i + 1) == Some(&b'"') => i += 1,
                b'"' if in_quotes => in_quotes = false,
                b'"' if i == 0 || matches!(text[i - 1], b'\n' | b',') => in_quotes = true,
                _ if in_quotes => {}
                b'\n' => (record, field) = (record + 1, 0),
                b',' => field += 1,
                _ => {}
            }
            i += 1;
        }
        (record, field)
    }

    proptest::proptest! {
        #[test]
        fn jumping_walk_agrees_with_a_byte_by_byte_one(
            body in proptest::collection::vec(proptest::sample::select(vec![b'a', b'1', b',', b'"', b'\n']), 0..200),
            picks in proptest::collection::vec(0usize..220, 1..8),
        ) {
            // A fixed header keeps the column names and the row numbering predictable.
            let mut text = b"h1,h2,h3\n".to_vec();
            text.extend_from_slice(&body);
            let offsets: Vec<u64> = picks
                .iter()
                .map(|&p| (9 + p.min(body.len())) as u64)
                .collect();
            let got = places("t.csv", &text, &offsets);
            for (o, place) in offsets.iter().zip(got) {
                let (record, field) = reference(&text, *o as usize);
                let place = place.unwrap_or_else(|| panic!("no place"));
                proptest::prop_assert_eq!(place.row, record);
                let column = ["h1", "h2", "h3"]
                    .get(field)
                    .map_or(format!("column_{}", field + 1), |h| h.to_string());
                proptest::prop_assert_eq!(place.column, column);
            }
        }
    }

    #[test]
    fn broken_text_never_panics() {
        for (path, text) in [
            ("a.json", "{\"a\": \"unterminated"),
            ("a.json", "]]]}}}"),
            ("a.sql", "INSERT INTO t VALUES ('x"),
            ("a.csv", "\"\n\"\""),
        ] {
            let offsets: Vec<u64> = (0..text.len() as u64 + 2).collect();
            let got = places(path, text.as_bytes(), &offsets);
            assert_eq!(got.len(), offsets.len());
        }
    }
}
