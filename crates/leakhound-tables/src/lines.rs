//! One line at a time from a UTF-8 stream, checked a block at a time with `simdutf8`.
//!
//! `BufRead::read_line` copies each line out of the reader's buffer and checks it with
//! the standard library's UTF-8 check, which takes its slow path on any non-ASCII
//! byte: on exports full of Chinese names and addresses that was 6-8% of `assess`'s CPU
//! on a JSON Lines file or a dump, and the per-line call and copy more. Here the whole
//! lines in 64 KiB of the reader's buffer are checked with SIMD in one call and copied
//! once into a block; each line is then a slice of the block. (A megabyte block was
//! slower: it left the cache before its lines were parsed.)

use std::io::BufRead;
use std::ops::Range;

/// Bytes of whole lines checked and copied at a time.
const BLOCK: usize = 64 << 10;

/// The lines of a UTF-8 stream, each with its line break (the last may have none).
pub(crate) struct Lines<R> {
    reader: R,
    /// Whole lines, checked; lines are taken from `pos`.
    block: String,
    pos: usize,
    /// The line last given, in `block`.
    current: Range<usize>,
    /// The start of a line longer than the reader's buffer, not yet checked.
    carry: Vec<u8>,
    /// The stream has ended (or broke): `block` is all that is left.
    done: bool,
    /// Why the stream broke, given after the last good line.
    broken: Option<std::io::Error>,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(reader: R) -> Lines<R> {
        Lines {
            reader,
            block: String::new(),
            pos: 0,
            current: 0..0,
            carry: Vec::new(),
            done: false,
            broken: None,
        }
    }

    /// Move to the next line: `Ok(false)` at the end. A read error, or a line that is
    /// not UTF-8 (`InvalidData`, as with `read_line`), is given once the lines before
    /// it are, and ends the lines.
    pub(crate) fn advance(&mut self) -> std::io::Result<bool> {
        loop {
            let rest = self.block.as_bytes().get(self.pos..).unwrap_or_default();
            if let Some(n) = memchr::memchr(b'\n', rest) {
                self.current = self.pos..self.pos + n + 1;
                self.pos += n + 1;
                return Ok(true);
            }
            if self.done {
                if self.pos < self.block.len() {
                    self.current = self.pos..self.block.len();
                    self.pos = self.block.len();
                    return Ok(true);
                }
                return match self.broken.take() {
                    Some(e) => Err(e),
                    None => Ok(false),
                };
            }
            self.refill();
        }
    }

    /// The line `advance` moved to, with its line break.
    pub(crate) fn line(&self) -> &str {
        self.block.get(self.current.clone()).unwrap_or_default()
    }

    /// Replace the block with the next whole lines of the reader.
    fn refill(&mut self) {
        self.block.clear();
        self.pos = 0;
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return self.stop(Some(e)),
            };
            if buf.is_empty() {
                // The end: a last line without a line break, if any.
                let last = std::mem::take(&mut self.carry);
                let ok = self.take(&last);
                return self.stop((!ok).then(not_utf8));
            }
            // A block small enough to stay in cache while its lines are parsed: the
            // whole lines in its first `BLOCK` bytes, or the one line longer than that.
            let near = buf.get(..BLOCK).unwrap_or(buf);
            let end = memchr::memrchr(b'\n', near).or_else(|| {
                memchr::memchr(b'\n', buf.get(near.len()..).unwrap_or_default())
                    .map(|n| near.len() + n)
            });
            let Some(end) = end else {
                self.carry.extend_from_slice(buf);
                let n = buf.len();
                self.reader.consume(n);
                continue;
            };
            let ok = if self.carry.is_empty() {
                let ok = Self::check_into(&mut self.block, &buf[..=end]);
                self.reader.consume(end + 1);
                ok
            } else {
                self.carry.extend_from_slice(&buf[..=end]);
                self.reader.consume(end + 1);
                let carry = std::mem::take(&mut self.carry);
                let ok = self.take(&carry);
                self.carry = carry;
                self.carry.clear();
                ok
            };
            if !ok {
                self.stop(Some(not_utf8()));
            }
            return;
        }
    }

    /// Append checked lines; `false` if they are not all UTF-8.
    fn take(&mut self, bytes: &[u8]) -> bool {
        Self::check_into(&mut self.block, bytes)
    }

    /// Append `bytes` (whole lines) to `block` if they are UTF-8; if not, the whole
    /// lines before the first bad byte, and `false`.
    fn check_into(block: &mut String, bytes: &[u8]) -> bool {
        match simdutf8::compat::from_utf8(bytes) {
            Ok(text) => {
                block.push_str(text);
                true
            }
            Err(e) => {
                let good = bytes.get(..e.valid_up_to()).unwrap_or_default();
                if let Some(end) = memchr::memrchr(b'\n', good) {
                    block.push_str(std::str::from_utf8(&good[..=end]).unwrap_or_default());
                }
                false
            }
        }
    }

    fn stop(&mut self, error: Option<std::io::Error>) {
        self.done = true;
        self.broken = error;
    }
}

fn not_utf8() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        "stream did not contain valid UTF-8",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What `read_line` gives up to its first error: the lines, then the error kind.
    fn by_read_line(bytes: &[u8], capacity: usize) -> (Vec<String>, Option<std::io::ErrorKind>) {
        let mut reader = std::io::BufReader::with_capacity(capacity, bytes);
        let (mut lines, mut l) = (Vec::new(), String::new());
        loop {
            l.clear();
            match reader.read_line(&mut l) {
                Ok(0) => return (lines, None),
                Ok(_) => lines.push(l.clone()),
                Err(e) => return (lines, Some(e.kind())),
            }
        }
    }

    fn by_lines(bytes: &[u8], capacity: usize) -> (Vec<String>, Option<std::io::ErrorKind>) {
        let mut lines = Lines::new(std::io::BufReader::with_capacity(capacity, bytes));
        let mut got = Vec::new();
        loop {
            match lines.advance() {
                Ok(false) => return (got, None),
                Ok(true) => got.push(lines.line().to_string()),
                Err(e) => return (got, Some(e.kind())),
            }
        }
    }

    #[test]
    fn gives_the_lines_read_line_gives() {
        let text = "a,b\r\n张三,粤B12345\n\n{\"k\": \"é\"}\nlast";
        for capacity in [1, 2, 3, 4, 7, 64, 1 << 20] {
            let (lines, error) = by_lines(text.as_bytes(), capacity);
            assert_eq!(
                (lines.clone(), error),
                by_read_line(text.as_bytes(), capacity)
            );
            assert_eq!(lines.len(), 5);
        }
    }

    /// Lines longer than a block (a dump's INSERT), between short ones, in a buffer
    /// that holds several blocks.
    #[test]
    fn lines_longer_than_a_block() {
        let long = "粤B12345,".repeat(3 * BLOCK / 10);
        let text = format!("a\n{long}\nb\n{long}{long}\n{}\nend", "c,".repeat(BLOCK));
        for capacity in [1 << 20, BLOCK / 3, BLOCK + 1] {
            let (lines, error) = by_lines(text.as_bytes(), capacity);
            assert_eq!(
                (lines.clone(), error),
                by_read_line(text.as_bytes(), capacity)
            );
            assert_eq!(lines.len(), 6);
        }
    }

    #[test]
    fn a_line_that_is_not_utf8_ends_the_lines_after_the_good_ones() {
        let bytes: &[u8] = b"ok\nalso \xe5\x85\xab\nbad \xff line\nnever\n";
        let (lines, error) = by_lines(bytes, 1 << 20);
        assert_eq!(lines, ["ok\n", "also 八\n"]);
        assert_eq!(error, Some(std::io::ErrorKind::InvalidData));
        let mut l = Lines::new(bytes);
        let e = loop {
            match l.advance() {
                Ok(true) => {}
                Ok(false) => break None,
                Err(e) => break Some(e),
            }
        };
        assert!(e.is_some_and(|e| e.to_string().contains("valid UTF-8")));
    }

    proptest! {
        /// On any bytes (mostly text, with line breaks, multi-byte characters cut by
        /// small buffers and the odd invalid byte) and any buffer size, the lines
        /// before the first error are `read_line`'s, and the error is too.
        #[test]
        fn lines_are_read_lines(
            parts in proptest::collection::vec(
                prop_oneof![
                    4 => "[a-z,{}\":]{0,12}",
                    2 => "[张三粤八é]{1,4}",
                    3 => Just("\n".to_string()),
                    1 => Just("\r\n".to_string()),
                ],
                0..40,
            ),
            bad in proptest::option::of((0usize..400, 0x80u8..=0xff)),
            capacity in 1usize..64,
        ) {
            let mut bytes = parts.concat().into_bytes();
            if let Some((at, b)) = bad {
                let at = at.min(bytes.len());
                bytes.insert(at, b);
            }
            let (want, want_error) = by_read_line(&bytes, capacity);
            let (got, got_error) = by_lines(&bytes, capacity);
            match want_error {
                // `read_line` goes on after a bad line; `Lines` stops there.
                Some(kind) => {
                    prop_assert_eq!(got_error, Some(kind));
                    prop_assert_eq!(&got[..], &want[..got.len()]);
                    prop_assert_eq!(got.len(), want.len());
                }
                None => {
                    prop_assert_eq!(got_error, None);
                    prop_assert_eq!(got, want);
                }
            }
        }
    }
}
