//! Lines already scanned at a path in an earlier version of the file.
//!
//! Most of a repository's history is the same lines again: a 5,000-line file edited a
//! thousand times is five million lines of blobs but barely more than five thousand
//! distinct lines. A history scan matches only the lines of a version that its path
//! has not had before (with a few lines of context around them, for rules that look
//! at neighbouring words or span lines), and reports findings at their true line in
//! the version. What is skipped was matched at an earlier version of the same path,
//! and a finding there is the same finding (same path, same fingerprint).
//!
//! Lines are kept per path (one small table each, so a version's lookups stay in cache
//! rather than probing one table of millions of lines) and remember the earliest
//! commit that had them, so blobs read out of order by parallel workers still
//! attribute a value to the first commit that held it: a line claimed by a later
//! commit is rescanned when an earlier commit's version arrives.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Blobs smaller than this are matched whole: splitting them saves nothing.
pub(crate) const MIN_BLOB: usize = 8 << 10;
/// Lines of context kept on each side of a new line...
const CONTEXT: usize = 3;
/// ...and at least this many bytes: longer than any rule's context window (words like
/// "身份证" looked for near a value), so a value on a new line still sees them.
pub(crate) const CONTEXT_BYTES: usize = 256;
const SHARDS: usize = 16;

/// Keys are already xxh3 hashes: hashing them again (SipHash) was 3% of a history scan.
#[derive(Default, Clone, Copy)]
struct PreHashed(u64);

impl std::hash::Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Hashed = std::hash::BuildHasherDefault<PreHashed>;
/// What is remembered of one path.
#[derive(Default)]
struct PathLines {
    /// Line hash -> rank of the earliest commit seen with it.
    ranks: HashMap<u64, u32, Hashed>,
    /// The last version read at this path: its rank and line hashes. A version usually
    /// shares a long head and tail with it, which then needs no lookups at all.
    last: Option<(u32, Vec<u64>)>,
}
/// Path hash -> that path's lines.
type PathMap = HashMap<u64, Arc<Mutex<PathLines>>, Hashed>;

/// A run of whole lines to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    /// Byte range in the blob.
    pub start: usize,
    pub end: usize,
    /// 1-based line number of `start`.
    pub first_line: u64,
}

/// Per-thread buffers: allocating and zeroing them for every blob cost a tenth of a
/// history scan.
#[derive(Default)]
struct Scratch {
    starts: Vec<usize>,
    hashes: Vec<u64>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

pub(crate) struct SeenLines {
    paths: Vec<Mutex<PathMap>>,
    len: AtomicUsize,
    /// Most lines remembered. Past it, unknown lines are matched but not remembered:
    /// memory stays bounded and nothing is missed, the scan only gets slower.
    cap: usize,
}

impl SeenLines {
    pub(crate) fn new(cap: usize) -> SeenLines {
        SeenLines {
            paths: (0..SHARDS)
                .map(|_| Mutex::new(PathMap::default()))
                .collect(),
            len: AtomicUsize::new(0),
            cap,
        }
    }

    fn lines_of(&self, path_hash: u64) -> Option<Arc<Mutex<PathLines>>> {
        let shard = self.paths.get((path_hash >> 60) as usize % SHARDS)?;
        let mut paths = shard.lock().ok()?;
        Some(paths.entry(path_hash).or_default().clone())
    }

    /// The parts of `bytes` (a text blob at `path`, first held by a commit of `rank`)
    /// that need matching. `None`: match it whole (new lines are most of it).
    pub(crate) fn parts(&self, path: &str, bytes: &[u8], rank: u32) -> Option<Vec<Part>> {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.try_borrow_mut().ok()?;
            let parts = self.parts_with(&mut scratch, path, bytes, rank);
            // One huge blob must not pin its line table to the thread for good.
            if scratch.starts.capacity() > 1 << 22 {
                *scratch = Scratch::default();
            }
            parts
        })
    }

    fn parts_with(
        &self,
        scratch: &mut Scratch,
        path: &str,
        bytes: &[u8],
        rank: u32,
    ) -> Option<Vec<Part>> {
        let Scratch { starts, hashes } = scratch;
        starts.clear();
        hashes.clear();
        let mut from = 0;
        for newline in memchr::memchr_iter(b'\n', bytes) {
            starts.push(from);
            hashes.push(xxhash_rust::xxh3::xxh3_64(&bytes[from..=newline]));
            from = newline + 1;
        }
        if from < bytes.len() {
            starts.push(from);
            hashes.push(xxhash_rust::xxh3::xxh3_64(&bytes[from..]));
        }
        let lines = starts.len();
        if lines == 0 {
            return None;
        }
        let end_of = |i: usize| starts.get(i + 1).copied().unwrap_or(bytes.len());
        let path_lines = self.lines_of(xxhash_rust::xxh3::xxh3_64(path.as_bytes()))?;
        let mut path_lines = path_lines.lock().ok()?;
        let PathLines { ranks: map, last } = &mut *path_lines;
        // Lines shared with an earlier-ranked last version, at the head and the tail,
        // were seen at an earlier commit: the same answer the table would give.
        let (head, tail) = match last {
            Some((last_rank, last_hashes)) if *last_rank < rank => {
                let head = hashes
                    .iter()
                    .zip(last_hashes.iter())
                    .take_while(|(a, b)| a == b)
                    .count();
                let tail = hashes[head..]
                    .iter()
                    .rev()
                    .zip(last_hashes[head..].iter().rev())
                    .take_while(|(a, b)| a == b)
                    .count();
                (head, lines - tail)
            }
            _ => (0, lines),
        };
        let mut parts: Vec<Part> = Vec::new();
        let mut kept_bytes = 0;
        // Lines `run.0..=run.1` are kept and not yet in `parts`.
        let mut run: Option<(usize, usize)> = None;
        let mut flush = |run: (usize, usize), parts: &mut Vec<Part>| {
            let part = Part {
                start: starts[run.0],
                end: end_of(run.1),
                first_line: run.0 as u64 + 1,
            };
            kept_bytes += part.end - part.start;
            parts.push(part);
            kept_bytes * 2 <= bytes.len()
        };
        let mut added = 0;
        // Past half the blob it is matched whole; the lines are still remembered.
        let mut whole = false;
        for (i, &h) in hashes.iter().enumerate().take(tail).skip(head) {
            let new = match map.get_mut(&h) {
                // Seen at an earlier commit: matched there.
                Some(r) if *r < rank => false,
                // The same commit (a line repeated in this blob) or a later one.
                Some(r) => {
                    *r = rank;
                    true
                }
                None => {
                    if self.len.load(Ordering::Relaxed) + added < self.cap {
                        map.insert(h, rank);
                        added += 1;
                    }
                    true
                }
            };
            if !new || whole {
                continue;
            }
            // Walks stop at the current run: what it covers is kept anyway.
            let floor = run.map_or(0, |(_, b)| b + 1);
            let mut from = i.saturating_sub(CONTEXT);
            while from > floor && starts[i] - starts[from] < CONTEXT_BYTES {
                from -= 1;
            }
            let mut to = run.map_or(0, |(_, b)| b).max(i + CONTEXT).min(lines - 1);
            while to + 1 < lines && end_of(to) - end_of(i) < CONTEXT_BYTES {
                to += 1;
            }
            run = match run {
                Some((a, _)) if from <= floor => Some((a, to)),
                Some(done) => {
                    whole = !flush(done, &mut parts);
                    Some((from, to))
                }
                None => Some((from, to)),
            };
        }
        // Remember this version for the next one at the path; its hashes count against
        // the cap like remembered lines.
        let old = last.as_ref().map_or(0, |(_, h)| h.len());
        if self.len.load(Ordering::Relaxed) + added + lines <= self.cap + old {
            let (last_rank, last_hashes) = last.get_or_insert_with(|| (rank, Vec::new()));
            *last_rank = rank;
            last_hashes.clear();
            last_hashes.extend_from_slice(hashes);
            added += lines;
        } else {
            *last = None;
        }
        self.len.fetch_add(added, Ordering::Relaxed);
        self.len.fetch_sub(old, Ordering::Relaxed);
        if whole {
            return None;
        }
        if let Some(done) = run {
            if !flush(done, &mut parts) {
                return None;
            }
        }
        Some(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: std::ops::Range<u32>) -> String {
        lines.map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn a_new_version_matches_only_its_new_lines_with_context() {
        let seen = SeenLines::new(1 << 20);
        let v1 = text(0..1000);
        assert_eq!(
            seen.parts("a.txt", v1.as_bytes(), 1),
            None,
            "all new: whole"
        );
        let v2 = v1.replace("line 500\n", "token here\n");
        let parts = seen.parts("a.txt", v2.as_bytes(), 2).unwrap_or_default();
        assert_eq!(parts.len(), 1);
        let p = &parts[0];
        // At least three lines and 256 bytes of context on each side (lines are 9
        // bytes here, so 29 lines).
        let shown = &v2[p.start..p.end];
        let token = shown.find("token here").unwrap_or(0);
        assert_eq!(token, 29 * 9);
        assert_eq!(shown.len() - token - "token here\n".len(), 29 * 9);
        assert_eq!(p.first_line, 472);
        assert!(shown.starts_with("line 471\n"));
        // The same lines at another path are new there.
        assert_eq!(seen.parts("b.txt", v2.as_bytes(), 3), None);
    }

    #[test]
    fn an_earlier_commit_arriving_late_is_matched_again() {
        let seen = SeenLines::new(1 << 20);
        let base = text(0..1000);
        seen.parts("a.txt", base.as_bytes(), 1);
        let later = format!("{base}secret\n");
        let p_late = seen.parts("a.txt", later.as_bytes(), 9).unwrap_or_default();
        assert_eq!(p_late.len(), 1);
        // Commit 5 had the same new line: it must be matched again, and win.
        let p_early = seen.parts("a.txt", later.as_bytes(), 5).unwrap_or_default();
        assert_eq!(p_early, p_late);
        // Commit 7 comes after 5: nothing new.
        assert_eq!(seen.parts("a.txt", later.as_bytes(), 7), Some(vec![]));
    }

    #[test]
    fn context_covers_every_rule_context_window() {
        let rules = leakhound_rules::RuleSet::builtin().unwrap_or_else(|e| panic!("{e}"));
        for rule in rules.rules() {
            assert!(
                rule.context_window < CONTEXT_BYTES,
                "{}: context window {} needs CONTEXT_BYTES raised",
                rule.id,
                rule.context_window
            );
        }
    }

    #[test]
    fn past_the_cap_nothing_is_skipped() {
        let seen = SeenLines::new(10);
        let v = text(0..100);
        seen.parts("a.txt", v.as_bytes(), 2);
        assert_eq!(
            seen.parts("a.txt", v.as_bytes(), 1),
            None,
            "most lines were never remembered"
        );
    }

    /// The rules written plainly: a line is new at a path unless an earlier commit had
    /// it there; new lines keep CONTEXT lines and CONTEXT_BYTES around them; runs of
    /// kept lines are parts; more than half the blob kept means whole.
    struct Reference(HashMap<(String, Vec<u8>), u32>);

    impl Reference {
        fn parts(&mut self, path: &str, bytes: &[u8], rank: u32) -> Option<Vec<Part>> {
            let lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
            let mut starts = vec![0];
            for l in &lines {
                starts.push(starts[starts.len() - 1] + l.len());
            }
            let n = lines.len();
            let mut keep = vec![false; n];
            for (i, line) in lines.iter().enumerate() {
                let key = (path.to_string(), line.to_vec());
                let new = !matches!(self.0.get(&key), Some(&r) if r < rank);
                if new {
                    self.0.insert(key, rank);
                    let from = (0..=i.saturating_sub(CONTEXT))
                        .rev()
                        .find(|&f| f == 0 || starts[i] - starts[f] >= CONTEXT_BYTES)
                        .unwrap_or(0);
                    let to = ((i + CONTEXT).min(n - 1)..n)
                        .find(|&t| t + 1 == n || starts[t + 1] - starts[i + 1] >= CONTEXT_BYTES)
                        .unwrap_or(n - 1);
                    keep[from..=to].iter_mut().for_each(|k| *k = true);
                }
            }
            if n == 0 {
                return None;
            }
            let mut parts = Vec::new();
            let mut i = 0;
            while i < n {
                if !keep[i] {
                    i += 1;
                    continue;
                }
                let first = i;
                while i < n && keep[i] {
                    i += 1;
                }
                parts.push(Part {
                    start: starts[first],
                    end: starts[i],
                    first_line: first as u64 + 1,
                });
            }
            let kept: usize = parts.iter().map(|p| p.end - p.start).sum();
            (kept * 2 <= bytes.len()).then_some(parts)
        }
    }

    proptest::proptest! {
        #[test]
        fn parts_follow_the_plain_rules(
            base in proptest::collection::vec((0u16..400, 0usize..200), 100..500),
            versions in proptest::collection::vec(
                (0u8..2, 0u32..6, proptest::collection::vec((0usize..500, 0u16..800, 0usize..200), 0..6)),
                1..8,
            )
        ) {
            let seen = SeenLines::new(1 << 20);
            let mut reference = Reference(HashMap::new());
            for (path, rank, edits) in versions {
                let path = format!("p{path}");
                // Each version is the base with a few lines replaced, so most of it
                // has been seen; line lengths vary so the byte context spans from one
                // to many lines.
                let mut lines = base.clone();
                for (at, id, len) in edits {
                    let at = at % lines.len();
                    lines[at] = (id, len);
                }
                let text: String = lines
                    .iter()
                    .map(|&(id, len)| format!("{id}{}\n", "x".repeat(len)))
                    .collect();
                proptest::prop_assert_eq!(
                    seen.parts(&path, text.as_bytes(), rank),
                    reference.parts(&path, text.as_bytes(), rank)
                );
            }
        }
    }
}
