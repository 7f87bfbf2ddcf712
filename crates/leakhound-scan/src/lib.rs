//! The scan pipeline: paths or buffers in, findings out.
//!
//! Every source of content (a file, an archive member, standard input, and later git
//! blobs and table cells) ends in [`Scanner::scan_blob`], so there is one place that
//! decodes, matches, locates and deduplicates. Identical bytes are matched once: the
//! result is cached by content hash and replayed for every other place the bytes occur.
//!
//! ```
//! use leakhound_scan::Scanner;
//! let rules = leakhound_rules::RuleSet::builtin().unwrap();
//! let scanner = Scanner::new(leakhound_matcher::Matcher::new(&rules).unwrap(), Default::default());
//! let mut found = Vec::new();
//! scanner.scan_blob("a.env", b"DB_URL=mysql://app:Sup3r-s3cret@10.0.0.5/crm\n", &mut |f| found.push(f));
//! assert_eq!(&*found[0].rule, "mysql-url-password");
//! assert_eq!((found[0].location.line, found[0].location.column), (1, 20));
//! ```
#![deny(missing_docs)]

mod chunked;
mod history;
mod locate;
mod pipeline;
mod seen_lines;
mod summary;
mod table_files;

pub use history::HistoryScanOptions;
pub use leakhound_git::HistoryOptions;
pub use pipeline::{ScanError, ScanOptions};
pub use summary::{Counters, Summary};

use leakhound_assess::places;
use leakhound_findings::{fingerprint, Confidence, Finding, Location, TableCell};
use leakhound_inputs::{decode, Problem};
use leakhound_matcher::{Matcher, RuleIndex};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A finding as it sits in its blob, before it is given a path. Cached per content.
#[derive(Debug, Clone)]
struct BlobFinding {
    rule: RuleIndex,
    line: u64,
    column: u64,
    offset: u64,
    value: String,
    line_text: Arc<str>,
    confidence: Confidence,
    count: Option<u64>,
    /// The line carries `leakhound:allow`.
    inline_allowed: bool,
    /// The cell of a table file read as a table (spreadsheet, database file).
    cell: Option<Box<CellRef>>,
}

/// A cell of a table file, without the file's path (results are cached by content).
#[derive(Debug, Clone)]
struct CellRef {
    /// The table inside the file, `!Sheet1`, or empty for the file itself.
    suffix: String,
    column: String,
    row: u64,
}

#[derive(Debug)]
struct BlobResult {
    findings: Vec<BlobFinding>,
    binary: bool,
    content_id: String,
    /// What could not be read (a table file that was then matched as bytes).
    problems: Vec<String>,
}

/// Scans content with a compiled matcher. Shareable across threads.
pub struct Scanner {
    matcher: Matcher,
    options: ScanOptions,
    /// Content hash -> result. The cell is claimed before matching, so a second thread
    /// meeting the same bytes waits for the first instead of matching them again.
    seen: Mutex<HashMap<u128, Arc<OnceLock<BlobResult>>>>,
    counters: Arc<Counters>,
}

impl Scanner {
    /// A scanner over `matcher`'s rules.
    pub fn new(matcher: Matcher, options: ScanOptions) -> Scanner {
        Scanner {
            matcher,
            options,
            seen: Mutex::new(HashMap::new()),
            counters: Arc::new(Counters::default()),
        }
    }

    /// Live counters (files, bytes, findings), for progress display.
    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// The matcher (rule metadata for outputs).
    pub fn matcher(&self) -> &Matcher {
        &self.matcher
    }

    /// Scan one blob of content found at `path` and report each finding. This is the
    /// one entry point for every input kind.
    pub fn scan_blob(&self, path: &str, bytes: &[u8], report: &mut dyn FnMut(Finding)) {
        self.scan_leaf(path, bytes, report, &mut |_| {});
    }

    /// [`Scanner::scan_blob`], also reporting what could not be read.
    pub(crate) fn scan_leaf(
        &self,
        path: &str,
        bytes: &[u8],
        report: &mut dyn FnMut(Finding),
        problem: &mut dyn FnMut(Problem),
    ) {
        self.counters.add_blob(bytes.len() as u64);
        let hash = xxhash_rust::xxh3::xxh3_128(bytes);
        let cell = match self.seen.lock() {
            Ok(mut m) => Arc::clone(m.entry(hash).or_default()),
            // A worker panicked while holding the lock: carry on without dedupe.
            Err(_) => Arc::new(OnceLock::new()),
        };
        let mut matched_here = false;
        let result = cell.get_or_init(|| {
            matched_here = true;
            if leakhound_assess::tables::is_binary_table(path, bytes) {
                self.match_table_file(path, bytes, hash)
            } else {
                self.match_blob(bytes, hash)
            }
        });
        if !matched_here {
            self.counters.add_duplicate();
        }
        for message in &result.problems {
            problem(Problem::unreadable(path, message.clone()));
        }
        // Findings in a CSV, JSON or SQL dump say which table cell they are in.
        let cells = (places::is_text_table(path)
            && !result.binary
            && !result.findings.is_empty()
            && !self.chunked(bytes))
        .then(|| {
            let text = decode::to_utf8(bytes, decode::sniff(bytes));
            let offsets: Vec<u64> = result.findings.iter().map(|f| f.offset).collect();
            places::places(path, &text, &offsets)
                .into_iter()
                .map(|p| {
                    p.map(|p| TableCell {
                        name: match p.table {
                            Some(t) => format!("{path}!{t}"),
                            None => path.to_string(),
                        },
                        column: p.column,
                        row: p.row,
                    })
                })
                .collect::<Vec<_>>()
        });
        self.emit(
            path,
            result,
            &result.content_id,
            (0, 0),
            cells.as_deref(),
            report,
        );
    }

    /// A spreadsheet, SQLite or Parquet file, matched cell by cell; if it cannot be
    /// read as tables at all, its bytes are matched as any binary file's are.
    fn match_table_file(&self, path: &str, bytes: &[u8], hash: u128) -> BlobResult {
        let read = table_files::scan_tables(self, path, bytes);
        if read.tables == 0 && !read.problems.is_empty() {
            let mut result = self.match_blob(bytes, hash);
            result.problems = read
                .problems
                .into_iter()
                .map(|p| format!("{p}; matched as bytes instead"))
                .collect();
            return result;
        }
        BlobResult {
            findings: read.findings,
            binary: false,
            content_id: format!("{hash:032x}"),
            problems: read.problems,
        }
    }

    /// Big GBK/UTF-16 blobs are matched in chunks and never decoded whole.
    fn chunked(&self, bytes: &[u8]) -> bool {
        matches!(
            decode::sniff(bytes),
            decode::Encoding::Gb18030 | decode::Encoding::Utf16Le | decode::Encoding::Utf16Be
        ) && bytes.len() > self.options.transcode_chunk
    }

    /// Scan `part`, a run of whole lines of a blob whose other lines are known to hold
    /// nothing new (git history: lines already scanned in an earlier version), and
    /// report findings at their place in the whole blob: `first_line` and
    /// `first_offset` are the part's start there. Not cached and not counted as a blob.
    pub(crate) fn scan_part(
        &self,
        path: &str,
        part: &[u8],
        content_id: &str,
        first_line: u64,
        first_offset: u64,
        report: &mut dyn FnMut(Finding),
    ) {
        let result = self.match_blob(part, 0);
        self.emit(
            path,
            &result,
            content_id,
            (first_line - 1, first_offset),
            None,
            report,
        );
    }

    fn emit(
        &self,
        path: &str,
        result: &BlobResult,
        content_id: &str,
        (line_shift, offset_shift): (u64, u64),
        cells: Option<&[Option<TableCell>]>,
        report: &mut dyn FnMut(Finding),
    ) {
        let allowlist = self.options.allowlist.as_deref().filter(|a| !a.is_empty());
        let blob: Arc<str> = Arc::from(content_id);
        for (n, bf) in result.findings.iter().enumerate() {
            let info = self.matcher.rule(bf.rule);
            if bf.inline_allowed && self.options.inline_allow {
                self.counters.add_suppressed();
                continue;
            }
            let fingerprint = fingerprint(&info.id, &bf.value);
            if allowlist.is_some_and(|a| a.allows(path, &bf.value, &fingerprint)) {
                self.counters.add_suppressed();
                continue;
            }
            self.counters.add_finding();
            report(Finding {
                rule: Arc::clone(&info.id),
                name: Arc::clone(&info.name),
                category: info.category,
                severity: info.severity,
                confidence: bf.confidence,
                location: Location {
                    path: path.to_string(),
                    line: bf.line + line_shift,
                    column: bf.column,
                    offset: bf.offset + offset_shift,
                },
                fingerprint,
                value: bf.value.clone(),
                validator: info.validator.map(std::borrow::Cow::Borrowed),
                line_text: Some(Arc::clone(&bf.line_text)),
                count: bf.count,
                blob: Arc::clone(&blob),
                binary: result.binary,
                git: None,
                triage: None,
                cell: match &bf.cell {
                    Some(c) => Some(Box::new(TableCell {
                        name: format!("{path}{}", c.suffix),
                        column: c.column.clone(),
                        row: c.row,
                    })),
                    None => cells
                        .and_then(|c| c.get(n).cloned().flatten())
                        .map(Box::new),
                },
                process: None,
            });
        }
    }

    fn match_blob(&self, bytes: &[u8], hash: u128) -> BlobResult {
        let encoding = decode::sniff(bytes);
        let transcoded = matches!(
            encoding,
            decode::Encoding::Gb18030 | decode::Encoding::Utf16Le | decode::Encoding::Utf16Be
        );
        if transcoded && bytes.len() > self.options.transcode_chunk {
            return BlobResult {
                findings: chunked::match_transcoded(self, bytes, encoding),
                binary: false,
                content_id: format!("{hash:032x}"),
                problems: Vec::new(),
            };
        }
        let text = decode::to_utf8(bytes, encoding);
        let binary = encoding == decode::Encoding::Binary;
        let mut matches = self.matcher.scan(&text);
        if binary {
            // Binaries repeat strings (tables, resources): a few findings say enough.
            matches.truncate(self.options.max_binary_findings);
        }
        let findings = locate::locate(&text, &matches);
        BlobResult {
            findings,
            binary,
            content_id: format!("{hash:032x}"),
            problems: Vec::new(),
        }
    }
}
