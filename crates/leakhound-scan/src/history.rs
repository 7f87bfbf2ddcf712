//! History scans: every git blob goes through [`Scanner::scan_blob`] like a file, and
//! findings are tied to the commit that introduced them.
//!
//! A value in a file is one finding however many versions of the file hold it, and
//! however many lines of it: findings are merged by (path, fingerprint) and placed at
//! the first line of the earliest version that holds the value. The same value in two
//! files is two findings, since each file must be cleaned.
//!
//! Versions of a text file after the first are matched only where their lines are new
//! at that path (see `seen_lines`), which is most of the speed of a history scan.

use crate::pipeline::{Entered, Leaves};
use crate::seen_lines::{SeenLines, MIN_BLOB};
use crate::{ScanError, Scanner, Summary};
use leakhound_findings::{CommitRef, Finding, GitOrigin, Reach};
use leakhound_git::{Blob, CommitIndex, History, HistoryOptions, RemovalQuery, Repository};
use leakhound_inputs::decode;
use leakhound_inputs::{archive, Problem, LAYER_SEPARATOR};
use leakhound_spool::Findings;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// What a history scan reads.
#[derive(Debug, Clone, Default)]
pub struct HistoryScanOptions {
    /// Refs, revisions, all objects, threads.
    pub git: HistoryOptions,
    /// Scan the index against `HEAD` instead of the history (pre-commit).
    pub staged: bool,
    /// Per repository ([`repository_key`]), the commits an earlier scan walked from:
    /// only commits added since are read (incremental rescans).
    pub seen_tips: HashMap<String, Vec<String>>,
}

/// The keys ([`repository_key`]) of the repositories at or under `roots`, as
/// [`Scanner::scan_history`] will find them: to look up what earlier scans walked.
pub fn repository_keys(roots: &[PathBuf]) -> Vec<String> {
    roots
        .iter()
        .filter(|root| root.is_dir())
        .flat_map(|root| leakhound_git::find_repositories(root))
        .map(|path| repository_key(&path))
        .collect()
}

/// A repository's key and the commits its walk started from.
type Walked = (String, Vec<String>);

/// How a repository is named across scans, for incremental rescans: its canonical
/// path (the path as given if it cannot be resolved).
pub fn repository_key(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Lines remembered per repository (~20 bytes each): 8M lines, ~160 MB at most.
const SEEN_LINES_CAP: usize = 8 << 20;

/// (display path with archive layers, fingerprint)
type Key = (String, String);

struct Merged {
    finding: Finding,
    rank: (leakhound_git::Reach, CommitIndex),
    commit: Option<CommitIndex>,
    reach: leakhound_git::Reach,
    /// Path of the blob in its commit (no repository prefix, no archive layers).
    tree_path: String,
    blob: String,
    blobs: BTreeSet<String>,
}

/// Problems as they happen: shown at once (stderr) and kept for the summary.
struct Problems<'a> {
    list: Mutex<Vec<Problem>>,
    show: &'a (dyn Fn(&Problem) + Sync),
}

impl Problems<'_> {
    fn report(&self, problem: Problem) {
        (self.show)(&problem);
        if let Ok(mut all) = self.list.lock() {
            all.push(problem);
        }
    }
}

struct Sink<'a> {
    scanner: &'a Scanner,
    /// Prepended to paths when several repositories are scanned from one folder.
    prefix: String,
    merged: Mutex<HashMap<Key, Merged>>,
    seen_lines: SeenLines,
    problems: &'a Problems<'a>,
}

impl Sink<'_> {
    fn findings_in(&self, path: &str, bytes: &[u8], entered: Option<Entered>) -> Leaves<'_> {
        let mut leaves = Leaves::git_blob(self.scanner, bytes, entered);
        archive::expand(path, bytes, &self.scanner.options.limits, &mut leaves);
        leaves
    }
}

impl Sink<'_> {
    /// Findings of a blob: for a text blob, only in the lines its path has not had
    /// before (see `seen_lines`); whole when small, not plain UTF-8, mostly new, or
    /// staged.
    fn match_blob(&self, path: &str, blob: &Blob<'_>) -> Leaves<'_> {
        // Sniffed here at most once, and handed on with the blob.
        let encoding = (blob.previous.is_none() && blob.bytes.len() >= MIN_BLOB)
            .then(|| decode::sniff(blob.bytes));
        let entered = encoding.map(|e| Entered::new(blob.bytes, e));
        let plan = if encoding != Some(decode::Encoding::Utf8)
            // Armoured keys span many lines; a changed line inside one needs all of it.
            || memchr::memmem::find(blob.bytes, b"-----BEGIN ").is_some()
        {
            None
        } else {
            let rank = blob.commit.unwrap_or(CommitIndex::MAX);
            self.seen_lines
                .plan(blob.path, blob.bytes, rank, blob.versions)
        };
        let leaves = match plan.as_ref().and_then(|p| p.parts.as_ref()) {
            Some(parts) => {
                self.scanner.counters.add_blob(blob.bytes.len() as u64);
                let content_id = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(blob.bytes));
                let mut leaves = Leaves::new(self.scanner);
                let findings = &mut leaves.findings;
                let len = blob.bytes.len();
                for part in parts {
                    self.scanner.scan_part(
                        path,
                        &blob.bytes[part.start..part.end],
                        &content_id,
                        part.first_line,
                        part.start as u64,
                        &mut |f| {
                            let at = usize::try_from(f.location.offset).unwrap_or(usize::MAX);
                            if part.sees_all_of(at, at.saturating_add(f.value.len()), len) {
                                findings.push(f);
                            }
                        },
                    );
                }
                leaves
            }
            None => self.findings_in(path, blob.bytes, entered),
        };
        if let Some(plan) = plan {
            let spans = leaves
                .findings
                .iter()
                .filter(|f| f.location.path == path)
                .map(|f| {
                    let at = usize::try_from(f.location.offset).unwrap_or(usize::MAX);
                    (at, at.saturating_add(f.value.len()))
                });
            self.seen_lines.done(plan, spans);
        }
        leaves
    }
}

impl leakhound_git::Visitor for Sink<'_> {
    fn blob(&self, blob: &Blob<'_>) {
        let path = format!("{}{}", self.prefix, blob.path);
        let leaves = self.match_blob(&path, blob);
        self.seen_lines.finished(blob.path, blob.versions);
        for p in leaves.problems {
            leakhound_git::Visitor::problem(self, p);
        }
        // Staged: what HEAD already had at this path is not what this commit adds.
        let before: HashSet<(String, String)> = match blob.previous {
            Some(previous) => self
                .findings_in(&path, previous, None)
                .findings
                .into_iter()
                .map(|f| (f.location.path, f.fingerprint))
                .collect(),
            None => HashSet::new(),
        };
        let rank = (blob.reach, blob.commit.unwrap_or(CommitIndex::MAX));
        let Ok(mut merged) = self.merged.lock() else {
            return;
        };
        for finding in leaves.findings {
            let key = (finding.location.path.clone(), finding.fingerprint.clone());
            if before.contains(&key) {
                continue;
            }
            match merged.get_mut(&key) {
                Some(m) => {
                    m.blobs.insert(blob.id.to_string());
                    if rank < m.rank {
                        m.finding = finding;
                        m.rank = rank;
                        m.commit = blob.commit;
                        m.reach = blob.reach;
                        m.blob = blob.id.to_string();
                    }
                }
                None => {
                    merged.insert(
                        key,
                        Merged {
                            finding,
                            rank,
                            commit: blob.commit,
                            reach: blob.reach,
                            tree_path: blob.path.to_string(),
                            blob: blob.id.to_string(),
                            blobs: BTreeSet::from([blob.id.to_string()]),
                        },
                    );
                }
            }
        }
    }

    fn problem(&self, problem: Problem) {
        self.problems.report(problem);
    }

    fn commits(&self, n: u64) {
        self.scanner.counters.add_commits(n);
    }
}

impl Scanner {
    /// Scan the git history of each repository at or under `roots` (or, with
    /// `staged`, their index). Findings come back sorted, each with its
    /// [`GitOrigin`]. A root that is not a repository and holds none is a problem; a
    /// repository whose refs cannot be listed or a revision that does not resolve is
    /// an error.
    pub fn scan_history(
        &self,
        roots: &[PathBuf],
        options: &HistoryScanOptions,
        on_problem: &(dyn Fn(&Problem) + Sync),
    ) -> Result<(Findings, Summary), ScanError> {
        let started = Instant::now();
        let problems = Problems {
            list: Mutex::new(Vec::new()),
            show: on_problem,
        };
        let mut findings = Vec::new();
        let mut tips = Vec::new();
        for root in roots {
            let repositories = match std::fs::metadata(root) {
                Ok(m) if m.is_dir() => leakhound_git::find_repositories(root),
                Ok(_) => Vec::new(),
                Err(e) => {
                    problems.report(Problem::unreadable(
                        &root.display().to_string(),
                        format!("cannot read: {e}"),
                    ));
                    continue;
                }
            };
            if repositories.is_empty() {
                problems.report(Problem::unreadable(
                    &root.display().to_string(),
                    "not a git repository, and holds none",
                ));
            }
            for path in repositories {
                let prefix = match path.strip_prefix(root) {
                    Ok(rel) if rel.as_os_str().is_empty() => String::new(),
                    Ok(rel) => format!("{}/", rel.display()),
                    Err(_) => format!("{}/", path.display()),
                };
                let (found, walked) = self.scan_repository(&path, prefix, options, &problems)?;
                findings.extend(found);
                tips.extend(walked);
            }
        }
        let problems = problems.list.into_inner().unwrap_or_default();
        // Merged per value, so bounded by distinct values rather than places: kept in
        // memory, and sorted here.
        leakhound_findings::sort_for_report(&mut findings);
        let (findings, mut summary) = self.finish(Findings::from(findings), problems, started);
        summary.staged = options.staged;
        summary.tips = tips;
        Ok((findings, summary))
    }

    fn scan_repository(
        &self,
        path: &Path,
        prefix: String,
        options: &HistoryScanOptions,
        problems: &Problems<'_>,
    ) -> Result<(Vec<Finding>, Option<Walked>), ScanError> {
        let repo = match Repository::open(path, path.display().to_string()) {
            Ok(repo) => repo,
            Err(e) => {
                // One broken repository in a folder of many must not stop the rest.
                problems.report(Problem::unreadable(
                    &path.display().to_string(),
                    e.to_string(),
                ));
                return Ok((Vec::new(), None));
            }
        };
        let key = repository_key(path);
        self.counters.add_repository();
        let sink = Sink {
            scanner: self,
            prefix,
            merged: Mutex::new(HashMap::new()),
            seen_lines: SeenLines::new(SEEN_LINES_CAP),
            problems,
        };
        let mut git = options.git.clone();
        if git.max_blob_size == 0 {
            git.max_blob_size = self.options.limits.max_file_size;
        }
        if git.threads == 0 {
            git.threads = self.options.walk.threads;
        }
        if let Some(seen) = options.seen_tips.get(&key) {
            git.seen_tips.extend(seen.iter().cloned());
        }
        let history = if options.staged {
            repo.walk_staged(&sink)?;
            None
        } else {
            Some(repo.walk_history(&git, &sink)?)
        };
        let merged: Vec<Merged> = sink
            .merged
            .into_inner()
            .unwrap_or_default()
            .into_values()
            .collect();
        let walked = history.as_ref().map(|h| (key, h.tips()));
        Ok((
            describe(&repo, history.as_ref(), &sink.prefix, merged),
            walked,
        ))
    }
}

/// Attach commits and removals to merged findings.
fn describe(
    repo: &Repository,
    history: Option<&History<'_>>,
    prefix: &str,
    merged: Vec<Merged>,
) -> Vec<Finding> {
    let queries: Vec<RemovalQuery> = merged
        .iter()
        .filter(|m| m.reach == leakhound_git::Reach::Ref)
        .map(|m| RemovalQuery {
            path: m.tree_path.clone(),
            blobs: m.blobs.iter().cloned().collect(),
            value: m.finding.value.as_bytes().to_vec(),
        })
        .collect();
    let mut removals = history
        .map(|h| h.removals(&queries))
        .unwrap_or_default()
        .into_iter();
    let mut commits: HashMap<CommitIndex, Option<leakhound_git::CommitMeta>> = HashMap::new();
    merged
        .into_iter()
        .map(|m| {
            let removed = if m.reach == leakhound_git::Reach::Ref {
                removals.next().flatten()
            } else {
                None
            };
            let commit = match (history, m.commit) {
                (Some(h), Some(i)) => commits.entry(i).or_insert_with(|| h.commit(i)).clone(),
                _ => None,
            };
            let in_tree = m
                .finding
                .location
                .path
                .strip_prefix(prefix)
                .unwrap_or(&m.finding.location.path)
                .to_string();
            debug_assert!(in_tree.split(LAYER_SEPARATOR).next() == Some(m.tree_path.as_str()));
            let mut finding = m.finding;
            finding.git = Some(Box::new(GitOrigin {
                repository: repo.display().to_string(),
                blob: m.blob,
                commit: commit.map(|c| CommitRef {
                    id: c.id,
                    author: c.author,
                    email: c.email,
                    date: c.date,
                    path: in_tree,
                }),
                removed,
                reach: match m.reach {
                    leakhound_git::Reach::Ref => Reach::Ref,
                    leakhound_git::Reach::UnreachableCommit => Reach::UnreachableCommit,
                    leakhound_git::Reach::LooseObject => Reach::LooseObject,
                    leakhound_git::Reach::Staged => Reach::Staged,
                },
            }));
            finding
        })
        .collect()
}
