//! Secrets hidden under an encoding: base64 (standard and URL-safe), hex, percent-
//! encoding, quoted-printable and JSON/JS string escapes, nested up to a depth
//! (`--decode-depth`, default 2).
//!
//! A span is decoded only if it is long enough to hold a secret and decodes to text
//! (valid UTF-8, no control characters but tab and line ends). Random base64 and hex
//! (hashes, keys, images) decode to random bytes, which almost never are: that test
//! is what keeps decoy blobs from becoming findings, and what keeps the cost down, as
//! most candidate spans fail it after one pass over their bytes.
//!
//! What the matcher finds in decoded text is reported at the encoded span's place in
//! the blob, with its value and fingerprint those of the decoded value and the chain of
//! layers it was under (`base64>url`). Only secrets are taken from decoded text, and
//! only where the raw text did not already give the same rule there (a percent-encoded
//! password in a URL is found raw as well).
//!
//! Cost: spans never overlap, and a decoded text is shorter than its span, so each
//! layer reads each byte at most once more: at depth 2 a blob's bytes are read at most
//! three times, and the matcher runs only on the decoded texts that passed the test.

use leakhound_matcher::{Matcher, RawMatch};

/// Shortest encoded span worth decoding: 16 bytes of base64 hold 12 characters.
const MIN_SPAN: usize = 16;

/// A base64 line at least this long that ends its line is continued by the next
/// line's run (MIME wraps at 76, PEM at 64).
const WRAPPED_LINE: usize = 40;

/// An encoding the decoder knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layer {
    Base64,
    Hex,
    Percent,
    QuotedPrintable,
    Escapes,
}

impl Layer {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Layer::Base64 => "base64",
            Layer::Hex => "hex",
            Layer::Percent => "url",
            Layer::QuotedPrintable => "quoted-printable",
            Layer::Escapes => "escapes",
        }
    }
}

/// A match found under one or more encodings: `start..end` is the outermost encoded
/// span in the blob, `value` the decoded value, `layers` outermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodedMatch {
    pub rule: leakhound_matcher::RuleIndex,
    pub start: usize,
    pub end: usize,
    pub value: String,
    pub layers: Vec<Layer>,
    pub raw: RawMatch,
}

/// Matches under encodings in `text`, `depth` layers deep at most. `raw` are the
/// matches the plain text gave, in any order.
pub(crate) fn decoded_matches(
    matcher: &Matcher,
    text: &[u8],
    raw: &[RawMatch],
    depth: usize,
) -> Vec<DecodedMatch> {
    let mut out = Vec::new();
    if depth == 0 {
        return out;
    }
    let mut chain = Vec::new();
    walk(matcher, text, None, depth, &mut chain, &mut out);
    out.retain(|d| {
        matcher.rule(d.rule).category == leakhound_findings::Category::Secret
            && !raw
                .iter()
                .any(|r| r.rule == d.rule && r.start < d.end && d.start < r.end)
    });
    out.sort_by(|a, b| (a.start, a.rule, &a.value).cmp(&(b.start, b.rule, &b.value)));
    out.dedup_by(|a, b| a.start == b.start && a.rule == b.rule && a.value == b.value);
    out
}

/// Decode every span of `text`, match what decodes to text, and go on into it.
/// `outer` is the outermost span in the blob once inside one.
fn walk(
    matcher: &Matcher,
    text: &[u8],
    outer: Option<(usize, usize)>,
    depth: usize,
    chain: &mut Vec<Layer>,
    out: &mut Vec<DecodedMatch>,
) {
    for span in spans(text) {
        let Some(decoded) = decode(span.layer, &text[span.start..span.end]) else {
            continue;
        };
        if !is_text(&decoded) {
            continue;
        }
        let place = outer.unwrap_or((span.start, span.end));
        chain.push(span.layer);
        for m in matcher.scan(&decoded) {
            if let Some(value) = decoded.get(m.start..m.end) {
                out.push(DecodedMatch {
                    rule: m.rule,
                    start: place.0,
                    end: place.1,
                    value: String::from_utf8_lossy(value).into_owned(),
                    layers: chain.clone(),
                    raw: m,
                });
            }
        }
        if depth > 1 {
            walk(matcher, &decoded, Some(place), depth - 1, chain, out);
        }
        chain.pop();
    }
}

/// A candidate encoded span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
    layer: Layer,
}

/// Bytes of the base64 alphabets (standard and URL-safe), hex digits among them.
static BASE64: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'-' || c == b'_';
        b += 1;
    }
    t
};

/// Candidate spans, in order, not overlapping: tokens with escapes (a `%`, `\\` or
/// `=` found by memchr), then base64 and hex runs of at least [`MIN_SPAN`] bytes found
/// by looking at every 16th byte only (a run that long must cover one), so code, whose
/// words are shorter, is mostly skipped. A token searched for escapes is searched once,
/// whatever number of `%`, `\\` or `=` it holds. Runs inside an escaped token are its.
fn spans(text: &[u8]) -> Vec<Span> {
    let mut escaped: Vec<Span> = Vec::new();
    let mut searched_until = 0;
    // Quoted-printable is only read where a MIME header says so: elsewhere a line
    // ending in `=` is base64 padding or an assignment, not a soft line break.
    let quoted_printable = memchr::memmem::find(text, b"uoted-printable").is_some()
        || memchr::memmem::find(text, b"UOTED-PRINTABLE").is_some();
    // `=` is everywhere in code and configs: it is looked at only where a MIME header
    // declared quoted-printable.
    let triggers: Box<dyn Iterator<Item = usize>> = if quoted_printable {
        Box::new(memchr::memchr3_iter(b'%', b'\\', b'=', text))
    } else {
        Box::new(memchr::memchr2_iter(b'%', b'\\', text))
    };
    for at in triggers {
        // The token is searched only when this byte starts a real escape.
        if at < searched_until || !starts_escape(&text[at..]) {
            continue;
        }
        match escaped_token(text, at, quoted_printable) {
            Ok(span) => {
                searched_until = span.end;
                escaped.push(span);
            }
            Err(token_end) => searched_until = token_end,
        }
    }
    let mut out: Vec<Span> = Vec::with_capacity(escaped.len());
    let mut next_escaped = escaped.into_iter().peekable();
    let n = text.len();
    let mut p = MIN_SPAN - 1;
    while p < n {
        if !BASE64[usize::from(text[p])] {
            p += MIN_SPAN;
            continue;
        }
        let mut start = p;
        while start > 0 && BASE64[usize::from(text[start - 1])] {
            start -= 1;
        }
        let mut j = p + 1;
        while j < n && BASE64[usize::from(text[j])] {
            j += 1;
        }
        // A wrapped block (MIME parts, PEM-style and YAML `|` blocks) is one span: a
        // long run that fills its line goes on into the next line's run.
        let mut wrapped = false;
        let mut line_start = start;
        while j - line_start >= WRAPPED_LINE {
            let mut k = j;
            if text.get(k) == Some(&b'\r') {
                k += 1;
            }
            if text.get(k) != Some(&b'\n') {
                break;
            }
            k += 1;
            while k < n && matches!(text[k], b' ' | b'\t') {
                k += 1;
            }
            let mut e = k;
            while e < n && BASE64[usize::from(text[e])] {
                e += 1;
            }
            if e - k < 4 {
                break;
            }
            wrapped = true;
            line_start = k;
            j = e;
        }
        let mut end = j;
        while end < n && end - j < 2 && text[end] == b'=' {
            end += 1;
        }
        let run = &text[start..j];
        let layer = if run.len() < MIN_SPAN || !prefix_may_be_text(run) {
            None
        } else if wrapped {
            Some(Layer::Base64)
        } else {
            let (mut digits, mut hex) = (true, true);
            for &b in run {
                digits &= b.is_ascii_digit();
                hex &= b.is_ascii_hexdigit();
            }
            if digits {
                // A number (a phone, an ID, a timestamp), not hex: digit pairs are bytes
                // 0x20-0x79, mostly printable, so every long number would decode to
                // junk "text" and cost a match.
                None
            } else if hex {
                run.len().is_multiple_of(2).then_some(Layer::Hex)
            } else {
                Some(Layer::Base64)
            }
        };
        if let Some(layer) = layer {
            let end = if layer == Layer::Hex { j } else { end };
            // Escaped tokens that end before this run come first; one that overlaps
            // it takes it.
            while let Some(e) = next_escaped.next_if(|e| e.end <= start) {
                out.push(e);
            }
            // …unless it is a quoted-printable soft break that is really the padding at
            // the end of a longer base64 block (`…QQ==` + newline in a MIME part).
            if next_escaped.peek().is_some_and(|e| {
                e.layer == Layer::QuotedPrintable && e.start < end && e.end - e.start < end - start
            }) {
                next_escaped.next();
            }
            if next_escaped.peek().is_none_or(|e| e.start >= end) {
                out.push(Span { start, end, layer });
            }
        }
        p = j + MIN_SPAN;
    }
    out.extend(next_escaped);
    out
}

/// Can the run's first eight bytes, read as base64 or as hex, begin a text? Most
/// runs are words, paths and keys, whose first decoded bytes already cannot be text:
/// they are dropped here without classifying or decoding the rest.
fn prefix_may_be_text(run: &[u8]) -> bool {
    let head = &run[..run.len().min(8)];
    let as_base64 = base64(head).is_some();
    let as_hex = head.iter().all(u8::is_ascii_hexdigit)
        && decode(Layer::Hex, &head[..head.len() & !1]).is_some();
    as_base64 || as_hex
}

/// Does `s` start with an escape: `%XX`, `\\uXXXX`, `\\xXX`, `=XX` or a soft line break?
fn starts_escape(s: &[u8]) -> bool {
    let hex = |t: &[u8], k: usize| t.len() >= k && t[..k].iter().all(u8::is_ascii_hexdigit);
    match s {
        [b'%', rest @ ..] => hex(rest, 2),
        [b'\\', b'u', rest @ ..] => hex(rest, 4),
        [b'\\', b'x', rest @ ..] => hex(rest, 2),
        [b'=', b'\n', ..] | [b'=', b'\r', b'\n', ..] => true,
        [b'=', rest @ ..] => hex(rest, 2),
        _ => false,
    }
}

/// Longest token searched for escapes.
const MAX_TOKEN: usize = 1 << 16;

/// The token around `at` (whitespace and quotes end it; a quoted-printable soft line
/// break `=` + newline does not) if it holds escapes: one `%XX` (percent-encoding),
/// two `\\uXXXX`/`\\xXX` (string escapes), or, in a blob that declares
/// quoted-printable, one `=XX` with capital hex or soft line break. The kind with the
/// most escapes wins. `Err(end)`: the token ends at `end` and holds too few.
fn escaped_token(text: &[u8], at: usize, quoted_printable: bool) -> Result<Span, usize> {
    let stop = |b: u8| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`');
    let floor = at.saturating_sub(MAX_TOKEN);
    let start = text[floor..at]
        .iter()
        .rposition(|&b| stop(b))
        .map_or(floor, |p| floor + p + 1);
    let limit = text.len().min(at.saturating_add(MAX_TOKEN));
    let hex = |s: &[u8], k: usize| s.len() >= k && s[..k].iter().all(u8::is_ascii_hexdigit);
    let (mut percent, mut escapes, mut qp) = (0usize, 0usize, 0usize);
    let mut end = start;
    while end < limit {
        let b = text[end];
        let rest = &text[end..];
        if b == b'=' && (rest[1..].starts_with(b"\r\n") || rest[1..].starts_with(b"\n")) {
            qp += 1;
            end += if rest[1..].starts_with(b"\r\n") { 3 } else { 2 };
            continue;
        }
        if stop(b) {
            break;
        }
        match b {
            b'%' if hex(&rest[1..], 2) => percent += 1,
            b'=' if hex(&rest[1..], 2) && !rest[1..3].iter().any(u8::is_ascii_lowercase) => qp += 1,
            b'\\' => {
                if (rest.get(1) == Some(&b'u') && hex(&rest[2..], 4))
                    || (rest.get(1) == Some(&b'x') && hex(&rest[2..], 2))
                {
                    escapes += 1;
                }
                // An escaped quote does not end the token.
                end += 1;
            }
            _ => {}
        }
        end += 1;
    }
    let end = end.min(limit);
    // One `%3D` can hide the `=` a rule needs; one stray `\\u` or `=3D` is too
    // common in prose and code to be worth a decode.
    let qp = if quoted_printable {
        qp.max(2 * qp.min(1))
    } else {
        0
    };
    let best = percent.max(escapes).max(qp);
    if (percent < 1 && best < 2) || end - start < MIN_SPAN {
        return Err(end);
    }
    let layer = if escapes >= 2 && best == escapes {
        Layer::Escapes
    } else if percent >= 1 && (best == percent || qp < 2) {
        Layer::Percent
    } else {
        Layer::QuotedPrintable
    };
    Ok(Span { start, end, layer })
}

/// Decode one span; `None` if it is not valid in that encoding.
fn decode(layer: Layer, s: &[u8]) -> Option<Vec<u8>> {
    match layer {
        Layer::Base64 => base64(s),
        Layer::Hex => {
            let mut out = Vec::with_capacity(s.len() / 2);
            let mut check = TextCheck::default();
            for pair in s.chunks_exact(2) {
                let b = hex_value(pair[0])? << 4 | hex_value(pair[1])?;
                // Most hex is a hash: stop at its first byte that text cannot hold.
                check.push(b)?;
                out.push(b);
            }
            Some(out)
        }
        Layer::Percent => Some(unescape(s, b'%', 2)),
        Layer::QuotedPrintable => {
            let mut joined = Vec::with_capacity(s.len());
            let mut i = 0;
            while i < s.len() {
                if s[i] == b'=' && s[i + 1..].starts_with(b"\r\n") {
                    i += 3;
                } else if s[i] == b'=' && s[i + 1..].starts_with(b"\n") {
                    i += 2;
                } else {
                    joined.push(s[i]);
                    i += 1;
                }
            }
            Some(unescape(&joined, b'=', 2))
        }
        Layer::Escapes => string_escapes(s),
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `marker` followed by `digits` hex digits is a byte; anything else is itself.
fn unescape(s: &[u8], marker: u8, digits: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == marker && i + digits < s.len() {
            if let (Some(h), Some(l)) = (hex_value(s[i + 1]), hex_value(s[i + 2])) {
                out.push(h << 4 | l);
                i += 1 + digits;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// JSON/JS string escapes: `\uXXXX` (with surrogate pairs), `\xXX`, `\n`, `\t`, `\/`…
fn string_escapes(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    let hex4 = |s: &[u8]| -> Option<u32> {
        let s = s.get(..4)?;
        s.iter()
            .try_fold(0u32, |acc, &b| Some(acc << 4 | u32::from(hex_value(b)?)))
    };
    while i < s.len() {
        if s[i] != b'\\' || i + 1 >= s.len() {
            out.push(s[i]);
            i += 1;
            continue;
        }
        match s[i + 1] {
            b'u' => {
                let mut code = hex4(&s[i + 2..])?;
                i += 6;
                if (0xD800..0xDC00).contains(&code) && s[i..].starts_with(b"\\u") {
                    let low = hex4(&s[i + 2..])?;
                    code = 0x10000 + ((code - 0xD800) << 10) + (low.checked_sub(0xDC00)? & 0x3FF);
                    i += 6;
                }
                let c = char::from_u32(code)?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            b'x' => {
                let h = hex_value(*s.get(i + 2)?)?;
                let l = hex_value(*s.get(i + 3)?)?;
                out.push(h << 4 | l);
                i += 4;
            }
            c => {
                out.push(match c {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    other => other,
                });
                i += 2;
            }
        }
    }
    Some(out)
}

/// Standard or URL-safe base64, padded or not.
fn base64(s: &[u8]) -> Option<Vec<u8>> {
    let value = |b: u8| -> Option<u32> {
        Some(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let joined: Vec<u8>;
    let s = if s.iter().any(u8::is_ascii_whitespace) {
        joined = s
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        &joined[..]
    } else {
        s
    };
    let body: &[u8] = match s.iter().position(|&b| b == b'=') {
        Some(p) => &s[..p],
        None => s,
    };
    if body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut check = TextCheck::default();
    for chunk in body.chunks(4) {
        let mut acc = 0u32;
        for (k, &b) in chunk.iter().enumerate() {
            acc |= value(b)? << (18 - 6 * k);
        }
        let bytes = acc.to_be_bytes();
        // Most base64-shaped runs are words, paths or random keys: stop at the first
        // byte that text cannot hold.
        for &b in &bytes[1..chunk.len()] {
            check.push(b)?;
        }
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// An early, byte-at-a-time check that decoded bytes can still be text: no control
/// byte but tab and line ends, and UTF-8 lead and continuation bytes in order. A
/// random byte fails it about half the time, so random data is dropped within a few
/// bytes instead of being decoded whole. [`is_text`] has the last word.
#[derive(Default)]
struct TextCheck {
    continuations: u8,
}

impl TextCheck {
    fn push(&mut self, b: u8) -> Option<()> {
        if self.continuations > 0 {
            self.continuations -= 1;
            return (b & 0xC0 == 0x80).then_some(());
        }
        match b {
            b'\t' | b'\n' | b'\r' | 0x20..=0x7E => Some(()),
            0xC2..=0xDF => {
                self.continuations = 1;
                Some(())
            }
            0xE0..=0xEF => {
                self.continuations = 2;
                Some(())
            }
            0xF0..=0xF4 => {
                self.continuations = 3;
                Some(())
            }
            _ => None,
        }
    }
}

/// Text, not bytes: valid UTF-8 with no control characters other than tab and line
/// ends, and at least one letter.
fn is_text(b: &[u8]) -> bool {
    b.len() >= 8
        && std::str::from_utf8(b).is_ok_and(|s| {
            s.chars()
                .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        })
        && b.iter().any(u8::is_ascii_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in s.as_bytes().chunks(3) {
            let mut acc = 0u32;
            for (k, &b) in chunk.iter().enumerate() {
                acc |= u32::from(b) << (16 - 8 * k);
            }
            for k in 0..=chunk.len() {
                out.push(A[((acc >> (18 - 6 * k)) & 63) as usize] as char);
            }
        }
        while !out.len().is_multiple_of(4) {
            out.push('=');
        }
        out
    }

    #[test]
    fn base64_decodes_both_alphabets_with_or_without_padding() {
        assert_eq!(
            base64(b"aGVsbG8gd29ybGQ=").as_deref(),
            Some(&b"hello world"[..])
        );
        assert_eq!(
            base64(b"aGVsbG8gd29ybGQ").as_deref(),
            Some(&b"hello world"[..])
        );
        assert_eq!(base64(b"-_-_").as_deref(), base64(b"+/+/").as_deref());
        assert_eq!(base64(b"abcde"), None);
        assert_eq!(b64("user:pass"), "dXNlcjpwYXNz");
    }

    #[test]
    fn hex_percent_quoted_printable_and_escapes_decode() {
        assert_eq!(
            decode(Layer::Hex, b"68656c6c6f").as_deref(),
            Some(&b"hello"[..])
        );
        assert_eq!(decode(Layer::Hex, b"6g"), None);
        assert_eq!(
            decode(Layer::Percent, b"p%40ss%3Aw%2F%zz").as_deref(),
            Some(&b"p@ss:w/%zz"[..])
        );
        assert_eq!(
            decode(Layer::QuotedPrintable, b"pass=3Dwor=\nd=20x").as_deref(),
            Some(&b"pass=word x"[..])
        );
        assert_eq!(
            decode(Layer::Escapes, br"\u0070\x61ss\n\ud83d\ude00").as_deref(),
            Some("pass\n\u{1F600}".as_bytes())
        );
        assert_eq!(decode(Layer::Escapes, br"\u12"), None);
    }

    #[test]
    fn spans_are_found_and_do_not_overlap() {
        let text = format!(
            "a = \"{}\"\nb = 68656c6c6f2c20776f726c6421\nc = https%3A%2F%2Fexample.org\nshort=aGk=\n",
            b64("hello, world!!")
        );
        let spans = spans(text.as_bytes());
        let layers: Vec<Layer> = spans.iter().map(|s| s.layer).collect();
        assert_eq!(
            layers,
            vec![Layer::Base64, Layer::Hex, Layer::Percent],
            "{spans:?}"
        );
        for w in spans.windows(2) {
            assert!(w[0].end <= w[1].start);
        }
    }

    #[test]
    fn a_wrapped_base64_block_is_one_span() {
        let secret = "token: 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 and more text to wrap";
        let encoded = b64(secret);
        let wrapped = format!("body:\n{}\n  {}\n\nnext", &encoded[..48], &encoded[48..]);
        let spans = spans(wrapped.as_bytes());
        assert_eq!(spans.len(), 1, "{spans:?}");
        let decoded = decode(
            spans[0].layer,
            &wrapped.as_bytes()[spans[0].start..spans[0].end],
        );
        assert_eq!(decoded.as_deref(), Some(secret.as_bytes()));
    }

    #[test]
    fn random_bytes_are_not_text() {
        // Hashes and random keys decode to bytes that are not text.
        for blob in [
            &b"d41d8cd98f00b204e9800998ecf8427e"[..],
            b"4DV1OHF/CRvq3s8uh5nMKN+soffFi/d+/3L6bADj",
            b"getAbstractFactoryBeanDefinitionName",
        ] {
            let layer = if blob.iter().all(u8::is_ascii_hexdigit) {
                Layer::Hex
            } else {
                Layer::Base64
            };
            let decoded = decode(layer, blob).unwrap_or_default();
            assert!(!is_text(&decoded), "{blob:?} -> {decoded:?}");
        }
        assert!(is_text(b"password=hunter22"));
        assert!(is_text("密码是 Sup3r!".as_bytes()));
    }

    proptest::proptest! {
        #[test]
        fn base64_round_trips(s in "[ -~]{0,64}") {
            let encoded = b64(&s);
            proptest::prop_assert_eq!(base64(encoded.as_bytes()), Some(s.into_bytes()));
        }

        #[test]
        fn spans_and_decoding_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            for span in spans(&bytes) {
                proptest::prop_assert!(span.start < span.end && span.end <= bytes.len());
                let _ = decode(span.layer, &bytes[span.start..span.end]);
            }
        }
    }
}
