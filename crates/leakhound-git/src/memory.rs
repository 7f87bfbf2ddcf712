//! Keeping a history scan's resident memory to what it holds.
//!
//! Three things inflated the resident set of a history scan past what it uses, and a
//! pod's memory limit (and `/usr/bin/time`, and issue 23's target) counts them all:
//!
//! - glibc's allocator keeps freed memory for reuse. Each worker thread has its own
//!   arena, and the blobs, deltas and line tables freed while packs are decoded stayed
//!   resident: on ansible, 145 MiB of the 361 MiB peak was free memory.
//! - pack and index files are memory-mapped by gix, and every page touched stays in
//!   the resident set until the mapping goes: the walk's tree lookups and the removal
//!   lookups mapped most of ansible's 466 MB pack. Those pages are page cache; the
//!   process does not need them mapped once it has moved on.
//! - the pack reader mapped the pack too, and the kernel maps up to 64 KiB around each
//!   fault: a few hundred bytes of entry read left many pages resident.
//!
//! Always: the allocator hands memory back as it is freed
//! ([`return_freed_promptly`]) and between the phases of a scan (`malloc_trim`); the
//! pack reader reads entries into buffers of its own (`crate::pack_blobs`); and mapped
//! pack pages are dropped (`madvise(MADV_DONTNEED)`) as the walk and the removal
//! lookups move on ([`drop_pack_pages`], [`PageDrops`]). ansible's peak RSS went from
//! 578 to 295 MiB with no loss of time. With `--low-memory`, a [`Trimmer`] also does
//! both ten times a second, for 277 MiB at 6% more time (see docs/performance.md):
//! pages handed back are faulted in and zeroed again when they are used again.
//!
//! Dropping pages of a read-only file mapping is safe while other threads read it:
//! their next access faults the page back in from the page cache, which still holds
//! it, at the cost of a minor fault.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How often the trimmer runs: often enough that little accumulates between runs.
pub(crate) const EVERY: Duration = Duration::from_millis(100);

/// Runs [`trim`] every [`EVERY`] until dropped.
pub(crate) struct Trimmer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Trimmer {
    /// Start trimming (on Linux; elsewhere this does nothing).
    pub(crate) fn start() -> Trimmer {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread = if cfg!(target_os = "linux") {
            let flag = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("trim".into())
                .spawn(move || {
                    let (lock, wake) = &*flag;
                    let Ok(mut stopped) = lock.lock() else { return };
                    while !*stopped {
                        trim();
                        match wake.wait_timeout(stopped, EVERY) {
                            Ok((guard, _)) => stopped = guard,
                            Err(_) => return,
                        }
                    }
                })
                .ok()
        } else {
            None
        };
        Trimmer { stop, thread }
    }
}

impl Drop for Trimmer {
    fn drop(&mut self) {
        let (lock, wake) = &*self.stop;
        if let Ok(mut stopped) = lock.lock() {
            *stopped = true;
        }
        wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Hand free heap memory back and unmap the resident pages of read-only pack files.
pub(crate) fn trim() {
    give_back();
    drop_pack_pages();
}

/// Free heap at the top of an arena above which glibc hands it back at once.
const TRIM_THRESHOLD: i32 = 4 << 20;

/// Have freed heap memory go back to the system as it is freed rather than kept for
/// reuse (glibc only; elsewhere nothing to do). Called when a history scan starts.
///
/// glibc sizes its mmap threshold dynamically: after a large block is freed, blocks up
/// to that size come from the arenas, and what is freed there stays resident. A
/// history scan frees blob and line-table buffers of every size on two threads, so the
/// arenas held ~60 MiB of free memory at the peak on ansible. A fixed trim threshold
/// turns the dynamic sizing off: blocks of 128 KiB and more are mapped on their own
/// and unmapped when freed, and free space above 4 MiB at the top of an arena is
/// trimmed. ansible's peak RSS went from 336 to 286 MiB, with no loss of time
/// (docs/performance.md).
pub(crate) fn return_freed_promptly() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning parameters; it is safe to
    // call at any time from any thread, and live allocations are not affected.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}

/// Return freed heap memory to the system (glibc only; elsewhere nothing to do).
pub(crate) fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of the allocator's own heaps; it
    // touches no live allocation and may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Object lookups between two drops of the mapped pack pages, where each lookup
/// touches a new part of the pack: commits read for the graph, and the removal
/// lookups that follow first-parent lines back. Before, reading a 10-million-object
/// history's 2M commits mapped 1.1 GiB of its pack, and answering ansible's removals
/// 377 MiB.
pub(crate) const LOOKUPS_PER_PAGE_DROP: u64 = 8 << 10;
/// Trees read by the walk between two drops. The walk touches the same index pages
/// again and again, which a drop makes it fault back in, so it drops less often:
/// ~36 drops on ansible (1.16M trees); every 8,192 trees was slower for little less
/// memory (docs/performance.md).
pub(crate) const TREES_PER_PAGE_DROP: u64 = 32 << 10;

/// Counts object lookups and drops the mapped pack pages every `every` of them, so a
/// long run of lookups keeps the pack's share of the resident set to what the last
/// few thousand touched.
pub(crate) struct PageDrops {
    lookups: u64,
    every: u64,
}

impl PageDrops {
    pub(crate) fn every(lookups: u64) -> PageDrops {
        PageDrops {
            lookups: 0,
            every: lookups.max(1),
        }
    }

    /// One more object looked up.
    pub(crate) fn lookup(&mut self) {
        self.lookups += 1;
        if self.lookups.is_multiple_of(self.every) {
            drop_pack_pages();
        }
    }
}

/// `madvise(MADV_DONTNEED)` every read-only mapping of a git pack or pack index.
pub(crate) fn drop_pack_pages() {
    #[cfg(target_os = "linux")]
    {
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
            return;
        };
        for (start, end) in pack_mappings(&maps) {
            // SAFETY: the range is a whole mapping of this process, read-only and
            // backed by a file (checked by `pack_mappings`): dropping its pages loses
            // nothing, and a later read faults them back in from the file. If the
            // mapping went away meanwhile, madvise fails with ENOMEM and does nothing.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
        }
    }
}

/// The address ranges of read-only mappings of `*.pack` and `*.idx` files in a
/// `/proc/self/maps` listing.
fn pack_mappings(maps: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        // offset, device, inode, then the path (which may hold spaces).
        let path: Vec<&str> = fields.skip(3).collect();
        let path = path.join(" ");
        let read_only = perms.starts_with("r-") && !perms.contains('w');
        let pack = path.ends_with(".pack") || path.ends_with(".idx");
        if !read_only || !pack || !path.starts_with('/') {
            continue;
        }
        let Some((a, b)) = range.split_once('-') else {
            continue;
        };
        if let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) {
            if b > a {
                out.push((a, b));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_read_only_pack_and_index_mappings_are_picked() {
        let maps = "\
7f0000000000-7f0000100000 r--p 00000000 08:01 123 /repo/objects/pack/pack-ab.pack
7f0000100000-7f0000110000 r--s 00000000 08:01 124 /repo/objects/pack/pack-ab.idx
7f0000110000-7f0000120000 rw-p 00000000 08:01 125 /repo/objects/pack/pack-cd.pack
7f0000120000-7f0000130000 r-xp 00000000 08:01 126 /usr/bin/leakhound
7f0000130000-7f0000140000 r--p 00000000 08:01 127 /data/my dir/x.pack
7f0000140000-7f0000150000 rw-p 00000000 00:00 0 
7f0000150000-7f0000160000 r--p 00000000 00:00 0 [vvar]
";
        assert_eq!(
            pack_mappings(maps),
            [
                (0x7f0000000000, 0x7f0000100000),
                (0x7f0000100000, 0x7f0000110000),
                (0x7f0000130000, 0x7f0000140000),
            ]
        );
    }

    #[test]
    fn dropped_pages_of_a_mapped_file_read_back_the_same() {
        // A file mapped read-only (as gix maps packs), its pages dropped while mapped:
        // reading it again gives the same bytes.
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("pack-test.pack");
        let data: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).expect("write");
        let file = std::fs::File::open(&path).expect("open");
        // SAFETY: the file is private to this test and not modified while mapped.
        let map = unsafe { memmap2::MmapOptions::new().map_copy_read_only(&file) }.expect("map");
        assert_eq!(&map[..], &data[..]);
        trim();
        assert_eq!(&map[..], &data[..]);
    }

    #[test]
    fn the_trimmer_stops_when_dropped() {
        let t = Trimmer::start();
        std::thread::sleep(EVERY / 2);
        drop(t);
    }
}
