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
            Encoding::Gb18030 => "gb18030",
            Encoding::Binary => "binary",
        }
    }
}

/// Guess the encoding of a buffer from its first 64 KiB.
pub fn sniff(bytes: &[u8]) -> Encoding {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Encoding::Utf8Bom;
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
        return Encoding::Binary;
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

fn memchr_nul(b: &[u8]) -> bool {
    b.contains(&0)
}

/// The buffer as UTF-8 bytes: borrowed when it already is, transcoded otherwise.
/// Invalid sequences become U+FFFD rather than errors: a few bad bytes in a 2 GB
/// export must not hide the rest of it.
pub fn to_utf8(bytes: &[u8], encoding: Encoding) -> Cow<'_, [u8]> {
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
