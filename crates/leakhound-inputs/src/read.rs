//! Reading a file into something that derefs to bytes, without copying large files.

use memmap2::Mmap;
use std::fs::File;
use std::io::Read;
use std::ops::Deref;
use std::path::Path;

/// Below this size a read is cheaper than setting up a memory map (ripgrep measured the
/// same trade-off; mmap setup and teardown dominate for small files).
const MMAP_THRESHOLD: u64 = 1 << 20;

/// File contents: owned for small files, memory-mapped for large ones.
pub enum FileBytes {
    /// Read into memory.
    Owned(Vec<u8>),
    /// Mapped from disk; the OS pages it in as the engine walks it.
    Mapped(Mmap),
}

impl Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Owned(v) => v,
            FileBytes::Mapped(m) => m,
        }
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
            return Ok(FileBytes::Mapped(map));
        }
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.read_to_end(&mut buf)?;
    Ok(FileBytes::Owned(buf))
}
