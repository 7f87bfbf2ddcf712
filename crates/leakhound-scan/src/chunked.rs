//! Matching GBK and UTF-16 content in windows instead of transcoding it whole.
//!
//! Each window is the undecided tail of the previous one plus the next decoded chunk.
//! A window "owns" the text up to the last line start at least `overlap` bytes before
//! its end and reports only matches starting there; the rest is carried into the next
//! window. Windows therefore start at line starts, so line numbers only need an offset
//! and columns need none, and a value up to `overlap` bytes long is never cut.

use crate::{locate, BlobFinding, Scanner};
use leakhound_inputs::decode::Encoding;

pub(crate) fn match_transcoded(
    scanner: &Scanner,
    bytes: &[u8],
    encoding: Encoding,
) -> Vec<BlobFinding> {
    let (codec, body) = match encoding {
        Encoding::Utf16Le => (encoding_rs::UTF_16LE, &bytes[2..]),
        Encoding::Utf16Be => (encoding_rs::UTF_16BE, &bytes[2..]),
        _ => (encoding_rs::GB18030, bytes),
    };
    let chunk = scanner.options.transcode_chunk.max(4096);
    // Longest value matched across a window edge; private keys are the longest values.
    let overlap = (chunk / 4).min(64 << 10);
    let mut decoder = codec.new_decoder_without_bom_handling();
    let mut window = String::new();
    let mut lines_before = 0u64;
    let mut offset_before = 0u64;
    let mut out = Vec::new();
    let mut pieces = body.chunks(chunk).peekable();
    while let Some(piece) = pieces.next() {
        let last = pieces.peek().is_none();
        window.reserve(
            decoder
                .max_utf8_buffer_length(piece.len())
                .unwrap_or(piece.len() * 3),
        );
        let _ = decoder.decode_to_string(piece, &mut window, last);
        let text = window.as_bytes();
        let owned = if last {
            text.len()
        } else {
            let limit = text.len().saturating_sub(overlap);
            memchr::memrchr(b'\n', &text[..limit]).map_or(limit, |i| i + 1)
        };
        let matches: Vec<_> = scanner
            .matcher
            .scan(text)
            .into_iter()
            .filter(|m| m.start < owned)
            .collect();
        for mut f in locate::locate(text, &matches) {
            f.line += lines_before;
            f.offset += offset_before;
            out.push(f);
        }
        lines_before += memchr::memchr_iter(b'\n', &text[..owned]).count() as u64;
        offset_before += owned as u64;
        // `owned` is a line start or, failing that, a byte offset; keep it a char start.
        let mut cut = owned;
        while cut < window.len() && !window.is_char_boundary(cut) {
            cut += 1;
        }
        window.drain(..cut);
    }
    out
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
