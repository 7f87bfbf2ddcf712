//! Lines already scanned at a path in an earlier version of the file.
//!
//! Most of a repository's history is the same lines again: a 5,000-line file edited a
//! thousand times is five million lines of blobs but barely more than five thousand
//! distinct lines. A history scan matches only the lines of a version that its path
//! has not had before (with a few lines of context around them, for rules that look
//! at neighbouring words or span lines), and reports findings at their true line in
//! the version. What is skipped was matched at another version of the same path,
//! and a finding there is the same finding (same path, same fingerprint).
//!
//! Versions arrive in any order (parallel workers; pack order, which is mostly newest
//! first), yet a finding must be attributed to the earliest commit that held it. So
//! each remembered line also records whether a finding was near it: a line that was
//! matched and had no finding within reach of any rule's context is skipped whatever
//! commit brings it again, while a line near a finding is matched again when an
//! earlier commit's version arrives, so the earlier commit wins. A line claimed by a
//! version still being matched counts as near a finding until that match is done.
//!
//! Lines are kept per path (one small table each, so a version's lookups stay in cache
//! rather than probing one table of millions of lines), and only for paths with more
//! than one version; a path's table goes once its last version is done, so memory
//! follows the paths being read, not the whole history.

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
/// Bytes kept on each side of a part's new lines: twice [`CONTEXT_BYTES`], so that a
/// value whose context reaches a new line has all of its own context in the part too
/// (see [`Part::sees_all_of`]).
const EDGE_BYTES: usize = 2 * CONTEXT_BYTES;
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

/// One remembered line.
#[derive(Clone, Copy)]
struct Line {
    /// Earliest commit seen with it.
    rank: u32,
    /// Matched, and no finding within reach: skipped whatever commit brings it again.
    clean: bool,
}

/// What is remembered of one path.
#[derive(Default)]
struct PathLines {
    lines: HashMap<u64, Line, Hashed>,
    /// The last version read at this path: its rank and line hashes. A version usually
    /// shares a long head and tail with it, which then needs no lookups at all.
    last: Option<(u32, Vec<u64>)>,
    /// Versions of the path done with (see [`SeenLines::finished`]).
    finished: u32,
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
    /// Bytes from the first to the end of the last line of the part that are new (the
    /// rest is context).
    pub new: (usize, usize),
}

impl Part {
    /// Should a finding at bytes `start..end` of the blob, found by matching this part
    /// alone, be reported? A value near an edge of the part is matched without all of
    /// its context (a rule's context words, a more specific rule that would have
    /// claimed it), so it may come out as another kind than it is; such a value was
    /// judged with all of its context in the version that first had its lines, unless
    /// its context reaches the new lines. So it is kept when the part holds all of its
    /// context or its context reaches the new lines (then, parts keeping
    /// [`EDGE_BYTES`] around new lines, only a value longer than 256 bytes less its
    /// rule's window can miss some context).
    pub fn sees_all_of(&self, start: usize, end: usize, blob_len: usize) -> bool {
        let all_before = self.start == 0 || start >= self.start + CONTEXT_BYTES;
        let all_after = self.end >= blob_len || end + CONTEXT_BYTES <= self.end;
        let reaches_new = end + CONTEXT_BYTES > self.new.0 && start < self.new.1 + CONTEXT_BYTES;
        (all_before && all_after) || reaches_new
    }
}

/// What to match in a version, and its claim on the lines it matches: hand it back to
/// [`SeenLines::done`] with the findings once matched.
pub(crate) struct Plan {
    /// The parts to match; `None`: match the blob whole.
    pub parts: Option<Vec<Part>>,
    path: Arc<Mutex<PathLines>>,
    rank: u32,
    starts: Vec<usize>,
    hashes: Vec<u64>,
    /// Lines this version claimed (new to the path, or to be matched again).
    claimed: Vec<u32>,
}

/// Per-thread buffers: allocating and zeroing them for every blob cost a tenth of a
/// history scan.
#[derive(Default)]
struct Scratch {
    starts: Vec<usize>,
    hashes: Vec<u64>,
    claimed: Vec<u32>,
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

    /// What of `bytes` (a text blob at `path`, first held by a commit of `rank`, one of
    /// the path's `versions`) needs matching. `None`: match it whole and there is
    /// nothing to hand back.
    pub(crate) fn plan(&self, path: &str, bytes: &[u8], rank: u32, versions: u32) -> Option<Plan> {
        if versions <= 1 {
            // No other version will come to skip what this one has.
            return None;
        }
        let scratch = SCRATCH
            .with(|s| s.try_borrow_mut().ok().map(|mut s| std::mem::take(&mut *s)))
            .unwrap_or_default();
        self.plan_with(scratch, path, bytes, rank)
    }

    /// One version of `path` (of its `versions`) is done with, planned or not. When the
    /// last is, nothing more comes to that path and its lines are forgotten.
    ///
    /// Versions counted wrong cost only speed, never findings: a table forgotten too
    /// early makes a later version be matched whole; one never forgotten stays until
    /// the scan ends, as every table used to.
    pub(crate) fn finished(&self, path: &str, versions: u32) {
        if versions <= 1 {
            return;
        }
        let path_hash = xxhash_rust::xxh3::xxh3_64(path.as_bytes());
        let Some(shard) = self.paths.get((path_hash >> 60) as usize % SHARDS) else {
            return;
        };
        let Ok(mut paths) = shard.lock() else {
            return;
        };
        let entry = paths.entry(path_hash).or_default();
        let all_done = match entry.lock() {
            Ok(mut lines) => {
                lines.finished = lines.finished.saturating_add(1);
                lines.finished >= versions
            }
            Err(_) => false,
        };
        if !all_done {
            return;
        }
        if let Some(gone) = paths.remove(&path_hash) {
            if let Ok(gone) = gone.lock() {
                let held = gone.lines.len() + gone.last.as_ref().map_or(0, |(_, h)| h.len());
                self.len.fetch_sub(held, Ordering::Relaxed);
            }
        }
    }

    /// Lines remembered now (and last versions' line hashes), for tests.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Paths with a table now, for tests.
    #[cfg(test)]
    fn paths(&self) -> usize {
        self.paths
            .iter()
            .filter_map(|s| s.lock().ok().map(|s| s.len()))
            .sum()
    }

    /// Record that `plan`'s version was matched and where its findings are (byte
    /// ranges in the blob): lines within reach of one are matched again for an earlier
    /// commit; the other claimed lines are clean.
    pub(crate) fn done(&self, plan: Plan, findings: impl Iterator<Item = (usize, usize)>) {
        let Plan {
            path,
            rank,
            mut starts,
            mut hashes,
            mut claimed,
            ..
        } = plan;
        if let Ok(mut path) = path.lock() {
            let lines = &mut path.lines;
            let n = starts.len();
            let line_of = |offset: usize| starts.partition_point(|&s| s <= offset).max(1) - 1;
            // Near a finding first (before claimed lines are marked clean).
            let mut near = std::mem::take(&mut claimed);
            let claimed_len = near.len();
            for (start, end) in findings {
                let from = line_of(start.saturating_sub(CONTEXT_BYTES)).saturating_sub(CONTEXT);
                let to =
                    (line_of(end.saturating_add(CONTEXT_BYTES)) + CONTEXT).min(n.saturating_sub(1));
                near.extend((from..=to).map(|i| i as u32));
            }
            let (mine, near_findings) = near.split_at(claimed_len);
            for &i in mine {
                if let Some(line) = hashes.get(i as usize).and_then(|h| lines.get_mut(h)) {
                    // A version of an earlier commit may have claimed it meanwhile:
                    // then its match decides.
                    if line.rank == rank {
                        line.clean = true;
                    }
                }
            }
            for &i in near_findings {
                if let Some(line) = hashes.get(i as usize).and_then(|h| lines.get_mut(h)) {
                    line.clean = false;
                }
            }
            claimed = near;
        }
        // Back to the thread's scratch for the next blob, unless huge.
        if starts.capacity() <= 1 << 22 {
            starts.clear();
            hashes.clear();
            claimed.clear();
            SCRATCH.with(|s| {
                if let Ok(mut s) = s.try_borrow_mut() {
                    *s = Scratch {
                        starts,
                        hashes,
                        claimed,
                    };
                }
            });
        }
    }

    fn plan_with(&self, scratch: Scratch, path: &str, bytes: &[u8], rank: u32) -> Option<Plan> {
        let Scratch {
            mut starts,
            mut hashes,
            mut claimed,
        } = scratch;
        starts.clear();
        hashes.clear();
        claimed.clear();
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
        let path_lines = self.lines_of(xxhash_rust::xxh3::xxh3_64(path.as_bytes()))?;
        let mut guard = path_lines.lock().ok()?;
        let PathLines {
            lines: map, last, ..
        } = &mut *guard;
        // Lines shared with an earlier-ranked last version, at the head and the tail,
        // are in the table with an earlier rank: skipped either way, no lookup needed.
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
        let end_of = |i: usize| starts.get(i + 1).copied().unwrap_or(bytes.len());
        let mut parts: Vec<Part> = Vec::new();
        let mut kept_bytes = 0;
        // Lines `run.0..=run.1` are kept and not yet in `parts`; of them, `run.2..=run.3`
        // are new.
        let mut run: Option<(usize, usize, usize, usize)> = None;
        let mut flush = |run: (usize, usize, usize, usize), parts: &mut Vec<Part>| {
            let part = Part {
                start: starts[run.0],
                end: end_of(run.1),
                first_line: run.0 as u64 + 1,
                new: (starts[run.2], end_of(run.3)),
            };
            kept_bytes += part.end - part.start;
            parts.push(part);
            kept_bytes * 2 <= bytes.len()
        };
        let mut added = 0;
        // Past half the blob it is matched whole; the lines are still claimed.
        let mut whole = false;
        for (i, &h) in hashes.iter().enumerate().take(tail).skip(head) {
            let new = match map.get_mut(&h) {
                Some(line) if line.clean => {
                    line.rank = line.rank.min(rank);
                    false
                }
                // Near a finding, or being matched: an earlier commit's match decides.
                Some(line) if line.rank < rank => false,
                // This commit (a line repeated in this blob) or a later one had it.
                Some(line) => {
                    line.rank = rank;
                    true
                }
                None => {
                    if self.len.load(Ordering::Relaxed) + added < self.cap {
                        map.insert(h, Line { rank, clean: false });
                        added += 1;
                    }
                    true
                }
            };
            if !new {
                continue;
            }
            claimed.push(i as u32);
            if whole {
                continue;
            }
            // Walks stop at the current run: what it covers is kept anyway.
            let floor = run.map_or(0, |(_, b, _, _)| b + 1);
            let mut from = i.saturating_sub(CONTEXT);
            while from > floor && starts[i] - starts[from] < EDGE_BYTES {
                from -= 1;
            }
            let mut to = run
                .map_or(0, |(_, b, _, _)| b)
                .max(i + CONTEXT)
                .min(lines - 1);
            while to + 1 < lines && end_of(to) - end_of(i) < EDGE_BYTES {
                to += 1;
            }
            run = match run {
                Some((a, _, first_new, _)) if from <= floor => Some((a, to, first_new, i)),
                Some(done) => {
                    whole = !flush(done, &mut parts);
                    Some((from, to, i, i))
                }
                None => Some((from, to, i, i)),
            };
        }
        // Remember this version for the next one at the path; its hashes count against
        // the cap like remembered lines.
        let old = last.as_ref().map_or(0, |(_, h)| h.len());
        if self.len.load(Ordering::Relaxed) + added + lines <= self.cap + old {
            let (last_rank, last_hashes) = last.get_or_insert_with(|| (rank, Vec::new()));
            *last_rank = rank;
            last_hashes.clear();
            last_hashes.extend_from_slice(&hashes);
            added += lines;
        } else {
            *last = None;
        }
        self.len.fetch_add(added, Ordering::Relaxed);
        self.len.fetch_sub(old, Ordering::Relaxed);
        if let (false, Some(done)) = (whole, run) {
            whole = !flush(done, &mut parts);
        }
        drop(guard);
        Some(Plan {
            parts: (!whole).then_some(parts),
            path: path_lines,
            rank,
            starts,
            hashes,
            claimed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Versions of a path, for tests that never finish one.
    const MANY: u32 = u32::MAX;

    fn text(lines: std::ops::Range<u32>) -> String {
        lines.map(|i| format!("line {i}\n")).collect()
    }

    /// Plan, then report no findings.
    fn parts(seen: &SeenLines, path: &str, bytes: &[u8], rank: u32) -> Option<Vec<Part>> {
        let plan = seen.plan(path, bytes, rank, MANY)?;
        let parts = plan.parts.clone();
        seen.done(plan, std::iter::empty());
        parts
    }

    #[test]
    fn a_new_version_matches_only_its_new_lines_with_context() {
        let seen = SeenLines::new(1 << 20);
        let v1 = text(0..1000);
        assert_eq!(
            parts(&seen, "a.txt", v1.as_bytes(), 1),
            None,
            "all new: whole"
        );
        let v2 = v1.replace("line 500\n", "token here\n");
        let parts_v2 = parts(&seen, "a.txt", v2.as_bytes(), 2).unwrap_or_default();
        assert_eq!(parts_v2.len(), 1);
        let p = &parts_v2[0];
        // At least three lines and 512 bytes of context on each side (lines are 9
        // bytes here, so 57 lines).
        let shown = &v2[p.start..p.end];
        let token = shown.find("token here").unwrap_or(0);
        assert_eq!(token, 57 * 9);
        assert_eq!(shown.len() - token - "token here\n".len(), 57 * 9);
        assert_eq!(p.first_line, 444);
        assert!(shown.starts_with("line 443\n"));
        assert_eq!(&v2[p.new.0..p.new.1], "token here\n");
        // The same lines at another path are new there.
        assert_eq!(parts(&seen, "b.txt", v2.as_bytes(), 3), None);
    }

    #[test]
    fn clean_lines_are_skipped_in_any_order_and_lines_near_findings_are_not() {
        let seen = SeenLines::new(1 << 20);
        let base = text(0..1000);
        // The newest version first, as pack order brings it.
        let newest = format!("{base}secret\n");
        let plan = seen.plan("a.txt", newest.as_bytes(), 9, MANY);
        let Some(plan) = plan else { panic!("a plan") };
        let at = newest.len() - "secret\n".len();
        seen.done(plan, std::iter::once((at, at + 6)));
        // An older version with the same lines: the clean ones are skipped, the secret
        // and its neighbourhood are matched again so the older commit wins.
        let older = parts(&seen, "a.txt", newest.as_bytes(), 5).unwrap_or_default();
        assert_eq!(older.len(), 1);
        assert!(newest[older[0].start..older[0].end].contains("secret"));
        assert!(older[0].end - older[0].start < 1100, "{:?}", older);
        // A later commit than 5: nothing to match.
        assert_eq!(parts(&seen, "a.txt", newest.as_bytes(), 7), Some(vec![]));
        // Without the secret line an even older version has nothing new at all.
        assert_eq!(parts(&seen, "a.txt", base.as_bytes(), 1), Some(vec![]));
    }

    #[test]
    fn a_line_being_matched_is_matched_again_for_an_earlier_commit() {
        let seen = SeenLines::new(1 << 20);
        let base = text(0..1000);
        parts(&seen, "a.txt", base.as_bytes(), 1);
        let v = format!("{base}new line\n");
        // Commit 9 claims the new line and is still matching it...
        let Some(late) = seen.plan("a.txt", v.as_bytes(), 9, MANY) else {
            panic!("a plan")
        };
        // ...when commit 5's version arrives: it matches the line too.
        let early = parts(&seen, "a.txt", v.as_bytes(), 5).unwrap_or_default();
        assert_eq!(early, late.parts.clone().unwrap_or_default());
        assert_eq!(early.len(), 1);
        seen.done(late, std::iter::empty());
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
    fn a_value_near_a_part_edge_is_kept_only_if_its_context_is_all_there_or_reaches_new_lines() {
        // A part of bytes 1000..3000 of a 10,000-byte blob, new lines at 1512..1600.
        let part = Part {
            start: 1000,
            end: 3000,
            first_line: 100,
            new: (1512, 1600),
        };
        // In the middle: all of its context is in the part.
        assert!(part.sees_all_of(2000, 2020, 10_000));
        // Right at the start: context cut off, and too far to reach the new lines.
        assert!(!part.sees_all_of(1010, 1030, 10_000));
        // Cut off but reaching the new lines (a long value): kept.
        assert!(part.sees_all_of(1010, 1300, 10_000));
        // At the end, cut off; at the end of the blob, nothing is cut off.
        assert!(!part.sees_all_of(2950, 2970, 10_000));
        assert!(part.sees_all_of(2950, 2970, 3000));
        // A part at the start of the blob has all that comes before.
        let first = Part { start: 0, ..part };
        assert!(first.sees_all_of(10, 30, 10_000));
    }

    #[test]
    fn a_path_is_forgotten_once_its_last_version_is_done() {
        let seen = SeenLines::new(1 << 20);
        let v = text(0..1000);
        // One version only: nothing to remember.
        assert!(seen.plan("once.txt", v.as_bytes(), 1, 1).is_none());
        seen.finished("once.txt", 1);
        assert_eq!((seen.paths(), seen.len()), (0, 0));
        // Three versions: remembered until the third is done.
        for rank in 1..=3 {
            let edited = v.replace("line 500\n", &format!("edit {rank}\n"));
            let plan = seen.plan("a.txt", edited.as_bytes(), rank, 3);
            assert!(plan.is_some());
            if let Some(plan) = plan {
                seen.done(plan, std::iter::empty());
            }
            seen.finished("a.txt", 3);
            if rank < 3 {
                assert_eq!(seen.paths(), 1);
                assert!(seen.len() >= 1000, "{}", seen.len());
            }
        }
        assert_eq!((seen.paths(), seen.len()), (0, 0));
        // A small file never planned still counts its versions.
        seen.finished("small.txt", 2);
        assert_eq!(seen.paths(), 1);
        seen.finished("small.txt", 2);
        assert_eq!(seen.paths(), 0);
    }

    #[test]
    fn past_the_cap_nothing_is_skipped() {
        let seen = SeenLines::new(10);
        let v = text(0..100);
        parts(&seen, "a.txt", v.as_bytes(), 2);
        assert_eq!(
            parts(&seen, "a.txt", v.as_bytes(), 1),
            None,
            "most lines were never remembered"
        );
    }

    /// (path, commit rank, lines as (id, padding)).
    type Version = (u8, u32, Vec<(u16, usize)>);
    /// (path, value) -> earliest rank found.
    type Attribution = HashMap<(u8, u16), u32>;

    /// Lines "S<n>" hold a finding (value n). Versions of two files arrive in any
    /// order with any commit ranks; matching only the planned parts must find every
    /// value of the file and attribute it to the earliest commit holding it, exactly
    /// as matching every version whole does.
    ///
    /// Each path is told it has its true number of versions less `undercount` (a
    /// walk that counted wrong): its table then goes early, which must cost nothing
    /// but speed.
    fn attribution(versions: &[Version], undercount: u32) -> (Attribution, Attribution) {
        let seen = SeenLines::new(1 << 20);
        let mut count: HashMap<u8, u32> = HashMap::new();
        for (path, _, _) in versions {
            *count.entry(*path).or_default() += 1;
        }
        let mut whole = HashMap::new();
        let mut skipping = HashMap::new();
        let find = |text: &str, offset: usize, out: &mut Vec<(u16, usize, usize)>| {
            let mut at = offset;
            for line in text.split_inclusive('\n') {
                if let Some(n) = line
                    .strip_prefix('S')
                    .and_then(|l| l.trim_end().parse().ok())
                {
                    out.push((n, at, at + line.trim_end().len()));
                }
                at += line.len();
            }
        };
        for (path, rank, lines) in versions {
            let text: String = lines
                .iter()
                .map(|&(id, pad)| {
                    if id % 13 == 0 {
                        format!("S{id}\n")
                    } else {
                        format!("{id}{}\n", "x".repeat(pad))
                    }
                })
                .collect();
            let mut all = Vec::new();
            find(&text, 0, &mut all);
            for &(n, _, _) in &all {
                let r = whole.entry((*path, n)).or_insert(*rank);
                *r = (*r).min(*rank);
            }
            let mut found = Vec::new();
            let name = format!("p{path}");
            let n = count
                .get(path)
                .copied()
                .unwrap_or(1)
                .saturating_sub(undercount);
            match seen.plan(&name, text.as_bytes(), *rank, n) {
                Some(plan) => {
                    match &plan.parts {
                        None => find(&text, 0, &mut found),
                        Some(parts) => {
                            for p in parts {
                                find(&text[p.start..p.end], p.start, &mut found);
                            }
                        }
                    }
                    seen.done(plan, found.iter().map(|&(_, s, e)| (s, e)));
                }
                None => find(&text, 0, &mut found),
            }
            seen.finished(&name, n);
            for (n, _, _) in found {
                let r = skipping.entry((*path, n)).or_insert(*rank);
                *r = (*r).min(*rank);
            }
        }
        (whole, skipping)
    }

    proptest::proptest! {
        #[test]
        fn findings_keep_their_earliest_commit_in_any_order(
            base in proptest::collection::vec((0u16..400, 0usize..200), 100..400),
            versions in proptest::collection::vec(
                (0u8..2, 0u32..8, proptest::collection::vec((0usize..400, 0u16..800, 0usize..200), 0..6)),
                1..10,
            ),
            undercount in 0u32..3,
        ) {
            // Each version is the base with a few lines replaced, so most of it has
            // been seen; line lengths vary so the byte context spans one to many lines.
            let versions: Vec<Version> = versions
                .into_iter()
                .map(|(path, rank, edits)| {
                    let mut lines = base.clone();
                    for (at, id, pad) in edits {
                        let at = at % lines.len();
                        lines[at] = (id, pad);
                    }
                    (path, rank, lines)
                })
                .collect();
            let (whole, skipping) = attribution(&versions, undercount);
            proptest::prop_assert_eq!(whole, skipping);
        }
    }
}
