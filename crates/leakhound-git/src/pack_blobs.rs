//! Reading the wanted blobs of one pack in delta order, with a few bytes per object.
//!
//! A pack stores most versions of a file as deltas against another version, in chains
//! that run from the newest version back. Looking blobs up one by one re-inflates the
//! same bases again and again; decoding each chain from its base once, every version
//! applied to the one before it in memory, reads every object once. gix can do that
//! (`traverse_with_index`), but it decodes every object of the pack, trees and commits
//! included, and keeps over 100 bytes of bookkeeping per object until the end: on
//! ansible's history (1.7M objects, 292,000 blobs wanted) that was 360 MiB of the scan's
//! 700 MiB peak.
//!
//! Here the pack is described by four flat arrays (offset, base, wanted blob, children:
//! about 25 bytes per object while they are built, 12 while decoding), and only the
//! chains that lead to a wanted blob are decoded: deltas join objects of one kind, so
//! trees and commits, most of a pack's entries, are never inflated at all. Each worker
//! takes one base at a time and walks its delta tree depth first, holding only the
//! versions on the path from the base to the object being decoded.
//!
//! Whatever cannot be decoded here (a damaged entry, a base in another pack, an object
//! over the size limit) is simply not handed over; the caller looks those blobs up one
//! by one and reports what fails with its path.

use crate::delta;
use gix::odb::pack;
use std::sync::atomic::{AtomicUsize, Ordering};

const NONE: u32 = u32::MAX;

/// What kind of entry an object is, as far as decoding cares.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Node {
    /// A whole blob: a chain of wanted blobs may start here.
    BlobBase,
    /// A whole tree, commit or tag: never decoded.
    OtherBase,
    /// A delta against the object in `bases`.
    Delta,
    /// Unreadable, or a delta whose base is not in this pack.
    Lost,
}

/// The pack as decoding sees it: the objects on the way to a wanted blob (in pack
/// order; ansible: 292,000 of 1.7 million), their delta trees as flat arrays.
struct Plan {
    offsets: Vec<u64>,
    /// Bytes each object takes in the pack (to its next object): what to read.
    sizes: Vec<u64>,
    /// Index of the job each object is, or `NONE`.
    jobs: Vec<u32>,
    /// Bases to decode from (in pack order), each leading to at least one wanted blob.
    roots: Vec<u32>,
    /// `children[first[i]..first[i + 1]]` are the deltas against object i that lead to
    /// a wanted blob.
    first: Vec<u32>,
    children: Vec<u32>,
}

/// Bytes of the pack read at a time while the entries' headers are read front to back.
const AHEAD: usize = 1 << 20;
/// The most a pack entry's header takes: type and size (at most 10 bytes), then an
/// offset (at most 10) or a base object id (at most 32).
const HEADER_MAX: usize = 64;
/// Compressed entries larger than this have their header read first, so one over the
/// size limit is not read at all.
const READ_HEADER_FIRST: u64 = 64 << 10;
/// Buffers larger than this are not kept between delta trees.
const KEEP_BUFFER: usize = 4 << 20;

/// The pack file, read with positioned reads into the workers' own buffers.
///
/// It was memory-mapped before, and every page an entry touched stayed in the
/// process's resident set until the next drop of the mapping: entries are a few
/// hundred bytes and scattered over the pack, and the kernel maps up to 64 KiB around
/// each fault, so 32 MiB of entries read left up to ~300 MiB of the pack resident
/// (ansible). A read copies the entry's bytes out of the page cache instead; the
/// resident set holds only the buffers, and there are no page faults to pay.
struct PackFile {
    file: std::fs::File,
    /// The first byte past the last entry (the trailing checksum starts there).
    end: u64,
    hash: gix::hash::Kind,
}

impl PackFile {
    fn open(data: &pack::data::File) -> Option<PackFile> {
        Some(PackFile {
            file: std::fs::File::open(data.path()).ok()?,
            end: data.pack_end() as u64,
            hash: data.object_hash(),
        })
    }

    /// `len` bytes at `offset` into `out` (replacing what it held); `false` if the
    /// file is shorter or cannot be read, or memory cannot be had.
    fn read(&self, offset: u64, len: u64, out: &mut Vec<u8>) -> bool {
        let Ok(len) = usize::try_from(len) else {
            return false;
        };
        out.clear();
        if out.try_reserve_exact(len).is_err() {
            return false;
        }
        out.resize(len, 0);
        read_exact_at(&self.file, out, offset).is_ok()
    }

    /// The header of the entry at `offset`, read from `raw` (which starts there).
    fn header(&self, raw: &[u8], offset: u64) -> Option<pack::data::Entry> {
        pack::data::Entry::from_bytes(raw, offset, self.hash).ok()
    }
}

#[cfg(unix)]
fn read_exact_at(file: &std::fs::File, out: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, out, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &std::fs::File, mut out: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !out.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, out, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                out = &mut std::mem::take(&mut out)[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads the entries' headers front to back, [`AHEAD`] bytes of the pack at a time.
struct Headers<'a> {
    pack: &'a PackFile,
    buf: Vec<u8>,
    /// Pack offset of `buf[0]`.
    start: u64,
}

impl Headers<'_> {
    /// The header of the entry at `offset`.
    fn at(&mut self, offset: u64) -> Option<pack::data::Entry> {
        let want = (HEADER_MAX as u64).min(self.pack.end.saturating_sub(offset));
        let have = self.start..self.start + self.buf.len() as u64;
        if offset < have.start || offset + want > have.end {
            let len = (AHEAD as u64).min(self.pack.end.saturating_sub(offset));
            if !self.pack.read(offset, len, &mut self.buf) {
                self.buf.clear();
                return None;
            }
            self.start = offset;
        }
        let from = usize::try_from(offset - self.start).ok()?;
        self.pack.header(self.buf.get(from..)?, offset)
    }
}

/// Hand every blob of `bundle` that `wanted` names (id -> job index) to `visit`,
/// decoded on `threads` workers. `limit`: objects larger than this are not inflated.
pub(crate) fn decode(
    bundle: &pack::Bundle,
    wanted: &dyn Fn(&gix::oid) -> Option<usize>,
    limit: Option<u64>,
    threads: usize,
    visit: &(dyn Fn(usize, &[u8]) + Sync),
) {
    let Some(file) = PackFile::open(&bundle.pack) else {
        return;
    };
    let plan = plan(bundle, &file, wanted);
    // The index was read whole to plan; its pages are not needed while decoding.
    crate::memory::drop_pack_pages();
    let Some(plan) = plan else {
        return;
    };
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                let mut worker = Worker {
                    pack: &file,
                    plan: &plan,
                    limit,
                    inflate: gix::zlib::Inflate::default(),
                    raw: Vec::new(),
                    delta: Vec::new(),
                    spare: Vec::new(),
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&root) = plan.roots.get(i) else {
                        break;
                    };
                    worker.tree(root, visit);
                }
            });
        }
    });
}

/// Read every entry's header (no inflation) and keep only the delta trees that lead to
/// a wanted blob. `None`: the index and the pack disagree beyond use.
fn plan(
    bundle: &pack::Bundle,
    file: &PackFile,
    wanted: &dyn Fn(&gix::oid) -> Option<usize>,
) -> Option<Plan> {
    let index = &bundle.index;
    let n = index.num_objects() as usize;
    let mut by_offset: Vec<(u64, u32)> = Vec::with_capacity(n);
    for entry in index.iter() {
        let job = wanted(entry.oid.as_ref())
            .and_then(|j| u32::try_from(j).ok())
            .unwrap_or(NONE);
        by_offset.push((entry.pack_offset, job));
    }
    by_offset.sort_unstable_by_key(|&(offset, _)| offset);
    let (offsets, jobs): (Vec<u64>, Vec<u32>) = by_offset.into_iter().unzip();
    let position = |offset: u64| -> u32 {
        offsets
            .binary_search(&offset)
            .ok()
            .and_then(|i| u32::try_from(i).ok())
            .unwrap_or(NONE)
    };
    let mut kinds = Vec::with_capacity(n);
    let mut bases = Vec::with_capacity(n);
    let mut headers = Headers {
        pack: file,
        buf: Vec::new(),
        start: 0,
    };
    for &offset in &offsets {
        let (kind, base) = match headers.at(offset) {
            Some(entry) => match entry.header {
                pack::data::entry::Header::Blob => (Node::BlobBase, NONE),
                pack::data::entry::Header::OfsDelta { base_distance } => {
                    match entry.checked_base_pack_offset(base_distance).map(position) {
                        Some(base) if base != NONE => (Node::Delta, base),
                        _ => (Node::Lost, NONE),
                    }
                }
                pack::data::entry::Header::RefDelta { base_id } => {
                    match index
                        .lookup(base_id)
                        .map(|i| position(index.pack_offset_at_index(i)))
                    {
                        Some(base) if base != NONE => (Node::Delta, base),
                        _ => (Node::Lost, NONE),
                    }
                }
                _ => (Node::OtherBase, NONE),
            },
            None => (Node::Lost, NONE),
        };
        kinds.push(kind);
        bases.push(base);
    }
    // Mark every object on the way from a wanted blob to its base. A ref-delta may
    // point forward, so a damaged pack could hold a cycle: marking stops at the first
    // object already marked, and an object in a cycle has no base to be reached from.
    let mut needed = vec![false; n];
    for (i, &job) in jobs.iter().enumerate() {
        if job == NONE {
            continue;
        }
        let mut at = i;
        while let Some(mark) = needed.get_mut(at) {
            if *mark {
                break;
            }
            *mark = true;
            match bases.get(at) {
                Some(&base) if base != NONE => at = base as usize,
                _ => break,
            }
        }
    }
    // Only the needed objects are kept, renumbered in pack order.
    let mut slot = vec![NONE; n];
    let mut m = 0u32;
    for (i, s) in slot.iter_mut().enumerate() {
        if needed[i] {
            *s = m;
            m += 1;
        }
    }
    let m = m as usize;
    let pack_end = file.end;
    let mut kept_offsets = Vec::with_capacity(m);
    let mut sizes = Vec::with_capacity(m);
    let mut kept_jobs = Vec::with_capacity(m);
    let mut kept_bases = Vec::with_capacity(m);
    let mut roots = Vec::new();
    for i in (0..n).filter(|&i| needed[i]) {
        let next = offsets.get(i + 1).copied().unwrap_or(pack_end);
        kept_offsets.push(offsets[i]);
        sizes.push(next.saturating_sub(offsets[i]));
        kept_jobs.push(jobs[i]);
        let base = bases[i];
        kept_bases.push(if base == NONE {
            NONE
        } else {
            slot[base as usize]
        });
        if kinds[i] == Node::BlobBase {
            roots.push(slot[i]);
        }
    }
    drop((offsets, jobs, kinds, bases, needed, slot, headers));
    // Children of each object, as one array sliced by `first`.
    let mut first = vec![0u32; m + 1];
    for &base in &kept_bases {
        if base != NONE {
            first[base as usize + 1] += 1;
        }
    }
    for i in 0..m {
        first[i + 1] += first[i];
    }
    let mut fill = first.clone();
    let mut children = vec![0u32; first[m] as usize];
    for (i, &base) in kept_bases.iter().enumerate() {
        if base != NONE {
            let slot = &mut fill[base as usize];
            children[*slot as usize] = i as u32;
            *slot += 1;
        }
    }
    Some(Plan {
        offsets: kept_offsets,
        sizes,
        jobs: kept_jobs,
        roots,
        first,
        children,
    })
}

/// One decoding thread's state.
struct Worker<'a> {
    pack: &'a PackFile,
    plan: &'a Plan,
    limit: Option<u64>,
    inflate: gix::zlib::Inflate,
    /// The entry being inflated, as read from the pack.
    raw: Vec<u8>,
    /// The delta being applied, inflated.
    delta: Vec<u8>,
    /// Buffers of versions already done with, reused.
    spare: Vec<Vec<u8>>,
}

impl Worker<'_> {
    fn children(&self, i: u32) -> std::ops::Range<usize> {
        let i = i as usize;
        let from = self.plan.first.get(i).copied().unwrap_or(0) as usize;
        let to = self.plan.first.get(i + 1).copied().unwrap_or(0) as usize;
        from..to.max(from)
    }

    fn job(&self, i: u32) -> Option<usize> {
        match self.plan.jobs.get(i as usize) {
            Some(&job) if job != NONE => Some(job as usize),
            _ => None,
        }
    }

    /// Inflate entry `i` (whole object or delta) into `out`; `false` if it cannot be.
    fn inflate(&mut self, i: u32, into_delta: bool, out: &mut Vec<u8>) -> bool {
        let (Some(&offset), Some(&stored)) = (
            self.plan.offsets.get(i as usize),
            self.plan.sizes.get(i as usize),
        ) else {
            return false;
        };
        let over = |entry: &pack::data::Entry, limit: Option<u64>| {
            limit.is_some_and(|l| entry.decompressed_size > l) && !into_delta
        };
        // A large entry: its header first, so one over the limit is never read.
        if stored > READ_HEADER_FIRST {
            let head = (HEADER_MAX as u64).min(stored);
            if !self.pack.read(offset, head, &mut self.raw) {
                return false;
            }
            match self.pack.header(&self.raw, offset) {
                Some(entry) if !over(&entry, self.limit) => {}
                _ => return false,
            }
        }
        if !self.pack.read(offset, stored, &mut self.raw) {
            return false;
        }
        let Some(entry) = self.pack.header(&self.raw, offset) else {
            return false;
        };
        if over(&entry, self.limit) {
            return false;
        }
        let (Ok(size), Some(input)) = (
            usize::try_from(entry.decompressed_size),
            self.raw.get(entry.header_size()..),
        ) else {
            return false;
        };
        out.clear();
        if out.try_reserve_exact(size).is_err() {
            return false;
        }
        out.resize(size, 0);
        // The entry must inflate to exactly the size its header gives: anything else
        // is a damaged pack, left to the one-by-one lookups to report.
        self.inflate.reset();
        matches!(
            self.inflate.once(input, out),
            Ok((gix::zlib::Status::StreamEnd, _, produced)) if produced == size
        )
    }

    /// Decode the delta tree under base `root`, depth first, handing over wanted blobs.
    fn tree(&mut self, root: u32, visit: &(dyn Fn(usize, &[u8]) + Sync)) {
        let mut data = self.spare.pop().unwrap_or_default();
        if !self.inflate(root, false, &mut data) {
            return;
        }
        if let Some(job) = self.job(root) {
            visit(job, &data);
        }
        // (object, its bytes, next child to decode)
        let mut stack: Vec<(u32, Vec<u8>, usize)> = vec![(root, data, self.children(root).start)];
        while let Some((node, base, next)) = stack.last_mut() {
            let end = self.children(*node).end;
            if *next >= end {
                if let Some((_, bytes, _)) = stack.pop() {
                    self.spare.push(bytes);
                }
                continue;
            }
            let Some(&child) = self.plan.children.get(*next) else {
                break;
            };
            *next += 1;
            let base: &[u8] = base;
            let mut delta = std::mem::take(&mut self.delta);
            let mut out = self.spare.pop().unwrap_or_default();
            let ok = self.inflate(child, true, &mut delta)
                && delta::result_size(&delta)
                    .is_ok_and(|size| self.limit.is_none_or(|l| size <= l))
                && delta::apply(base, &delta, &mut out).is_ok();
            self.delta = delta;
            // A damaged delta: its whole subtree is left to the one-by-one lookups.
            if !ok {
                self.spare.push(out);
                continue;
            }
            if let Some(job) = self.job(child) {
                visit(job, &out);
            }
            if self.children(child).is_empty() {
                self.spare.push(out);
            } else {
                let start = self.children(child).start;
                stack.push((child, out, start));
            }
        }
        // Keep a few buffers, not the biggest version ever seen times the depth.
        self.spare.retain(|b| b.capacity() <= KEEP_BUFFER);
        self.spare.truncate(8);
        if self.delta.capacity() > KEEP_BUFFER {
            self.delta = Vec::new();
        }
        if self.raw.capacity() > KEEP_BUFFER {
            self.raw = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gix::objs::FindExt;
    use gix::ObjectId;
    use std::collections::HashMap;
    use std::process::Command;
    use std::sync::Mutex;

    fn git(dir: &std::path::Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Forty versions of two files, packed by `git gc` into delta chains.
    fn packed_repo() -> (tempfile::TempDir, Vec<ObjectId>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path();
        git(path, &["init", "-q", "-b", "main"]);
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&format!("line {i}: some setting = value {i}\n"));
            std::fs::write(path.join("a.conf"), &text).expect("write");
            let other: String = (0..=i)
                .map(|j| format!("{j:04} unrelated words {}\n", j * 7919 % 1000))
                .collect();
            std::fs::write(path.join("b.txt"), other.repeat(3)).expect("write");
            git(path, &["add", "-A"]);
            git(path, &["commit", "-q", "-m", &format!("v{i}")]);
        }
        git(path, &["gc", "-q", "--aggressive"]);
        let blobs = git(path, &["cat-file", "--batch-all-objects", "--batch-check"])
            .lines()
            .filter_map(|l| {
                let mut fields = l.split_whitespace();
                let id = fields.next()?;
                (fields.next()? == "blob").then_some(id)
            })
            .filter_map(|h| ObjectId::from_hex(h.as_bytes()).ok())
            .collect();
        (dir, blobs)
    }

    fn bundle(dir: &std::path::Path) -> pack::Bundle {
        let packs = dir.join(".git/objects/pack");
        let idx = std::fs::read_dir(&packs)
            .expect("pack dir")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "idx"))
            .expect("an index");
        pack::Bundle::at(&idx, gix::hash::Kind::Sha1).expect("bundle")
    }

    /// Every blob of `blobs` that `decode` hands over (by index in `blobs`), each once.
    fn decode_all(bundle: &pack::Bundle, blobs: &[ObjectId]) -> HashMap<usize, Vec<u8>> {
        let wanted: HashMap<ObjectId, usize> =
            blobs.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let got = Mutex::new(HashMap::new());
        decode(
            bundle,
            &|id| wanted.get(id).copied(),
            None,
            2,
            &|job, bytes| {
                let old = got.lock().expect("lock").insert(job, bytes.to_vec());
                assert!(old.is_none(), "each blob once");
            },
        );
        got.into_inner().expect("lock")
    }

    /// git writes packs read-only; the damage tests write to them.
    fn writable(path: &std::path::Path) {
        let mut perms = std::fs::metadata(path).expect("meta").permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(path, perms).expect("writable");
    }

    #[test]
    fn every_wanted_blob_comes_out_as_git_stores_it() {
        let (dir, blobs) = packed_repo();
        assert!(blobs.len() >= 79, "{} blobs", blobs.len());
        let bundle = bundle(dir.path());
        let deltas = (0..bundle.index.num_objects())
            .filter(|&i| {
                bundle
                    .pack
                    .entry(bundle.index.pack_offset_at_index(i))
                    .is_ok_and(|e| e.header.is_delta())
            })
            .count();
        assert!(deltas > 40, "the fixture has delta chains ({deltas})");
        let got = decode_all(&bundle, &blobs);
        assert_eq!(got.len(), blobs.len());
        let repo = gix::open(dir.path()).expect("open");
        let mut buf = Vec::new();
        for (i, id) in blobs.iter().enumerate() {
            let blob = repo.objects.find_blob(id, &mut buf).expect("blob");
            assert_eq!(got[&i], blob.data, "blob {id}");
        }
    }

    #[test]
    fn only_the_wanted_blobs_and_none_over_the_limit() {
        let (dir, blobs) = packed_repo();
        let bundle = bundle(dir.path());
        // Every fifth blob, and a limit over every version of a.conf (up to ~1.4 KB)
        // but under the largest of b.txt (~4.2 KB): chains whose base is over it are
        // left to the one-by-one lookups.
        let wanted: HashMap<ObjectId, usize> = blobs
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 5 == 0)
            .map(|(i, id)| (*id, i))
            .collect();
        let limit = 3_000;
        let got = Mutex::new(Vec::new());
        decode(
            &bundle,
            &|id| wanted.get(id).copied(),
            Some(limit),
            1,
            &|job, bytes| got.lock().expect("lock").push((job, bytes.len())),
        );
        let got = got.into_inner().expect("lock");
        assert!(!got.is_empty());
        for (job, len) in got {
            assert_eq!(job % 5, 0, "only wanted blobs");
            assert!(len as u64 <= limit, "{len} bytes over the limit");
        }
    }

    #[test]
    fn a_damaged_entry_is_left_out_and_the_rest_read_right() {
        let (dir, blobs) = packed_repo();
        let repo = gix::open(dir.path()).expect("open");
        let mut buf = Vec::new();
        let contents: Vec<Vec<u8>> = blobs
            .iter()
            .map(|id| {
                repo.objects
                    .find_blob(id, &mut buf)
                    .expect("blob")
                    .data
                    .to_vec()
            })
            .collect();
        let bundle = bundle(dir.path());
        // The largest whole blob: its compressed bytes are scribbled over.
        let (offset, damaged) = (0..bundle.index.num_objects())
            .filter_map(|i| {
                let offset = bundle.index.pack_offset_at_index(i);
                let entry = bundle.pack.entry(offset).ok()?;
                (entry.header == pack::data::entry::Header::Blob).then(|| {
                    (
                        offset,
                        entry.decompressed_size,
                        bundle.index.oid_at_index(i).to_owned(),
                    )
                })
            })
            .max_by_key(|&(_, size, _)| size)
            .map(|(offset, _, id)| (offset, id))
            .expect("a whole blob");
        let path = bundle.pack.path().to_path_buf();
        drop(bundle);
        let mut bytes = std::fs::read(&path).expect("read pack");
        let at = usize::try_from(offset).expect("offset") + 8;
        for b in &mut bytes[at..at + 16] {
            *b ^= 0x5a;
        }
        writable(&path);
        std::fs::write(&path, &bytes).expect("write pack");
        let bundle = self::bundle(dir.path());
        let got = decode_all(&bundle, &blobs);
        let damaged = blobs.iter().position(|id| *id == damaged).expect("a blob");
        assert!(
            !got.contains_key(&damaged),
            "the damaged blob is not handed over"
        );
        assert!(
            got.len() >= blobs.len() / 2,
            "the rest is read: {} of {}",
            got.len(),
            blobs.len()
        );
        for (job, bytes) in got {
            assert_eq!(bytes, contents[job], "blob {} as git stores it", blobs[job]);
        }
    }

    #[test]
    fn a_truncated_pack_gives_what_it_still_holds() {
        let (dir, blobs) = packed_repo();
        let bundle = bundle(dir.path());
        let path = bundle.pack.path().to_path_buf();
        let len = std::fs::metadata(&path).expect("meta").len();
        drop(bundle);
        let bundle = self::bundle(dir.path());
        writable(&path);
        // Cut after the bundle is open: the reads see a shorter file than the index
        // promises, and must neither panic nor hand over anything but whole blobs.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(len / 2))
            .expect("truncate");
        let got = decode_all(&bundle, &blobs);
        assert!(got.len() < blobs.len(), "{} of {}", got.len(), blobs.len());
    }
}
