//! Deciding how a buffer is encoded and turning it into UTF-8 for the engine.
//!
//! Detection looks at the first 64 KiB only, so a 10 GB export costs the same to sniff
//! as a 10 KB one.

use std::borrow::Cow;

const SNIFF_LEN: usize = 64 << 10;

/// How a buffer's text is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (or ASCII), without a BOM.
    Utf8,
    /// UTF-8 with a byte-order mark.
    Utf8Bom,
    /// UTF-16 little-endian, announced by a BOM.
    Utf16Le,
    /// UTF-16 big-endian, announced by a BOM.
    Utf16Be,
    /// UTF-16 little-endian without a BOM, told by its NUL high bytes.
    Utf16LeNoBom,
    /// UTF-16 big-endian without a BOM.
    Utf16BeNoBom,
    /// UTF-32 little-endian, with or without a BOM.
    Utf32Le,
    /// UTF-32 big-endian, with or without a BOM.
    Utf32Be,
    /// GBK or GB18030: not UTF-8, but valid GB18030 (Chinese Windows exports).
    Gb18030,
    /// Not text: NUL bytes, or not valid in any encoding above. Scanned as raw bytes
    /// for embedded ASCII (keys in binaries, strings in databases).
    Binary,
}

impl Encoding {
    /// Lower-case name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Utf16LeNoBom => "utf-16le (no bom)",
            Encoding::Utf16BeNoBom => "utf-16be (no bom)",
            Encoding::Utf32Le => "utf-32le",
            Encoding::Utf32Be => "utf-32be",
            Encoding::Gb18030 => "gb18030",
            Encoding::Binary => "binary",
        }
    }
}

impl Encoding {
    /// Is the text transcoded to UTF-8 before matching (not matched as it is)?
    pub fn is_transcoded(self) -> bool {
        !matches!(self, Encoding::Utf8 | Encoding::Utf8Bom | Encoding::Binary)
    }

    /// Bytes of byte-order mark at the start of text in this encoding.
    pub fn bom_len(self, bytes: &[u8]) -> usize {
        match self {
            Encoding::Utf8Bom => 3,
            Encoding::Utf16Le | Encoding::Utf16Be => 2,
            Encoding::Utf32Le if bytes.starts_with(b"\xFF\xFE\x00\x00") => 4,
            Encoding::Utf32Be if bytes.starts_with(b"\x00\x00\xFE\xFF") => 4,
            _ => 0,
        }
    }
}

thread_local! {
    /// Sniffs and whole-buffer decodes done on this thread: tests hold a blob to being
    /// sniffed and decoded once however many stages look at it (see [`Decoded`]).
    static WORK: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
}

/// (sniffs, whole-buffer decodes) done on this thread so far.
pub fn work_on_this_thread() -> (u64, u64) {
    WORK.with(std::cell::Cell::get)
}

fn count(sniffs: u64, decodes: u64) {
    WORK.with(|w| {
        let (s, d) = w.get();
        w.set((s + sniffs, d + decodes));
    });
}

/// A blob as it entered: its bytes, the encoding decided once, and its UTF-8 text
/// decoded at most once, when first asked for. Every stage that needs the text (the
/// matcher, the cell-place map) takes it from here, so none sniffs or decodes again.
/// Both are lazy: a blob whose content was already matched (a duplicate) is never
/// sniffed at all.
pub struct Decoded<'a> {
    bytes: &'a [u8],
    encoding: std::cell::OnceCell<Encoding>,
    text: std::cell::OnceCell<Cow<'a, [u8]>>,
}

impl<'a> Decoded<'a> {
    /// A blob whose encoding is not known yet (sniffed when first needed).
    pub fn new(bytes: &'a [u8]) -> Decoded<'a> {
        Decoded {
            bytes,
            encoding: std::cell::OnceCell::new(),
            text: std::cell::OnceCell::new(),
        }
    }

    /// A blob whose encoding an earlier stage already decided.
    pub fn known(bytes: &'a [u8], encoding: Encoding) -> Decoded<'a> {
        let d = Decoded::new(bytes);
        let _ = d.encoding.set(encoding);
        d
    }

    /// The bytes as they came.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The encoding, sniffed on first call.
    pub fn encoding(&self) -> Encoding {
        *self.encoding.get_or_init(|| sniff(self.bytes))
    }

    /// The text as UTF-8 (raw bytes for a binary blob), decoded on first call.
    pub fn text(&self) -> &[u8] {
        self.text
            .get_or_init(|| to_utf8(self.bytes, self.encoding()))
    }
}

/// Guess the encoding of a buffer from its first 64 KiB.
pub fn sniff(bytes: &[u8]) -> Encoding {
    count(1, 0);
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Encoding::Utf8Bom;
    }
    // Before UTF-16: a UTF-32LE mark starts with the UTF-16LE one.
    if bytes.starts_with(b"\xFF\xFE\x00\x00") {
        return Encoding::Utf32Le;
    }
    if bytes.starts_with(b"\x00\x00\xFE\xFF") {
        return Encoding::Utf32Be;
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        if implausible_utf16(&bytes[2..]) {
            // Two bytes put in front of an ASCII `.env` hid it from the matcher: the
            // raw bytes are matched instead of a decode that makes CJK of them.
            return Encoding::Binary;
        }
        return if bytes[0] == 0xFF {
            Encoding::Utf16Le
        } else {
            Encoding::Utf16Be
        };
    }
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    if memchr_nul(head) {
        // Text without a mark whose ASCII has NUL bytes in fixed places: UTF-32 or
        // UTF-16 written by a tool that leaves the mark out. Matched raw, its ASCII is
        // NUL-separated and no value is found.
        return wide_without_bom(head).unwrap_or(Encoding::Binary);
    }
    match std::str::from_utf8(head) {
        Ok(_) => return Encoding::Utf8,
        // Cut in the middle of a character by the 64 KiB window: still UTF-8.
        Err(e) if e.error_len().is_none() => return Encoding::Utf8,
        Err(_) => {}
    }
    // The window may also cut a GB18030 sequence (up to 4 bytes): try shorter heads.
    let truncated = head.len() == SNIFF_LEN;
    for cut in 0..if truncated { 4 } else { 1 } {
        let part = &head[..head.len() - cut];
        if encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(part)
            .is_some()
        {
            return Encoding::Gb18030;
        }
    }
    Encoding::Binary
}

/// Whether what follows a UTF-16 byte-order mark is really UTF-8 (ASCII) text: real
/// UTF-16 has a NUL in every ASCII character (line breaks, digits, spaces), and 16 or
/// more CJK code units whose bytes also happen to form valid UTF-8 do not occur in
/// practice.
fn implausible_utf16(rest: &[u8]) -> bool {
    let head = &rest[..rest.len().min(SNIFF_LEN)];
    head.len() >= 32
        && !memchr_nul(head)
        && match std::str::from_utf8(head) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        }
}

/// UTF-32 or UTF-16 (either order) without a byte-order mark: at least 70% of the
/// head's code units are printable ASCII or whitespace, and under 1% are NUL.
fn wide_without_bom(head: &[u8]) -> Option<Encoding> {
    let ascii = |b: u8| b == b'\t' || b == b'\n' || b == b'\r' || (0x20..0x7f).contains(&b);
    let mostly = |units: usize, text: usize, nul: usize| {
        units >= 16 && text * 10 >= units * 7 && nul * 100 < units.max(1)
    };
    let quads = head.chunks_exact(4);
    let units = quads.len();
    for (order, le) in [(Encoding::Utf32Le, true), (Encoding::Utf32Be, false)] {
        let (mut text, mut nul) = (0, 0);
        for q in head.chunks_exact(4) {
            let (c, rest) = if le {
                (q[0], [q[1], q[2], q[3]])
            } else {
                (q[3], [q[2], q[1], q[0]])
            };
            if rest == [0, 0, 0] {
                if c == 0 {
                    nul += 1;
                } else if ascii(c) {
                    text += 1;
                }
            }
        }
        if mostly(units, text, nul) {
            return Some(order);
        }
    }
    let units = head.len() / 2;
    for (order, le) in [
        (Encoding::Utf16LeNoBom, true),
        (Encoding::Utf16BeNoBom, false),
    ] {
        let (mut text, mut nul) = (0, 0);
        for p in head.chunks_exact(2) {
            let (c, high) = if le { (p[0], p[1]) } else { (p[1], p[0]) };
            if high == 0 {
                if c == 0 {
                    nul += 1;
                } else if ascii(c) {
                    text += 1;
                }
            }
        }
        if mostly(units, text, nul) {
            return Some(order);
        }
    }
    None
}

fn memchr_nul(b: &[u8]) -> bool {
    b.contains(&0)
}

/// The buffer as UTF-8 bytes: borrowed when it already is, transcoded otherwise.
/// Invalid sequences become U+FFFD rather than errors: a few bad bytes in a 2 GB
/// export must not hide the rest of it.
pub fn to_utf8(bytes: &[u8], encoding: Encoding) -> Cow<'_, [u8]> {
    count(0, 1);
    match encoding {
        Encoding::Utf8 | Encoding::Binary => Cow::Borrowed(bytes),
        Encoding::Utf8Bom => Cow::Borrowed(&bytes[3..]),
        Encoding::Utf16Le => cow_bytes(
            encoding_rs::UTF_16LE
                .decode_without_bom_handling(&bytes[2..])
                .0,
        ),
        Encoding::Utf16Be => cow_bytes(
            encoding_rs::UTF_16BE
                .decode_without_bom_handling(&bytes[2..])
                .0,
        ),
        Encoding::Gb18030 => cow_bytes(encoding_rs::GB18030.decode_without_bom_handling(bytes).0),
        Encoding::Utf16LeNoBom => {
            cow_bytes(encoding_rs::UTF_16LE.decode_without_bom_handling(bytes).0)
        }
        Encoding::Utf16BeNoBom => {
            cow_bytes(encoding_rs::UTF_16BE.decode_without_bom_handling(bytes).0)
        }
        Encoding::Utf32Le | Encoding::Utf32Be => {
            let mut out = String::with_capacity(bytes.len() / 4);
            let mut d = Decoder::new(encoding);
            d.decode(&bytes[encoding.bom_len(bytes)..], &mut out, true);
            Cow::Owned(out.into_bytes())
        }
    }
}

/// Decodes text arriving in pieces (a pipe, a file read a window at a time) to UTF-8,
/// carrying a character cut between two pieces over to the next. The byte-order mark,
/// if any, must already be cut off.
pub struct Decoder {
    kind: DecoderKind,
}

enum DecoderKind {
    /// Text matched as it is (UTF-8, binary): passed on, invalid UTF-8 replaced.
    Utf8(encoding_rs::Decoder),
    Rs(encoding_rs::Decoder),
    /// UTF-32 (encoding_rs has no UTF-32): bytes of a cut code unit carried over.
    Utf32 {
        le: bool,
        carry: Vec<u8>,
    },
}

impl Decoder {
    /// A decoder for text in `encoding`, its mark already cut off.
    pub fn new(encoding: Encoding) -> Decoder {
        let kind = match encoding {
            Encoding::Utf16Le | Encoding::Utf16LeNoBom => {
                DecoderKind::Rs(encoding_rs::UTF_16LE.new_decoder_without_bom_handling())
            }
            Encoding::Utf16Be | Encoding::Utf16BeNoBom => {
                DecoderKind::Rs(encoding_rs::UTF_16BE.new_decoder_without_bom_handling())
            }
            Encoding::Gb18030 => {
                DecoderKind::Rs(encoding_rs::GB18030.new_decoder_without_bom_handling())
            }
            Encoding::Utf32Le => DecoderKind::Utf32 {
                le: true,
                carry: Vec::new(),
            },
            Encoding::Utf32Be => DecoderKind::Utf32 {
                le: false,
                carry: Vec::new(),
            },
            Encoding::Utf8 | Encoding::Utf8Bom | Encoding::Binary => {
                DecoderKind::Utf8(encoding_rs::UTF_8.new_decoder_without_bom_handling())
            }
        };
        Decoder { kind }
    }

    /// Decode `piece` onto `out`; `last` flushes a cut character as U+FFFD.
    pub fn decode(&mut self, piece: &[u8], out: &mut String, last: bool) {
        match &mut self.kind {
            DecoderKind::Utf8(d) | DecoderKind::Rs(d) => {
                out.reserve(
                    d.max_utf8_buffer_length(piece.len())
                        .unwrap_or(piece.len() * 3),
                );
                let _ = d.decode_to_string(piece, out, last);
            }
            DecoderKind::Utf32 { le, carry } => {
                out.reserve(piece.len());
                let mut unit = |q: [u8; 4]| {
                    let n = if *le {
                        u32::from_le_bytes(q)
                    } else {
                        u32::from_be_bytes(q)
                    };
                    out.push(char::from_u32(n).unwrap_or(char::REPLACEMENT_CHARACTER));
                };
                let mut rest = piece;
                if !carry.is_empty() {
                    let need = (4 - carry.len()).min(rest.len());
                    carry.extend_from_slice(&rest[..need]);
                    rest = &rest[need..];
                    if let Ok(q) = <[u8; 4]>::try_from(carry.as_slice()) {
                        unit(q);
                        carry.clear();
                    }
                }
                let quads = rest.chunks_exact(4);
                let tail = quads.remainder();
                for q in quads {
                    unit([q[0], q[1], q[2], q[3]]);
                }
                carry.extend_from_slice(tail);
                if last && !carry.is_empty() {
                    carry.clear();
                    out.push(char::REPLACEMENT_CHARACTER);
                }
            }
        }
    }
}

/// A reader of text in `encoding` that gives UTF-8 (the table readers stream exports
/// in any encoding through it). The byte-order mark is skipped.
pub struct DecodingReader<R> {
    inner: R,
    decoder: Decoder,
    encoding: Encoding,
    started: bool,
    raw: Vec<u8>,
    out: String,
    at: usize,
    done: bool,
}

impl<R: std::io::Read> DecodingReader<R> {
    /// UTF-8 read from `inner`, text in `encoding` (its mark, if any, skipped).
    pub fn new(inner: R, encoding: Encoding) -> Self {
        DecodingReader {
            inner,
            decoder: Decoder::new(encoding),
            encoding,
            started: false,
            raw: vec![0; 64 << 10],
            out: String::new(),
            at: 0,
            done: false,
        }
    }
}

impl<R: std::io::Read> std::io::Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.out.clear();
            self.at = 0;
            let mut n = self.inner.read(&mut self.raw)?;
            let mut from = 0;
            if !self.started {
                // Fill enough to see a whole mark.
                while n < 4 {
                    let more = self.inner.read(&mut self.raw[n..])?;
                    if more == 0 {
                        break;
                    }
                    n += more;
                }
                self.started = true;
                from = self.encoding.bom_len(&self.raw[..n]);
            }
            self.done = n == 0;
            self.decoder
                .decode(&self.raw[from.min(n)..n], &mut self.out, self.done);
        }
        let ready = &self.out.as_bytes()[self.at..];
        let n = ready.len().min(buf.len());
        buf[..n].copy_from_slice(&ready[..n]);
        self.at += n;
        Ok(n)
    }
}

fn cow_bytes(s: Cow<'_, str>) -> Cow<'_, [u8]> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(b.as_bytes()),
        Cow::Owned(o) => Cow::Owned(o.into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn detects_each_encoding() {
        let text = "姓名,手机\n张伟,13912345678\n";
        assert_eq!(sniff(text.as_bytes()), Encoding::Utf8);
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(sniff(&gbk), Encoding::Gb18030);
        assert_eq!(to_utf8(&gbk, Encoding::Gb18030).as_ref(), text.as_bytes());
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(sniff(&le), Encoding::Utf16Le);
        assert_eq!(to_utf8(&le, Encoding::Utf16Le).as_ref(), text.as_bytes());
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(|u| u.to_be_bytes()));
        assert_eq!(to_utf8(&be, sniff(&be)).as_ref(), text.as_bytes());
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\x00\x00"), Encoding::Binary);
        assert_eq!(sniff(b"\xff\xff\xff\xfe\x80"), Encoding::Binary);
    }

    #[test]
    fn a_byte_order_mark_in_front_of_ascii_does_not_hide_it() {
        let env = b"GITHUB_TOKEN=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\n";
        for bom in [&b"\xFF\xFE"[..], &b"\xFE\xFF"[..]] {
            let fake = [bom, &env[..]].concat();
            assert_eq!(sniff(&fake), Encoding::Binary, "raw bytes are matched");
        }
        // Real UTF-16 of CJK only (no NUL at all) is still UTF-16.
        let cjk: String = "客户数据姓名手机号码车架号码地址信息邮箱".into();
        let mut le = vec![0xFF, 0xFE];
        le.extend(cjk.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(sniff(&le), Encoding::Utf16Le);
    }

    #[test]
    fn wide_text_without_a_mark_and_utf32_are_decoded() {
        let text = "GITHUB_TOKEN=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\n张伟,13912345678\n";
        let le16: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let be16: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        let le32: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect();
        let be32: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect();
        let marked32 = [&b"\xFF\xFE\x00\x00"[..], &le32].concat();
        for (bytes, want) in [
            (&le16, Encoding::Utf16LeNoBom),
            (&be16, Encoding::Utf16BeNoBom),
            (&le32, Encoding::Utf32Le),
            (&be32, Encoding::Utf32Be),
            (&marked32, Encoding::Utf32Le),
        ] {
            assert_eq!(sniff(bytes), want);
            assert_eq!(to_utf8(bytes, want).as_ref(), text.as_bytes(), "{want:?}");
            // Streamed in pieces of every size, with the same result.
            for size in [1, 3, 7, 64] {
                let mut out = Vec::new();
                let mut r = DecodingReader::new(Chunked { bytes, at: 0, size }, want);
                std::io::Read::read_to_end(&mut r, &mut out).unwrap_or_default();
                assert_eq!(out, text.as_bytes(), "{want:?} in pieces of {size}");
            }
        }
        // Binaries with NUL bytes stay binary.
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00\x01\x00\x00\x00"), Encoding::Binary);
        let zeros = vec![0u8; 4096];
        assert_eq!(sniff(&zeros), Encoding::Binary);
    }

    /// A reader that gives at most `size` bytes a call.
    struct Chunked<'b> {
        bytes: &'b [u8],
        at: usize,
        size: usize,
    }

    impl std::io::Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.size.min(buf.len()).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_utf8_stays_borrowed(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let enc = sniff(&bytes);
            let out = to_utf8(&bytes, enc);
            if enc == Encoding::Utf8 {
                prop_assert!(matches!(out, Cow::Borrowed(_)));
            }
        }
    }
}
