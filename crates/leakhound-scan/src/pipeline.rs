//! Walking paths and feeding every file and archive member to the scanner.

use crate::{Scanner, Summary};
use leakhound_findings::Finding;
use leakhound_inputs::archive::{self, Visitor};
use leakhound_inputs::walk::{self, Entry, WalkError, WalkOptions};
use leakhound_inputs::{read, Limits, Problem};
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
    /// Values and paths not to report (a project's `leakhound.toml`).
    pub allowlist: Option<std::sync::Arc<leakhound_suppress::Allowlist>>,
    /// Honour inline `leakhound:allow` comments.
    pub inline_allow: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            limits: Limits::default(),
            walk: WalkOptions::default(),
            max_binary_findings: 20,
            transcode_chunk: 16 << 20,
            allowlist: None,
            inline_allow: true,
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
}

impl<'a> Leaves<'a> {
    pub(crate) fn new(scanner: &'a Scanner) -> Leaves<'a> {
        Leaves {
            scanner,
            findings: Vec::new(),
            problems: Vec::new(),
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
        let (findings, problems) = (&mut self.findings, &mut self.problems);
        self.scanner
            .scan_leaf(path, bytes, &mut |f| findings.push(f), &mut |p| {
                problems.push(p)
            });
    }
    fn whole(&mut self, path: &str) -> bool {
        leakhound_assess::tables::is_workbook(path)
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
    ) -> Result<(Vec<Finding>, Summary), ScanError> {
        let started = Instant::now();
        let findings: Mutex<Vec<Finding>> = Mutex::new(Vec::new());
        let problems = Mutex::new(Vec::new());
        let report = |mut leaves: Leaves<'_>| {
            for p in &leaves.problems {
                on_problem(p);
            }
            if let Ok(mut all) = problems.lock() {
                all.append(&mut leaves.problems);
            }
            // Sorted here, on the worker, so that `finish` has sorted runs to merge, or
            // nothing to do when one big file holds all the findings.
            leaves
                .findings
                .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
            if let Ok(mut all) = findings.lock() {
                if all.is_empty() {
                    *all = std::mem::take(&mut leaves.findings);
                } else {
                    all.append(&mut leaves.findings);
                }
            }
        };
        let (stdin, paths): (Vec<&PathBuf>, Vec<&PathBuf>) =
            roots.iter().partition(|p| p.as_os_str() == "-");
        if !stdin.is_empty() {
            report(self.scan_stdin());
        }
        let paths: Vec<PathBuf> = paths.into_iter().cloned().collect();
        if !paths.is_empty() {
            walk::walk(&paths, &self.options.walk, || {
                |entry: Entry| {
                    let leaves = match entry {
                        Entry::File(path) => self.scan_file(&path),
                        Entry::Error(path, message) => {
                            Leaves::problem(self, Problem::unreadable(&path, message))
                        }
                    };
                    report(leaves);
                }
            })?;
        }
        Ok(self.finish(
            findings.into_inner().unwrap_or_default(),
            problems.into_inner().unwrap_or_default(),
            started,
        ))
    }

    /// Sort findings and problems (the same order on every run) and sum up.
    pub(crate) fn finish(
        &self,
        mut findings: Vec<Finding>,
        mut problems: Vec<Problem>,
        started: Instant,
    ) -> (Vec<Finding>, Summary) {
        if !is_sorted(&findings) {
            findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        }
        problems.sort_by(|a, b| a.path.cmp(&b.path));
        let summary = Summary::new(
            &self.counters,
            &findings,
            problems,
            started.elapsed(),
            self.matcher.len(),
        );
        (findings, summary)
    }

    fn scan_file(&self, path: &Path) -> Leaves<'_> {
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
            Ok(bytes) => {
                let mut leaves = Leaves::new(self);
                self.counters.add_file();
                archive::expand(&display, &bytes, &self.options.limits, &mut leaves);
                leaves
            }
            Err(e) => Leaves::problem(
                self,
                Problem::unreadable(&display, format!("cannot read: {e}")),
            ),
        }
    }

    fn scan_stdin(&self) -> Leaves<'_> {
        let mut leaves = Leaves::new(self);
        let mut buf = Vec::new();
        let max = self.options.limits.max_file_size;
        // Read one byte past the limit to know whether anything was cut off.
        let limit = if max == 0 {
            u64::MAX
        } else {
            max.saturating_add(1)
        };
        match std::io::stdin().lock().take(limit).read_to_end(&mut buf) {
            Ok(_) => {
                if max > 0 && buf.len() as u64 > max {
                    buf.truncate(usize::try_from(max).unwrap_or(usize::MAX));
                    leaves.problems.push(Problem::skipped(
                        STDIN_PATH,
                        format!("input is longer than --max-file-size ({max} bytes); only the first {max} bytes were scanned"),
                    ));
                }
                self.counters.add_file();
                archive::expand(STDIN_PATH, &buf, &self.options.limits, &mut leaves);
            }
            Err(e) => leaves
                .problems
                .push(Problem::unreadable(STDIN_PATH, format!("cannot read: {e}"))),
        }
        leaves
    }
}

fn is_sorted(findings: &[Finding]) -> bool {
    findings.is_sorted_by(|a, b| a.sort_key() <= b.sort_key())
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_findings::{Category, Confidence, Location, Severity};

    fn at(path: &str, line: u64) -> Finding {
        Finding {
            rule: "r".into(),
            name: "r".into(),
            category: Category::Personal,
            severity: Severity::High,
            confidence: Confidence::High,
            location: Location {
                path: path.into(),
                line,
                column: 1,
                offset: 0,
            },
            value: String::new(),
            fingerprint: String::new(),
            validator: None,
            line_text: None,
            count: None,
            blob: "".into(),
            binary: false,
            git: None,
            triage: None,
            cell: None,
            process: None,
        }
    }

    fn keys(findings: &[Finding]) -> Vec<(String, u64)> {
        findings
            .iter()
            .map(|f| (f.location.path.clone(), f.location.line))
            .collect()
    }

    #[test]
    fn findings_are_sorted_only_when_out_of_order() {
        let scanner = Scanner::new(
            leakhound_matcher::Matcher::new(&leakhound_rules::RuleSet::builtin().unwrap()).unwrap(),
            ScanOptions::default(),
        );
        let in_order = vec![at("a", 3), at("a.zip!x", 2), at("b", 1)];
        assert!(is_sorted(&in_order));
        let (findings, _) = scanner.finish(in_order, Vec::new(), Instant::now());
        assert_eq!(
            keys(&findings),
            [("a", 3), ("a.zip!x", 2), ("b", 1)].map(|(p, l)| (p.to_string(), l))
        );
        // Two files' runs, each sorted, arriving in the wrong order.
        let runs = vec![at("b", 1), at("b", 9), at("a", 3), at("a", 4)];
        assert!(!is_sorted(&runs));
        let (findings, summary) = scanner.finish(runs, Vec::new(), Instant::now());
        assert_eq!(
            keys(&findings),
            [("a", 3), ("a", 4), ("b", 1), ("b", 9)].map(|(p, l)| (p.to_string(), l))
        );
        assert_eq!(summary.findings, 4);
    }
}
