//! Walking paths and feeding every file and archive member to the scanner.

use crate::streamed::STREAM_WINDOW;
use crate::{Scanner, Summary};
use leakhound_findings::Finding;
use leakhound_inputs::archive::{self, Visitor};
use leakhound_inputs::decode::{Decoded, Encoding};
use leakhound_inputs::walk::{self, Entry, WalkError, WalkOptions};
use leakhound_inputs::{read, Limits, Problem};
use leakhound_spool::{Findings, Spool};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Archive and size limits.
    pub limits: Limits,
    /// Walking options.
    pub walk: WalkOptions,
    /// Most findings reported per binary blob.
    pub max_binary_findings: usize,
    /// GBK/UTF-16 content larger than this is decoded and matched in windows of about
    /// this many source bytes, so a multi-gigabyte export is never copied whole.
    pub transcode_chunk: usize,
    /// CSV, JSON and SQL exports larger than this are matched in windows of about this
    /// many bytes (at most [`crate::table_text::MAX_WINDOW`]), each window's findings
    /// placed and folded into their columns before the next (see `table_text.rs`).
    pub table_window: usize,
    /// Values and paths not to report (a project's `leakhound.toml`).
    pub allowlist: Option<std::sync::Arc<leakhound_suppress::Allowlist>>,
    /// Honour inline `leakhound:allow` comments.
    pub inline_allow: bool,
    /// Findings held in memory before sorted runs of them go to a temporary file
    /// (see leakhound-spool): past it, memory stops growing with the findings.
    pub spill_after: usize,
    /// One finding per table cell, as before table-level findings (`--each-cell`);
    /// otherwise a column's personal and vehicle values are one finding.
    pub each_cell: bool,
    /// Encodings searched for secrets inside one another (`--decode-depth`): 0 turns
    /// decoding off.
    pub decode_depth: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            limits: Limits::default(),
            walk: WalkOptions::default(),
            max_binary_findings: 20,
            transcode_chunk: 16 << 20,
            table_window: 4 << 20,
            allowlist: None,
            inline_allow: true,
            spill_after: leakhound_spool::DEFAULT_BUDGET,
            each_cell: false,
            decode_depth: 2,
        }
    }
}

/// Why a scan could not run at all (single unreadable files are problems, not errors).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The walk could not start.
    #[error(transparent)]
    Walk(#[from] WalkError),
    /// A repository could not be walked at all (unreadable refs, a bad revision).
    #[error(transparent)]
    Git(#[from] leakhound_git::GitError),
}

/// Display name of standard input in findings.
pub const STDIN_PATH: &str = "<stdin>";

pub(crate) struct Leaves<'a> {
    scanner: &'a Scanner,
    pub(crate) findings: Vec<Finding>,
    pub(crate) problems: Vec<Problem>,
    /// Where findings go in batches while a file is still being reported, so that a
    /// table with a million findings never holds them all (`None`: kept for the caller).
    spool: Option<&'a Spool>,
    /// An encoding decided before the blob was expanded: a leaf that is that same
    /// blob, unchanged (not an archive member), is not sniffed again.
    entered: Option<Entered>,
    /// A git blob (its address and length): git already gives each distinct content
    /// once, so when the leaf is the blob itself its result is not remembered for
    /// copies. On ansible's history that index was 57 MB that never served a copy.
    distinct: Option<(usize, usize)>,
}

/// The encoding decided where a blob entered, and which bytes it is for (their address
/// and length, compared, never read).
#[derive(Clone, Copy)]
pub(crate) struct Entered {
    at: usize,
    len: usize,
    encoding: Encoding,
}

impl Entered {
    pub(crate) fn new(bytes: &[u8], encoding: Encoding) -> Entered {
        Entered {
            at: bytes.as_ptr() as usize,
            len: bytes.len(),
            encoding,
        }
    }

    /// The encoding, if `bytes` are the very bytes it was decided for.
    pub(crate) fn of(&self, bytes: &[u8]) -> Option<Encoding> {
        (bytes.as_ptr() as usize == self.at && bytes.len() == self.len).then_some(self.encoding)
    }
}

/// Findings of one file handed to the spool at a time.
const LEAF_BATCH: usize = 16 << 10;

impl<'a> Leaves<'a> {
    pub(crate) fn new(scanner: &'a Scanner) -> Leaves<'a> {
        Leaves {
            scanner,
            findings: Vec::new(),
            problems: Vec::new(),
            spool: None,
            entered: None,
            distinct: None,
        }
    }

    /// Leaves of a blob whose encoding is already known.
    pub(crate) fn entered(scanner: &'a Scanner, entered: Option<Entered>) -> Leaves<'a> {
        Leaves {
            entered,
            ..Leaves::new(scanner)
        }
    }

    /// Leaves of a git blob (`bytes`): see `distinct`.
    pub(crate) fn git_blob(
        scanner: &'a Scanner,
        bytes: &[u8],
        entered: Option<Entered>,
    ) -> Leaves<'a> {
        Leaves {
            distinct: Some((bytes.as_ptr() as usize, bytes.len())),
            ..Leaves::entered(scanner, entered)
        }
    }

    fn streaming(scanner: &'a Scanner, spool: &'a Spool) -> Leaves<'a> {
        Leaves {
            spool: Some(spool),
            ..Leaves::new(scanner)
        }
    }

    /// Only a problem: the content never reached the scanner.
    fn problem(scanner: &'a Scanner, problem: Problem) -> Leaves<'a> {
        Leaves {
            problems: vec![problem],
            ..Leaves::new(scanner)
        }
    }
}

impl Visitor for Leaves<'_> {
    fn leaf(&mut self, path: &str, bytes: &[u8]) {
        let (findings, problems, spool) = (&mut self.findings, &mut self.problems, self.spool);
        let mut report = |f| {
            findings.push(f);
            if let Some(spool) = spool.filter(|_| findings.len() >= LEAF_BATCH) {
                leakhound_findings::sort_for_report(findings);
                spool.push(std::mem::take(findings));
            }
        };
        let blob = match self.entered.and_then(|e| e.of(bytes)) {
            Some(encoding) => Decoded::known(bytes, encoding),
            None => Decoded::new(bytes),
        };
        let remember = self.distinct != Some((bytes.as_ptr() as usize, bytes.len()));
        self.scanner
            .scan_leaf(path, &blob, remember, &mut report, &mut |p| {
                problems.push(p)
            });
    }
    fn whole(&mut self, path: &str) -> bool {
        leakhound_tables::is_workbook(path)
    }
    fn problem(&mut self, problem: Problem) {
        self.problems.push(problem);
    }
}

impl Scanner {
    /// Scan files, folders and `-` (standard input). Problems are passed to
    /// `on_problem` as they happen (for stderr) and collected in the summary; findings
    /// come back sorted by path, line, column and rule, the same on every run.
    pub fn scan_paths(
        &self,
        roots: &[PathBuf],
        on_problem: &(dyn Fn(&Problem) + Sync),
    ) -> Result<(Findings, Summary), ScanError> {
        let started = Instant::now();
        self.set_roots(roots);
        let findings = Spool::new(self.options.spill_after);
        let problems = Mutex::new(Vec::new());
        let report = |mut leaves: Leaves<'_>| {
            for p in &leaves.problems {
                on_problem(p);
            }
            if let Ok(mut all) = problems.lock() {
                all.append(&mut leaves.problems);
            }
            // Sorted here, on the worker, so that the spool has sorted runs to merge,
            // or nothing to do when one big file holds all the findings.
            leakhound_findings::sort_for_report(&mut leaves.findings);
            findings.push(leaves.findings);
        };
        let (stdin, paths): (Vec<&PathBuf>, Vec<&PathBuf>) =
            roots.iter().partition(|p| p.as_os_str() == "-");
        if !stdin.is_empty() {
            report(self.scan_stream(STDIN_PATH, std::io::stdin().lock(), &findings, Stream::Pipe));
        }
        // Named pipes (`<(command)`, a FIFO) are read as streams; devices are refused,
        // not silently passed over as "0 files".
        let mut walked = Vec::with_capacity(paths.len());
        for p in paths {
            match special_file(p) {
                Some(Special::Pipe) => {
                    let display = p.display().to_string();
                    let leaves = match std::fs::File::open(p) {
                        Ok(f) => self.scan_stream(&display, f, &findings, Stream::Pipe),
                        Err(e) => Leaves::problem(
                            self,
                            Problem::unreadable(&display, format!("cannot read: {e}")),
                        ),
                    };
                    report(leaves);
                }
                Some(Special::Device) => report(Leaves::problem(
                    self,
                    Problem::unreadable(
                        &p.display().to_string(),
                        "is a device, not a file or folder; not read",
                    ),
                )),
                None => walked.push(p.clone()),
            }
        }
        let paths = walked;
        if !paths.is_empty() {
            walk::walk(&paths, &self.options.walk, || {
                |entry: Entry| {
                    let leaves = match entry {
                        Entry::File(path) => self.scan_file(&path, &findings),
                        Entry::Image(dir) => self.scan_image_folder(&dir, &findings),
                        Entry::Error(path, message) => {
                            Leaves::problem(self, Problem::unreadable(&path, message))
                        }
                    };
                    report(leaves);
                }
            })?;
        }
        Ok(self.finish(
            findings.finish(),
            problems.into_inner().unwrap_or_default(),
            started,
        ))
    }

    /// Sort problems (the same order on every run) and sum up.
    pub(crate) fn finish(
        &self,
        findings: Findings,
        mut problems: Vec<Problem>,
        started: Instant,
    ) -> (Findings, Summary) {
        problems.sort_by(|a, b| a.path.cmp(&b.path));
        let summary = Summary::new(
            &self.counters,
            findings.tally(),
            problems,
            started.elapsed(),
            self.matcher.len(),
        );
        (findings, summary)
    }

    /// An OCI image layout folder: packed in memory and read as an image archive.
    fn scan_image_folder<'a>(&'a self, dir: &Path, spool: &'a Spool) -> Leaves<'a> {
        let display = dir.display().to_string();
        match archive::image_folder_tar(dir, self.options.limits.max_expanded_size) {
            Ok(bytes) => self.expand_file(&display, &bytes, spool),
            Err(e) => Leaves::problem(
                self,
                Problem::unreadable(&display, format!("cannot read the image layout: {e}")),
            ),
        }
    }

    fn scan_file<'a>(&'a self, path: &Path, spool: &'a Spool) -> Leaves<'a> {
        let display = path.display().to_string();
        let len = match std::fs::metadata(path) {
            Ok(m) => m.len(),
            Err(e) => {
                return Leaves::problem(
                    self,
                    Problem::unreadable(&display, format!("cannot read: {e}")),
                )
            }
        };
        let max = self.options.limits.max_file_size;
        if max > 0 && len > max {
            let message = format!("{len} bytes is over --max-file-size ({max}); skipped");
            return Leaves::problem(self, Problem::skipped(&display, message));
        }
        match read::read_file(path) {
            // A compressed file is decompressed as it is matched when its content is
            // long plain text (a `.log.gz`): it used to be expanded into memory, up to
            // --max-expanded-size per worker. Archives and tables inside are still
            // expanded whole (tables keep their row and column places). Read again
            // through a file handle, not the map, so its pages do not add to memory.
            Ok(bytes)
                if archive::compressed_name(&display, &bytes[..bytes.len().min(16)]).is_some() =>
            {
                drop(bytes);
                match std::fs::File::open(path) {
                    Ok(f) => self.scan_stream(&display, f, spool, Stream::File),
                    Err(e) => Leaves::problem(
                        self,
                        Problem::unreadable(&display, format!("cannot read: {e}")),
                    ),
                }
            }
            Ok(bytes) => self.expand_file(&display, &bytes, spool),
            Err(e) => Leaves::problem(
                self,
                Problem::unreadable(&display, format!("cannot read: {e}")),
            ),
        }
    }

    /// One file's bytes (or an image folder's, packed), opened and matched.
    fn expand_file<'a>(&'a self, display: &str, bytes: &[u8], spool: &'a Spool) -> Leaves<'a> {
        let mut leaves = Leaves::streaming(self, spool);
        self.counters.add_file();
        archive::expand(display, bytes, &self.options.limits, &mut leaves);
        leaves
    }

    /// Standard input or a named pipe, read up to `--max-file-size`. Input that ends
    /// within the first window, or is an archive, is read whole and expanded as a
    /// file's bytes are; longer text (also inside a gzip, bzip2, xz or zstd stream) is
    /// matched in windows as it arrives, in bounded memory (see [`crate::streamed`]).
    fn scan_stream<'a>(
        &'a self,
        name: &str,
        reader: impl Read,
        spool: &'a Spool,
        kind: Stream,
    ) -> Leaves<'a> {
        let mut leaves = Leaves::streaming(self, spool);
        self.counters.add_file();
        let max = self.options.limits.max_file_size;
        // Read one byte past the limit to know whether anything was cut off.
        let limit = if max == 0 {
            u64::MAX
        } else {
            max.saturating_add(1)
        };
        let mut capped = reader.take(limit);
        let window = STREAM_WINDOW as u64;
        let mut head = Vec::new();
        if let Err(e) = (&mut capped).take(window).read_to_end(&mut head) {
            leaves
                .problems
                .push(Problem::unreadable(name, format!("cannot read: {e}")));
            return leaves;
        }
        let cut_off = |leaves: &mut Leaves<'_>, read: u64| {
            if max > 0 && read > max {
                leaves.problems.push(Problem::skipped(
                    name,
                    format!("input is longer than --max-file-size ({max} bytes); only the first {max} bytes were scanned"),
                ));
            }
        };
        let whole = |leaves: &mut Leaves<'_>, mut bytes: Vec<u8>, rest: &mut dyn Read| {
            if let Err(e) = rest.read_to_end(&mut bytes) {
                leaves
                    .problems
                    .push(Problem::unreadable(name, format!("cannot read: {e}")));
                return;
            }
            cut_off(leaves, bytes.len() as u64);
            if max > 0 && bytes.len() as u64 > max {
                bytes.truncate(usize::try_from(max).unwrap_or(usize::MAX));
            }
            archive::expand(name, &bytes, &self.options.limits, leaves);
        };
        if archive::compressed_name(name, &head).is_some() {
            // Decompress as it arrives, keeping a copy of the compressed bytes only
            // until the first window of content shows it is neither short nor an
            // archive. (Content that long is matched in bounded memory, so the
            // expansion-ratio check that guards memory for files does not apply;
            // --max-expanded-size still caps it.)
            let copy = std::rc::Rc::new(std::cell::RefCell::new(Some(head.clone())));
            let tee = Tee {
                inner: &mut capped,
                copy: std::rc::Rc::clone(&copy),
            };
            let source: Box<dyn Read + '_> =
                Box::new(std::io::Cursor::new(head.clone()).chain(tee));
            let mut streamed = false;
            let compressed = match archive::decompressing(name, &head, source) {
                Some((inner, decompressed)) => {
                    // What a compressed stream may expand to, as for files.
                    let budget = match self.options.limits.max_expanded_size {
                        0 => u64::MAX,
                        n => n,
                    };
                    let mut decompressed = decompressed.take(budget);
                    let mut inner_head = Vec::new();
                    let ok = (&mut decompressed)
                        .take(window)
                        .read_to_end(&mut inner_head);
                    let table = kind == Stream::File
                        && (leakhound_tables::is_binary_table(&inner, &inner_head)
                            || leakhound_tables::places::is_text_table(&inner));
                    let long = ok.is_ok() && (inner_head.len() as u64) == window;
                    if long && table && !archive::is_archive(&inner_head) {
                        // A long table: decompressed to a private temporary file and
                        // mapped, so its cells keep their rows and columns and memory
                        // stays flat (the disk holds it, up to --max-expanded-size).
                        let path = format!("{name}{}{inner}", leakhound_inputs::LAYER_SEPARATOR);
                        leaves.spilled(&path, inner_head, decompressed, budget);
                        streamed = true;
                        None
                    } else if long && !archive::is_archive(&inner_head) && !table {
                        copy.borrow_mut().take();
                        let path = format!("{name}{}{inner}", leakhound_inputs::LAYER_SEPARATOR);
                        let read = leaves.windows(&path, inner_head, decompressed);
                        if read >= budget {
                            leaves.problems.push(Problem::skipped(
                                &path,
                                format!("expands past --max-expanded-size ({budget} bytes); only the first {budget} bytes were scanned"),
                            ));
                        }
                        streamed = true;
                        None
                    } else {
                        drop(decompressed);
                        copy.borrow_mut().take()
                    }
                }
                None => None,
            };
            if streamed {
                if max > 0 && capped.limit() == 0 {
                    cut_off(&mut leaves, max.saturating_add(1));
                }
                return leaves;
            }
            // Small, damaged or an archive inside: read the compressed bytes whole.
            match compressed {
                Some(bytes) => whole(&mut leaves, bytes, &mut capped),
                None => whole(&mut leaves, head, &mut capped),
            }
            return leaves;
        }
        if (head.len() as u64) < window || archive::is_archive(&head) {
            whole(&mut leaves, head, &mut capped);
            return leaves;
        }
        let read = leaves.windows(name, head, &mut capped);
        cut_off(&mut leaves, read);
        leaves
    }
}

impl Leaves<'_> {
    /// Write `head` and the rest of `rest` (up to `budget` bytes) to a temporary file,
    /// map it, and scan it as the leaf `path`.
    fn spilled(&mut self, path: &str, head: Vec<u8>, mut rest: impl Read, budget: u64) {
        let mut spill = || -> std::io::Result<(tempfile::NamedTempFile, bool)> {
            let mut file = tempfile::NamedTempFile::new()?;
            std::io::Write::write_all(&mut file, &head)?;
            let left = budget.saturating_sub(head.len() as u64);
            let copied = std::io::copy(&mut (&mut rest).take(left), &mut file)?;
            Ok((file, copied >= left))
        };
        match spill() {
            Ok((file, cut)) => {
                if cut {
                    self.problems.push(Problem::skipped(
                        path,
                        format!("expands past --max-expanded-size ({budget} bytes); only the first {budget} bytes were scanned"),
                    ));
                }
                match read::read_file(file.path()) {
                    Ok(bytes) => self.leaf(path, &bytes),
                    Err(e) => self
                        .problems
                        .push(Problem::unreadable(path, format!("cannot read back: {e}"))),
                }
            }
            Err(e) => self.problems.push(Problem::unreadable(
                path,
                format!("cannot decompress to a temporary file: {e}"),
            )),
        }
    }

    /// Match a stream in windows (see [`crate::streamed`]); returns the bytes read.
    fn windows(&mut self, path: &str, head: Vec<u8>, rest: impl Read) -> u64 {
        let (findings, problems, spool) = (&mut self.findings, &mut self.problems, self.spool);
        let mut report = |f| {
            findings.push(f);
            if let Some(spool) = spool.filter(|_| findings.len() >= LEAF_BATCH) {
                leakhound_findings::sort_for_report(findings);
                spool.push(std::mem::take(findings));
            }
        };
        self.scanner
            .scan_windows(path, head, rest, &mut report, &mut |p| problems.push(p))
    }
}

/// Where a stream comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    /// Standard input or a pipe: can only be read once, and may be endless.
    Pipe,
    /// A compressed file: a long table inside goes through a temporary file, to keep
    /// its cells' places.
    File,
}

/// A reader that keeps a copy of what passes while the copy is wanted.
struct Tee<R> {
    inner: R,
    copy: std::rc::Rc<std::cell::RefCell<Option<Vec<u8>>>>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(copy) = self.copy.borrow_mut().as_mut() {
            copy.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

/// A named path that is neither a regular file nor a folder.
pub enum Special {
    /// A FIFO or socket: read as a stream.
    Pipe,
    /// A character or block device (`/dev/zero`, a disk): never read.
    Device,
}

/// What kind of special file `path` is (following symlinks, as `/dev/fd/63` is one).
pub fn special_file(path: &Path) -> Option<Special> {
    use std::os::unix::fs::FileTypeExt;
    let t = std::fs::metadata(path).ok()?.file_type();
    if t.is_fifo() || t.is_socket() {
        Some(Special::Pipe)
    } else if t.is_char_device() || t.is_block_device() {
        Some(Special::Device)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(dir: &Path, spill_after: usize) -> (Vec<String>, Summary, bool) {
        let rules = leakhound_rules::RuleSet::builtin().unwrap();
        let options = ScanOptions {
            spill_after,
            // Many findings from one file: one per cell.
            each_cell: true,
            ..ScanOptions::default()
        };
        let scanner = Scanner::new(leakhound_matcher::Matcher::new(&rules).unwrap(), options);
        let (findings, summary) = scanner.scan_paths(&[dir.to_path_buf()], &|_| {}).unwrap();
        let shown = findings
            .iter()
            .map(|f| {
                let f = f.unwrap();
                format!(
                    "{}:{}:{} {} {}",
                    f.location.path, f.location.line, f.location.column, f.rule, f.value
                )
            })
            .collect();
        (shown, summary, findings.spilled())
    }

    #[test]
    fn a_scan_that_spills_reports_what_one_that_does_not_reports() {
        let dir = tempfile::tempdir().unwrap();
        // One file with more findings than a worker hands the spool at a time.
        let mut table = String::from("id,mobile\n");
        for i in 0..9_000u32 {
            table.push_str(&format!("440304198706151231,139{:08}\n", i * 7 + 1));
        }
        const { assert!(2 * 9_000 > LEAF_BATCH) };
        for (name, text) in [
            ("big.csv", table.as_str()),
            ("b.csv", "name,mobile\n张伟,13912345678\n李娜,13800138000\n"),
            (
                "a.env",
                "AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\nmail=ops@example.cn\n",
            ),
            ("c/d.txt", "VIN LSVAU2180N2183294 and LSVAU2180N2183294\n"),
        ] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let (kept, kept_summary, kept_spilled) = scan(dir.path(), usize::MAX);
        let (spilled, spilled_summary, did_spill) = scan(dir.path(), 1);
        assert!(!kept_spilled && did_spill);
        assert!(kept.len() >= 18_000, "{}", kept.len());
        assert_eq!(spilled, kept);
        assert_eq!(spilled_summary.by_category, kept_summary.by_category);
        assert_eq!(spilled_summary.findings, kept.len() as u64);
    }
}
