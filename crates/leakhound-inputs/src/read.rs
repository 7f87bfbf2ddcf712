//! Reading a file into something that derefs to bytes, without copying large files.
//!
//! A mapped file's pages stay in the process's memory once read: a 1.4 GB export
//! matched window by window ended its scan with 1.4 GB resident on top of what the
//! scan kept. Code that walks a mapped file forward, far from where it was read and
//! holding only a slice, says which bytes it has finished with ([`pass_over`]); their
//! pages leave the process (they stay in the page cache, and are mapped again if
//! anything reads them later).

use memmap2::{Mmap, UncheckedAdvice};
use std::fs::File;
use std::io::Read;
use std::ops::Deref;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Below this size a read is cheaper than setting up a memory map (ripgrep measured the
/// same trade-off; mmap setup and teardown dominate for small files).
const MMAP_THRESHOLD: u64 = 1 << 20;

/// File contents: owned for small files, memory-mapped for large ones.
pub enum FileBytes {
    /// Read into memory.
    Owned(Vec<u8>),
    /// Mapped from disk; the OS pages it in as the engine walks it.
    Mapped(Mapping),
}

impl Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Owned(v) => v,
            FileBytes::Mapped(m) => &m.map,
        }
    }
}

/// A mapped file, listed in [`MAPPED`] while it lives so that [`pass_over`] can tell
/// its pages from any other memory.
pub struct Mapping {
    map: Arc<Mmap>,
}

/// The files mapped now (a few at a time: one per scanning thread at most).
static MAPPED: Mutex<Vec<Arc<Mmap>>> = Mutex::new(Vec::new());

impl Mapping {
    fn new(map: Mmap) -> Mapping {
        let map = Arc::new(map);
        if let Ok(mut mapped) = MAPPED.lock() {
            mapped.push(Arc::clone(&map));
        }
        Mapping { map }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        if let Ok(mut mapped) = MAPPED.lock() {
            mapped.retain(|m| !Arc::ptr_eq(m, &self.map));
        }
    }
}

/// Pages are released in whole blocks of this size, which is a multiple of the page
/// size on every platform Linux runs on (4 KiB to 64 KiB).
const RELEASE_BLOCK: usize = 64 << 10;

/// The caller is done with `bytes` for now. If they are part of a mapped file, the
/// whole blocks inside them leave this process's memory. Nothing changes for any
/// other slice. Reading them again is correct, only slower (the pages are mapped
/// again from the page cache or the file).
pub fn pass_over(bytes: &[u8]) {
    if bytes.len() < RELEASE_BLOCK {
        return;
    }
    let from = bytes.as_ptr() as usize;
    let to = from + bytes.len();
    let Ok(mapped) = MAPPED.lock() else {
        return;
    };
    for map in mapped.iter() {
        let base = map.as_ptr() as usize;
        if from < base || to > base + map.len() {
            continue;
        }
        let start = (from - base).div_ceil(RELEASE_BLOCK) * RELEASE_BLOCK;
        let end = (to - base) / RELEASE_BLOCK * RELEASE_BLOCK;
        if end > start {
            // SAFETY: the map is a read-only mapping of a file (`Mmap::map`), never
            // written through. Dropping its pages does not change what it holds: the
            // next read of them faults them in again from the file. A file changed
            // under the map is the risk `read_file` already accepts.
            let _ = unsafe {
                map.unchecked_advise_range(UncheckedAdvice::DontNeed, start, end - start)
            };
        }
        return;
    }
}

/// Open and read (or map) a file.
pub fn read_file(path: &Path) -> std::io::Result<FileBytes> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    if len >= MMAP_THRESHOLD {
        // SAFETY: the map is read-only. If another process truncates the file while we
        // scan, reads past the new end fault; ripgrep and noseyparker accept the same
        // risk for the same speed. Falling back to read() for such rare files is not
        // possible after the fact, so users scanning live, changing files should copy
        // them first.
        if let Ok(map) = unsafe { Mmap::map(&file) } {
            return Ok(FileBytes::Mapped(Mapping::new(map)));
        }
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.read_to_end(&mut buf)?;
    Ok(FileBytes::Owned(buf))
}

/// This process's resident pages of mapped files, in KiB, as Linux reports them
/// (`RssFile`; 0 where it does not): what [`pass_over`] lowers. Tests read it.
pub fn mapped_resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssFile:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Bytes walked between two passes over: big enough that a pass costs nothing, small
/// beside the files that need it.
pub const PASS_PIECE: usize = 16 << 20;

/// Whether `bytes` hold `byte`, looked for a piece at a time and passed over.
pub fn contains_passing_over(bytes: &[u8], byte: u8) -> bool {
    bytes.chunks(PASS_PIECE).any(|piece| {
        let found = memchr::memchr(byte, piece).is_some();
        pass_over(piece);
        found
    })
}

/// `bytes` as text if they are UTF-8, checked a piece at a time and passed over (a
/// check of a whole mapped dump left all of it in memory).
pub fn as_str_passing_over(bytes: &[u8]) -> Option<&str> {
    let mut at = 0;
    while at < bytes.len() {
        let end = at.saturating_add(PASS_PIECE).min(bytes.len());
        let piece = &bytes[at..end];
        let checked = match std::str::from_utf8(piece) {
            Ok(_) => piece.len(),
            // A character cut by the piece's end is checked whole with the next piece.
            Err(e) if e.error_len().is_none() && end < bytes.len() && e.valid_up_to() > 0 => {
                e.valid_up_to()
            }
            Err(_) => return None,
        };
        pass_over(&piece[..checked]);
        at += checked;
    }
    // SAFETY: every byte was checked above as UTF-8, piece by piece, and a character
    // cut by the end of a piece was checked whole at the start of the next one.
    Some(unsafe { std::str::from_utf8_unchecked(bytes) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A mapped file passed over leaves memory and reads back the same; an owned
    /// buffer and a slice of no file are left alone.
    #[test]
    fn passed_over_pages_leave_memory_and_read_back_the_same() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        let content: Vec<u8> = (0..32u32 << 20).map(|i| (i % 251) as u8).collect();
        file.write_all(&content).expect("write");
        file.flush().expect("flush");
        let bytes = read_file(file.path()).expect("read");
        assert!(matches!(bytes, FileBytes::Mapped(_)));
        let sum: u64 = bytes.iter().map(|&b| u64::from(b)).sum();
        let before = mapped_resident_kib();
        pass_over(&bytes[100..]);
        let after = mapped_resident_kib();
        if cfg!(target_os = "linux") {
            assert!(
                after + 16 * 1024 < before,
                "resident file pages {before} kB -> {after} kB"
            );
        }
        assert_eq!(&bytes[..], &content[..]);
        assert_eq!(bytes.iter().map(|&b| u64::from(b)).sum::<u64>(), sum);

        let owned = content.clone();
        pass_over(&owned);
        assert_eq!(owned, content);
        let FileBytes::Mapped(mapping) = &bytes else {
            return;
        };
        let listed = Arc::downgrade(&mapping.map);
        drop(bytes);
        assert!(
            listed.upgrade().is_none(),
            "a dropped map is no longer listed"
        );
    }

    /// Checked a piece at a time, text is UTF-8 exactly when it is as a whole:
    /// characters cut at every place by the pieces' ends, bad bytes at the ends.
    #[test]
    fn utf8_checked_in_pieces_is_utf8_checked_whole() {
        let base = "客户,440304198706151231,a\u{1F600}b\n".repeat(PASS_PIECE / 30 + 2);
        let bytes = base.as_bytes();
        for shift in 0..5 {
            let text = &bytes[shift..];
            assert_eq!(
                as_str_passing_over(text).is_some(),
                std::str::from_utf8(text).is_ok(),
                "shifted by {shift}"
            );
        }
        assert_eq!(as_str_passing_over(bytes), Some(base.as_str()));
        let mut bad = bytes.to_vec();
        for at in [0, PASS_PIECE - 1, PASS_PIECE, bad.len() - 1] {
            let was = bad[at];
            bad[at] = 0xFF;
            assert_eq!(as_str_passing_over(&bad), None, "bad byte at {at}");
            bad[at] = was;
        }
        let cut = &bytes[..bytes.len() - 3];
        assert_eq!(
            as_str_passing_over(cut).is_some(),
            std::str::from_utf8(cut).is_ok()
        );
        assert_eq!(as_str_passing_over(b""), Some(""));
        assert!(contains_passing_over(&bad, b'\n'));
        assert!(!contains_passing_over(&bad, b'"'));
    }
}
