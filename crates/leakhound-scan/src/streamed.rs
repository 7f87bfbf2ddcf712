//! Content that arrives as a stream too long to hold: standard input, a named pipe,
//! a compressed stream on either. `yes | leakhound scan -` used to grow to gigabytes;
//! now text past the first window is matched in windows as it is read (see
//! [`crate::chunked::Windows`]) and memory stays at about two windows whatever the
//! length. Findings go out window by window. A streamed input is not deduplicated
//! against other content; its blob id is the hash of its first window.

use crate::chunked::Windows;
use crate::{BlobResult, Scanner};
use leakhound_findings::Finding;
use leakhound_inputs::decode::{self, Decoder, Encoding};
use leakhound_inputs::Problem;
use std::io::Read;

/// Bytes read at a time, and what decides whether a stream is read whole: an input
/// that ends within the first window is scanned as a file's bytes are.
pub(crate) const STREAM_WINDOW: usize = 8 << 20;

impl Scanner {
    /// Match `head` and then the rest of `rest` in windows, reporting findings as
    /// `path`. Returns the number of bytes read.
    pub(crate) fn scan_windows(
        &self,
        path: &str,
        head: Vec<u8>,
        mut rest: impl Read,
        report: &mut dyn FnMut(Finding),
        problem: &mut dyn FnMut(Problem),
    ) -> u64 {
        let encoding = decode::sniff(&head[..head.len().min(64 << 10)]);
        let binary = encoding == Encoding::Binary;
        let mut decoder = encoding.is_transcoded().then(|| Decoder::new(encoding));
        let content_id = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&head));
        // Offsets count from after the mark, as for a file read whole.
        let mark = encoding.bom_len(&head);
        let mut head = head;
        head.drain(..mark);
        let mut windows = Windows::new(self, STREAM_WINDOW);
        let mut total = head.len() as u64;
        let mut found = 0usize;
        let mut piece = head;
        loop {
            let mut next = Vec::with_capacity(STREAM_WINDOW);
            let last = match (&mut rest)
                .take(STREAM_WINDOW as u64)
                .read_to_end(&mut next)
            {
                Ok(n) => n == 0,
                Err(e) => {
                    problem(Problem::unreadable(
                        path,
                        format!("cannot read past byte {total}: {e}"),
                    ));
                    true
                }
            };
            let mut findings = Vec::new();
            match decoder.as_mut() {
                Some(d) => windows.push_decoded(d, &piece, last, &mut findings),
                None => windows.push(&piece, last, &mut findings),
            }
            if binary {
                // Binaries repeat strings: a few findings say enough (as for files).
                findings.truncate(self.options.max_binary_findings.saturating_sub(found));
            }
            found += findings.len();
            let result = BlobResult {
                findings,
                binary,
                content_id: content_id.clone(),
                problems: Vec::new(),
            };
            self.emit(path, &result, &content_id, (0, 0), None, report);
            if last {
                break;
            }
            total += next.len() as u64;
            piece = next;
        }
        self.counters.add_blob(total);
        total
    }
}
