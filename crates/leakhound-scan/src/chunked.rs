//! Matching GBK and UTF-16 content in windows instead of transcoding it whole.
//!
//! Each window is the undecided tail of the previous one plus the next decoded chunk.
//! A window "owns" the text up to the last line start at least `overlap` bytes before
//! its end and reports only matches starting there; the rest is carried into the next
//! window. Windows therefore start at line starts, so line numbers only need an offset
//! and columns need none, and a value up to `overlap` bytes long is never cut.

use crate::{locate, BlobFinding, Scanner};
use leakhound_inputs::decode::{Decoder, Encoding};

pub(crate) fn match_transcoded(
    scanner: &Scanner,
    bytes: &[u8],
    encoding: Encoding,
) -> Vec<BlobFinding> {
    let body = &bytes[encoding.bom_len(bytes)..];
    let chunk = scanner.options.transcode_chunk.max(4096);
    let mut decoder = Decoder::new(encoding);
    let mut windows = Windows::new(scanner, chunk);
    let mut out = Vec::new();
    let mut pieces = body.chunks(chunk).peekable();
    while let Some(piece) = pieces.next() {
        let last = pieces.peek().is_none();
        windows.push_decoded(&mut decoder, piece, last, &mut out);
    }
    out
}

/// Text matched a window at a time (see the module documentation). Text goes in as
/// UTF-8 (or raw bytes for content that is not decoded); findings come out with line
/// numbers and offsets in the whole text.
pub(crate) struct Windows<'s> {
    scanner: &'s Scanner,
    overlap: usize,
    window: Vec<u8>,
    lines_before: u64,
    offset_before: u64,
}

impl<'s> Windows<'s> {
    /// Windows for pieces of about `chunk` bytes.
    pub(crate) fn new(scanner: &'s Scanner, chunk: usize) -> Windows<'s> {
        Windows {
            scanner,
            // Longest value matched across a window edge; private keys are the longest.
            overlap: (chunk / 4).min(64 << 10),
            window: Vec::new(),
            lines_before: 0,
            offset_before: 0,
        }
    }

    /// Decode `piece` with `decoder` and match what it completes.
    pub(crate) fn push_decoded(
        &mut self,
        decoder: &mut Decoder,
        piece: &[u8],
        last: bool,
        out: &mut Vec<BlobFinding>,
    ) {
        let mut text = String::new();
        decoder.decode(piece, &mut text, last);
        self.push(text.as_bytes(), last, out);
    }

    /// Add `text` to the window and match the part of it that is now decided (all of
    /// it when `last`).
    pub(crate) fn push(&mut self, text: &[u8], last: bool, out: &mut Vec<BlobFinding>) {
        self.window.extend_from_slice(text);
        let text = &self.window[..];
        let owned = if last {
            text.len()
        } else {
            let limit = text.len().saturating_sub(self.overlap);
            memchr::memrchr(b'\n', &text[..limit]).map_or(limit, |i| i + 1)
        };
        let matches: Vec<_> = self
            .scanner
            .matcher
            .scan(text)
            .into_iter()
            .filter(|m| m.start < owned)
            .collect();
        for mut f in locate::locate(text, &matches) {
            f.line += self.lines_before;
            f.offset += self.offset_before;
            out.push(f);
        }
        self.lines_before += memchr::memchr_iter(b'\n', &text[..owned]).count() as u64;
        // `owned` is a line start or, failing that, a byte offset: never cut a UTF-8
        // character in two.
        let mut cut = owned;
        while cut < text.len() && (text[cut] & 0xC0) == 0x80 {
            cut += 1;
        }
        self.lines_before += memchr::memchr_iter(b'\n', &text[owned..cut]).count() as u64;
        self.offset_before += cut as u64;
        self.window.drain(..cut);
    }
}

#[cfg(test)]
mod tests {
    use crate::{ScanOptions, Scanner};
    use leakhound_findings::Finding;

    fn scanner(chunk: usize) -> Scanner {
        let rules = leakhound_rules::RuleSet::builtin().expect("rules");
        let matcher = leakhound_matcher::Matcher::new(&rules).expect("matcher");
        Scanner::new(
            matcher,
            ScanOptions {
                transcode_chunk: chunk,
                // Matching windows is under test, not the table-level findings.
                each_cell: true,
                ..ScanOptions::default()
            },
        )
    }

    fn key(f: &Finding) -> (String, u64, u64, u64, String) {
        (
            f.rule.to_string(),
            f.location.line,
            f.location.column,
            f.location.offset,
            f.value.clone(),
        )
    }

    /// A GBK file matched in 8 KiB windows gives exactly the findings of its UTF-8 twin
    /// matched whole, including values that straddle window edges.
    #[test]
    fn windows_give_the_same_findings_as_whole_text() {
        let mut text = String::from("序号,姓名,身份证号,手机,车牌\n");
        for i in 0..3000u32 {
            text.push_str(&format!(
                "{i},客户{i},440304198706151231,139{:08},粤B8K3Q1\n",
                i * 7
            ));
        }
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        let mut whole = Vec::new();
        scanner(usize::MAX).scan_blob("a.csv", text.as_bytes(), &mut |f| whole.push(key(&f)));
        let mut windowed = Vec::new();
        let small = scanner(8 << 10);
        small.scan_blob("b.csv", &gbk, &mut |f| windowed.push(key(&f)));
        assert!(
            gbk.len() > 10 * (8 << 10),
            "the test must cross many windows"
        );
        // 3000 rows x 3 values, less row 0's phone 13900000000 (a test number).
        assert_eq!(whole.len(), 8999);
        assert_eq!(whole, windowed);
    }
}
