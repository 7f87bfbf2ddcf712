//! One JSON document (an array of records, or `{"data": [...]}`) read as a stream:
//! the records array's elements are cut out of the text one at a time and parsed on
//! their own, so a multi-gigabyte export needs the memory of one record, not of the
//! document. The records are the ones [`crate::json`] picks when it reads the document
//! whole: the top-level array, or the largest array among the top-level object's values
//! (found in a first pass that counts elements without keeping any).

use std::io::BufRead;

/// Which array holds the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Records {
    /// The document is an array.
    Top,
    /// The array under this top-level key, at its n-th (0-based) occurrence: a
    /// repeated key keeps its last value, as serde_json reads the whole document.
    Key(String, u32),
    /// An object without arrays: the document is the one record.
    Whole,
}

/// Why a document cannot be read on.
pub(crate) type Damage = String;

/// Bytes of a JSON text, pulled from a reader one at a time with one of look-ahead.
struct Bytes<R> {
    reader: R,
    /// Bytes consumed so far (for error messages).
    at: u64,
}

impl<R: BufRead> Bytes<R> {
    fn peek(&mut self) -> Result<Option<u8>, Damage> {
        let buf = self.reader.fill_buf().map_err(|e| e.to_string())?;
        Ok(buf.first().copied())
    }

    fn next(&mut self) -> Result<Option<u8>, Damage> {
        let b = self.peek()?;
        if b.is_some() {
            self.reader.consume(1);
            self.at += 1;
        }
        Ok(b)
    }

    fn skip_space(&mut self) -> Result<Option<u8>, Damage> {
        while let Some(b) = self.peek()? {
            if !b.is_ascii_whitespace() {
                return Ok(Some(b));
            }
            self.next()?;
        }
        Ok(None)
    }

    fn expect(&mut self, want: &[u8]) -> Result<u8, Damage> {
        match self.skip_space()? {
            Some(b) if want.contains(&b) => {
                self.next()?;
                Ok(b)
            }
            Some(b) => Err(format!(
                "unexpected `{}` at byte {}",
                char::from(b).escape_default(),
                self.at
            )),
            None => Err(format!("the document ends early (byte {})", self.at)),
        }
    }

    /// Read one value, appending its text to `out` if given. Strings are followed to
    /// their closing quote (escapes honoured), so brackets in text do not count. The
    /// reader's buffer is scanned a slice at a time (a byte at a time cost a third more
    /// than reading the document whole).
    fn value(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<(), Damage> {
        let first = self
            .skip_space()?
            .ok_or_else(|| format!("the document ends early (byte {})", self.at))?;
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let buf = self.reader.fill_buf().map_err(|e| e.to_string())?;
            if buf.is_empty() {
                return if scalar {
                    Ok(())
                } else {
                    Err(format!("the document ends early (byte {})", self.at))
                };
            }
            // Where the value ends in this slice (exclusive), if it does.
            let mut end = None;
            let mut unbalanced = false;
            let mut i = 0;
            while i < buf.len() {
                let b = buf[i];
                if in_string {
                    if escaped {
                        escaped = false;
                        i += 1;
                        continue;
                    }
                    // Most of an export's bytes are in strings: jump to the next quote
                    // or backslash.
                    let Some(k) = memchr::memchr2(b'"', b'\\', &buf[i..]) else {
                        // The string goes on past this slice.
                        break;
                    };
                    i += k;
                    if buf[i] == b'\\' {
                        escaped = true;
                    } else {
                        in_string = false;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    i += 1;
                    continue;
                }
                if scalar && (b.is_ascii_whitespace() || matches!(b, b',' | b']' | b'}')) {
                    end = Some(i);
                    break;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        if depth == 0 {
                            unbalanced = true;
                            end = Some(i);
                            break;
                        }
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            let n = end.unwrap_or(buf.len());
            if let Some(out) = out.as_deref_mut() {
                out.extend_from_slice(&buf[..n]);
            }
            self.reader.consume(n);
            self.at += n as u64;
            if unbalanced {
                return Err(format!("unbalanced bracket at byte {}", self.at));
            }
            if end.is_some() {
                return Ok(());
            }
        }
    }

    /// A key: its text decoded (escapes and all), the colon after it consumed.
    fn key(&mut self) -> Result<String, Damage> {
        let mut raw = Vec::new();
        if self.skip_space()? != Some(b'"') {
            return Err(format!("a key expected at byte {}", self.at));
        }
        self.value(Some(&mut raw))?;
        self.expect(b":")?;
        serde_json::from_slice(&raw).map_err(|e| e.to_string())
    }
}

/// Elements of the records array, in order, each as its own JSON text.
pub(crate) struct Elements<R> {
    bytes: Bytes<R>,
    records: Records,
    state: State,
    /// Times the records' key was met so far.
    seen: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing read yet.
    Start,
    /// Inside the top-level object, before a key (or its end).
    InObject,
    /// Inside the records array, before an element (or its end).
    InArray { top: bool, first: bool },
    /// Done, or damaged.
    Done,
}

impl<R: BufRead> Elements<R> {
    pub(crate) fn new(reader: R, records: Records) -> Elements<R> {
        Elements {
            bytes: Bytes { reader, at: 0 },
            records,
            state: State::Start,
            seen: 0,
        }
    }

    /// The next record's text, `Ok(None)` at the end.
    pub(crate) fn next_record(&mut self) -> Result<Option<Vec<u8>>, Damage> {
        let result = self.step();
        if !matches!(result, Ok(Some(_))) {
            self.state = State::Done;
        }
        result
    }

    fn step(&mut self) -> Result<Option<Vec<u8>>, Damage> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Start => match (&self.records, self.bytes.skip_space()?) {
                    (Records::Top, Some(b'[')) => {
                        self.bytes.next()?;
                        self.state = State::InArray {
                            top: true,
                            first: true,
                        };
                    }
                    (Records::Whole, Some(_)) => {
                        let mut out = Vec::new();
                        self.bytes.value(Some(&mut out))?;
                        self.state = State::Done;
                        return Ok(Some(out));
                    }
                    (Records::Key(..), Some(b'{')) => {
                        self.bytes.next()?;
                        self.state = State::InObject;
                    }
                    _ => return Err("not an array or object".into()),
                },
                State::InObject => {
                    if self.bytes.skip_space()? == Some(b'}') {
                        return Ok(None);
                    }
                    let key = self.bytes.key()?;
                    let wanted = match &self.records {
                        Records::Key(k, n) if *k == key => {
                            self.seen += 1;
                            self.seen == n + 1
                        }
                        _ => false,
                    };
                    if wanted && self.bytes.skip_space()? == Some(b'[') {
                        self.bytes.next()?;
                        self.state = State::InArray {
                            top: false,
                            first: true,
                        };
                        continue;
                    }
                    self.bytes.value(None)?;
                    if self.bytes.expect(b",}")? == b'}' {
                        return Ok(None);
                    }
                }
                State::InArray { top, first } => {
                    if first {
                        if self.bytes.skip_space()? == Some(b']') {
                            self.bytes.next()?;
                            self.after_array(top)?;
                            continue;
                        }
                    } else if self.bytes.expect(b",]")? == b']' {
                        self.after_array(top)?;
                        continue;
                    }
                    let mut out = Vec::new();
                    self.bytes.value(Some(&mut out))?;
                    self.state = State::InArray { top, first: false };
                    return Ok(Some(out));
                }
            }
        }
    }

    /// The records array ended: the document ends too, or its object goes on.
    fn after_array(&mut self, top: bool) -> Result<(), Damage> {
        if top {
            self.state = State::Done;
            return Ok(());
        }
        self.state = if self.bytes.expect(b",}")? == b'}' {
            State::Done
        } else {
            State::InObject
        };
        Ok(())
    }
}

/// First pass: which array holds the records, as [`crate::json`] decides on the whole
/// document (the top-level array; else the largest array among the object's values,
/// the last of equals in key order; else the object itself). A document cut short
/// is decided on what came before the cut (the array being read counts its elements
/// so far), so the second pass can read the records up to the damage.
pub(crate) fn records_of<R: BufRead>(reader: R) -> Result<Records, Damage> {
    let mut bytes = Bytes { reader, at: 0 };
    match bytes.skip_space()? {
        Some(b'[') => return Ok(Records::Top),
        Some(b'{') => {
            bytes.next()?;
        }
        _ => return Err("not an array or object".into()),
    }
    // serde_json's map iterates keys in sorted order; a repeated key keeps its last
    // value: (length if an array, occurrence).
    let mut arrays: std::collections::BTreeMap<String, (Option<u64>, u32)> = Default::default();
    let read = top_level_arrays(&mut bytes, &mut arrays);
    if read.is_err() && arrays.is_empty() {
        return read.map(|()| Records::Whole);
    }
    let mut best: Option<(&String, u64, u32)> = None;
    for (k, (len, occurrence)) in &arrays {
        let Some(n) = *len else { continue };
        // `max_by_key` keeps the last of equal maxima.
        if best.is_none_or(|(_, m, _)| n >= m) {
            best = Some((k, n, *occurrence));
        }
    }
    Ok(best.map_or(Records::Whole, |(k, _, occurrence)| {
        Records::Key(k.clone(), occurrence)
    }))
}

/// The top-level object's keys, each with its array's length (`None`: not an array),
/// recorded as they are read, so damage leaves what came before it.
fn top_level_arrays<R: BufRead>(
    bytes: &mut Bytes<R>,
    arrays: &mut std::collections::BTreeMap<String, (Option<u64>, u32)>,
) -> Result<(), Damage> {
    if bytes.skip_space()? == Some(b'}') {
        return Ok(());
    }
    loop {
        let key = bytes.key()?;
        let occurrence = arrays.get(&key).map_or(0, |(_, n)| n + 1);
        if bytes.skip_space()? == Some(b'[') {
            bytes.next()?;
            arrays.insert(key.clone(), (Some(0), occurrence));
            if bytes.skip_space()? == Some(b']') {
                bytes.next()?;
            } else {
                loop {
                    bytes.value(None)?;
                    if let Some((Some(n), _)) = arrays.get_mut(&key) {
                        *n += 1;
                    }
                    if bytes.expect(b",]")? == b']' {
                        break;
                    }
                }
            }
        } else {
            bytes.value(None)?;
            arrays.insert(key, (None, occurrence));
        }
        if bytes.expect(b",}")? == b'}' {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The records, parsed, as the streaming reader gives them.
    fn streamed(text: &str) -> Result<Vec<Value>, Damage> {
        let whole = streamed_in(text, text.len().max(1))?;
        // Read through buffers of 1 and 3 bytes too: strings, escapes and brackets
        // cut at every place by a buffer's end.
        for size in [1, 3] {
            assert_eq!(streamed_in(text, size)?, whole, "buffers of {size} bytes");
        }
        Ok(whole)
    }

    fn streamed_in(text: &str, size: usize) -> Result<Vec<Value>, Damage> {
        let records = records_of(std::io::BufReader::with_capacity(size, text.as_bytes()))?;
        let reader = std::io::BufReader::with_capacity(size, text.as_bytes());
        let mut e = Elements::new(reader, records);
        let mut out = Vec::new();
        while let Some(r) = e.next_record()? {
            out.push(serde_json::from_slice(&r).map_err(|e| e.to_string())?);
        }
        Ok(out)
    }

    /// The records as the whole-document reader picks them.
    fn whole(text: &str) -> Vec<Value> {
        let doc: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        match &doc {
            Value::Array(items) => items.clone(),
            Value::Object(map) => map
                .values()
                .filter_map(Value::as_array)
                .max_by_key(|a| a.len())
                .cloned()
                .unwrap_or_else(|| vec![doc.clone()]),
            _ => Vec::new(),
        }
    }

    #[test]
    fn the_same_records_as_the_whole_document() {
        for text in [
            r#"[{"a":1},{"a":"x]}\"y","b":[1,2]}, {"c":{"d":[{"e":null}]}}]"#,
            r#" { "meta": {"n": [1,2,3]}, "data": [{"id":"1"},{"id":"2"}], "z": [] } "#,
            r#"{"a":[1,2],"b":[3,4]}"#,
            r#"{"only": {"x": "y"}, "n": 3}"#,
            r#"{}"#,
            r#"[]"#,
            r#"[1, "two", true, null, -3.5e2]"#,
            r#"{"k\"ey":[{"v":"\u4e2d"}], "other": 1}"#,
            r#"{"a":[1,2,3],"b":[9],"a":[4,5]}"#,
            r#"{"a":[1,2,3],"a":7}"#,
        ] {
            assert_eq!(streamed(text), Ok(whole(text)), "{text}");
        }
    }

    #[test]
    fn a_damaged_document_gives_what_came_before_and_says_where() {
        let text = r#"[{"a":1},{"a":2},{"a":"#;
        let mut e = Elements::new(text.as_bytes(), Records::Top);
        assert!(matches!(e.next_record(), Ok(Some(_))));
        assert!(matches!(e.next_record(), Ok(Some(_))));
        assert!(e.next_record().is_err());
        assert_eq!(e.next_record(), Ok(None), "nothing after the damage");
        assert!(records_of(&b"\"just a string\""[..]).is_err());
        assert!(records_of(&b"{\"a\": "[..]).is_err());
        // Cut inside the records: they are still found, and read up to the cut.
        let cut = &b"{\"n\": [1], \"data\": [{\"a\":1},{\"a\":2},{\"a"[..];
        assert_eq!(records_of(cut), Ok(Records::Key("data".into(), 0)));
        let mut e = Elements::new(cut, Records::Key("data".into(), 0));
        assert!(matches!(e.next_record(), Ok(Some(_))));
        assert!(matches!(e.next_record(), Ok(Some(_))));
        assert!(e.next_record().is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_json_value_streams_as_read_whole(
            rows in proptest::collection::vec(
                proptest::collection::btree_map("[a-z\"\\\\\\]\\[{}]{1,4}", "[ -~]{0,8}", 0..4),
                0..6,
            ),
            wrapped in proptest::bool::ANY,
        ) {
            let records: Vec<Value> = rows
                .into_iter()
                .map(|m| Value::Object(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect()))
                .collect();
            let doc = if wrapped {
                serde_json::json!({"count": records.len(), "rows": records})
            } else {
                Value::Array(records)
            };
            let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
            proptest::prop_assert_eq!(streamed(&text), Ok(whole(&text)));
        }

        #[test]
        fn junk_never_panics(text in "\\PC{0,64}") {
            if let Ok(records) = records_of(text.as_bytes()) {
                let mut e = Elements::new(text.as_bytes(), records);
                for _ in 0..100 {
                    if !matches!(e.next_record(), Ok(Some(_))) {
                        break;
                    }
                }
            }
        }
    }
}
