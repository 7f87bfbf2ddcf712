//! Large CSV/TSV, JSON Lines and SQL dump files, also gzip/bzip2/xz/zstd-compressed,
//! read as a stream: decompressed and decoded on the fly (UTF-8, UTF-16, GBK) and
//! parsed record by record, so memory does not grow with the file's size.

use crate::json::{self, BadLines};
use crate::json_stream;
use crate::table::{Meter, Row, RowSource, Table, TableSink};
use crate::{rows, sources};
use leakhound_inputs::decode;
use leakhound_inputs::{Problem, ProblemKind};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Files above this size are streamed by default; smaller ones are read whole (which
/// also opens archives and SQLite files).
pub const STREAM_ABOVE: u64 = 64 << 20;

/// JSON Lines records read before a streamed file's columns are fixed (keys that
/// first appear later are not columns).
const COLUMN_SAMPLE: usize = 10_000;

/// Bytes looked at to choose the encoding and the delimiter.
const PEEK: usize = 64 << 10;

/// Magic numbers of what must not be streamed: archives and SQLite files.
const NOT_STREAMED: &[&[u8]] = &[b"PK\x03\x04", b"SQLite format 3\x00", b"ustar"];

/// If `path` (shown as `shown`) should be streamed, the name its table goes by: a
/// CSV/TSV, JSON Lines file or SQL dump larger than `above`, plain (`shown`) or in a
/// gzip, bzip2, xz or zstd stream (`x.csv.gz!x.csv`, as when read whole).
pub(crate) fn streamable(path: &Path, shown: &str, size: u64, above: u64) -> Option<String> {
    if size <= above {
        return None;
    }
    let mut head = [0u8; 16];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let head = &head[..n];
    if NOT_STREAMED.iter().any(|m| head.starts_with(m)) {
        return None;
    }
    let name =
        match leakhound_inputs::archive::decompressing(shown, head, Box::new(std::io::empty())) {
            Some((inner, _)) => format!("{shown}{}{inner}", leakhound_inputs::LAYER_SEPARATOR),
            None => shown.to_string(),
        };
    matches!(
        sources::format_of(&name),
        Some("csv" | "tsv" | "sql" | "jsonl" | "json")
    )
    .then_some(name)
}

/// Read a CSV/TSV file as a stream into `sink`. A malformed record ends the readable
/// part: what was read before it is still handed on, and a problem says what went
/// wrong. Stray quotes are taken literally and reported (see [`crate::stray_quotes`]).
pub(crate) fn read_csv_file(path: &Path, shown: &str, meter: &Meter, sink: &mut dyn TableSink) {
    let problem = |message: String| Problem {
        path: shown.to_string(),
        message,
        kind: ProblemKind::Unreadable,
    };
    let Some((reader, sample_text)) = open_decoded(path, meter, sink, &problem) else {
        return;
    };
    let default = if sources::format_of(shown) == Some("tsv") {
        b'\t'
    } else {
        b','
    };
    let delimiter = sources::sniff_delimiter(&sample_text, default);
    let guard =
        crate::stray_quotes::QuoteGuard::new(BufReader::with_capacity(1 << 20, reader), delimiter);
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(guard);
    let mut record = csv::ByteRecord::new();
    let first: Vec<String> = match csv.read_byte_record(&mut record) {
        Ok(true) => {
            let mut row = Row::default();
            utf8_cells(&record, usize::MAX, &mut row);
            row.to_vec()
        }
        Ok(false) => Vec::new(),
        Err(e) => return sink.problem(problem(format!("not a readable table: {e}"))),
    };
    let header = rows::looks_like_header(&first);
    let names: Vec<String> = if header {
        first
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let n = n.trim();
                if n.is_empty() {
                    format!("column_{}", i + 1)
                } else {
                    n.to_string()
                }
            })
            .collect()
    } else {
        (1..=first.len()).map(|i| format!("column_{i}")).collect()
    };
    let width = names.len();
    let format = if delimiter == b'\t' { "tsv" } else { "csv" };
    let mut rows = CsvRows {
        csv: &mut csv,
        record,
        lead: (!header && !first.is_empty()).then_some(first),
        width,
        damage: None,
        read: 0,
    };
    sink.table(Table {
        source: shown,
        format,
        columns: names,
        rows: &mut rows,
    });
    let (damage, read) = (rows.damage, rows.read);
    if let Some(e) = damage {
        sink.problem(problem(format!(
            "damaged table: {e} (after {read} rows; the rest is not read)"
        )));
    }
    if let Some(message) = csv.get_ref().repairs().message() {
        sink.problem(problem(message));
    }
}

/// A record's first `width` cells into `row` (it is cleared first), checked as UTF-8
/// once for the whole record (`simdutf8`; the check was a sixth of reading a CSV) and
/// cut at the cells' ends. The decoding reader already gives UTF-8; should a cell not
/// be, its bad bytes are replaced rather than the rest of the file lost.
fn utf8_cells(record: &csv::ByteRecord, width: usize, row: &mut Row) {
    row.clear();
    let whole = simdutf8::basic::from_utf8(record.as_slice()).ok();
    for i in 0..record.len().min(width) {
        let range = record.range(i).unwrap_or_default();
        match whole.and_then(|w| w.get(range)) {
            Some(cell) => row.push(cell),
            None => row.push(&String::from_utf8_lossy(record.get(i).unwrap_or_default())),
        }
    }
}

/// A streamed CSV file's rows, each read into the consumer's [`Row`] through one
/// reused record: no allocation per row.
struct CsvRows<'c, R> {
    csv: &'c mut csv::Reader<R>,
    record: csv::ByteRecord,
    /// The first row, when it was data rather than a header.
    lead: Option<Vec<String>>,
    width: usize,
    /// What ended the readable part, if damage did.
    damage: Option<String>,
    read: u64,
}

impl<R: Read> RowSource for CsvRows<'_, R> {
    fn next_into(&mut self, row: &mut Row) -> bool {
        row.clear();
        if let Some(lead) = self.lead.take() {
            for i in 0..self.width {
                row.push(lead.get(i).map_or("", String::as_str));
            }
            self.read += 1;
            return true;
        }
        if self.damage.is_some() {
            return false;
        }
        match self.csv.read_byte_record(&mut self.record) {
            Ok(true) => {
                utf8_cells(&self.record, self.width, row);
                for _ in row.len()..self.width {
                    row.push("");
                }
                self.read += 1;
                true
            }
            Ok(false) => false,
            Err(e) => {
                self.damage = Some(e.to_string());
                false
            }
        }
    }
}

/// Open `path` decoded to UTF-8 on the fly (UTF-8, UTF-16, GBK sniffed from its first
/// 64 KiB), with that first part as text for sniffing. Problems go to the sink.
fn open_decoded<'m>(
    path: &Path,
    meter: &'m Meter,
    sink: &mut dyn TableSink,
    problem: &dyn Fn(String) -> Problem,
) -> Option<(Box<dyn Read + 'm>, String)> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            sink.problem(problem(e.to_string()));
            return None;
        }
    };
    let mut raw = BufReader::with_capacity(1 << 20, Metered { inner: file, meter });
    // A compressed stream is decompressed on the fly (the meter counts compressed bytes).
    let head = raw
        .fill_buf()
        .map(|h| h[..h.len().min(16)].to_vec())
        .unwrap_or_default();
    let shown = path.display().to_string();
    let mut raw: Box<dyn BufRead + 'm> =
        if leakhound_inputs::archive::compressed_name(&shown, &head).is_some() {
            match leakhound_inputs::archive::decompressing(&shown, &head, Box::new(raw)) {
                Some((_, inner)) => Box::new(BufReader::with_capacity(1 << 20, inner)),
                None => {
                    sink.problem(problem("damaged compressed stream".into()));
                    return None;
                }
            }
        } else {
            Box::new(raw)
        };
    let peek = match raw.fill_buf() {
        Ok(p) => p,
        Err(e) => {
            sink.problem(problem(e.to_string()));
            return None;
        }
    };
    let encoding = decode::sniff(&peek[..peek.len().min(PEEK)]);
    let sample_text =
        String::from_utf8_lossy(&decode::to_utf8(&peek[..peek.len().min(PEEK)], encoding))
            .into_owned();
    // UTF-8 (its mark dropped) and anything else not transcoded is read as UTF-8.
    let reader: Box<dyn Read + 'm> = Box::new(decode::DecodingReader::new(raw, encoding));
    Some((reader, sample_text))
}

/// Read a SQL dump as a stream into `sink`, table by table (see
/// [`crate::sqldump::DumpStream`]).
pub(crate) fn read_sql_file(path: &Path, shown: &str, meter: &Meter, sink: &mut dyn TableSink) {
    let problem = |message: String| Problem {
        path: shown.to_string(),
        message,
        kind: ProblemKind::Unreadable,
    };
    let Some((reader, _)) = open_decoded(path, meter, sink, &problem) else {
        return;
    };
    let mut dump = crate::sqldump::DumpStream::new(BufReader::with_capacity(1 << 20, reader));
    while let Some((name, columns)) = dump.next_table() {
        let source = format!("{shown}!{name}");
        sink.table(Table {
            source: &source,
            format: "sql",
            columns,
            rows: &mut dump,
        });
    }
    if let Some(e) = dump.damage {
        sink.problem(problem(format!("damaged dump: {e} (the rest is not read)")));
    }
    if let Some(message) = dump.unterminated.message() {
        sink.problem(problem(message));
    }
}

/// Read a JSON Lines file as a stream into `sink`: the columns are the keys (flattened,
/// dotted) of its first 10,000 records; keys that first appear later are not columns.
/// A line that is not JSON is skipped and counted (one bad line made the whole file
/// unreadable before); the count and the first bad line are reported at the end.
pub(crate) fn read_jsonl_file(path: &Path, shown: &str, meter: &Meter, sink: &mut dyn TableSink) {
    let problem = |message: String| Problem {
        path: shown.to_string(),
        message,
        kind: ProblemKind::Unreadable,
    };
    let Some((reader, _)) = open_decoded(path, meter, sink, &problem) else {
        return;
    };
    let mut lines = JsonLines {
        lines: crate::lines::Lines::new(BufReader::with_capacity(1 << 20, reader)),
        number: 0,
        bad: BadLines::default(),
        damage: None,
    };
    // The sample is read as `Value`s: its keys, sorted per object, name the columns
    // (as when the file is read whole).
    let mut sample = Vec::new();
    while sample.len() < COLUMN_SAMPLE && lines.next_line() {
        match serde_json::from_str::<serde_json::Value>(lines.text()) {
            Ok(v) => {
                let mut cells = Vec::new();
                json::flatten(&v, String::new(), &mut cells);
                sample.push(cells);
            }
            Err(e) => lines.bad.note(lines.number, &e),
        }
    }
    let (columns, index) = columns_of(&sample);
    let width = columns.len();
    let sample: Vec<Vec<String>> = sample
        .into_iter()
        .map(|cells| json::place(cells, &index, width))
        .collect();
    let mut rows = JsonlRows {
        sample: sample.into_iter(),
        lines,
        flat: json::Flattener::new(index, width),
    };
    sink.table(Table {
        source: shown,
        format: "jsonl",
        columns,
        rows: &mut rows,
    });
    let lines = rows.lines;
    if let Some(e) = lines.damage {
        sink.problem(problem(format!(
            "damaged JSON Lines: {e} (the rest is not read)"
        )));
    }
    if let Some(message) = lines.bad.message() {
        sink.problem(problem(message));
    }
}

/// The non-blank lines of a JSON Lines file, one at a time.
struct JsonLines<R> {
    lines: crate::lines::Lines<R>,
    /// The current line's number, from 1.
    number: u64,
    bad: BadLines,
    /// What stopped the reading, if not the end (bad UTF-8 after transcoding, I/O).
    damage: Option<String>,
}

impl<R: BufRead> JsonLines<R> {
    /// Move to the next non-blank line; `false` at the end or on damage.
    fn next_line(&mut self) -> bool {
        loop {
            if self.damage.is_some() {
                return false;
            }
            match self.lines.advance() {
                Ok(false) => return false,
                Ok(true) => {
                    self.number += 1;
                    if !self.text().trim().is_empty() {
                        return true;
                    }
                }
                Err(e) => self.damage = Some(e.to_string()),
            }
        }
    }

    /// The current line without its line break.
    fn text(&self) -> &str {
        let line = self.lines.line();
        let l = line.strip_suffix('\n').unwrap_or(line);
        l.strip_suffix('\r').unwrap_or(l)
    }
}

/// A streamed JSON Lines file's rows: the sample as placed, then each later line
/// flattened straight into the row (see [`json::Flattener`]).
struct JsonlRows<R> {
    sample: std::vec::IntoIter<Vec<String>>,
    lines: JsonLines<R>,
    flat: json::Flattener,
}

impl<R: BufRead> RowSource for JsonlRows<R> {
    fn next_into(&mut self, row: &mut Row) -> bool {
        if let Some(cells) = self.sample.next() {
            row.set(&cells);
            return true;
        }
        while self.lines.next_line() {
            match self.flat.record(self.lines.text()) {
                Ok(()) => {
                    row.set(self.flat.cells());
                    return true;
                }
                Err(e) => self.lines.bad.note(self.lines.number, &e),
            }
        }
        false
    }
}

/// Column names of flattened records, in order of first appearance, and each one's
/// place.
fn columns_of(
    records: &[Vec<(String, String)>],
) -> (Vec<String>, std::collections::HashMap<String, usize>) {
    let mut columns: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (k, _) in records.iter().flatten() {
        if !index.contains_key(k) {
            index.insert(k.clone(), columns.len());
            columns.push(k.clone());
        }
    }
    (columns, index)
}

/// Read one JSON document (an array of records, or an object holding one) as a
/// stream into `sink`: a first pass finds the records array as the whole-document
/// reader would, a second cuts its elements out one by one (see
/// [`crate::json_stream`]). Damage ends the table where it starts, and is reported.
pub(crate) fn read_json_file(path: &Path, shown: &str, meter: &Meter, sink: &mut dyn TableSink) {
    let problem = |message: String| Problem {
        path: shown.to_string(),
        message,
        kind: ProblemKind::Unreadable,
    };
    // The first pass is not progress: it is counted on a meter of its own.
    let first_pass = Meter::default();
    let Some((reader, _)) = open_decoded(path, &first_pass, sink, &problem) else {
        return;
    };
    let records = match json_stream::records_of(BufReader::with_capacity(1 << 20, reader)) {
        Ok(r) => r,
        Err(e) => return sink.problem(problem(format!("damaged JSON: {e}"))),
    };
    let Some((reader, _)) = open_decoded(path, meter, sink, &problem) else {
        return;
    };
    let elements = json_stream::Elements::new(BufReader::with_capacity(1 << 20, reader), records);
    let mut rows = JsonRows {
        sample: Vec::new().into_iter(),
        elements,
        flat: json::Flattener::new(Default::default(), 0),
        damage: None,
    };
    // The sample is read as `Value`s: its keys, sorted per object, name the columns
    // (as when the file is read whole). Later records are flattened straight into the
    // row, as JSON Lines are.
    let mut sample = Vec::new();
    while sample.len() < COLUMN_SAMPLE {
        let Some(text) = rows.next_element() else {
            break;
        };
        match serde_json::from_slice::<serde_json::Value>(&text) {
            Ok(v) => {
                let mut cells = Vec::new();
                json::flatten(&v, String::new(), &mut cells);
                sample.push(cells);
            }
            Err(e) => {
                rows.damage = Some(e.to_string());
                break;
            }
        }
    }
    let (columns, index) = columns_of(&sample);
    let width = columns.len();
    rows.sample = sample
        .into_iter()
        .map(|cells| json::place(cells, &index, width))
        .collect::<Vec<_>>()
        .into_iter();
    rows.flat = json::Flattener::new(index, width);
    sink.table(Table {
        source: shown,
        format: "json",
        columns,
        rows: &mut rows,
    });
    if let Some(e) = rows.damage {
        sink.problem(problem(format!("damaged JSON: {e} (the rest is not read)")));
    }
}

/// A streamed JSON document's rows: the sample as placed, then each later record
/// flattened straight into the row (see [`json::Flattener`]). Damage ends the rows.
struct JsonRows<R> {
    sample: std::vec::IntoIter<Vec<String>>,
    elements: json_stream::Elements<R>,
    flat: json::Flattener,
    damage: Option<String>,
}

impl<R: BufRead> JsonRows<R> {
    /// The next record's text, unless the document ended or is damaged.
    fn next_element(&mut self) -> Option<Vec<u8>> {
        if self.damage.is_some() {
            return None;
        }
        match self.elements.next_record() {
            Ok(text) => text,
            Err(e) => {
                self.damage = Some(e.to_string());
                None
            }
        }
    }
}

impl<R: BufRead> RowSource for JsonRows<R> {
    fn next_into(&mut self, row: &mut Row) -> bool {
        if let Some(cells) = self.sample.next() {
            row.set(&cells);
            return true;
        }
        let Some(text) = self.next_element() else {
            return false;
        };
        let read = match std::str::from_utf8(&text) {
            Ok(text) => self.flat.record(text).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match read {
            Ok(()) => {
                row.set(self.flat.cells());
                true
            }
            Err(e) => {
                self.damage = Some(e);
                false
            }
        }
    }
}

/// Counts the bytes read from a file into the meter.
struct Metered<'m, R> {
    inner: R,
    meter: &'m Meter,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.add_bytes(n as u64);
        Ok(n)
    }
}
