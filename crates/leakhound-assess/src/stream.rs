//! Large CSV/TSV files, read as a stream: decoded on the fly (UTF-8, UTF-16, GBK),
//! parsed record by record, kinds decided on the first rows and the rest counted as
//! they pass. Memory is one sample of rows plus one hash per distinct identifier,
//! whatever the file's size.

use crate::{sources, Meter, TableBuilder, TableReport, Totals};
use leakhound_inputs::decode::{self, Encoding};
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

/// Whether `path` (shown as `shown`) should be streamed: a big CSV/TSV that is text.
pub(crate) fn streamable(path: &Path, shown: &str, size: u64, above: u64) -> bool {
    if size <= above || !matches!(sources::format_of(shown), Some("csv" | "tsv")) {
        return false;
    }
    let mut head = [0u8; 16];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    !NOT_TEXT.iter().any(|m| head[..n].starts_with(m))
}

/// Assess a CSV/TSV file as a stream. A malformed record ends the readable part: what
/// was read before it is still assessed, and the second value says what went wrong.
pub(crate) fn assess_csv_file(
    path: &Path,
    shown: &str,
    totals: &mut Totals,
    meter: &Meter,
) -> Result<(TableReport, Option<String>), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut raw = BufReader::with_capacity(1 << 20, Metered { inner: file, meter });
    let peek = raw.fill_buf().map_err(|e| e.to_string())?;
    let encoding = decode::sniff(&peek[..peek.len().min(PEEK)]);
    let sample_text =
        String::from_utf8_lossy(&decode::to_utf8(&peek[..peek.len().min(PEEK)], encoding))
            .into_owned();
    let default = if sources::format_of(shown) == Some("tsv") {
        b'\t'
    } else {
        b','
    };
    let delimiter = sources::sniff_delimiter(&sample_text, default);
    let reader: Box<dyn Read> = match encoding {
        Encoding::Utf16Le => Box::new(decoding(raw, encoding_rs::UTF_16LE)),
        Encoding::Utf16Be => Box::new(decoding(raw, encoding_rs::UTF_16BE)),
        Encoding::Gb18030 => Box::new(decoding(raw, encoding_rs::GB18030)),
        // UTF-8 (a BOM is dropped by the decoder) and anything else read as bytes.
        _ => Box::new(decoding(raw, encoding_rs::UTF_8)),
    };
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut records = csv.records();
    let first: Vec<String> = match records.next() {
        Some(r) => r
            .map_err(|e| e.to_string())?
            .iter()
            .map(str::to_string)
            .collect(),
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
    let format = if delimiter == b'\t' { "tsv" } else { "csv" };
    let mut table = TableBuilder::new(shown, format, names);
    if !header && !first.is_empty() {
        table.push(first, totals);
        meter.add_rows(1);
    }
    let mut damage = None;
    for record in records {
        match record {
            Ok(r) => {
                table.push(r.iter().map(str::to_string).collect(), totals);
                meter.add_rows(1);
            }
            Err(e) => {
                damage = Some(format!(
                    "{e} (after {} rows; the rest is not read)",
                    table.rows_seen()
                ));
                break;
            }
        }
    }
    Ok((table.finish(totals), damage))
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
