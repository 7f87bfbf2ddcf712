//! The decision on one candidate: boundaries, filters, entropy, context, validator.

use crate::compile::Context;
use crate::tokens::is_word;
use crate::{Matcher, RawMatch, RuleIndex};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use leakhound_findings::Confidence;
use leakhound_validators::{shannon_entropy, Verdict};
use regex::bytes::RegexSet;
use std::collections::HashSet;

/// Global filters compiled once.
pub(crate) struct Filters {
    example_values: HashSet<Vec<u8>>,
    /// The example values' xxh3 hashes, sorted: nearly every candidate is turned away
    /// by one hash and a binary search, not by SipHash and a set lookup (2.5% of a
    /// dense export's scan).
    example_hashes: Vec<u64>,
    placeholder_patterns: Vec<String>,
    /// Compiled on first use, like rule regexes.
    placeholders: std::sync::OnceLock<Option<RegexSet>>,
    stopwords: Option<AhoCorasick>,
    doubtful_patterns: Vec<String>,
    doubtful: std::sync::OnceLock<Option<RegexSet>>,
}

impl Filters {
    pub(crate) fn new(f: &leakhound_rules::Filters) -> Result<Filters, String> {
        for p in f.placeholders.iter().chain(&f.doubtful) {
            regex_syntax::ast::parse::Parser::new()
                .parse(p)
                .map_err(|e| format!("placeholder or doubtful filter `{p}`: {e}"))?;
        }
        let stopwords = if f.stopwords.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .build(&f.stopwords)
                    .map_err(|e| e.to_string())?,
            )
        };
        let mut example_hashes: Vec<u64> = f
            .example_values
            .iter()
            .map(|v| xxhash_rust::xxh3::xxh3_64(v.as_bytes()))
            .collect();
        example_hashes.sort_unstable();
        Ok(Filters {
            example_hashes,
            example_values: f
                .example_values
                .iter()
                .map(|v| v.as_bytes().to_vec())
                .collect(),
            placeholder_patterns: f.placeholders.clone(),
            placeholders: std::sync::OnceLock::new(),
            stopwords,
            doubtful_patterns: f.doubtful.clone(),
            doubtful: std::sync::OnceLock::new(),
        })
    }

    /// A published example value (the `example_values` filter).
    fn is_example(&self, value: &[u8]) -> bool {
        self.example_hashes
            .binary_search(&xxhash_rust::xxh3::xxh3_64(value))
            .is_ok()
            && self.example_values.contains(value)
    }

    /// A value that looks like an example or test value (see the `doubtful` filter).
    fn is_doubtful(&self, value: &[u8]) -> bool {
        self.doubtful
            .get_or_init(|| RegexSet::new(&self.doubtful_patterns).ok())
            .as_ref()
            .is_some_and(|s| s.is_match(value))
    }

    fn is_placeholder(&self, value: &[u8]) -> bool {
        self.placeholders
            .get_or_init(|| RegexSet::new(&self.placeholder_patterns).ok())
            .as_ref()
            .is_some_and(|s| s.is_match(value))
            || self.stopwords.as_ref().is_some_and(|s| s.is_match(value))
    }
}

/// A value is a token if it does not continue a word on either side, and a number is
/// not the integer or fraction part of a decimal (`1.13800138000`).
pub(crate) fn at_token_boundary(hay: &[u8], s: usize, e: usize) -> bool {
    if s > 0 && is_word(hay[s]) && is_word(hay[s - 1]) {
        return false;
    }
    if e < hay.len() && is_word(hay[e - 1]) && is_word(hay[e]) {
        return false;
    }
    if s >= 2 && hay[s].is_ascii_digit() && hay[s - 1] == b'.' && hay[s - 2].is_ascii_digit() {
        return false;
    }
    if e + 1 < hay.len()
        && hay[e - 1].is_ascii_digit()
        && hay[e] == b'.'
        && hay[e + 1].is_ascii_digit()
    {
        return false;
    }
    true
}

/// Eight or more bytes drawn from at most two distinct values (`xxxxxxxx`, `00000000`,
/// `abababab`) are filler, never a credential or an identifier.
fn is_filler(value: &[u8]) -> bool {
    if value.len() < 8 {
        return false;
    }
    let first = value[0];
    let second = value.iter().copied().find(|&b| b != first);
    value.iter().all(|&b| b == first || Some(b) == second)
}

/// How many candidates of one rule in one haystack have their context looked for
/// around them, one small search each, before the rule's words are found in the whole
/// haystack once: a dense export has a candidate e-mail on every row, a log a few.
const CONTEXT_SEARCHES: u32 = 32;

/// Where a rule's context words lie in one haystack: (start, end), in order of start.
type WordPlaces = Vec<(usize, usize)>;

/// The context words found so far in one haystack, per rule that has asked.
pub(crate) struct ContextHits {
    /// (rule, candidates asked about, the words' places once searched for).
    rules: Vec<(RuleIndex, u32, Option<WordPlaces>)>,
    /// Candidates asked about before the whole haystack is searched: `u32::MAX` to
    /// look around each candidate only (the reference way the tests compare with).
    limit: u32,
}

impl ContextHits {
    pub(crate) fn new(reference: bool) -> ContextHits {
        ContextHits {
            rules: Vec::new(),
            limit: if reference {
                u32::MAX
            } else {
                CONTEXT_SEARCHES
            },
        }
    }

    /// Is this the reference way of matching (see `Way::Reference`)?
    pub(crate) fn is_reference(&self) -> bool {
        self.limit == u32::MAX
    }

    /// Does one of `context`'s words (of rule `index`) lie wholly within `window`
    /// bytes of `hay[s..e]`?
    fn has(
        &mut self,
        index: RuleIndex,
        context: &Context,
        hay: &[u8],
        (s, e): (usize, usize),
        window: usize,
    ) -> bool {
        let lo = s.saturating_sub(window);
        let hi = e.saturating_add(window).min(hay.len());
        let slot = match self.rules.iter().position(|r| r.0 == index) {
            Some(i) => i,
            None => {
                self.rules.push((index, 0, None));
                self.rules.len() - 1
            }
        };
        let (_, asked, found) = &mut self.rules[slot];
        *asked = asked.saturating_add(1);
        if found.is_none() && *asked > self.limit {
            *found = context.all_in(hay);
        }
        match found {
            Some(hits) => {
                let first = hits.partition_point(|&(start, _)| start < lo);
                hits[first..]
                    .iter()
                    .take_while(|&&(start, _)| start < hi)
                    .any(|&(_, end)| end <= hi)
            }
            None => hay.get(lo..hi).is_some_and(|area| context.is_in(area)),
        }
    }
}

impl Matcher {
    pub(crate) fn accept(
        &self,
        index: RuleIndex,
        hay: &[u8],
        s: usize,
        e: usize,
        hits: &mut ContextHits,
    ) -> Option<RawMatch> {
        let rule = &self.rules[index];
        if s >= e || (rule.boundary && !at_token_boundary(hay, s, e)) {
            return None;
        }
        let value = &hay[s..e];
        if is_filler(value) {
            return None;
        }
        if rule.placeholder_filter && self.filters.is_placeholder(value) {
            return None;
        }
        if rule
            .allow
            .iter()
            .any(|re| re.get().is_some_and(|re| re.is_match(value)))
        {
            return None;
        }
        if rule
            .min_entropy
            .is_some_and(|min| shannon_entropy(value) < min)
        {
            return None;
        }
        if let Some(context) = &rule.context {
            if !hits.has(index, context, hay, (s, e), rule.context_window) {
                return None;
            }
        }
        let mut confidence = self.info[index].confidence;
        if let Some(v) = rule.validator {
            let text = std::str::from_utf8(value).ok()?;
            match v.check(text) {
                Verdict::Valid => {}
                Verdict::Plausible => confidence = Confidence::Low,
                Verdict::Invalid => return None,
            }
        }
        // Published example values last: it hashes the value, and most candidates have
        // been turned away by then.
        if self.filters.is_example(value) {
            return None;
        }
        let doubtful = (rule.placeholder_filter && self.filters.is_doubtful(value))
            || rule
                .doubtful
                .iter()
                .any(|re| re.get().is_some_and(|re| re.is_match(value)));
        if doubtful {
            confidence = Confidence::Low;
        }
        Some(RawMatch {
            rule: index,
            start: s,
            end: e,
            confidence,
            count: None,
            doubtful,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        let hay = b"x13800138000 13800138000 1.13800138000 13800138000.5";
        assert!(!at_token_boundary(hay, 1, 12));
        assert!(at_token_boundary(hay, 13, 24));
        assert!(!at_token_boundary(hay, 27, 38));
        assert!(!at_token_boundary(hay, 39, 50));
    }

    /// Found once in the whole haystack, context words decide as they do looked for
    /// around each candidate: every candidate span and window, words at the very
    /// edges of the area, overlapping words, mixed case and Chinese.
    #[test]
    fn context_found_once_equals_context_looked_for_around() {
        let words: Vec<String> = ["author", "co-authored-by", "(c) ", "签名", "sim"]
            .iter()
            .map(|w| w.to_string())
            .collect();
        let context = Context::new(&words).expect("words");
        let hay = "x Co-Authored-By: AUTHOR (C) 2024 签名 simSIM@a.cn xx authoR".as_bytes();
        for window in [0, 1, 3, 7, 16] {
            let mut once = ContextHits::new(false);
            once.limit = 0;
            for s in 0..hay.len() {
                for e in s + 1..(s + 6).min(hay.len()) {
                    let lo = s.saturating_sub(window);
                    let hi = (e + window).min(hay.len());
                    let around = hay[lo..hi].to_ascii_lowercase();
                    let expected = words
                        .iter()
                        .any(|w| memchr::memmem::find(&around, w.as_bytes()).is_some());
                    assert_eq!(
                        once.has(1, &context, hay, (s, e), window),
                        expected,
                        "{s}..{e} within {window}"
                    );
                    let mut each = ContextHits::new(true);
                    assert_eq!(each.has(1, &context, hay, (s, e), window), expected);
                }
            }
        }
    }

    /// Every published example value is one, by its hash and its bytes; a value one
    /// character off is not.
    #[test]
    fn example_values_are_known_by_hash_and_bytes() {
        let set = leakhound_rules::RuleSet::builtin().expect("rules");
        let filters = Filters::new(set.filters()).expect("filters");
        assert!(set.filters().example_values.len() > 10);
        for v in &set.filters().example_values {
            assert!(filters.is_example(v.as_bytes()), "{v}");
            let mut off = v.clone().into_bytes();
            if let Some(last) = off.last_mut() {
                *last = if *last == b'7' { b'8' } else { b'7' };
            }
            assert!(!filters.is_example(&off), "{v}");
        }
        assert!(!filters.is_example(b""));
    }

    #[test]
    fn filler() {
        assert!(is_filler(b"xxxxxxxxxx"));
        assert!(is_filler(b"abababab"));
        assert!(!is_filler(b"abcabcab"));
        assert!(!is_filler(b"xxxx"));
    }
}
