//! Where a byte of a table file sits in its table: the column (by header name or
//! dotted JSON path) and the data row. The scanner matches a file's text, so its
//! findings have byte offsets; "row 1,204, column 手机号" is what a data-protection
//! team acts on, "line 1,205, column 38" is not. Column names are the ones the table
//! readers give, so `scan` and `assess` name a column the same way.

use crate::sources::format_of;
use crate::sqldump::SqlPlaces;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// A finding's place in a table file. Names are shared: a column's millions of cells
/// hold one copy of its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The table inside the file, for files that hold several (a SQL dump).
    pub table: Option<Arc<str>>,
    /// Header name, dotted JSON path, or `column_N`.
    pub column: Arc<str>,
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
    let found = Placer::new(path, text).place(&sorted);
    let mut out = vec![None; offsets.len()];
    for (place, i) in found.into_iter().zip(order) {
        out[i] = place;
    }
    out
}

/// [`places`] a window at a time: offsets go in rising order over any number of calls
/// to [`Placer::place`], and the walk through the text goes on from where it stopped.
/// A scan of a multi-gigabyte export places each window's findings as it matches
/// them, instead of holding every finding of the file until the end.
pub struct Placer<'t> {
    walk: Walk<'t>,
}

enum Walk<'t> {
    Delimited(Box<Delimited<'t>>),
    Json(Box<JsonWalk<'t>>),
    Sql(Cow<'t, str>, Box<SqlPlaces>),
    None,
}

impl<'t> Placer<'t> {
    /// A placer for the whole text of the table file at `path`.
    pub fn new(path: &str, text: &'t [u8]) -> Placer<'t> {
        let walk = match format_of(path) {
            Some(format @ ("csv" | "tsv")) => {
                Walk::Delimited(Box::new(Delimited::new(format, text)))
            }
            Some("json") => Walk::Json(Box::new(JsonWalk::new(text, false))),
            Some("jsonl") => Walk::Json(Box::new(JsonWalk::new(text, true))),
            Some("sql") => Walk::Sql(
                match leakhound_inputs::read::as_str_passing_over(text) {
                    Some(text) => Cow::Borrowed(text),
                    None => String::from_utf8_lossy(text),
                },
                Box::default(),
            ),
            _ => Walk::None,
        };
        Placer { walk }
    }

    /// The places of `offsets`: rising, and none below an offset of an earlier call.
    pub fn place(&mut self, offsets: &[usize]) -> Vec<Option<Place>> {
        match &mut self.walk {
            Walk::Delimited(d) => d.place(offsets),
            Walk::Json(j) => offsets.iter().map(|&o| j.place(o)).collect(),
            Walk::Sql(text, sql) => sql
                .place(text, offsets)
                .into_iter()
                .map(|p| {
                    p.map(|(table, column, row)| Place {
                        table: Some(table),
                        column,
                        row,
                    })
                })
                .collect(),
            Walk::None => vec![None; offsets.len()],
        }
    }
}

/// CSV/TSV, honouring quotes, so a quoted field with commas or newlines is one cell.
/// The whole text is checked for stray quotes first (see [`crate::stray_quotes`]).
struct Delimited<'t> {
    text: Cow<'t, [u8]>,
    delimiter: u8,
    /// The next byte to walk, and the record and field it is in.
    i: usize,
    record: u64,
    field: usize,
    in_quotes: bool,
    /// The header's names as read, and the one being read.
    header: Vec<String>,
    current: Vec<u8>,
    /// Decided at the first offset placed: the first record is a header if it holds
    /// names, no number and no finding. Its names, shared by every place.
    names: Option<Vec<Arc<str>>>,
    /// `column_N` names made so far.
    numbered: Vec<Arc<str>>,
}

impl<'t> Delimited<'t> {
    fn new(format: &str, text: &'t [u8]) -> Delimited<'t> {
        let delimiter = if format == "tsv" {
            b'\t'
        } else {
            let first = &text[..memchr::memchr(b'\n', text).unwrap_or(text.len())];
            [b',', b'\t', b';', b'|']
                .into_iter()
                .max_by_key(|d| (first.iter().filter(|b| *b == d).count(), *d == b','))
                .unwrap_or(b',')
        };
        // Stray quotes are taken literally, as the table readers take them, so
        // findings after one are not all placed in its row. The repaired copy (one
        // byte for one) is kept only where it differs: a big export is not held twice.
        // Both walks pass over the text as they go: a mapped export is not left in
        // memory whole before its first window is matched.
        let quoted = leakhound_inputs::read::contains_passing_over(text, b'"');
        let text = if quoted && crate::stray_quotes::repairs(text, delimiter).count > 0 {
            Cow::Owned(crate::stray_quotes::repaired(text, delimiter).0)
        } else {
            Cow::Borrowed(text)
        };
        Delimited {
            text,
            delimiter,
            i: 0,
            record: 0,
            field: 0,
            in_quotes: false,
            header: Vec::new(),
            current: Vec::new(),
            names: None,
            numbered: Vec::new(),
        }
    }

    fn place(&mut self, offsets: &[usize]) -> Vec<Option<Place>> {
        let mut at: Vec<(u64, usize)> = Vec::with_capacity(offsets.len());
        let Some(&last) = offsets.last() else {
            return Vec::new();
        };
        let text = &self.text[..];
        let delimiter = self.delimiter;
        let (mut record, mut field, mut in_quotes, mut i) =
            (self.record, self.field, self.in_quotes, self.i);
        while i < text.len() && i <= last {
            while at.len() < offsets.len() && offsets[at.len()] <= i {
                at.push((record, field));
            }
            // The last offset's byte is walked by the next call, which may place an
            // offset at it again.
            if i == last {
                break;
            }
            let b = text[i];
            if record == 0 && (in_quotes || !(b == delimiter || b == b'\n' || b == b'\r')) {
                self.current.push(b);
            }
            match b {
                b'"' if in_quotes && text.get(i + 1) == Some(&b'"') => i += 1,
                b'"' if in_quotes => in_quotes = false,
                // A quote opens a quoted field only at the field's start (as the CSV
                // readers have it); elsewhere it is part of the text.
                b'"' if i == 0
                    || matches!(text[i - 1], b'\n' | b'\r')
                    || text[i - 1] == delimiter =>
                {
                    in_quotes = true
                }
                _ if in_quotes => {}
                _ if b == b'\n' || b == delimiter => {
                    if record == 0 {
                        self.header.push(header_text(&self.current));
                        self.current.clear();
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
                i = next.map_or(text.len(), |k| i + k).min(last);
            }
        }
        while at.len() < offsets.len() {
            at.push((record, field));
        }
        (self.record, self.field, self.in_quotes, self.i) = (record, field, in_quotes, i);
        // A header row holds names: no finding in it, and no field that is a number.
        let header = &self.header;
        let names = self.names.get_or_insert_with(|| {
            let has_header = !header.is_empty()
                && at.iter().all(|&(r, _)| r > 0)
                && header
                    .iter()
                    .all(|h| !h.is_empty() && h.parse::<f64>().is_err());
            if has_header {
                header.iter().map(|h| Arc::from(h.as_str())).collect()
            } else {
                Vec::new()
            }
        });
        let has_header = !names.is_empty();
        at.into_iter()
            .map(|(record, field)| {
                let column = match names.get(field) {
                    Some(name) => Arc::clone(name),
                    _ => {
                        while self.numbered.len() <= field {
                            let n = self.numbered.len() + 1;
                            self.numbered.push(Arc::from(format!("column_{n}")));
                        }
                        Arc::clone(&self.numbered[field])
                    }
                };
                Some(Place {
                    table: None,
                    column,
                    row: if has_header { record } else { record + 1 },
                })
            })
            .collect()
    }
}

fn header_text(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    s.trim().trim_matches('"').trim().to_string()
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

/// A tokenizer over JSON text that knows, at each value, the path of containers it
/// sits in. It never fails: broken JSON gives whatever places it gives.
///
/// One JSON document: records are the elements of the top-level array, or of an
/// array under a top-level key (`{"data": [...]}`), else the document is one record.
/// JSON Lines: each non-blank line is a record.
struct JsonWalk<'t> {
    text: &'t [u8],
    lines: bool,
    /// The next byte to walk.
    i: usize,
    stack: Vec<Frame>,
    /// Records counted by top-level values (JSON Lines: one per line).
    record: u64,
    /// The token walked last and not yet passed by an offset: (start, end, whether
    /// it is a value; a key is not).
    token: Option<(usize, usize, bool)>,
    /// The place of the last value placed, which the next offset may share.
    last: Option<(usize, Option<Place>)>,
    names: HashMap<String, Arc<str>>,
}

impl<'t> JsonWalk<'t> {
    fn new(text: &'t [u8], lines: bool) -> JsonWalk<'t> {
        JsonWalk {
            text,
            lines,
            i: 0,
            stack: Vec::new(),
            record: 0,
            token: None,
            last: None,
            names: HashMap::new(),
        }
    }

    /// The place of `offset`, not below the last one asked for.
    fn place(&mut self, offset: usize) -> Option<Place> {
        loop {
            if let Some((start, end, value)) = self.token {
                // Offsets before a token fall between values, and keys are no cell.
                if offset < start {
                    return None;
                }
                if offset < end {
                    if !value {
                        return None;
                    }
                    if let Some((at, place)) = &self.last {
                        if *at == start {
                            return place.clone();
                        }
                    }
                    let place = self.value_place();
                    self.last = Some((start, place.clone()));
                    return place;
                }
                self.token = None;
                self.i = end.max(start + 1);
            }
            if !self.step() {
                return None;
            }
        }
    }

    /// Walk to the next key or value (setting `token`); false at the end of the text.
    fn step(&mut self) -> bool {
        let b = self.text;
        while self.i < b.len() {
            let i = self.i;
            let c = b[i];
            match c {
                b'{' | b'[' => {
                    if self.stack.is_empty() {
                        self.record += 1;
                    }
                    self.stack.push(if c == b'{' {
                        Frame::Object {
                            key: String::new(),
                            want_key: true,
                        }
                    } else {
                        Frame::Array(0)
                    });
                    self.i += 1;
                }
                b'}' | b']' => {
                    self.stack.pop();
                    self.i += 1;
                }
                b',' => {
                    match self.stack.last_mut() {
                        Some(Frame::Array(n)) => *n += 1,
                        Some(Frame::Object { want_key, .. }) => *want_key = true,
                        None => {}
                    }
                    self.i += 1;
                }
                b':' | b' ' | b'\t' | b'\r' | b'\n' => self.i += 1,
                _ => {
                    let end = if c == b'"' {
                        string_end(b, i)
                    } else {
                        scalar_end(b, i)
                    };
                    if let Some(Frame::Object { key, want_key }) = self.stack.last_mut() {
                        if *want_key && c == b'"' {
                            // A string cut short (`"` at the end) has no text.
                            let text = b.get(i + 1..end.saturating_sub(1)).unwrap_or_default();
                            *key = String::from_utf8_lossy(text).into_owned();
                            *want_key = false;
                            self.token = Some((i, end, false));
                            return true;
                        }
                    }
                    if self.stack.is_empty() {
                        self.record += 1;
                    }
                    self.token = Some((i, end, true));
                    return true;
                }
            }
        }
        false
    }

    /// The place of the value being walked.
    fn value_place(&mut self) -> Option<Place> {
        let (records_at, row) = if self.lines {
            (0, self.record)
        } else {
            match self.stack.as_slice() {
                [Frame::Array(n), ..] => (1, *n as u64 + 1),
                [Frame::Object { .. }, Frame::Array(n), ..] => (2, *n as u64 + 1),
                _ => (0, 1),
            }
        };
        let name = column_of(self.stack.get(records_at..).unwrap_or_default());
        let column = match self.names.get(&name) {
            Some(c) => Arc::clone(c),
            None => {
                let c: Arc<str> = Arc::from(name.as_str());
                self.names.insert(name, Arc::clone(&c));
                c
            }
        };
        Some(Place {
            table: None,
            column,
            row,
        })
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
        (p.table.as_deref(), &p.column, p.row)
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
        assert_eq!(&*one("a.csv", csv, "李娜").column, "姓名");
    }

    #[test]
    fn csv_without_a_header_numbers_columns() {
        let csv = "张伟,13912345678\n李娜,13812345678\n";
        assert_eq!(at(&one("x.csv", csv, "13812345678")), (None, "column_2", 2));
        let tsv = "a\tb\n1\t13912345678\n";
        assert_eq!(at(&one("x.tsv", tsv, "13912345678")), (None, "b", 1));
        let semi = "name;phone\nx;13912345678\n";
        assert_eq!(&*one("x.csv", semi, "13912345678").column, "phone");
    }

    #[test]
    fn offsets_in_any_order_get_their_own_places() {
        let csv = "a,b\n1,2\n3,4\n";
        let got = places("t.csv", csv.as_bytes(), &[10, 4]);
        let got: Vec<(u64, String)> = got
            .into_iter()
            .flatten()
            .map(|p| (p.row, p.column.to_string()))
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
                proptest::prop_assert_eq!(&*place.column, column.as_str());
            }
        }
    }

    /// Texts of every format, with cells over lines, several statements and tables.
    const SAMPLES: [(&str, &str); 5] = [
        ("a.csv", "姓名,\"备注, 含逗号\",手机号\n张伟,\"多行\n备注\",13912345678\n李娜,x,13812345678\n王,\"y\",1\n"),
        ("b.tsv", "a\tb\n1\t13912345678\n2\t\"q\tq\"\n"),
        ("c.json", "{\"meta\": {\"n\": 2}, \"data\": [\n {\"name\": \"张伟\", \"c\": {\"m\": \"13912345678\"}},\n {\"cars\": [{\"vin\": \"LSVAU\"}], \"id\": 7}\n]}"),
        ("d.jsonl", "{\"a\": 1}\n\n{\"p\": {\"m\": \"139\"}, \"q\": [1, 2]}\n{\"z\": \"x\"}\n"),
        ("e.sql", "CREATE TABLE `c` (\n `id` int,\n `m` text\n);\nINSERT INTO `c` VALUES (1,'a,b'),(2,'it''s');\nINSERT INTO `o` (`k`) VALUES ('q');\nINSERT INTO `c` VALUES (3,'x');\nCOPY p (id, phone) FROM stdin;\n1\t137\n\\.\n"),
    ];

    proptest::proptest! {
        /// A scan places a big file's findings a window at a time: offsets placed over
        /// many calls get the places they get in one.
        #[test]
        fn places_over_many_calls_are_the_places_of_one(
            sample in 0usize..SAMPLES.len(),
            picks in proptest::collection::vec(0usize..400, 0..40),
            cuts in proptest::collection::vec(0usize..40, 0..6),
        ) {
            let (path, text) = SAMPLES[sample];
            let mut offsets: Vec<usize> = picks.iter().map(|&p| p % (text.len() + 2)).collect();
            offsets.sort_unstable();
            let whole = Placer::new(path, text.as_bytes()).place(&offsets);
            let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(offsets.len())).collect();
            cuts.push(0);
            cuts.push(offsets.len());
            cuts.sort_unstable();
            let mut placer = Placer::new(path, text.as_bytes());
            let mut parts = Vec::new();
            for pair in cuts.windows(2) {
                parts.extend(placer.place(&offsets[pair[0]..pair[1]]));
            }
            proptest::prop_assert_eq!(parts, whole);
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
