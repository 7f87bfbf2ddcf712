//! CSV fields whose opening quote never closes. CSV lets a quoted field run over
//! newlines, so one stray `"` at the start of a cell swallows every later row into that
//! cell: a 200-row export read as 6 rows, a 3M-row one as 1 row (held in memory whole),
//! and every later finding placed at the stray quote's row, all without a word.
//!
//! [`QuoteGuard`] sits in front of every CSV reader (`assess`, `trace`, the scanner's
//! row and column places). A quoted field that runs over a line end is believed only
//! when its record ends with as many fields as the first record, within
//! [`MAX_QUOTED_LINES`] lines and [`MAX_RECORD_BYTES`], and before the end of the file.
//! Otherwise its opening quote is taken as a literal character (rewritten as `'`, one
//! byte for one so byte offsets still hold) and the record is read again. Each repair
//! is counted, so readers can warn that the table was damaged and where.

use std::io::{BufRead, Read};

/// Line ends a quoted field may span before its opening quote is taken as stray.
pub(crate) const MAX_QUOTED_LINES: u32 = 10_000;

/// Bytes a record with a quoted field spanning lines may reach before its opening quote
/// is taken as stray; also what bounds the guard's memory.
pub(crate) const MAX_RECORD_BYTES: usize = 16 << 20;

/// What replaces a stray quote: a literal character of the same length.
const LITERAL: u8 = b'\'';

/// Stray quotes found so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Repairs {
    pub count: u64,
    /// 1-based line of the first stray quote.
    pub first_line: u64,
}

impl Repairs {
    /// The warning to give, if any quote was stray.
    pub(crate) fn message(&self) -> Option<String> {
        (self.count > 0).then(|| {
            format!(
                "{} stray quote{} (first on line {}) opened a field that never closed: \
                 taken as a literal character and the rows after it read again",
                self.count,
                if self.count == 1 { "" } else { "s" },
                self.first_line
            )
        })
    }
}

/// Where the CSV grammar is inside a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the field's end, or the first of a doubled quote.
    QuoteInQuoted,
}

/// The state machine, apart from the reader so a buffer borrowed from the reader can be
/// fed to it.
struct Machine {
    delimiter: u8,
    /// A repaired record (and what followed it) to run through before reading more.
    again: Vec<u8>,
    /// The current record's bytes.
    record: Vec<u8>,
    /// Checked bytes ready to hand out.
    out: Vec<u8>,
    out_at: usize,
    state: State,
    /// Fields in the record so far (delimiters outside quotes, plus one).
    fields: usize,
    /// Index in `record` of the opening quote of the field being read.
    open_at: usize,
    /// Opening quote of the record's first quoted field that ran over a line end.
    spanning: Option<usize>,
    quoted_lines: u32,
    /// Fields in the first record with content; `None` until it is read.
    width: Option<usize>,
    /// 1-based line on which the current record starts.
    line: u64,
    repairs: Repairs,
    done: bool,
}

/// A reader of CSV bytes that hands them on with stray quotes made literal (see the
/// module documentation). The output has exactly the input's length.
pub(crate) struct QuoteGuard<R> {
    inner: R,
    m: Machine,
}

impl<R: BufRead> QuoteGuard<R> {
    pub(crate) fn new(inner: R, delimiter: u8) -> Self {
        QuoteGuard {
            inner,
            m: Machine {
                delimiter,
                again: Vec::new(),
                record: Vec::new(),
                out: Vec::new(),
                out_at: 0,
                state: State::FieldStart,
                fields: 1,
                open_at: 0,
                spanning: None,
                quoted_lines: 0,
                width: None,
                line: 1,
                repairs: Repairs::default(),
                done: false,
            },
        }
    }

    /// Stray quotes found in what has been read so far.
    pub(crate) fn repairs(&self) -> Repairs {
        self.m.repairs
    }

    /// Run more input through the machine.
    fn pump(&mut self) -> std::io::Result<()> {
        if !self.m.again.is_empty() {
            let again = std::mem::take(&mut self.m.again);
            let used = self.m.feed(&again);
            let mut rest = std::mem::take(&mut self.m.again);
            rest.extend_from_slice(&again[used..]);
            self.m.again = rest;
            return Ok(());
        }
        let buf = self.inner.fill_buf()?;
        if buf.is_empty() {
            self.m.finish();
            return Ok(());
        }
        let used = self.m.feed(buf);
        self.inner.consume(used);
        Ok(())
    }
}

impl<R: BufRead> Read for QuoteGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let ready = &self.m.out[self.m.out_at..];
            if !ready.is_empty() {
                let n = ready.len().min(buf.len());
                buf[..n].copy_from_slice(&ready[..n]);
                self.m.out_at += n;
                return Ok(n);
            }
            self.m.out.clear();
            self.m.out_at = 0;
            if self.m.done {
                return Ok(0);
            }
            self.pump()?;
        }
    }
}

impl Machine {
    /// Run `buf` through; returns how much of it was used (less than all when a record
    /// was repaired: it is in `again`, to be read before the rest).
    fn feed(&mut self, buf: &[u8]) -> usize {
        let mut i = 0;
        while i < buf.len() {
            match self.state {
                State::FieldStart if buf[i] == b'"' => {
                    self.open_at = self.record.len();
                    self.record.push(b'"');
                    self.state = State::Quoted;
                    i += 1;
                }
                State::FieldStart | State::Unquoted => {
                    let rest = &buf[i..];
                    let Some(k) = memchr::memchr3(self.delimiter, b'\n', b'\r', rest) else {
                        self.record.extend_from_slice(rest);
                        self.state = State::Unquoted;
                        i = buf.len();
                        continue;
                    };
                    self.record.extend_from_slice(&rest[..=k]);
                    i += k + 1;
                    if rest[k] == self.delimiter {
                        self.fields += 1;
                        self.state = State::FieldStart;
                    } else if self.end_record() {
                        return i;
                    }
                }
                State::Quoted => {
                    let rest = &buf[i..];
                    let Some(k) = memchr::memchr2(b'"', b'\n', rest) else {
                        self.record.extend_from_slice(rest);
                        i = buf.len();
                        if self.spanning.is_some() && self.record.len() > MAX_RECORD_BYTES {
                            self.repair();
                            return i;
                        }
                        continue;
                    };
                    self.record.extend_from_slice(&rest[..=k]);
                    i += k + 1;
                    if rest[k] == b'"' {
                        self.state = State::QuoteInQuoted;
                    } else {
                        self.quoted_lines += 1;
                        self.spanning.get_or_insert(self.open_at);
                        if self.quoted_lines > MAX_QUOTED_LINES
                            || self.record.len() > MAX_RECORD_BYTES
                        {
                            self.repair();
                            return i;
                        }
                    }
                }
                State::QuoteInQuoted => {
                    if buf[i] == b'"' {
                        self.record.push(b'"');
                        self.state = State::Quoted;
                        i += 1;
                    } else {
                        // The field has ended; what follows is read as unquoted.
                        self.state = State::Unquoted;
                    }
                }
            }
        }
        i
    }

    /// A line end outside quotes ended the record: hand it on, or repair it when a
    /// quoted field ran over a line end and the record's width is wrong. True when it
    /// was repaired.
    fn end_record(&mut self) -> bool {
        if let (Some(_), Some(width)) = (self.spanning, self.width) {
            if width >= 2 && self.fields != width {
                self.repair();
                return true;
            }
        }
        let content = self.record.iter().any(|&b| b != b'\n' && b != b'\r');
        if self.width.is_none() && content {
            self.width = Some(self.fields);
        }
        self.hand_on();
        false
    }

    /// The input ended: an open quoted field that ran over a line end is stray.
    fn finish(&mut self) {
        let open = matches!(self.state, State::Quoted);
        let wrong_width =
            matches!((self.spanning, self.width), (Some(_), Some(w)) if w >= 2 && self.fields != w);
        if self.spanning.is_some() && (open || wrong_width) {
            self.repair();
            return;
        }
        self.hand_on();
        self.done = true;
    }

    fn hand_on(&mut self) {
        self.line += memchr::memchr_iter(b'\n', &self.record).count() as u64;
        self.out.extend_from_slice(&self.record);
        self.record.clear();
        self.reset();
    }

    /// Take the record's first line-spanning opening quote as literal and queue the
    /// record to be read again.
    fn repair(&mut self) {
        let at = self.spanning.unwrap_or(self.open_at);
        if let Some(b) = self.record.get_mut(at) {
            *b = LITERAL;
        }
        if self.repairs.count == 0 {
            self.repairs.first_line =
                self.line + memchr::memchr_iter(b'\n', &self.record[..at]).count() as u64;
        }
        self.repairs.count += 1;
        self.again = std::mem::take(&mut self.record);
        self.reset();
    }

    fn reset(&mut self) {
        self.state = State::FieldStart;
        self.fields = 1;
        self.spanning = None;
        self.quoted_lines = 0;
    }
}

/// The stray quotes of `text`, found without a copy of it and passing over it as it
/// goes (see [`leakhound_inputs::read::pass_over`]): most quoted exports have none,
/// and a copy of a 1.4 GB one was 1.4 GB more memory only to learn that.
pub(crate) fn repairs(text: &[u8], delimiter: u8) -> Repairs {
    repairs_in_pieces(text, delimiter, PIECE)
}

/// Bytes of a slice the guard is offered at a time.
const PIECE: usize = 1 << 20;

/// A slice offered to the guard `size` bytes at a time: the guard takes all that
/// `fill_buf` offers, and a whole 1.4 GB export offered at once became a copy of it.
struct Pieces<'t> {
    text: &'t [u8],
    size: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.text.len().min(self.size).min(buf.len());
        buf[..n].copy_from_slice(&self.text[..n]);
        self.text = &self.text[n..];
        Ok(n)
    }
}

impl BufRead for Pieces<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(&self.text[..self.text.len().min(self.size)])
    }

    fn consume(&mut self, n: usize) {
        self.text = &self.text[n.min(self.text.len())..];
    }
}

fn repairs_in_pieces(text: &[u8], delimiter: u8, size: usize) -> Repairs {
    let mut guard = QuoteGuard::new(Pieces { text, size }, delimiter);
    let mut buf = vec![0; 1 << 20];
    // The guard gives one byte for each byte it read, in order: what it gave is done.
    let (mut given, mut passed) = (0, 0);
    while let Ok(n @ 1..) = guard.read(&mut buf) {
        given += n;
        if given - passed >= leakhound_inputs::read::PASS_PIECE {
            leakhound_inputs::read::pass_over(text.get(passed..given).unwrap_or_default());
            passed = given;
        }
    }
    leakhound_inputs::read::pass_over(text.get(passed..).unwrap_or_default());
    guard.repairs()
}

/// `text` with its stray quotes made literal, and what was repaired.
pub(crate) fn repaired(text: &[u8], delimiter: u8) -> (Vec<u8>, Repairs) {
    let mut guard = QuoteGuard::new(Pieces { text, size: PIECE }, delimiter);
    let mut out = Vec::with_capacity(text.len());
    // Reading a slice cannot fail.
    let _ = guard.read_to_end(&mut out);
    (out, guard.repairs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rows(text: &[u8]) -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text)
            .records()
            .map(|r| {
                r.map(|r| r.iter().map(str::to_string).collect())
                    .unwrap_or_default()
            })
            .collect()
    }

    fn table(n: usize, stray_at: Option<usize>) -> String {
        let mut t = String::from("name,id,phone\n");
        for i in 0..n {
            let name = if Some(i) == stray_at {
                format!("\"wang{i}")
            } else {
                format!("wang{i}")
            };
            t.push_str(&format!("{name},{i},1380000{i:04}\n"));
        }
        t
    }

    #[test]
    fn clean_csv_passes_unchanged() {
        let text = "a,b,c\n1,\"two\nlines\",3\n4,\"x \"\"q\"\" y\",6\r\n7,8,9";
        let (out, r) = repaired(text.as_bytes(), b',');
        assert_eq!(out, text.as_bytes());
        assert_eq!(r.count, 0);
    }

    #[test]
    fn a_stray_quote_with_no_other_quote_is_repaired_at_the_end() {
        let text = table(200, Some(5));
        assert_eq!(
            rows(text.as_bytes()).len(),
            7,
            "the bug: 6 rows and a header"
        );
        let (out, r) = repaired(text.as_bytes(), b',');
        assert_eq!(out.len(), text.len());
        assert_eq!(rows(&out).len(), 201);
        assert_eq!(
            r,
            Repairs {
                count: 1,
                first_line: 7
            }
        );
        assert_eq!(rows(&out)[6][0], "'wang5");
    }

    #[test]
    fn a_stray_quote_closed_by_a_later_quote_is_found_by_the_width() {
        let mut text = table(20, Some(3));
        text.push_str("\"li, lei\",99,13800009999\n");
        let (out, r) = repaired(text.as_bytes(), b',');
        let read = rows(&out);
        assert_eq!(read.len(), 22);
        assert_eq!(read[21][0], "li, lei");
        assert_eq!(r.count, 1);
    }

    #[test]
    fn a_runaway_field_is_cut_at_the_line_limit_with_bounded_memory() {
        let text = table(MAX_QUOTED_LINES as usize + 50, Some(0));
        let mut guard = QuoteGuard::new(text.as_bytes(), b',');
        let mut first = vec![0u8; 4096];
        let n = guard.read(&mut first).unwrap();
        // Handed on long before the end of the input.
        assert!(n > 0);
        assert!(guard.m.record.len() < 1 << 20);
        let mut out = first[..n].to_vec();
        guard.read_to_end(&mut out).unwrap();
        assert_eq!(rows(&out).len(), MAX_QUOTED_LINES as usize + 51);
        assert_eq!(guard.repairs().count, 1);
    }

    #[test]
    fn legitimate_multi_line_cells_are_kept() {
        let text = "id,address,note\n1,\"Room 1\nChaoyang, Beijing\",ok\n2,plain,\"a\nb\nc\"\n";
        let (out, r) = repaired(text.as_bytes(), b',');
        assert_eq!(r.count, 0);
        assert_eq!(rows(&out)[1][1], "Room 1\nChaoyang, Beijing");
    }

    #[test]
    fn tab_delimited_and_quote_mid_field() {
        let text = "a\tb\n5\" pipe\tx\n\"open\ty\nz\tw\n";
        let (out, r) = repaired(text.as_bytes(), b'\t');
        assert_eq!(r.count, 1);
        assert_eq!(rows_tsv(&out).len(), 4);
    }

    fn rows_tsv(text: &[u8]) -> Vec<csv::StringRecord> {
        csv::ReaderBuilder::new()
            .delimiter(b'\t')
            .has_headers(false)
            .flexible(true)
            .from_reader(text)
            .records()
            .filter_map(Result::ok)
            .collect()
    }

    proptest! {
        /// Any input: same length out, only quotes changed, and reading ends.
        #[test]
        fn only_quotes_change(text in proptest::collection::vec(
            prop_oneof![Just(b'"'), Just(b','), Just(b'\n'), Just(b'\r'), Just(b'a')], 0..400)) {
            let (out, _) = repaired(&text, b',');
            prop_assert_eq!(out.len(), text.len());
            for (a, b) in text.iter().zip(&out) {
                prop_assert!(a == b || (*a == b'"' && *b == LITERAL));
            }
        }

        /// Clean tables (every quoted field closed, same width) are never changed.
        #[test]
        fn clean_tables_unchanged(cells in proptest::collection::vec(
            proptest::collection::vec("[a-z\",\n ]{0,6}", 3), 1..30)) {
            let mut w = csv::Writer::from_writer(Vec::new());
            for row in &cells {
                w.write_record(row).unwrap();
            }
            let text = w.into_inner().unwrap();
            let (out, r) = repaired(&text, b',');
            prop_assert_eq!(r.count, 0);
            prop_assert_eq!(out, text);
        }

        /// Counting stray quotes without the copy finds what the copy found.
        #[test]
        fn repairs_without_a_copy_are_the_copys(text in proptest::collection::vec(
            prop_oneof![Just(b'"'), Just(b','), Just(b'\n'), Just(b'\r'), Just(b'a')], 0..400)) {
            prop_assert_eq!(repairs(&text, b','), repaired(&text, b',').1);
            let mut whole = QuoteGuard::new(&text[..], b',');
            let mut out = Vec::new();
            let _ = whole.read_to_end(&mut out);
            for size in [1, 2, 7] {
                prop_assert_eq!(repairs_in_pieces(&text, b',', size), whole.repairs());
            }
        }
    }

    #[test]
    fn repairs_without_a_copy_count_a_big_tables_strays() {
        for stray_at in [None, Some(3), Some(40_000)] {
            let t = table(60_000, stray_at);
            let expected = repaired(t.as_bytes(), b',').1;
            assert_eq!(expected.count, u64::from(stray_at.is_some()));
            assert_eq!(repairs(t.as_bytes(), b','), expected);
        }
    }
}
