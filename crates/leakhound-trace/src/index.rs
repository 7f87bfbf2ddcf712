//! The fingerprint index: for every customer record, the keyed fingerprints of its
//! identifiers, with the record's id and date. It holds no raw personal data.
//!
//! Layout (little-endian), read through a memory map so a 50-million-record index is
//! searched without being loaded:
//!
//! ```text
//! "LHTRACE1"  header length (u64)  header (JSON: counts, key check, sources)
//! buckets     65,537 x u64: where entries with each top-16-bit prefix start
//! entries     n x (fingerprint u64, record u32), sorted
//! dates       records x u32 (YYYYMMDD, 0 when unknown)
//! id ends     records x u64: end of each record id in the id bytes
//! id bytes
//! SHA-256 of every byte above (32 bytes; version 2 and later)
//! ```
//!
//! A verdict in an incident must not rest on a damaged file: opening an index checks
//! its checksum, that buckets and entries are in order and every record id fits, and
//! refuses versions it does not know. A zeroed bucket table turned "83% ours" into
//! "0 rows ours" silently before.

use crate::identifiers::{IdKind, Key64, Plan};
use crate::key::Key;
use crate::TraceError;
use leakhound_assess::date_of;
use leakhound_inputs::Problem;
use leakhound_tables::{Table, TableSink};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::Path;

const MAGIC: &[u8; 8] = b"LHTRACE1";
/// The format written. Version 1 (no checksum) is still read, with the structure checks.
const VERSION: u32 = 2;
const CHECKSUM: usize = 32;

/// Writes through to `inner` and hashes what passes, for the trailing checksum.
struct Summing<W> {
    inner: W,
    sha: sha2::Sha256,
}

impl<W: Write> Write for Summing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        sha2::Digest::update(&mut self.sha, &buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
const BUCKETS: usize = 1 << 16;
const ENTRY: usize = 12;

/// What the index says of itself (stored as JSON in the file).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    /// Format version.
    pub version: u32,
    /// Tells whether a key is the one the index was made with.
    pub key_check: String,
    /// Records indexed.
    pub records: u64,
    /// Fingerprints stored.
    pub entries: u64,
    /// Fingerprints per identifier kind.
    pub kinds: BTreeMap<String, u64>,
    /// Records with a date.
    pub dated: u64,
    /// Each table read: source and records taken from it.
    pub sources: Vec<SourceSummary>,
}

/// One table that went into the index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceSummary {
    /// Where it came from.
    pub source: String,
    /// Rows read.
    pub rows: u64,
    /// Rows indexed (those with at least one identifier).
    pub records: u64,
    /// The identifier each column gave, by column name.
    pub identifiers: BTreeMap<String, String>,
}

/// Options for building an index.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Column holding the record id (matched case-insensitively); the row number in
    /// its table when absent.
    pub id_column: Option<String>,
    /// Column holding the record's date (created, registered…).
    pub date_column: Option<String>,
}

/// Builds an index from tables handed to it as a [`TableSink`].
pub struct IndexBuilder<'k> {
    key: &'k Key,
    options: BuildOptions,
    entries: Vec<(u64, u32)>,
    dates: Vec<u32>,
    id_ends: Vec<u64>,
    ids: Vec<u8>,
    /// Fingerprints per identifier kind, by kind tag (a counter per tag, not a map
    /// lookup per fingerprint).
    kinds: [(Option<IdKind>, u64); 16],
    sources: Vec<SourceSummary>,
    problems: Vec<Problem>,
    several_sources: bool,
    overflow: bool,
}

impl<'k> IndexBuilder<'k> {
    /// An empty index under `key`.
    pub fn new(key: &'k Key, options: BuildOptions) -> Self {
        IndexBuilder {
            key,
            options,
            entries: Vec::new(),
            dates: Vec::new(),
            id_ends: Vec::new(),
            ids: Vec::new(),
            kinds: [(None, 0); 16],
            sources: Vec::new(),
            problems: Vec::new(),
            several_sources: false,
            overflow: false,
        }
    }

    /// Problems met while reading.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Records so far.
    pub fn records(&self) -> u64 {
        self.dates.len() as u64
    }

    /// Tell the builder several sources are coming, so row-number ids name their
    /// table (`customers.csv#12`).
    pub fn several_sources(&mut self, yes: bool) {
        self.several_sources = yes;
    }

    fn add(&mut self, id: &str, date: u32, keys: &[Key64]) {
        let Ok(record) = u32::try_from(self.dates.len()) else {
            self.overflow = true;
            return;
        };
        for k in keys {
            self.entries.push((k.hash, record));
        }
        self.dates.push(date);
        self.ids.extend_from_slice(id.as_bytes());
        self.id_ends.push(self.ids.len() as u64);
    }

    /// Sort and write the index to `path`.
    pub fn write(mut self, path: &Path) -> Result<Header, TraceError> {
        if self.overflow {
            return Err(TraceError::TooManyRecords);
        }
        let io = |e| TraceError::Io(path.display().to_string(), e);
        self.entries.sort_unstable();
        self.entries.dedup();
        let header = Header {
            version: VERSION,
            key_check: self.key.check_value(),
            records: self.dates.len() as u64,
            entries: self.entries.len() as u64,
            kinds: self
                .kinds
                .iter()
                .filter_map(|(k, n)| k.map(|k| (k, *n)))
                .fold(BTreeMap::new(), |mut m, (k, n)| {
                    *m.entry(k.label().to_string()).or_insert(0) += n;
                    m
                }),
            dated: self.dates.iter().filter(|&&d| d != 0).count() as u64,
            sources: self.sources,
        };
        let json = serde_json::to_vec(&header).map_err(|e| TraceError::Corrupt(e.to_string()))?;
        let file = std::fs::File::create(path).map_err(io)?;
        let mut w = Summing {
            inner: BufWriter::with_capacity(1 << 20, file),
            sha: <sha2::Sha256 as sha2::Digest>::new(),
        };
        w.write_all(MAGIC).map_err(io)?;
        w.write_all(&(json.len() as u64).to_le_bytes())
            .map_err(io)?;
        w.write_all(&json).map_err(io)?;
        let mut start = 0u64;
        let mut at = 0usize;
        for b in 0..=BUCKETS {
            while at < self.entries.len() && ((self.entries[at].0 >> 48) as usize) < b {
                at += 1;
            }
            start = start.max(at as u64);
            w.write_all(&start.to_le_bytes()).map_err(io)?;
        }
        for (hash, record) in &self.entries {
            w.write_all(&hash.to_le_bytes()).map_err(io)?;
            w.write_all(&record.to_le_bytes()).map_err(io)?;
        }
        for d in &self.dates {
            w.write_all(&d.to_le_bytes()).map_err(io)?;
        }
        for e in &self.id_ends {
            w.write_all(&e.to_le_bytes()).map_err(io)?;
        }
        w.write_all(&self.ids).map_err(io)?;
        let sum = sha2::Digest::finalize(w.sha);
        let mut inner = w.inner;
        inner.write_all(&sum).map_err(io)?;
        inner.flush().map_err(io)?;
        Ok(header)
    }
}

impl TableSink for IndexBuilder<'_> {
    fn table(&mut self, t: Table<'_>) {
        let position = |wanted: &Option<String>| {
            wanted.as_ref().and_then(|w| {
                t.columns
                    .iter()
                    .position(|c| c.trim().eq_ignore_ascii_case(w.trim()))
            })
        };
        let id_col = position(&self.options.id_column);
        let date_col = position(&self.options.date_column);
        for (wanted, found) in [
            (&self.options.id_column, id_col),
            (&self.options.date_column, date_col),
        ] {
            if let (Some(w), None) = (wanted, found) {
                self.problems.push(Problem {
                    path: t.source.to_string(),
                    message: format!("no column named {w:?}; the table is indexed without it"),
                    kind: leakhound_inputs::ProblemKind::Skipped,
                });
            }
        }
        let mut rows = t.rows.vecs();
        let sample: Vec<Vec<String>> = rows.by_ref().take(leakhound_assess::SAMPLE_ROWS).collect();
        let plan = Plan::new(&t.columns, &sample);
        let mut summary = SourceSummary {
            source: t.source.to_string(),
            rows: 0,
            records: 0,
            identifiers: plan.identifier_columns(&t.columns),
        };
        if !plan.identifies() {
            summary.rows = sample.len() as u64 + rows.count() as u64;
            self.sources.push(summary);
            return;
        }
        let mut n = 0u64;
        let key = self.key;
        let mut all = sample.into_iter().chain(rows);
        plan.hash_rows(key, true, &mut all, &mut |row, keys| {
            n += 1;
            if keys.is_empty() {
                return;
            }
            for k in keys {
                let slot = &mut self.kinds[usize::from(k.kind as u8) % 16];
                slot.0 = Some(k.kind);
                slot.1 += 1;
            }
            let id = match id_col.and_then(|i| row.get(i)).map(|s| s.trim()) {
                Some(id) if !id.is_empty() => id.to_string(),
                _ if self.several_sources => format!("{}#{n}", t.source),
                _ => n.to_string(),
            };
            let date = date_col
                .and_then(|i| row.get(i))
                .and_then(|s| date_of(s))
                .map_or(0, |(y, m, d)| {
                    y as u32 * 10_000 + u32::from(m) * 100 + u32::from(d)
                });
            self.add(&id, date, keys);
            summary.records += 1;
        });
        summary.rows = n;
        self.sources.push(summary);
    }

    fn problem(&mut self, problem: Problem) {
        self.problems.push(problem);
    }
}

/// An index on disk, memory-mapped.
pub struct Index {
    map: memmap2::Mmap,
    header: Header,
    buckets: usize,
    entries: usize,
    dates: usize,
    id_ends: usize,
    ids: usize,
}

impl Index {
    /// Open the index at `path` and check it was made with `key`.
    pub fn open(path: &Path, key: &Key) -> Result<Index, TraceError> {
        let index = Index::open_unchecked(path)?;
        if index.header.key_check != key.check_value() {
            return Err(TraceError::WrongKey);
        }
        Ok(index)
    }

    /// Open the index without checking the key (tests show what a wrong key finds).
    pub fn open_unchecked(path: &Path) -> Result<Index, TraceError> {
        let io = |e| TraceError::Io(path.display().to_string(), e);
        let file = std::fs::File::open(path).map_err(io)?;
        // SAFETY: the map is read-only; leakhound never writes an index it has open,
        // and every read below is bounds-checked, so a file changed underneath gives
        // wrong answers or an error, not undefined reads outside the map.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        let corrupt = |m: &str| TraceError::Corrupt(format!("{}: {m}", path.display()));
        if map.len() < 16 || &map[..8] != MAGIC {
            return Err(corrupt("not a leakhound trace index"));
        }
        let header_len = read_u64(&map, 8).ok_or_else(|| corrupt("truncated"))? as usize;
        let header_end = 16usize
            .checked_add(header_len)
            .filter(|&e| e <= map.len())
            .ok_or_else(|| corrupt("truncated header"))?;
        let header: Header = serde_json::from_slice(&map[16..header_end])
            .map_err(|e| corrupt(&format!("bad header: {e}")))?;
        let body_end = match header.version {
            1 => map.len(),
            VERSION => {
                let end = map
                    .len()
                    .checked_sub(CHECKSUM)
                    .ok_or_else(|| corrupt("truncated"))?;
                let sum = <sha2::Sha256 as sha2::Digest>::digest(&map[..end]);
                if sum.as_slice() != &map[end..] {
                    return Err(corrupt(
                        "checksum mismatch: the file is damaged; rebuild it with `trace index`",
                    ));
                }
                end
            }
            v => {
                return Err(corrupt(&format!(
                    "format version {v}; this leakhound reads versions 1 to {VERSION}"
                )))
            }
        };
        let records = usize::try_from(header.records).map_err(|_| corrupt("too many records"))?;
        let entries = usize::try_from(header.entries).map_err(|_| corrupt("too many entries"))?;
        let buckets = header_end;
        let entries_at = buckets + (BUCKETS + 1) * 8;
        let dates = entries
            .checked_mul(ENTRY)
            .and_then(|n| n.checked_add(entries_at))
            .ok_or_else(|| corrupt("sizes"))?;
        let id_ends = dates + records * 4;
        let ids = id_ends + records * 8;
        if ids > body_end {
            return Err(corrupt("truncated"));
        }
        let index = Index {
            map,
            header,
            buckets,
            entries: entries_at,
            dates,
            id_ends,
            ids,
        };
        let last_id = if records == 0 {
            0
        } else {
            index.id_end(records - 1).unwrap_or(u64::MAX)
        };
        if index.ids as u64 + last_id != body_end as u64 {
            return Err(corrupt("record ids do not fit the file"));
        }
        index.check_structure().map_err(corrupt)?;
        Ok(index)
    }

    /// Buckets rise to the entry count, entries are sorted and each lies in its bucket,
    /// record numbers and id ends are in range: what `find` and `id` rely on. One pass
    /// over the file, as long as reading it for the checksum.
    fn check_structure(&self) -> Result<(), &'static str> {
        let entries = self.header.entries;
        let mut last = 0u64;
        for b in 0..=BUCKETS {
            let start = read_u64(&self.map, self.buckets + b * 8).ok_or("truncated buckets")?;
            if start < last || start > entries {
                return Err("bucket table out of order");
            }
            last = start;
        }
        if last != entries {
            return Err("bucket table does not end at the entry count");
        }
        let mut previous = None;
        for i in 0..entries as usize {
            let (h, r) = self.entry(i).ok_or("truncated entries")?;
            if previous.is_some_and(|p| p > h) {
                return Err("entries out of order");
            }
            if u64::from(r) >= self.header.records {
                return Err("an entry names a record that does not exist");
            }
            let b = (h >> 48) as usize;
            let lo = read_u64(&self.map, self.buckets + b * 8).ok_or("truncated buckets")?;
            let hi = read_u64(&self.map, self.buckets + (b + 1) * 8).ok_or("truncated buckets")?;
            if !(lo..hi).contains(&(i as u64)) {
                return Err("an entry lies outside its bucket");
            }
            previous = Some(h);
        }
        let mut end = 0u64;
        for r in 0..self.header.records as usize {
            let e = self.id_end(r).ok_or("truncated record ids")?;
            if e < end {
                return Err("record ids out of order");
            }
            end = e;
        }
        Ok(())
    }

    /// What the index says of itself.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Records holding the identifier with fingerprint `hash` (as a key of kind
    /// `kind`, computed by the caller), at most `limit` of them.
    pub fn find(&self, hash: u64, limit: usize, out: &mut Vec<u32>) {
        out.clear();
        let b = (hash >> 48) as usize;
        let (Some(lo), Some(hi)) = (
            read_u64(&self.map, self.buckets + b * 8),
            read_u64(&self.map, self.buckets + (b + 1) * 8),
        ) else {
            return;
        };
        let (mut lo, mut hi) = (lo as usize, (hi as usize).min(self.header.entries as usize));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.entry(mid) {
                Some((h, _)) if h < hash => lo = mid + 1,
                Some(_) => hi = mid,
                None => return,
            }
        }
        let mut i = lo;
        while let Some((h, r)) = self.entry(i) {
            if h != hash || out.len() >= limit {
                break;
            }
            out.push(r);
            i += 1;
        }
    }

    /// Is `key` in the index at all?
    pub fn contains(&self, key: &Key64) -> bool {
        let mut out = Vec::with_capacity(1);
        self.find(key.hash, 1, &mut out);
        !out.is_empty()
    }

    fn entry(&self, i: usize) -> Option<(u64, u32)> {
        if i >= self.header.entries as usize {
            return None;
        }
        let at = self.entries + i * ENTRY;
        Some((read_u64(&self.map, at)?, read_u32(&self.map, at + 8)?))
    }

    fn id_end(&self, record: usize) -> Option<u64> {
        read_u64(&self.map, self.id_ends + record * 8)
    }

    /// A record's id.
    pub fn id(&self, record: u32) -> Option<&str> {
        let r = record as usize;
        if r as u64 >= self.header.records {
            return None;
        }
        let start = if r == 0 { 0 } else { self.id_end(r - 1)? } as usize;
        let end = self.id_end(r)? as usize;
        let bytes = self.map.get(self.ids + start..self.ids + end)?;
        std::str::from_utf8(bytes).ok()
    }

    /// A record's date as YYYYMMDD, if it has one.
    pub fn date(&self, record: u32) -> Option<u32> {
        if u64::from(record) >= self.header.records {
            return None;
        }
        read_u32(&self.map, self.dates + record as usize * 4).filter(|&d| d != 0)
    }
}

fn read_u64(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    let mut a = [0u8; 4];
    a.copy_from_slice(s);
    Some(u32::from_le_bytes(a))
}
