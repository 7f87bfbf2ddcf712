//! Large CSV/TSV files, read as a stream: decoded on the fly (UTF-8, UTF-16, GBK) and
//! parsed record by record, so memory does not grow with the file's size.

use crate::tables::{Table, TableSink};
use crate::{sources, Meter};
use leakhound_inputs::decode::{self, Encoding};
use leakhound_inputs::{Problem, ProblemKind};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Files above this size are streamed by default; smaller ones are read whole (which
/// also opens archives and SQLite files).
pub const STREAM_ABOVE: u64 = 64 << 20;

/// Bytes looked at to choose the encoding and the delimiter.
const PEEK: usize = 64 << 10;

/// Magic numbers of what must not be streamed as text: archives, compressed streams,
/// SQLite.
const NOT_TEXT: &[&[u8]] = &[
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",
    b"SQLite format 3\x00",
    b"ustar",
];

/// Whether `path` (shown as `shown`) should be streamed: a big CSV/TSV or SQL dump
/// that is text.
pub(crate) fn streamable(path: &Path, shown: &str, size: u64, above: u64) -> bool {
    if size <= above
        || !matches!(
            sources::format_of(shown),
            Some("csv" | "tsv" | "sql" | "jsonl")
        )
    {
        return false;
    }
    let mut head = [0u8; 16];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    !NOT_TEXT.iter().any(|m| head[..n].starts_with(m))
}

/// Read a CSV/TSV file as a stream into `sink`. A malformed record ends the readable
/// part: what was read before it is still handed on, and a problem says what went
/// wrong.
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
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut records = csv.records();
    let first: Vec<String> = match records.next() {
        Some(Ok(r)) => r.iter().map(str::to_string).collect(),
        Some(Err(e)) => return sink.problem(problem(format!("not a readable table: {e}"))),
        None => Vec::new(),
    };
    let header = sources::looks_like_header(&first);
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
    let lead = (!header && !first.is_empty()).then_some(first);
    let mut damage = None;
    let mut read = 0u64;
    let mut rows = lead
        .into_iter()
        .chain(std::iter::from_fn(|| match records.next()? {
            Ok(r) => Some(r.iter().map(str::to_string).collect()),
            Err(e) => {
                damage = Some(e.to_string());
                None
            }
        }))
        .map(|mut row: Vec<String>| {
            read += 1;
            row.resize(width, String::new());
            row
        });
    sink.table(Table {
        source: shown,
        format,
        columns: names,
        rows: &mut rows,
    });
    if let Some(e) = damage {
        sink.problem(problem(format!(
            "damaged table: {e} (after {read} rows; the rest is not read)"
        )));
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
    let reader: Box<dyn Read + 'm> = match encoding {
        Encoding::Utf16Le => Box::new(decoding(raw, encoding_rs::UTF_16LE)),
        Encoding::Utf16Be => Box::new(decoding(raw, encoding_rs::UTF_16BE)),
        Encoding::Gb18030 => Box::new(decoding(raw, encoding_rs::GB18030)),
        // UTF-8 (a BOM is dropped by the decoder) and anything else read as bytes.
        _ => Box::new(decoding(raw, encoding_rs::UTF_8)),
    };
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
        let mut rows = std::iter::from_fn(|| dump.next_row());
        sink.table(Table {
            source: &source,
            format: "sql",
            columns,
            rows: &mut rows,
        });
    }
    if let Some(e) = dump.damage {
        sink.problem(problem(format!("damaged dump: {e} (the rest is not read)")));
    }
}

/// Read a JSON Lines file as a stream into `sink`: the columns are the keys (flattened,
/// dotted) of its first 10,000 records; keys that first appear later are not columns.
/// A line that is not JSON ends the readable part, and is reported.
pub(crate) fn read_jsonl_file(path: &Path, shown: &str, meter: &Meter, sink: &mut dyn TableSink) {
    let problem = |message: String| Problem {
        path: shown.to_string(),
        message,
        kind: ProblemKind::Unreadable,
    };
    let Some((reader, _)) = open_decoded(path, meter, sink, &problem) else {
        return;
    };
    let mut lines = BufReader::with_capacity(1 << 20, reader).lines();
    let mut damage: Option<String> = None;
    let mut number = 0u64;
    let mut next_record = |damage: &mut Option<String>| -> Option<Vec<(String, String)>> {
        if damage.is_some() {
            return None;
        }
        loop {
            number += 1;
            let line = match lines.next()? {
                Ok(l) => l,
                Err(e) => {
                    *damage = Some(e.to_string());
                    return None;
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(v) => {
                    let mut cells = Vec::new();
                    sources::flatten(&v, String::new(), &mut cells);
                    return Some(cells);
                }
                Err(e) => {
                    *damage = Some(format!("line {number}: {e}"));
                    return None;
                }
            }
        }
    };
    let mut sample = Vec::new();
    while sample.len() < crate::SAMPLE_ROWS {
        match next_record(&mut damage) {
            Some(r) => sample.push(r),
            None => break,
        }
    }
    let mut columns: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (k, _) in sample.iter().flatten() {
        if !index.contains_key(k) {
            index.insert(k.clone(), columns.len());
            columns.push(k.clone());
        }
    }
    let width = columns.len();
    let mut later = std::iter::from_fn(|| next_record(&mut damage));
    let mut rows = sample
        .into_iter()
        .chain(&mut later)
        .map(|cells| sources::place(cells, &index, width));
    sink.table(Table {
        source: shown,
        format: "jsonl",
        columns,
        rows: &mut rows,
    });
    drop(rows);
    if let Some(e) = damage {
        sink.problem(problem(format!(
            "damaged JSON Lines: {e} (the rest is not read)"
        )));
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

fn decoding<R: Read>(r: R, encoding: &'static encoding_rs::Encoding) -> impl Read {
    encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(Some(encoding))
        .bom_override(true)
        .build(r)
}
