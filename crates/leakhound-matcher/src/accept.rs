//! The decision on one candidate: boundaries, filters, entropy, context, validator.

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
        Ok(Filters {
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

fn has_context(hay: &[u8], s: usize, e: usize, window: usize, words: &[Vec<u8>]) -> bool {
    let lo = s.saturating_sub(window);
    let hi = (e + window).min(hay.len());
    let area: Vec<u8> = hay[lo..hi].to_ascii_lowercase();
    words
        .iter()
        .any(|w| memchr::memmem::find(&area, w).is_some())
}

impl Matcher {
    pub(crate) fn accept(
        &self,
        index: RuleIndex,
        hay: &[u8],
        s: usize,
        e: usize,
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
        if !rule.context_words.is_empty()
            && !has_context(hay, s, e, rule.context_window, &rule.context_words)
        {
            return None;
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
        if self.filters.example_values.contains(value) {
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

    #[test]
    fn filler() {
        assert!(is_filler(b"xxxxxxxxxx"));
        assert!(is_filler(b"abababab"));
        assert!(!is_filler(b"abcabcab"));
        assert!(!is_filler(b"xxxx"));
    }
}
