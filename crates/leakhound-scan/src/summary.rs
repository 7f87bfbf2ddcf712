//! The numbers a scan reports. Computed here and nowhere else, so the human summary, the
//! JSON summary and the progress bar cannot disagree.

use leakhound_findings::{Category, Finding, Severity};
use leakhound_inputs::{Problem, ProblemKind};
use leakhound_spool::{Findings, SpoolError, Tally};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Live counters, updated by worker threads and read by the progress bar.
#[derive(Debug, Default)]
pub struct Counters {
    files: AtomicU64,
    blobs: AtomicU64,
    bytes: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    findings: AtomicU64,
    commits: AtomicU64,
    repositories: AtomicU64,
    suppressed: AtomicU64,
}

impl Counters {
    pub(crate) fn add_file(&self) {
        self.files.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn add_blob(&self, bytes: u64) {
        self.blobs.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
    pub(crate) fn add_duplicate(&self) {
        self.duplicates.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn add_finding(&self) {
        self.findings.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn add_suppressed(&self) {
        self.suppressed.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn add_commits(&self, n: u64) {
        self.commits.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn add_repository(&self) {
        self.repositories.fetch_add(1, Ordering::Relaxed);
    }
    /// Commits read so far (history scans).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
    /// Blobs scanned so far (files, archive members, git blobs).
    pub fn blobs(&self) -> u64 {
        self.blobs.load(Ordering::Relaxed)
    }
    /// Files read so far.
    pub fn files(&self) -> u64 {
        self.files.load(Ordering::Relaxed)
    }
    /// Bytes scanned so far (archive members counted expanded).
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    /// Findings so far.
    pub fn findings(&self) -> u64 {
        self.findings.load(Ordering::Relaxed)
    }
}

/// What a finished scan did and found.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Top-level files read (stdin counts as one).
    pub files: u64,
    /// Blobs scanned: files plus every archive member.
    pub blobs: u64,
    /// Bytes of blobs scanned (archive members counted expanded).
    pub bytes: u64,
    /// Blobs whose bytes had been seen before and were not matched again.
    pub duplicate_blobs: u64,
    /// Findings reported.
    pub findings: u64,
    /// Git repositories opened (history scans).
    pub repositories: u64,
    /// Commits walked (history scans).
    pub commits: u64,
    /// Findings left out by the allowlist or inline `leakhound:allow` comments.
    pub suppressed: u64,
    /// Findings left out because a baseline already had them.
    pub baselined: u64,
    /// Findings per category.
    pub by_category: BTreeMap<Category, u64>,
    /// Findings per severity.
    pub by_severity: BTreeMap<Severity, u64>,
    /// What could not be read or was skipped.
    pub problems: Vec<Problem>,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// Rules that were enabled.
    pub rules: usize,
    /// What was staged for the next commit was scanned (`--staged`), not history.
    pub staged: bool,
    /// History scans: per repository ([`crate::repository_key`]), the commits the walk
    /// started from, for the datastore to remember for `--incremental` rescans.
    pub tips: Vec<(String, Vec<String>)>,
}

impl Summary {
    pub(crate) fn new(
        counters: &Counters,
        tally: &Tally,
        problems: Vec<Problem>,
        elapsed: Duration,
        rules: usize,
    ) -> Summary {
        let mut summary = Summary {
            files: counters.files.load(Ordering::Relaxed),
            blobs: counters.blobs.load(Ordering::Relaxed),
            bytes: counters.bytes.load(Ordering::Relaxed),
            duplicate_blobs: counters.duplicates.load(Ordering::Relaxed),
            findings: 0,
            repositories: counters.repositories.load(Ordering::Relaxed),
            commits: counters.commits.load(Ordering::Relaxed),
            suppressed: counters.suppressed.load(Ordering::Relaxed),
            baselined: 0,
            by_category: BTreeMap::new(),
            by_severity: BTreeMap::new(),
            problems,
            elapsed,
            rules,
            staged: false,
            tips: Vec::new(),
        };
        summary.recount(tally);
        summary
    }

    /// A summary of findings alone (a report from a datastore: nothing was scanned).
    pub fn of_findings(findings: &[Finding]) -> Summary {
        Summary::new(
            &Counters::default(),
            &Tally::of(findings),
            Vec::new(),
            Duration::ZERO,
            0,
        )
    }

    /// Leave out findings a baseline already had, and count them.
    pub fn drop_baselined(
        &mut self,
        findings: Findings,
        known: impl Fn(&Finding) -> bool,
    ) -> Result<Findings, SpoolError> {
        let before = findings.len();
        let kept = findings.filter_map(|f| (!known(&f)).then_some(f))?;
        self.baselined += before - kept.len();
        self.recount(kept.tally());
        Ok(kept)
    }

    /// Keep only the findings `keep` accepts (`--min-severity`, `--min-confidence`);
    /// returns them and how many were left out.
    pub fn keep_only(
        &mut self,
        findings: Findings,
        keep: impl Fn(&Finding) -> bool,
    ) -> Result<(Findings, u64), SpoolError> {
        let before = findings.len();
        let kept = findings.filter_map(|f| keep(&f).then_some(f))?;
        let left_out = before - kept.len();
        self.recount(kept.tally());
        Ok((kept, left_out))
    }

    /// Take the per-category and per-severity counts of changed findings.
    pub fn recount(&mut self, tally: &Tally) {
        self.by_category = tally.by_category.clone();
        self.by_severity = tally.by_severity.clone();
        self.findings = tally.total;
    }

    /// Scan throughput in MB/s (10^6 bytes), 0 for an instant scan.
    pub fn megabytes_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs <= 0.0 {
            0.0
        } else {
            self.bytes as f64 / 1e6 / secs
        }
    }

    /// Problems that were read failures (not deliberate skips).
    pub fn unreadable(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.kind == ProblemKind::Unreadable)
            .count()
    }

    /// Problems that were deliberate skips (limits, exclusions, suspicious names).
    pub fn skipped(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.kind == ProblemKind::Skipped)
            .count()
    }

    /// Nothing could be read at all: the exit code says error, not "clean".
    pub fn nothing_readable(&self) -> bool {
        // A history scan whose objects could not be read (truncated or empty pack,
        // missing index) read nothing either, though it found the repository.
        let no_content = self.files == 0 && (self.repositories == 0 || self.blobs == 0);
        no_content && self.unreadable() > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_and_readability() {
        let s = Summary {
            bytes: 50_000_000,
            elapsed: Duration::from_millis(500),
            ..Summary::default()
        };
        assert!((s.megabytes_per_second() - 100.0).abs() < 1e-9);
        assert!(!s.nothing_readable());
        let bad = Summary {
            problems: vec![Problem {
                path: "x".into(),
                message: "denied".into(),
                kind: ProblemKind::Unreadable,
            }],
            ..Summary::default()
        };
        assert!(bad.nothing_readable());
        assert_eq!(Summary::default().megabytes_per_second(), 0.0);
    }
}
