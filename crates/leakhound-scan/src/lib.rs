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
mod columns;
mod decoding;
mod history;
mod locate;
mod pipeline;
mod seen_lines;
mod streamed;
mod summary;
mod table_files;
mod table_text;

pub use history::{repository_key, repository_keys, HistoryScanOptions};
pub use leakhound_git::HistoryOptions;
pub use leakhound_spool::{Findings, SpoolError};
pub use pipeline::{special_file, ScanError, ScanOptions, Special};
pub use summary::{Counters, Summary};

use leakhound_findings::{
    fingerprint, Category, Confidence, Finding, Location, Severity, TableCell,
};
use leakhound_inputs::decode::{Decoded, Encoding};
use leakhound_inputs::Problem;
use leakhound_matcher::{Matcher, RawMatch, RuleIndex};
use leakhound_tables::places;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// The value looks like an example or test value (see the `doubtful` filter), or
    /// is assigned to a name that says so (`SAMPLE`, `test_key`).
    doubtful: bool,
    /// In a URL's host, path or fragment (not a query value): not personal data.
    in_url: bool,
    /// Below a Rust file's `#[cfg(test)]`: test code, as in a `tests/` folder.
    test_code: bool,
    /// Inside a string literal on its line (a number outside one, in source code, is
    /// a constant, not someone's card or phone).
    in_string: bool,
    /// The line carries `leakhound:allow`.
    inline_allowed: bool,
    /// The cell of a table file read as a table (spreadsheet, database file).
    cell: Option<Box<CellRef>>,
    /// Found under encodings (`base64>url`): the value is the decoded one.
    decoded: Option<Arc<str>>,
    /// Where the line excerpt is, when it was left to be made if needed (see
    /// `locate::locate_deferring`); `line_text` is empty until then.
    excerpt_at: Option<(u64, u64)>,
    /// Where the value is, when it was left to be read where it is needed (a cell
    /// counted into its column needs no string of its own); `value` is empty until
    /// then.
    value_at: Option<(u64, u64)>,
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
    /// Contents whose results were too big to keep once reported (see
    /// [`MAX_KEPT_FINDINGS`]): met again, they are matched again but still count as
    /// duplicates.
    dropped: Mutex<HashSet<u128>>,
    /// Most contents `seen` and `dropped` remember ([`MAX_SEEN_CONTENTS`]).
    max_seen: usize,
    /// Findings held by results in `seen`, against [`KEPT_FINDINGS_BUDGET`].
    kept: AtomicUsize,
    /// The results of all contents with nothing in them, text and binary: most files
    /// of a scan, so each costs its map entry and not a result of its own.
    empty: [Arc<OnceLock<BlobResult>>; 2],
    counters: Arc<Counters>,
    /// The roots of the running scan as shown in paths, so that where a file sits
    /// (tests, docs) is judged below the root and not by the folders above it.
    roots: std::sync::RwLock<Vec<String>>,
}

/// A result with more findings than this is not kept for replay after it is reported.
/// Copies of a file with many findings are rare, and keeping every result made memory
/// grow with the findings of the whole run (a 1.5-million-finding table kept ~190 MB).
const MAX_KEPT_FINDINGS: usize = 10_000;

/// Distinct contents the dedupe index remembers (~40 bytes each, 40 MB in all). Past
/// it, new contents are matched and reported as usual but not remembered, so a copy met
/// later is matched again: memory stops growing with the number of files, and only the
/// duplicate count (and time) can differ on a scan of more than a million files.
const MAX_SEEN_CONTENTS: usize = 1 << 20;

/// Findings all kept results together may hold (~250 bytes each with their lines).
/// Past it, results are reported and let go like big ones: the cache stops growing with
/// the findings of the run, and only copies met later are matched again.
const KEPT_FINDINGS_BUDGET: usize = 100_000;

impl Scanner {
    /// A scanner over `matcher`'s rules.
    pub fn new(matcher: Matcher, options: ScanOptions) -> Scanner {
        Scanner {
            matcher,
            options,
            seen: Mutex::new(HashMap::new()),
            dropped: Mutex::new(HashSet::new()),
            max_seen: MAX_SEEN_CONTENTS,
            kept: AtomicUsize::new(0),
            empty: [false, true].map(|binary| {
                Arc::new(OnceLock::from(BlobResult {
                    findings: Vec::new(),
                    binary,
                    content_id: String::new(),
                    problems: Vec::new(),
                }))
            }),
            counters: Arc::new(Counters::default()),
            roots: std::sync::RwLock::new(Vec::new()),
        }
    }

    /// `path` below the root of the scan it is in (unchanged outside any root).
    fn below_root<'p>(&self, path: &'p str) -> &'p str {
        let roots = match self.roots.read() {
            Ok(r) => r,
            Err(_) => return path,
        };
        roots
            .iter()
            .filter_map(|r| path.strip_prefix(r.as_str()))
            .filter(|rest| !rest.is_empty())
            .min_by_key(|rest| rest.len())
            .unwrap_or(path)
    }

    /// Set the roots of the scan about to run (see [`Scanner::below_root`]).
    pub(crate) fn set_roots(&self, roots: &[std::path::PathBuf]) {
        if let Ok(mut r) = self.roots.write() {
            *r = roots.iter().map(|p| p.display().to_string()).collect();
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
        self.scan_leaf(path, &Decoded::new(bytes), true, report, &mut |_| {});
    }

    /// [`Scanner::scan_blob`], also reporting what could not be read.
    /// The blob's encoding is sniffed and its text decoded at most once, here or where
    /// it entered (see [`Decoded`]).
    pub(crate) fn scan_leaf(
        &self,
        path: &str,
        blob: &Decoded<'_>,
        remember: bool,
        report: &mut dyn FnMut(Finding),
        problem: &mut dyn FnMut(Problem),
    ) {
        let bytes = blob.bytes();
        self.counters.add_blob(bytes.len() as u64);
        // Path rules (credential files such as `.s3cfg`) make the same bytes mean more
        // at some paths: their result is cached apart from the bytes' result elsewhere.
        let scoped = self.matcher.rules_for_path(path);
        let mut hash = content_hash(bytes);
        if !scoped.is_empty() {
            let key: Vec<u8> = scoped.iter().flat_map(|r| r.to_le_bytes()).collect();
            hash ^= xxhash_rust::xxh3::xxh3_128(&key).rotate_left(1);
        }
        if self.streams_table(path, blob, &scoped) {
            // Too big to keep the result of: a copy met later is matched again.
            if remember && self.seen_before(hash) {
                self.counters.add_duplicate();
            }
            self.scan_table_text(path, blob, &format!("{hash:032x}"), report);
            return;
        }
        let cell = match self.seen.lock() {
            // Content known to be met once (a git blob): matched, not remembered.
            _ if !remember => Arc::new(OnceLock::new()),
            Ok(mut m) => match m.get(&hash) {
                Some(cell) => Arc::clone(cell),
                None if m.len() < self.max_seen => Arc::clone(m.entry(hash).or_default()),
                // The index is full: matched, reported, not remembered.
                None => Arc::new(OnceLock::new()),
            },
            // A worker panicked while holding the lock: carry on without dedupe.
            Err(_) => Arc::new(OnceLock::new()),
        };
        let mut matched_here = false;
        let result = cell.get_or_init(|| {
            matched_here = true;
            if leakhound_tables::is_binary_table(path, bytes) {
                self.match_table_file(path, blob, hash)
            } else {
                self.match_blob(blob, hash, &scoped)
            }
        });
        let seen_before = !matched_here
            || self
                .dropped
                .lock()
                .map(|d| d.contains(&hash))
                .unwrap_or(false);
        if seen_before {
            self.counters.add_duplicate();
        }
        for message in &result.problems {
            problem(Problem::unreadable(path, message.clone()));
        }
        // Findings in a CSV, JSON or SQL dump say which table cell they are in.
        let cells = (places::is_text_table(path)
            && !result.binary
            && !result.findings.is_empty()
            && !self.chunked(blob))
        .then(|| {
            let text = blob.text();
            let offsets: Vec<u64> = result.findings.iter().map(|f| f.offset).collect();
            // One copy of each table and column name, however many cells they hold.
            let mut names: HashMap<String, Arc<str>> = HashMap::new();
            let mut shared = |name: String| -> Arc<str> {
                Arc::clone(
                    names
                        .entry(name)
                        .or_insert_with_key(|n| Arc::from(n.as_str())),
                )
            };
            places::places(path, text, &offsets)
                .into_iter()
                .map(|p| {
                    p.map(|p| TableCell {
                        name: shared(match p.table {
                            Some(t) => format!("{path}!{t}"),
                            None => path.to_string(),
                        }),
                        column: p.column,
                        row: p.row,
                    })
                })
                .collect::<Vec<_>>()
        });
        self.emit(path, result, &result.content_id, (0, 0), cells, report);
        if matched_here && remember {
            let n = result.findings.len();
            if n == 0 && result.problems.is_empty() {
                self.share_empty(hash, &cell, result.binary);
            } else if n > MAX_KEPT_FINDINGS || !self.keep(n) {
                self.forget(hash, &cell);
            }
        }
    }

    /// Whether content `hash`, whose result is not kept, was met before; remembers
    /// that it now was (as [`Scanner::forget`] does for big results).
    fn seen_before(&self, hash: u128) -> bool {
        let kept = self.seen.lock().is_ok_and(|s| s.contains_key(&hash));
        let dropped = match self.dropped.lock() {
            Ok(mut dropped) if dropped.len() < self.max_seen => !dropped.insert(hash),
            Ok(dropped) => dropped.contains(&hash),
            Err(_) => false,
        };
        kept || dropped
    }

    /// Count `n` more kept findings, if the budget has room for them.
    fn keep(&self, n: usize) -> bool {
        self.kept
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |k| {
                (k + n <= KEPT_FINDINGS_BUDGET).then_some(k + n)
            })
            .is_ok()
    }

    /// Point a content with nothing in it at the shared empty result.
    fn share_empty(&self, hash: u128, cell: &Arc<OnceLock<BlobResult>>, binary: bool) {
        if let Ok(mut seen) = self.seen.lock() {
            if let Some(entry) = seen.get_mut(&hash).filter(|c| Arc::ptr_eq(c, cell)) {
                *entry = Arc::clone(&self.empty[usize::from(binary)]);
            }
        }
    }

    /// Drop a reported result from the dedupe cache, remembering its content was seen.
    fn forget(&self, hash: u128, cell: &Arc<OnceLock<BlobResult>>) {
        if let Ok(mut dropped) = self.dropped.lock() {
            if dropped.len() < self.max_seen {
                dropped.insert(hash);
            }
        }
        if let Ok(mut seen) = self.seen.lock() {
            if seen.get(&hash).is_some_and(|c| Arc::ptr_eq(c, cell)) {
                seen.remove(&hash);
            }
        }
    }

    /// A spreadsheet, SQLite or Parquet file, matched cell by cell; if it cannot be
    /// read as tables at all, its bytes are matched as any binary file's are.
    fn match_table_file(&self, path: &str, blob: &Decoded<'_>, hash: u128) -> BlobResult {
        let read = table_files::scan_tables(self, path, blob.bytes());
        if read.tables == 0 && !read.problems.is_empty() {
            let mut result = self.match_blob(blob, hash, &[]);
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
    fn chunked(&self, blob: &Decoded<'_>) -> bool {
        blob.encoding().is_transcoded() && blob.bytes().len() > self.options.transcode_chunk
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
        let scoped = self.matcher.rules_for_path(path);
        let result = self.match_blob(&Decoded::new(part), 0, &scoped);
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
        shift: (u64, u64),
        mut cells: Option<Vec<Option<TableCell>>>,
        report: &mut dyn FnMut(Finding),
    ) {
        if result.findings.is_empty() {
            return;
        }
        let mut emitter = Emitter::new(self, path, content_id, result.binary, shift);
        for (n, bf) in result.findings.iter().enumerate() {
            let cell = match &bf.cell {
                Some(c) => Some(TableCell {
                    name: format!("{path}{}", c.suffix).into(),
                    column: c.column.as_str().into(),
                    row: c.row,
                }),
                // Moved, not copied: a big table has a cell per finding.
                None => cells
                    .as_mut()
                    .and_then(|c| c.get_mut(n))
                    .and_then(Option::take),
            };
            emitter.emit(bf, cell, report);
        }
        emitter.finish(report);
    }

    /// Match a blob's text with every rule, and with the path rules `scoped` that its
    /// path selected.
    fn match_blob(
        &self,
        blob: &Decoded<'_>,
        hash: u128,
        scoped: &[leakhound_matcher::RuleIndex],
    ) -> BlobResult {
        let encoding = blob.encoding();
        if self.chunked(blob) {
            return BlobResult {
                findings: chunked::match_transcoded(self, blob.bytes(), encoding),
                binary: false,
                content_id: format!("{hash:032x}"),
                problems: Vec::new(),
            };
        }
        let text = blob.text();
        let binary = encoding == Encoding::Binary;
        let mut matches = self.matcher.scan_with(text, scoped);
        if binary {
            // Binaries repeat strings (tables, resources): a few findings say enough.
            matches.truncate(self.options.max_binary_findings);
        }
        let mut findings = locate::locate(text, &matches);
        if !binary && self.options.decode_depth > 0 {
            self.add_decoded(text, &matches, &mut findings);
        }
        BlobResult {
            findings,
            binary,
            content_id: format!("{hash:032x}"),
            problems: Vec::new(),
        }
    }
}

impl Scanner {
    /// Findings under encodings (see `decoding.rs`): placed, graded and excerpted as
    /// the encoded span is, valued and fingerprinted as the decoded value.
    fn add_decoded(&self, text: &[u8], raw: &[RawMatch], findings: &mut Vec<BlobFinding>) {
        let decoded =
            decoding::decoded_matches(&self.matcher, text, raw, self.options.decode_depth);
        if decoded.is_empty() {
            return;
        }
        let spans: Vec<RawMatch> = decoded
            .iter()
            .map(|d| RawMatch {
                start: d.start,
                end: d.end,
                ..d.raw.clone()
            })
            .collect();
        for (mut bf, d) in locate::locate(text, &spans).into_iter().zip(decoded) {
            // The excerpt holds the encoded value, which is the secret to anyone who
            // decodes it: it is masked as a value is, or left out if cut off.
            let encoded = String::from_utf8_lossy(text.get(d.start..d.end).unwrap_or_default());
            bf.line_text = if bf.line_text.contains(encoded.as_ref()) {
                bf.line_text
                    .replace(encoded.as_ref(), &leakhound_findings::mask(&encoded))
                    .into()
            } else {
                Arc::from("")
            };
            bf.value = d.value;
            bf.decoded = Some(
                d.layers
                    .iter()
                    .map(|l| l.name())
                    .collect::<Vec<_>>()
                    .join(">")
                    .into(),
            );
            findings.push(bf);
        }
        findings.sort_by_key(|f| f.offset);
    }
}

/// Findings of one blob on their way out: given their path, graded where they sit,
/// checked against the allowlist, and gathered into table-level findings (see
/// `columns.rs`). A blob's findings may come all at once or window by window.
struct Emitter<'s> {
    scanner: &'s Scanner,
    path: &'s str,
    blob: Arc<str>,
    binary: bool,
    /// Lines and bytes before the findings' text in the blob (history parts).
    shift: (u64, u64),
    /// Tests, fixtures, examples and docs: kept, with low confidence, one severity
    /// lower (see `leakhound_findings::is_test_or_example`).
    in_tests: bool,
    code: bool,
    /// Addresses in a contributor list are the `contributor-email` kind.
    contributors: Option<(RuleIndex, RuleIndex)>,
    thing_columns: ThingColumns,
    columns: Option<columns::Columns>,
}

impl<'s> Emitter<'s> {
    fn new(
        scanner: &'s Scanner,
        path: &'s str,
        content_id: &str,
        binary: bool,
        shift: (u64, u64),
    ) -> Emitter<'s> {
        let relative = scanner.below_root(path);
        let contributors = leakhound_findings::is_contributor_list(relative)
            .then(|| {
                Some((
                    scanner.matcher.rule_index("email-address")?,
                    scanner.matcher.rule_index("contributor-email")?,
                ))
            })
            .flatten();
        Emitter {
            scanner,
            path,
            blob: Arc::from(content_id),
            binary,
            shift,
            in_tests: leakhound_findings::is_test_or_example(relative),
            code: leakhound_findings::is_source_code(relative),
            contributors,
            thing_columns: ThingColumns::default(),
            columns: (!scanner.options.each_cell).then(columns::Columns::default),
        }
    }

    /// Report `bf`, in table cell `cell` if it is in one, or take it into its column.
    fn emit(&mut self, bf: &BlobFinding, cell: Option<TableCell>, report: &mut dyn FnMut(Finding)) {
        self.emit_valued(bf, &bf.value, cell, report);
    }

    /// [`Emitter::emit`] with the value given apart (see `BlobFinding::value_at`).
    fn emit_valued(
        &mut self,
        bf: &BlobFinding,
        value: &str,
        cell: Option<TableCell>,
        report: &mut dyn FnMut(Finding),
    ) {
        let scanner = self.scanner;
        let rule = match self.contributors {
            Some((email, contributor)) if bf.rule == email => contributor,
            _ => bf.rule,
        };
        let info = scanner.matcher.rule(rule);
        if bf.inline_allowed && scanner.options.inline_allow {
            scanner.counters.add_suppressed();
            return;
        }
        let allowlist = scanner
            .options
            .allowlist
            .as_deref()
            .filter(|a| !a.is_empty());
        let place = Place {
            in_tests: self.in_tests,
            code: self.code,
            column: cell
                .as_ref()
                .filter(|_| info.category == Category::Personal)
                .map(|c| self.thing_columns.names_a_thing(&c.column)),
        };
        let (severity, confidence) = grade(info, bf, place);
        // A cell of a column met before: counted, with no finding made (all but
        // the first cell of each column). The allowlist needs each cell's finding.
        if let (Some(columns), Some(cell), None) = (&mut self.columns, &cell, allowlist) {
            if columns::would_join(info.category, bf.count)
                && columns.count(cell, &info.id, value, (severity, confidence))
            {
                return;
            }
        }
        let fingerprint = fingerprint(&info.id, value);
        if allowlist.is_some_and(|a| a.allows(self.path, value, &fingerprint)) {
            scanner.counters.add_suppressed();
            return;
        }
        let (line_shift, offset_shift) = self.shift;
        let finding = Finding {
            rule: Arc::clone(&info.id),
            name: Arc::clone(&info.name),
            category: info.category,
            severity,
            confidence,
            location: Location {
                path: self.path.to_string(),
                line: bf.line + line_shift,
                column: bf.column,
                offset: bf.offset + offset_shift,
            },
            fingerprint,
            value: value.to_string(),
            validator: info.validator.map(std::borrow::Cow::Borrowed),
            line_text: Some(Arc::clone(&bf.line_text)),
            count: bf.count,
            blob: Arc::clone(&self.blob),
            binary: self.binary,
            git: None,
            triage: None,
            cell: cell.map(Box::new),
            process: None,
            column_values: None,
            decoded: bf.decoded.clone(),
        };
        let own = match &mut self.columns {
            Some(c) => c.take(finding),
            None => Some(finding),
        };
        if let Some(f) = own {
            scanner.counters.add_finding();
            report(f);
        }
    }

    /// Report the table-level findings gathered.
    fn finish(self, report: &mut dyn FnMut(Finding)) {
        for f in self.columns.into_iter().flat_map(columns::Columns::finish) {
            self.scanner.counters.add_finding();
            report(f);
        }
    }
}

/// A finding's severity and confidence where it was found. Tests, fixtures, examples
/// and docs (by path, or below a Rust `#[cfg(test)]`): one severity lower, low
/// confidence; an example-looking value: one lower again. Personal data in source code outside a
/// string literal (a constant in a lookup table, a type name, a comment): two lower,
/// low confidence. In a table cell the column decides instead: two lower, low
/// confidence, in a column that numbers things (`coupon_code`, `order_sn`).
fn grade(
    info: &leakhound_matcher::RuleInfo,
    bf: &BlobFinding,
    place: Place,
) -> (Severity, Confidence) {
    let test = place.in_tests || bf.test_code;
    let mut severity = info.severity;
    let mut confidence = bf.confidence;
    // One level for each reason: an example value in the docs is two below.
    if test {
        severity = severity.lowered();
    }
    if bf.doubtful {
        severity = severity.lowered();
    }
    if test {
        confidence = Confidence::Low;
    }
    if info.category == Category::Personal && bf.in_url {
        severity = severity.lowered();
        confidence = Confidence::Low;
    }
    if info.category == Category::Personal {
        match place.column {
            // In a table the column decides: a checksum-valid number in a column of
            // coupon or order codes passed by chance.
            Some(true) => {
                severity = severity.lowered().lowered();
                confidence = Confidence::Low;
            }
            Some(_) => {}
            None if place.code && !bf.in_string => {
                severity = severity.lowered().lowered();
                confidence = Confidence::Low;
            }
            None => {}
        }
    }
    (severity, confidence)
}

/// Where a finding sits, as far as grading it goes.
#[derive(Clone, Copy)]
struct Place {
    /// A test, fixture, example or documentation file.
    in_tests: bool,
    /// A source-code file.
    code: bool,
    /// In a table cell: whether its column numbers things (`coupon_code`), for
    /// personal data only.
    column: Option<bool>,
}

/// [`leakhound_findings::column_names_a_thing`] once per column of a blob, not once
/// per finding: a customer export repeats its few column names on every row.
#[derive(Default)]
struct ThingColumns(Vec<(Arc<str>, bool)>);

impl ThingColumns {
    fn names_a_thing(&mut self, column: &Arc<str>) -> bool {
        if let Some((_, thing)) = self
            .0
            .iter()
            .find(|(name, _)| Arc::ptr_eq(name, column) || **name == **column)
        {
            return *thing;
        }
        let thing = leakhound_findings::column_names_a_thing(column);
        if self.0.len() < 256 {
            self.0.push((Arc::clone(column), thing));
        }
        thing
    }
}

/// Bytes hashed in one go up to this size; a bigger blob is hashed a piece at a time.
const HASH_PIECE: usize = 16 << 20;

/// The 128-bit xxh3 hash a blob's result is known by. A big blob (a mapped export) is
/// hashed a piece at a time and each piece is passed over, so that hashing a 1.4 GB
/// file does not leave all of its pages in memory before matching starts. The pieces
/// hash to what the whole does (xxh3's streaming form is the same function).
fn content_hash(bytes: &[u8]) -> u128 {
    if bytes.len() <= HASH_PIECE {
        return xxhash_rust::xxh3::xxh3_128(bytes);
    }
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for piece in bytes.chunks(HASH_PIECE) {
        hasher.update(piece);
        leakhound_inputs::read::pass_over(piece);
    }
    hasher.digest128()
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_inputs::decode;

    fn scanner() -> Scanner {
        let rules = leakhound_rules::RuleSet::builtin().expect("built-in rules");
        Scanner::new(
            Matcher::new(&rules).expect("rules compile"),
            ScanOptions::default(),
        )
    }

    fn phones(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| format!("row {i}: 139{:08}\n", i + 10_000_000))
            .collect::<String>()
            .into_bytes()
    }

    fn duplicates(s: &Scanner) -> u64 {
        s.counters
            .duplicates
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn found(s: &Scanner, path: &str, bytes: &[u8]) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        s.scan_blob(path, bytes, &mut |f| {
            out.push((f.location.line, f.value.clone()))
        });
        out
    }

    /// Sniffs and decodes done on this thread while `f` runs.
    fn work(f: impl FnOnce()) -> (u64, u64) {
        let (s0, d0) = decode::work_on_this_thread();
        f();
        let (s1, d1) = decode::work_on_this_thread();
        (s1 - s0, d1 - d0)
    }

    #[test]
    fn a_blob_is_sniffed_and_decoded_once_however_many_stages_read_it() {
        let s = scanner();
        // A GBK table with findings: matched, located, and its cells placed.
        let csv = "姓名,手机\n张伟,13912345678\n李娜,13812345678\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(csv);
        let mut cells = Vec::new();
        let done = work(|| {
            s.scan_blob("people.csv", &gbk, &mut |f| {
                let last = f.column_values.map(|v| v.last_row);
                cells.push((f.cell.map(|c| c.row), last, f.count))
            })
        });
        assert_eq!(
            cells,
            [(Some(1), Some(2), Some(2))],
            "placed in their rows, one table-level finding"
        );
        assert_eq!(done, (1, 1), "(sniffs, decodes) for one GBK table");
        let done = work(|| s.scan_blob("notes.txt", b"call 13912345678", &mut |_| {}));
        assert_eq!(done, (1, 1), "(sniffs, decodes) for one text file");
        // A copy seen before is not matched again, so not sniffed either.
        let done = work(|| s.scan_blob("copy/notes.txt", b"call 13912345678", &mut |_| {}));
        assert_eq!(done, (0, 0), "(sniffs, decodes) for a duplicate");
        // An encoding decided where the blob entered (git history) is not decided again.
        let bytes = b"key 13912345678\n".to_vec();
        let entered = pipeline::Entered::new(&bytes, decode::sniff(&bytes));
        let done = work(|| {
            let mut leaves = pipeline::Leaves::entered(&s, Some(entered));
            leakhound_inputs::archive::expand("x.txt", &bytes, &s.options.limits, &mut leaves);
            assert_eq!(leaves.findings.len(), 1);
        });
        assert_eq!(done, (0, 1), "(sniffs, decodes) after the entry's sniff");
    }

    #[test]
    fn a_big_result_is_not_kept_yet_its_copies_are_found_and_counted() {
        let s = scanner();
        let big = phones(MAX_KEPT_FINDINGS + 1);
        let first = found(&s, "a.txt", &big);
        assert_eq!(first.len(), MAX_KEPT_FINDINGS + 1);
        assert!(s.seen.lock().map(|m| m.is_empty()).unwrap_or(false));
        assert_eq!(found(&s, "copy/a.txt", &big), first);
        assert_eq!(duplicates(&s), 1);
        // A small result stays cached and is replayed.
        let small = phones(3);
        assert_eq!(found(&s, "b.txt", &small).len(), 3);
        assert_eq!(found(&s, "copy/b.txt", &small).len(), 3);
        assert_eq!(duplicates(&s), 2);
        assert_eq!(s.seen.lock().map(|m| m.len()).unwrap_or(0), 1);
    }

    #[test]
    fn results_past_the_cache_budget_are_let_go_but_copies_still_count() {
        let s = scanner();
        // Fill the budget to all but two findings: a three-finding result is let go.
        assert!(s.keep(KEPT_FINDINGS_BUDGET - 2));
        let small = phones(3);
        assert_eq!(found(&s, "a.txt", &small).len(), 3);
        assert!(s.seen.lock().map(|m| m.is_empty()).unwrap_or(false));
        assert_eq!(found(&s, "copy/a.txt", &small).len(), 3);
        assert_eq!(duplicates(&s), 1);
        // Two more still fit.
        assert_eq!(found(&s, "b.txt", &phones(2)).len(), 2);
        assert_eq!(s.seen.lock().map(|m| m.len()).unwrap_or(0), 1);
    }

    #[test]
    fn past_the_index_limit_contents_are_matched_but_not_remembered() {
        let mut s = scanner();
        s.max_seen = 1;
        assert_eq!(found(&s, "a.txt", &phones(2)).len(), 2);
        assert_eq!(found(&s, "b.txt", &phones(3)).len(), 3);
        assert_eq!(found(&s, "copy/b.txt", &phones(3)).len(), 3);
        assert_eq!(s.seen.lock().map(|m| m.len()).unwrap_or(0), 1);
        assert_eq!(duplicates(&s), 0);
        assert_eq!(found(&s, "copy/a.txt", &phones(2)).len(), 2);
        assert_eq!(duplicates(&s), 1);
    }

    #[test]
    fn contents_with_nothing_in_them_share_one_result() {
        let s = scanner();
        assert!(found(&s, "a.txt", b"nothing here\n").is_empty());
        assert!(found(&s, "b.bin", b"\0\x01binary\0\xff").is_empty());
        assert!(found(&s, "copy/a.txt", b"nothing here\n").is_empty());
        let seen = s.seen.lock().map(|m| m.clone()).unwrap_or_default();
        assert_eq!(seen.len(), 2);
        assert!(seen
            .values()
            .all(|c| s.empty.iter().any(|e| Arc::ptr_eq(c, e))));
        assert_eq!(duplicates(&s), 1);
    }

    /// A big blob hashed a piece at a time is known by the hash it had hashed whole
    /// (content ids are kept in datastores and baselines).
    #[test]
    fn a_big_blob_hashed_in_pieces_keeps_its_hash() {
        let bytes: Vec<u8> = (0..HASH_PIECE * 2 + 12_345)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in [
            0,
            HASH_PIECE - 1,
            HASH_PIECE,
            HASH_PIECE + 1,
            2 * HASH_PIECE,
            bytes.len(),
        ] {
            let blob = &bytes[..len];
            assert_eq!(
                content_hash(blob),
                xxhash_rust::xxh3::xxh3_128(blob),
                "{len} bytes"
            );
        }
    }
}
