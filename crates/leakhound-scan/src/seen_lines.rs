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
//! Lines are keyed by (path, line content) and remember the earliest commit that had
//! them, so blobs read out of order by parallel workers still attribute a value to
//! the first commit that held it: a line claimed by a later commit is rescanned when
//! an earlier commit's version arrives.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

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

type LineMap = HashMap<u64, u32, std::hash::BuildHasherDefault<PreHashed>>;

/// A run of whole lines to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    /// Byte range in the blob.
    pub start: usize,
    pub end: usize,
    /// 1-based line number of `start`.
    pub first_line: u64,
}

pub(crate) struct SeenLines {
    shards: Vec<Mutex<LineMap>>,
    len: AtomicUsize,
    /// Most lines remembered. Past it, unknown lines are matched but not remembered:
    /// memory stays bounded and nothing is missed, the scan only gets slower.
    cap: usize,
}

impl SeenLines {
    pub(crate) fn new(cap: usize) -> SeenLines {
        SeenLines {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(LineMap::default()))
                .collect(),
            len: AtomicUsize::new(0),
            cap,
        }
    }

    /// The parts of `bytes` (a text blob at `path`, first held by a commit of `rank`)
    /// that need matching. `None`: match it whole (new lines are most of it).
    pub(crate) fn parts(&self, path: &str, bytes: &[u8], rank: u32) -> Option<Vec<Part>> {
        let seed = xxhash_rust::xxh3::xxh3_64(path.as_bytes());
        let mut starts: Vec<usize> = Vec::with_capacity(bytes.len() / 32 + 1);
        starts.push(0);
        starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
        if starts.last() == Some(&bytes.len()) {
            starts.pop();
        }
        let lines = starts.len();
        let end_of = |i: usize| starts.get(i + 1).copied().unwrap_or(bytes.len());
        let hashes: Vec<u64> = (0..lines)
            .map(|i| xxhash_rust::xxh3::xxh3_64_with_seed(&bytes[starts[i]..end_of(i)], seed))
            .collect();
        // Counting sort of line numbers by shard, so each shard is locked once per blob.
        let shard_of = |h: u64| (h >> 60) as usize;
        let mut first = [0usize; SHARDS + 1];
        for &h in &hashes {
            first[shard_of(h) + 1] += 1;
        }
        for s in 0..SHARDS {
            first[s + 1] += first[s];
        }
        let mut fill = first;
        let mut order = vec![0u32; lines];
        for (i, &h) in hashes.iter().enumerate() {
            let s = shard_of(h);
            order[fill[s]] = i as u32;
            fill[s] += 1;
        }
        let mut new = vec![false; lines];
        for (s, shard) in self.shards.iter().enumerate() {
            let entries = &order[first[s]..first[s + 1]];
            if entries.is_empty() {
                continue;
            }
            let Ok(mut map) = shard.lock() else {
                return None;
            };
            for &i in entries {
                let (h, i) = (hashes[i as usize], i as usize);
                match map.get_mut(&h) {
                    // Seen at an earlier commit: matched there.
                    Some(r) if *r < rank => {}
                    // The same commit (a line repeated in this blob) or a later one.
                    Some(r) => {
                        *r = rank;
                        new[i] = true;
                    }
                    None => {
                        if self.len.load(Ordering::Relaxed) < self.cap {
                            map.insert(h, rank);
                            self.len.fetch_add(1, Ordering::Relaxed);
                        }
                        new[i] = true;
                    }
                }
            }
        }
        let mut keep = vec![false; lines];
        for i in (0..lines).filter(|&i| new[i]) {
            let mut from = i.saturating_sub(CONTEXT);
            while from > 0 && starts[i] - starts[from] < CONTEXT_BYTES {
                from -= 1;
            }
            let mut to = (i + CONTEXT).min(lines - 1);
            while to + 1 < lines && end_of(to) - end_of(i) < CONTEXT_BYTES {
                to += 1;
            }
            keep[from..=to].iter_mut().for_each(|k| *k = true);
        }
        let mut parts = Vec::new();
        let mut kept_bytes = 0;
        let mut i = 0;
        while i < lines {
            if !keep[i] {
                i += 1;
                continue;
            }
            let first = i;
            while i < lines && keep[i] {
                i += 1;
            }
            let part = Part {
                start: starts[first],
                end: end_of(i - 1),
                first_line: first as u64 + 1,
            };
            kept_bytes += part.end - part.start;
            parts.push(part);
        }
        if kept_bytes * 2 > bytes.len() {
            return None;
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
        seen.parts("a.txt", v.as_bytes(), 1);
        assert_eq!(
            seen.parts("a.txt", v.as_bytes(), 2),
            None,
            "most lines were never remembered"
        );
    }
}
