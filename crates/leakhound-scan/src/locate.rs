//! Turning byte offsets into lines, columns and the line's text.

use crate::BlobFinding;
use leakhound_matcher::RawMatch;
use std::sync::Arc;

/// Longest line excerpt kept with a finding; minified files have megabyte lines.
const MAX_LINE_TEXT: usize = 240;

/// Locate sorted matches in `text` in one forward pass: newlines are counted once, not
/// once per finding.
pub(crate) fn locate(text: &[u8], matches: &[RawMatch]) -> Vec<BlobFinding> {
    let mut out = Vec::with_capacity(matches.len());
    locate_deferring(text, matches, &|_| false, &mut out);
    out
}

/// [`locate`], leaving out the line excerpt of the matches `later` picks: their
/// [`BlobFinding::excerpt_at`] says where it is, for [`excerpt`] to make if it is
/// needed. A cell folded into its column's finding never shows its line, and a
/// dump's megabyte lines gave each of their findings an excerpt of its own.
/// The findings are added to `out`.
pub(crate) fn locate_deferring(
    text: &[u8],
    matches: &[RawMatch],
    later: &dyn Fn(&RawMatch) -> bool,
    out: &mut Vec<BlobFinding>,
) {
    let none: Arc<str> = Arc::from("");
    if matches.is_empty() {
        return;
    }
    out.reserve(matches.len());
    let tests_from = rust_tests_start(text);
    let marks = (matches.len() >= MARKED_FROM).then(|| Marks::new(text));
    let mut pos = 0usize;
    let mut line = 1u64;
    let mut line_start = 0usize;
    // (line start, marked): the marker check runs once per line, not once per finding,
    // so a megabyte-long minified line with many findings is searched once.
    let mut inline: Option<(usize, bool)> = None;
    // The last excerpt, by its byte range: findings on one line share one copy.
    let mut shared: Option<(usize, usize, Arc<str>)> = None;
    // (line start, offset, characters from the line start to it): the last column.
    let mut counted: Option<(usize, usize, u64)> = None;
    // (line start, its end).
    let mut line_ends: Option<(usize, usize)> = None;
    let mut long: Option<LongLine> = None;
    for m in matches {
        let start = m.start.min(text.len());
        if start >= pos {
            line += memchr::memchr_iter(b'\n', &text[pos..start]).count() as u64;
            if let Some(nl) = memchr::memrchr(b'\n', &text[pos..start]) {
                line_start = pos + nl + 1;
            }
            pos = start;
        }
        let (l, ls) = if start >= line_start {
            (line, line_start)
        } else {
            // An earlier-starting match after a later one (aggregates): recount.
            let before = &text[..start];
            (
                1 + memchr::memchr_iter(b'\n', before).count() as u64,
                memchr::memrchr(b'\n', before).map_or(0, |i| i + 1),
            )
        };
        // Columns count characters, so a GBK file and its UTF-8 twin agree. Counted on
        // from the previous finding on the same line, not from the line's start: a
        // one-line export with 60,000 findings would count its line 60,000 times.
        let (from_at, from_chars) = match counted {
            Some((line_at, at, chars)) if line_at == ls && at <= start => (at, chars),
            _ => (ls, 0),
        };
        let chars = from_chars + characters(&text[from_at..start]);
        counted = Some((ls, start, chars));
        let column = 1 + chars;
        let end = m.end.min(text.len());
        // Where the line ends, searched once per line (same reason).
        let line_end = match line_ends {
            Some((line_at, end_at)) if line_at == ls && start <= end_at => end_at,
            _ => {
                let end_at =
                    memchr::memchr(b'\n', &text[start..]).map_or(text.len(), |i| start + i);
                line_ends = Some((ls, end_at));
                end_at
            }
        };
        if line_end - ls <= LONG_LINE {
            long = None;
        } else if long.as_ref().is_none_or(|l| l.start != ls) {
            long = Some(LongLine::new(text, ls, line_end));
        }
        let inline_allowed = match inline {
            Some((at, marked)) if at == ls => marked,
            _ => {
                let marked = leakhound_suppress::inline_allowed(&text[ls..line_end]);
                inline = Some((ls, marked));
                marked
            }
        };
        let (from, to) = excerpt_range(ls, line_end, start, end);
        let deferred = later(m);
        let line_text = match &shared {
            _ if deferred => Arc::clone(&none),
            Some((f, t, line)) if (*f, *t) == (from, to) => Arc::clone(line),
            _ => {
                let line: Arc<str> = excerpt(text, from, to).into();
                shared = Some((from, to, Arc::clone(&line)));
                line
            }
        };
        out.push(BlobFinding {
            rule: m.rule,
            line: l,
            column,
            offset: start as u64,
            value: if deferred {
                String::new()
            } else {
                String::from_utf8_lossy(&text[start..end]).into_owned()
            },
            line_text,
            confidence: m.confidence,
            count: m.count,
            doubtful: m.doubtful
                || (marks.as_ref().is_none_or(|k| k.stem_in(ls, start))
                    && example_words(&text[ls.max(start.saturating_sub(200))..start]))
                || example_host(&text[end..]),
            test_code: tests_from.is_some_and(|t| start > t) || doc_comment(&text[ls..start]),
            in_string: match &long {
                Some(long) => long.in_string(text, start, end),
                None => in_string(
                    &text[ls.max(start.saturating_sub(4096))..start],
                    &text[end..],
                ),
            },
            in_url: marks.as_ref().is_none_or(|k| k.url_in(ls, start))
                && in_url_path(&text[ls.max(start.saturating_sub(512))..start]),
            inline_allowed,
            cell: None,
            decoded: None,
            excerpt_at: deferred.then_some((from as u64, to as u64)),
            value_at: deferred.then_some((start as u64, end as u64)),
        });
    }
}

/// Lines longer than this have their quotes and example words indexed once
/// ([`LongLine`]) instead of looked for before each finding.
const LONG_LINE: usize = 8192;

/// Where the example words ([`example_words`]) can be: each holds one of these.
const EXAMPLE_STEMS: [&str; 8] = [
    "sample", "example", "test", "dummy", "fake", "mock", "demo", "fixture",
];

/// What a URL in front of a value ([`in_url_path`]) holds one of (`www.` in any case:
/// a superset is enough).
const URL_MARKS: [&str; 2] = ["://", "www."];

/// Texts with this many matches have their [`Marks`] found first.
const MARKED_FROM: usize = 32;

/// Where a text's example-word stems and URL marks are, found in one pass. Looking
/// 200 and 512 bytes back from each finding for them was a fifth of locating a
/// customer export's six million values; most findings have none behind them, and
/// then the look-back is skipped. Where one is, the look-back decides as before.
struct Marks {
    /// (start, end) of each stem, case-insensitive, overlapping ones included.
    stems: Vec<(usize, usize)>,
    urls: Vec<(usize, usize)>,
}

impl Marks {
    fn new(text: &[u8]) -> Marks {
        // The marks are lower-case ASCII and are searched for in a lower-cased copy of
        // the text (ASCII case folding keeps every byte where it was): a case-sensitive
        // automaton keeps its SIMD prefilter, which an ASCII-case-insensitive one does
        // not have (it walked every byte: 4% of a customer export's scan).
        static AUTOMATON: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
            std::sync::OnceLock::new();
        let automaton = AUTOMATON.get_or_init(|| {
            aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                .build(
                    EXAMPLE_STEMS
                        .iter()
                        .chain(&URL_MARKS)
                        .map(|m| m.to_ascii_lowercase()),
                )
                .ok()
        });
        let Some(ac) = automaton else {
            // Without the automaton, every finding is looked back from.
            let everywhere = vec![(0, 0)];
            return Marks {
                stems: everywhere.clone(),
                urls: everywhere,
            };
        };
        let lower = text.to_ascii_lowercase();
        let (mut stems, mut urls) = (Vec::new(), Vec::new());
        // Every occurrence, overlapping ones too: each search starts a byte after the
        // last one found, which keeps the fast prefilter that an overlapping search
        // gives up. No mark holds another or starts as another does, so none is missed.
        let mut from = 0;
        while let Some(m) = ac.find(aho_corasick::Input::new(&lower).span(from..lower.len())) {
            let found = (m.start(), m.end());
            if m.pattern().as_usize() < EXAMPLE_STEMS.len() {
                stems.push(found);
            } else {
                urls.push(found);
            }
            from = m.start() + 1;
        }
        Marks { stems, urls }
    }

    /// Could the 200 bytes before `at` (not before `line_start`) hold an example word?
    fn stem_in(&self, line_start: usize, at: usize) -> bool {
        Self::inside(&self.stems, line_start.max(at.saturating_sub(200)), at)
    }

    /// Could the 512 bytes before `at` (on its line) be a URL?
    fn url_in(&self, line_start: usize, at: usize) -> bool {
        Self::inside(&self.urls, line_start.max(at.saturating_sub(512)), at)
    }

    /// Is one of `marks` (or the stand-in `(0, 0)` for all) within `from..to`?
    fn inside(marks: &[(usize, usize)], from: usize, to: usize) -> bool {
        if marks.first() == Some(&(0, 0)) {
            return true;
        }
        let first = marks.partition_point(|&(s, _)| s < from);
        marks[first..]
            .iter()
            .take_while(|&&(s, _)| s < to)
            .any(|&(_, e)| e <= to)
    }
}

/// One long line's quotes, found once. A SQL dump's extended INSERT is a line of a
/// megabyte with tens of thousands of findings, and looking 4,096 bytes back from
/// each of them for quotes (and 200 for example words, see [`Marks`]) took most of a
/// dump's scan (20 of 28 s on a 1M-row dump). The answers are the ones the look-back
/// gives, byte for byte.
struct LongLine {
    start: usize,
    /// Each quote (`"`, `` ` ``, `'`): where it is, its kind, and whether a backslash
    /// escapes it.
    quotes: Vec<(usize, u8, bool)>,
    /// Unescaped quotes of each kind before each quote; one more entry for the end.
    before: Vec<[u32; 3]>,
}

impl LongLine {
    fn new(text: &[u8], start: usize, end: usize) -> LongLine {
        let line = &text[start..end];
        let mut quotes = Vec::new();
        let mut before = vec![[0u32; 3]];
        let mut counts = [0u32; 3];
        for i in memchr::memchr3_iter(b'"', b'`', b'\'', line) {
            let kind = quote_kind(line[i]);
            let escaped = i > 0 && line[i - 1] == b'\\';
            if !escaped {
                counts[kind] += 1;
            }
            quotes.push((start + i, kind as u8, escaped));
            before.push(counts);
        }
        LongLine {
            start,
            quotes,
            before,
        }
    }

    /// [`in_string`] of the value from `at` to `end`, looking 4,096 bytes back.
    fn in_string(&self, text: &[u8], at: usize, end: usize) -> bool {
        let from = self.start.max(at.saturating_sub(4096));
        let i = self.quotes.partition_point(|&(q, _, _)| q < from);
        let j = self.quotes.partition_point(|&(q, _, _)| q < at);
        let mut counts = [0u32; 3];
        for (k, count) in counts.iter_mut().enumerate() {
            *count = self.before[j][k] - self.before[i][k];
        }
        // The look-back cannot see the backslash before its first byte.
        if let Some(&(q, kind, true)) = self.quotes.get(i).filter(|_| i < j) {
            if q == from {
                counts[usize::from(kind)] += 1;
            }
        }
        quoted(counts, &text[end..])
    }
}

fn quote_kind(b: u8) -> usize {
    match b {
        b'"' => 0,
        b'`' => 1,
        _ => 2,
    }
}

/// Does a match start inside a URL's host, path or fragment (`…/pull/3856#event-13924913068`)?
/// Numbers there are ids of pages and events, not phones or IDs. A query value
/// (`?mobile=13812345678`, as in an access log) is data and does not count. The
/// `password@host` of `http://user:password@host` is no e-mail address either.
fn in_url_path(line_before: &[u8]) -> bool {
    let token_start = line_before
        .iter()
        .rposition(|b| {
            b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'(' | b'`')
        })
        .map_or(0, |i| i + 1);
    let token = &line_before[token_start..];
    let url = memchr::memmem::find(token, b"://").is_some() || token.starts_with(b"www.");
    url && token.last() != Some(&b'=')
}

/// Where a Rust file's test module starts (`#[cfg(test)]` at the start of a line):
/// keys and IDs below it are test values, as in a `tests/` folder.
fn rust_tests_start(text: &[u8]) -> Option<usize> {
    memchr::memmem::find_iter(text, b"#[cfg(test)]").find(|&at| {
        text[..at]
            .iter()
            .rev()
            .take_while(|&&b| b != b'\n')
            .all(|b| b.is_ascii_whitespace())
    })
}

/// A doc comment (`///`, `//!`, ` * ` in `/** … */`): documentation, like a `docs/`
/// file, so a value in it is an example.
fn doc_comment(line_before: &[u8]) -> bool {
    let t = line_before.trim_ascii_start();
    t.starts_with(b"///") || t.starts_with(b"//!") || t.starts_with(b"* ") || t.starts_with(b"/**")
}

/// Credentials in a URL to a host that is not anyone's server (`user:pass@localhost`,
/// `@example.com`, `@127.0.0.1`): documentation and test URLs.
fn example_host(after: &[u8]) -> bool {
    let Some(rest) = after.strip_prefix(b"@") else {
        return false;
    };
    let host: Vec<u8> = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        .map(u8::to_ascii_lowercase)
        .collect();
    let host = String::from_utf8_lossy(&host);
    host == "localhost"
        || host.starts_with("127.")
        || host == "0.0.0.0"
        || host == "host"
        || host == "somehost"
        || host == "hostname"
        || ["example.com", "example.org", "example.net", "example"]
            .iter()
            .any(|e| host == *e || host.ends_with(&format!(".{e}")))
        || host.ends_with(".test")
        || host.ends_with(".invalid")
        || host.ends_with(".localhost")
}

/// Words naming a sample among the identifiers before a value on its line
/// (`const SAMPLE: &str = "-----BEGIN…`, `TEST_DB_PASSWORD=…`, `exampleKey: …`).
fn example_words(before: &[u8]) -> bool {
    const WORDS: &[&[u8]] = &[
        b"sample",
        b"samples",
        b"example",
        b"examples",
        b"test",
        b"tests",
        b"testing",
        b"dummy",
        b"fake",
        b"mock",
        b"mocked",
        b"demo",
        b"fixture",
    ];
    // Words are runs of ASCII letters, split also where camelCase turns upper
    // (`exampleKey` is `example` and `key`). No allocation: this runs per finding.
    let is_word =
        |w: &[u8]| (4..=8).contains(&w.len()) && WORDS.iter().any(|x| x.eq_ignore_ascii_case(w));
    let mut start = None;
    for (i, &b) in before.iter().enumerate() {
        let letter = b.is_ascii_alphabetic();
        let split = letter && b.is_ascii_uppercase() && i > 0 && before[i - 1].is_ascii_lowercase();
        if let Some(s) = start {
            if !letter || split {
                if is_word(&before[s..i]) {
                    return true;
                }
                start = None;
            }
        }
        if letter && start.is_none() {
            start = Some(i);
        }
    }
    start.is_some_and(|s| is_word(&before[s..]))
}

/// Is the value between `before` (its line up to it) and `after` inside a string
/// literal? An odd number of double quotes before it, or of single quotes with one
/// after it too (a lone `'` is a Rust lifetime or an apostrophe).
fn in_string(before: &[u8], after: &[u8]) -> bool {
    // Runs per finding (1.5M on a big export): one vectorised pass over the quotes.
    let mut counts = [0u32; 3];
    for i in memchr::memchr3_iter(b'"', b'`', b'\'', before) {
        if i > 0 && before[i - 1] == b'\\' {
            continue;
        }
        counts[quote_kind(before[i])] += 1;
    }
    quoted(counts, after)
}

/// Inside a string, given the unescaped quotes of each kind before a value and the
/// text after it.
fn quoted(counts: [u32; 3], after: &[u8]) -> bool {
    if counts[0] % 2 == 1 || counts[1] % 2 == 1 {
        return true;
    }
    // A single quote later on the line: the first quote or newline after the value
    // (not the whole rest of a long line) says.
    counts[2] % 2 == 1 && memchr::memchr2(b'\'', b'\n', after).is_some_and(|i| after[i] == b'\'')
}

/// The line holding the value, cut to a readable window around it.
fn excerpt_range(line_start: usize, line_end: usize, start: usize, end: usize) -> (usize, usize) {
    let mut from = line_start;
    let mut to = line_end.max(end.min(line_end));
    if to - from > MAX_LINE_TEXT {
        from = start.saturating_sub(MAX_LINE_TEXT / 3).max(line_start);
        to = (end.min(line_end).max(start) + MAX_LINE_TEXT / 3)
            .min(line_end)
            .max(from);
        if to - from > MAX_LINE_TEXT {
            to = from + MAX_LINE_TEXT;
        }
    }
    (from, to)
}

/// Characters in UTF-8 bytes (continuation bytes not counted).
fn characters(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count() as u64
}

/// The line excerpt from byte `from` to `to`.
pub(crate) fn excerpt(text: &[u8], from: usize, to: usize) -> String {
    let s = String::from_utf8_lossy(&text[from..to]);
    s.trim_end_matches('\r').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakhound_findings::Confidence;

    fn m(start: usize, end: usize) -> RawMatch {
        RawMatch {
            rule: 0,
            start,
            end,
            confidence: Confidence::High,
            count: None,
            doubtful: false,
        }
    }

    #[test]
    fn example_words_strings_and_rust_tests() {
        assert!(example_words(b"const SAMPLE: &str = \""));
        assert!(example_words(b"TEST_DB_PASSWORD="));
        assert!(example_words(b"  exampleKey: "));
        assert!(!example_words(b"latest_config = \""));
        assert!(!example_words(b"contest = "));
        assert!(example_host(b"@localhost:3308/db"));
        assert!(example_host(b"@www.example.com/x"));
        assert!(!example_host(b"@db.carmaker.cn:3306/tsp"));
        assert!(doc_comment(b"    /// let url = \""));
        assert!(!doc_comment(b"let url = \""));
        assert!(in_url_path(
            b"see <https://github.com/rust-lang/libc/pull/3856#event-"
        ));
        assert!(in_url_path(b"www.example.cn/item/"));
        assert!(in_url_path(b"\"http://user:"));
        assert!(!in_url_path(b"GET /login?next=https://a.cn/x&mobile="));
        assert!(!in_url_path(b"mobile: "));
        assert!(!in_url_path(b"https://a.cn/x 13812345678 "));
        assert!(in_string(b"x = \"", b"\";"));
        assert!(in_string(b"x = '", b"'"));
        assert!(!in_string(b"const SAMPLE: &'static str = ", b";"));
        assert!(!in_string(b"    (", b", 2037),"));
        assert!(!in_string(b"pub type ", b" = PInt<U1>;"));
        let text = b"fn f() {}\n#[cfg(test)]\nmod tests {\n  const K: &str = \"x\";\n}\n";
        assert_eq!(rust_tests_start(text), Some(10));
        assert_eq!(rust_tests_start(b"// see #[cfg(test)] below\n"), None);
    }

    #[test]
    fn lines_and_character_columns() {
        let text = "a\n手机13912345678\r\nxx".as_bytes();
        let s = text.iter().position(|&b| b == b'1').unwrap_or(0);
        let out = locate(text, &[m(0, 1), m(s, s + 11)]);
        assert_eq!((out[0].line, out[0].column), (1, 1));
        assert_eq!((out[1].line, out[1].column), (2, 3));
        assert_eq!(&*out[1].line_text, "手机13912345678");
    }

    #[test]
    fn columns_and_excerpts_on_a_long_line_are_those_counted_from_its_start() {
        // One line, multi-byte characters between the values, a second line after.
        let mut text = String::from("x\n");
        let mut starts = Vec::new();
        for i in 0..300 {
            text.push_str(if i % 3 == 0 { "手机:'" } else { "tel=" });
            starts.push(text.len());
            text.push_str(&format!("1391234{i:04}"));
        }
        text.push_str("'\nlast 13912340000");
        starts.push(text.len() - 11);
        let matches: Vec<RawMatch> = starts.iter().map(|&s| m(s, s + 11)).collect();
        let out = locate(text.as_bytes(), &matches);
        for (f, &s) in out.iter().zip(&starts) {
            let ls = text[..s].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[s..].find('\n').map_or(text.len(), |i| s + i);
            assert_eq!(f.column, 1 + text[ls..s].chars().count() as u64);
            let (from, to) = excerpt_range(ls, line_end, s, s + 11);
            assert_eq!(
                &*f.line_text,
                String::from_utf8_lossy(&text.as_bytes()[from..to])
            );
        }
        assert_eq!((out[300].line, out[300].column), (3, 6));
    }

    #[test]
    fn long_lines_are_cut_around_the_value() {
        let mut text = "x".repeat(10_000);
        text.push_str("SECRET");
        text.push_str(&"y".repeat(10_000));
        let out = locate(text.as_bytes(), &[m(10_000, 10_006)]);
        assert!(out[0].line_text.len() <= MAX_LINE_TEXT);
        assert!(out[0].line_text.contains("SECRET"));
    }

    #[test]
    fn findings_on_one_line_share_its_text_and_others_do_not() {
        let text = b"a 13912345678 b 13800000000\nc 13700000000";
        let out = locate(text, &[m(2, 13), m(16, 27), m(30, 41)]);
        assert!(Arc::ptr_eq(&out[0].line_text, &out[1].line_text));
        assert_eq!(&*out[0].line_text, "a 13912345678 b 13800000000");
        assert_eq!(&*out[2].line_text, "c 13700000000");
    }

    #[test]
    fn cut_lines_keep_each_finding_its_own_window() {
        let mut text = "AAAA".to_string();
        text.push_str(&"x".repeat(1_000));
        text.push_str("BBBB");
        let out = locate(text.as_bytes(), &[m(0, 4), m(1_004, 1_008)]);
        assert!(out[0].line_text.contains("AAAA") && !out[0].line_text.contains("BBBB"));
        assert!(out[1].line_text.contains("BBBB") && !out[1].line_text.contains("AAAA"));
    }

    proptest::proptest! {
        /// The text's marks and a long line's quotes answer what looking back from
        /// each finding answers.
        #[test]
        fn indexes_agree_with_looking_back(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "\"", "'", "`", "\\", "\\\"", "test", "Sample", "xdemo", "mockED", "a", "1",
                    "exampleKey", " ", ",", "(", ")", "fixtures", "ab", "13912345678",
                    "http://", "www.", "WWW.", "/", "=", ":/", "\n", "<",
                ]),
                3000..6000,
            ),
            picks in proptest::collection::vec(0usize..60_000, 1..40),
        ) {
            let text: String = pieces.concat();
            let text = text.as_bytes();
            let long = LongLine::new(text, 0, text.len());
            let marks = Marks::new(text);
            for p in picks {
                let at = p % text.len();
                let end = (at + 11).min(text.len());
                let ls = memchr::memrchr(b'\n', &text[..at]).map_or(0, |i| i + 1);
                let words = example_words(&text[ls.max(at.saturating_sub(200))..at]);
                proptest::prop_assert_eq!(marks.stem_in(ls, at) && words, words);
                let url = in_url_path(&text[ls.max(at.saturating_sub(512))..at]);
                proptest::prop_assert_eq!(marks.url_in(ls, at) && url, url);
                proptest::prop_assert_eq!(
                    long.in_string(text, at, end),
                    in_string(&text[at.saturating_sub(4096)..at], &text[end..])
                );
            }
        }
    }
}
