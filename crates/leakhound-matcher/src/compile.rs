//! Turning rules into automata.

use crate::accept::Filters;
use crate::{Matcher, MatcherError, RuleIndex, RuleInfo};
use aho_corasick::{AhoCorasickBuilder, MatchKind};
use leakhound_rules::{Rule, RuleSet};
use leakhound_validators::Validator;
use regex::bytes::{Regex, RegexBuilder};
use regex_automata::meta;
use regex_syntax::hir::{Class, Hir, HirKind};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// A regex compiled on first use. Most scans trigger a handful of the ~260 rules, and
/// compiling all of them up front cost ~100 ms of start-up, too much for a pre-commit
/// hook scanning one file. Syntax is still checked when the matcher is built.
pub(crate) struct LazyRegex {
    pattern: String,
    compiled: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    fn new(pattern: &str) -> LazyRegex {
        LazyRegex {
            pattern: pattern.to_string(),
            compiled: OnceLock::new(),
        }
    }

    pub(crate) fn get(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| build_regex(&self.pattern).ok())
            .as_ref()
    }
}

/// Same as [`LazyRegex`] for the anchored-search copy of token rules.
pub(crate) struct LazyMeta {
    pattern: String,
    compiled: OnceLock<Option<meta::Regex>>,
}

impl LazyMeta {
    pub(crate) fn get(&self) -> Option<&meta::Regex> {
        self.compiled
            .get_or_init(|| {
                meta::Regex::builder()
                    .syntax(regex_automata::util::syntax::Config::new().utf8(false))
                    .build(&self.pattern)
                    .ok()
            })
            .as_ref()
    }
}

/// A rule with its patterns compiled (lazily).
pub(crate) struct CompiledRule {
    pub regex: Option<LazyRegex>,
    /// Groups that may hold the value; the first that took part in a match is used.
    pub value_groups: Vec<usize>,
    /// Token rules: an anchored-search copy, for finding a match end without captures.
    pub anchored: Option<LazyMeta>,
    /// The value group spans the whole pattern, so no captures are needed.
    pub whole_value: bool,
    /// The value is always the whole match (any rule, token or keyworded): a regex
    /// search finds it without captures, which need the slower backtracking engine.
    pub find_only: bool,
    /// The first rule with the same regex and value groups (itself if none comes
    /// before): rules that share a search run it once over a span (see
    /// `Matcher::run_rules`). Two built-in e-mail rules differ only in context words.
    pub same_search: RuleIndex,
    pub validator: Option<Validator>,
    pub min_entropy: Option<f64>,
    pub context: Option<Context>,
    pub context_window: usize,
    pub boundary: bool,
    pub placeholder_filter: bool,
    pub generic: bool,
    pub allow: Vec<LazyRegex>,
    pub doubtful: Vec<LazyRegex>,
    /// Matched only on the lines holding its keywords (see `windows.rs`).
    pub line_bound: bool,
}

/// A rule's context words, found in the bytes around a candidate: ASCII letters in any
/// case, other bytes exactly. Built on first use: most rules have none, and most scans
/// never reach the few that do.
pub(crate) struct Context {
    words: Vec<Vec<u8>>,
    automaton: OnceLock<Option<aho_corasick::AhoCorasick>>,
    /// The words as they are (lower case), shortest first, for a lower-cased
    /// haystack: see [`Context::all_in`].
    exact: OnceLock<Option<Exact>>,
}

impl Context {
    pub(crate) fn new(words: &[String]) -> Option<Context> {
        if words.is_empty() {
            return None;
        }
        Some(Context {
            words: words
                .iter()
                .map(|w| w.to_lowercase().into_bytes())
                .collect(),
            automaton: OnceLock::new(),
            exact: OnceLock::new(),
        })
    }

    /// The words' automaton (ASCII letters in any case), built on first use.
    fn automaton(&self) -> Option<&aho_corasick::AhoCorasick> {
        self.automaton
            .get_or_init(|| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&self.words)
                    .ok()
            })
            .as_ref()
    }

    /// Does `area` hold one of the words? Same answer as lower-casing `area`'s ASCII
    /// letters and searching it for each (lower-cased) word, without the copy.
    pub(crate) fn is_in(&self, area: &[u8]) -> bool {
        match self.automaton() {
            Some(ac) => ac.is_match(area),
            None => {
                let area = area.to_ascii_lowercase();
                self.words
                    .iter()
                    .any(|w| memchr::memmem::find(&area, w).is_some())
            }
        }
    }

    /// Where the words lie in `hay`, enough to answer "is a word wholly within
    /// `lo..hi`?" for any range: each place where a word starts, with the end of the
    /// shortest word there, as (start, end) in order of start. `None` if no searcher
    /// could be built.
    ///
    /// The words are searched leftmost-first, shortest first, in a lower-cased copy
    /// of `hay`, restarting after each reported start: every start is reported, with
    /// its shortest word. A case-sensitive SIMD searcher (Teddy) over that copy is
    /// several times faster than the case-insensitive automaton, which had no
    /// usable prefilter for these words (an e-mail rule's context was 4-8% of a dense
    /// export's scan).
    pub(crate) fn all_in(&self, hay: &[u8]) -> Option<Vec<(usize, usize)>> {
        let exact = self
            .exact
            .get_or_init(|| {
                let mut words = self.words.clone();
                words.sort_by_key(Vec::len);
                if let Some(teddy) = aho_corasick::packed::Config::new()
                    .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
                    .builder()
                    .extend(&words)
                    .build()
                {
                    return Some(Exact::Teddy(teddy));
                }
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(&words)
                    .ok()
                    .map(Exact::Automaton)
            })
            .as_ref()?;
        let longest = self.words.iter().map(Vec::len).max().unwrap_or(0);
        Some(starts_in_pieces(exact, hay, CONTEXT_PIECE, longest))
    }
}

/// Bytes of a haystack lower-cased at a time for [`Context::all_in`]: a copy of a
/// whole 500 MB log would double its memory.
const CONTEXT_PIECE: usize = 1 << 20;

/// [`Exact::starts`] of `hay` lower-cased, copied `piece` bytes at a time. ASCII
/// folding keeps every byte in place, so places in a copy are places in `hay`. Each
/// copy reaches `longest - 1` bytes past its piece, so a word starting in the piece is
/// seen whole; only the starts inside the piece are kept.
fn starts_in_pieces(
    exact: &Exact,
    hay: &[u8],
    piece: usize,
    longest: usize,
) -> Vec<(usize, usize)> {
    let piece = piece.max(1);
    let mut hits = Vec::new();
    let mut lower = Vec::new();
    let mut from = 0;
    while from < hay.len() {
        let owned = (from + piece).min(hay.len());
        let to = owned
            .saturating_add(longest.saturating_sub(1))
            .min(hay.len());
        lower.clear();
        lower.extend(hay[from..to].iter().map(u8::to_ascii_lowercase));
        hits.extend(
            exact
                .starts(&lower)
                .into_iter()
                .map(|(s, e)| (from + s, from + e))
                .filter(|&(s, _)| s < owned),
        );
        from = owned;
    }
    hits
}

impl Exact {
    /// Each place in `lower` where a word starts, with the end of the first listed
    /// (shortest) word there.
    fn starts(&self, lower: &[u8]) -> Vec<(usize, usize)> {
        let mut hits = Vec::new();
        let mut at = 0;
        while at < lower.len() {
            let found = match self {
                Exact::Teddy(t) => t.find_in(lower, aho_corasick::Span::from(at..lower.len())),
                Exact::Automaton(ac) => ac.find(aho_corasick::Input::new(lower).range(at..)),
            };
            let Some(m) = found else {
                break;
            };
            hits.push((m.start(), m.end()));
            at = m.start() + 1;
        }
        hits
    }
}

/// A leftmost-first searcher of context words: SIMD where the CPU has it.
enum Exact {
    Teddy(aho_corasick::packed::Searcher),
    Automaton(aho_corasick::AhoCorasick),
}

/// Unicode-aware `\b`, `\d` and `\w` force the regex engine off its DFA fast path on
/// non-ASCII text (every Chinese file) or match digits of other scripts. Rules spell
/// out ASCII instead.
fn lint(rule: &Rule, pattern: &str) -> Result<(), MatcherError> {
    let stripped = pattern.replace("(?-u:\\b)", "").replace("\\\\", "");
    for (bad, instead) in [
        ("\\b", "(?-u:\\b)"),
        ("\\d", "[0-9]"),
        ("\\w", "[A-Za-z0-9_]"),
        ("\\D", "[^0-9]"),
        ("\\W", "[^A-Za-z0-9_]"),
    ] {
        if stripped.contains(bad) {
            return Err(MatcherError::SlowPattern {
                rule: rule.id.clone(),
                message: format!("write {instead} instead of {bad} (Unicode classes slow the engine and match other scripts' digits)"),
            });
        }
    }
    Ok(())
}

fn build_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .size_limit(64 << 20)
        .dfa_size_limit(64 << 20)
        .build()
}

/// Check a pattern now; compile it now only for rules from user files, whose mistakes
/// should fail the run at start, not be skipped silently mid-scan. Built-in rules are
/// compiled by the test suite.
fn checked_regex(rule: &Rule, pattern: &str) -> Result<LazyRegex, MatcherError> {
    regex_syntax::ast::parse::Parser::new()
        .parse(pattern)
        .map_err(|e| MatcherError::Regex {
            rule: rule.id.clone(),
            message: e.to_string(),
        })?;
    lazy_regex(rule, pattern)
}

/// A pattern whose syntax is known to be good (parsed already): compiled now only for
/// rules from user files (see [`checked_regex`]).
fn lazy_regex(rule: &Rule, pattern: &str) -> Result<LazyRegex, MatcherError> {
    let err = |message: String| MatcherError::Regex {
        rule: rule.id.clone(),
        message,
    };
    let lazy = LazyRegex::new(pattern);
    if !is_builtin(rule) {
        let compiled = build_regex(pattern).map_err(|e| err(e.to_string()))?;
        let _ = lazy.compiled.set(Some(compiled));
    }
    Ok(lazy)
}

fn is_builtin(rule: &Rule) -> bool {
    leakhound_rules::BUILTIN_FILES
        .iter()
        .any(|(name, _)| *name == rule.source)
}

/// Groups holding the reported value: those named `value`, `value2`, `value3`… (a rule
/// with alternative shapes names one per shape; the first that took part wins), else
/// group 1 if the pattern has groups, else the whole match (0). Read from the syntax
/// tree so it needs no compiled regex.
fn value_groups(hir: &Hir) -> Vec<usize> {
    let mut names = Vec::new();
    collect_groups(hir, &mut names);
    names.sort_by_key(|(i, _)| *i);
    let named: Vec<usize> = names
        .iter()
        .filter(|(_, n)| n.as_deref().is_some_and(|n| n.starts_with("value")))
        .map(|(i, _)| *i as usize)
        .collect();
    if !named.is_empty() {
        named
    } else if names.is_empty() {
        vec![0]
    } else {
        vec![1]
    }
}

fn collect_groups(hir: &Hir, out: &mut Vec<(u32, Option<String>)>) {
    match hir.kind() {
        HirKind::Capture(c) => {
            out.push((c.index, c.name.as_deref().map(str::to_string)));
            collect_groups(&c.sub, out);
        }
        HirKind::Concat(v) | HirKind::Alternation(v) => {
            v.iter().for_each(|h| collect_groups(h, out))
        }
        HirKind::Repetition(r) => collect_groups(&r.sub, out),
        _ => {}
    }
}

/// A rule's pattern parsed once, for every question asked of its syntax tree.
fn parse(rule: &Rule, pattern: &str) -> Result<Hir, MatcherError> {
    regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .map_err(|e| MatcherError::Regex {
            rule: rule.id.clone(),
            message: e.to_string(),
        })
}

/// The keyword automaton: a full DFA, measured faster to search than the default NFA
/// for a few hundred keywords. Hits are reported overlapping, so a keyword inside or
/// across another ("secret" in "client_secret") is seen on its own: rules matched on
/// keyword lines only rely on every line with a keyword being reported.
fn keyword_automaton(
    keywords: &[String],
) -> Result<Option<aho_corasick::AhoCorasick>, MatcherError> {
    if keywords.is_empty() {
        return Ok(None);
    }
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .match_kind(MatchKind::Standard)
        .build(keywords.iter().map(String::as_bytes))
        .map(Some)
        .map_err(|e| MatcherError::Automaton(e.to_string()))
}

pub(crate) fn build(set: &RuleSet) -> Result<Matcher, MatcherError> {
    // The keyword automaton (a fifth of start-up) is built on its own thread while the
    // rules' patterns are parsed: a pre-commit hook on one file waits for the longer
    // of the two, not both.
    let mut keyword_index: HashMap<String, usize> = HashMap::new();
    let mut keyword_rules: Vec<Vec<RuleIndex>> = Vec::new();
    let mut keywords_in_order: Vec<String> = Vec::new();
    for (index, rule) in set.rules().iter().enumerate() {
        // A path rule runs where its path matches, never because of a keyword.
        if !rule.paths.is_empty() {
            continue;
        }
        for kw in &rule.keywords {
            let key = kw.to_ascii_lowercase();
            let slot = *keyword_index.entry(key.clone()).or_insert_with(|| {
                keyword_rules.push(Vec::new());
                keywords_in_order.push(key);
                keyword_rules.len() - 1
            });
            keyword_rules[slot].push(index);
        }
    }
    std::thread::scope(|scope| {
        let automaton = scope.spawn(|| keyword_automaton(&keywords_in_order));
        let built = build_rules(set, keyword_rules);
        let keywords = automaton.join().map_err(|_| {
            MatcherError::Automaton("the keyword automaton's thread failed".into())
        })??;
        built.map(|mut m| {
            m.keywords = keywords;
            m
        })
    })
}

fn build_rules(set: &RuleSet, keyword_rules: Vec<Vec<RuleIndex>>) -> Result<Matcher, MatcherError> {
    let mut rules = Vec::new();
    let mut info = Vec::new();
    let mut token_rules = Vec::new();
    let mut unbounded_rules = Vec::new();
    let ids: HashMap<&str, RuleIndex> = set
        .rules()
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let mut aggregates = Vec::new();
    let mut path_rules = crate::paths::PathRules::default();
    let mut searches: HashMap<(String, Vec<usize>), RuleIndex> = HashMap::new();

    for (index, rule) in set.rules().iter().enumerate() {
        for pattern in &rule.paths {
            crate::paths::check(pattern).map_err(|message| MatcherError::Regex {
                rule: rule.id.clone(),
                message: format!("path pattern: {message}"),
            })?;
            path_rules.add(index, pattern);
        }
        let validator =
            match &rule.validator {
                Some(name) => Some(Validator::from_name(name).ok_or_else(|| {
                    MatcherError::UnknownValidator {
                        rule: rule.id.clone(),
                        validator: name.clone(),
                    }
                })?),
                None => None,
            };
        let hir = match &rule.regex {
            Some(p) => {
                lint(rule, p)?;
                Some(parse(rule, p)?)
            }
            None => None,
        };
        let regex = match &rule.regex {
            Some(p) => Some(lazy_regex(rule, p)?),
            None => None,
        };
        let mut whole_value = false;
        let mut anchored = None;
        if let (Some(p), Some(hir), true) = (
            &rule.regex,
            &hir,
            rule.keywords.is_empty() && rule.paths.is_empty(),
        ) {
            if rule.boundary {
                let (first, _) = first_bytes(hir);
                token_rules.push((index, p.clone(), first));
                whole_value = value_is_whole_match(hir);
                anchored = Some(LazyMeta {
                    pattern: p.clone(),
                    compiled: OnceLock::new(),
                });
            } else {
                unbounded_rules.push(index);
            }
        }
        if let Some(target) = &rule.aggregate_of {
            let counted =
                *ids.get(target.as_str())
                    .ok_or_else(|| MatcherError::UnknownAggregate {
                        rule: rule.id.clone(),
                        target: target.clone(),
                    })?;
            aggregates.push((index, counted, rule.min_count));
        }
        let value_groups = match &hir {
            Some(hir) => value_groups(hir),
            None => vec![0],
        };
        let find_only = value_groups == [0]
            || (value_groups.first() == Some(&1) && hir.as_ref().is_some_and(value_is_whole_match));
        let same_search = match &rule.regex {
            Some(p) => *searches
                .entry((p.clone(), value_groups.clone()))
                .or_insert(index),
            None => index,
        };
        let line_bound = match &hir {
            Some(hir) if !rule.keywords.is_empty() && rule.paths.is_empty() => {
                crate::windows::line_bound(hir, &rule.keywords)
            }
            _ => false,
        };
        let allow = rule
            .allow
            .iter()
            .map(|p| checked_regex(rule, p))
            .collect::<Result<Vec<_>, _>>()?;
        let doubtful = rule
            .doubtful
            .iter()
            .map(|p| checked_regex(rule, p))
            .collect::<Result<Vec<_>, _>>()?;
        rules.push(CompiledRule {
            regex,
            value_groups,
            anchored,
            whole_value,
            find_only,
            same_search,
            validator,
            min_entropy: rule.min_entropy,
            context: Context::new(&rule.context_words),
            context_window: rule.context_window,
            boundary: rule.boundary,
            placeholder_filter: rule.placeholder_filter,
            generic: rule.generic,
            allow,
            doubtful,
            line_bound,
        });
        info.push(RuleInfo {
            id: Arc::from(rule.id.as_str()),
            name: Arc::from(rule.name.as_str()),
            category: rule.category,
            severity: rule.severity,
            confidence: rule.confidence,
            validator: validator.map(Validator::name),
        });
    }

    let token_rules =
        crate::tokens::TokenRules::new(token_rules).map_err(MatcherError::Automaton)?;
    Ok(Matcher {
        rules,
        info,
        keywords: None,
        keyword_rules,
        token_rules,
        unbounded_rules,
        path_rules,
        aggregates,
        filters: Filters::new(set.filters()).map_err(MatcherError::Automaton)?,
    })
}

/// Which bytes a match of `hir` can start with, and whether it can match empty.
/// Used to confirm only the rules that can possibly start at a candidate position.
fn first_bytes(hir: &Hir) -> ([bool; 256], bool) {
    let mut set = [false; 256];
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => return (set, true),
        HirKind::Literal(lit) => match lit.0.first() {
            Some(&b) => set[usize::from(b)] = true,
            None => return (set, true),
        },
        HirKind::Class(Class::Bytes(c)) => {
            for r in c.ranges() {
                for b in r.start()..=r.end() {
                    set[usize::from(b)] = true;
                }
            }
        }
        HirKind::Class(Class::Unicode(c)) => {
            for r in c.ranges() {
                let lo = utf8_first_byte(r.start());
                let hi = utf8_first_byte(r.end());
                for b in lo..=hi {
                    set[usize::from(b)] = true;
                }
            }
        }
        HirKind::Repetition(rep) => {
            let (inner, empty) = first_bytes(&rep.sub);
            return (inner, empty || rep.min == 0);
        }
        HirKind::Capture(cap) => return first_bytes(&cap.sub),
        HirKind::Concat(parts) => {
            for part in parts {
                let (s, empty) = first_bytes(part);
                for (a, b) in set.iter_mut().zip(s) {
                    *a |= b;
                }
                if !empty {
                    return (set, false);
                }
            }
            return (set, true);
        }
        HirKind::Alternation(alts) => {
            let mut any_empty = false;
            for alt in alts {
                let (s, empty) = first_bytes(alt);
                any_empty |= empty;
                for (a, b) in set.iter_mut().zip(s) {
                    *a |= b;
                }
            }
            return (set, any_empty);
        }
    }
    (set, false)
}

/// True if the pattern is one capture group around everything (`(?P<value>…)`), so
/// the value is the whole match and the cheap match-end search suffices.
fn value_is_whole_match(hir: &Hir) -> bool {
    matches!(hir.kind(), HirKind::Capture(c) if c.index == 1)
}

fn utf8_first_byte(c: char) -> u8 {
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf);
    buf[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SIMD searcher and the automaton it falls back to (on CPUs without
    /// SSSE3/AVX2) report the same starts and shortest words.
    #[test]
    fn context_searchers_agree() {
        let mut words: Vec<Vec<u8>> = ["co-authored-by", "author", "(c) ", "签名", "sim", "co"]
            .iter()
            .map(|w| w.as_bytes().to_vec())
            .collect();
        words.sort_by_key(Vec::len);
        let hay = "x co-authored-by: author (c) 2024 签名 simsim@a.cn xx author".as_bytes();
        let automaton = Exact::Automaton(
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build(&words)
                .expect("automaton"),
        );
        let expected = automaton.starts(hay);
        assert!(
            expected.contains(&(2, 4)),
            "the shortest word at a start: {expected:?}"
        );
        assert_eq!(
            expected.iter().filter(|h| h.1 - h.0 == 3).count(),
            2,
            "sim twice"
        );
        if let Some(teddy) = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(&words)
            .build()
        {
            assert_eq!(Exact::Teddy(teddy).starts(hay), expected);
        }
        // Lower-cased a few bytes at a time, with words cut by every piece edge: the
        // same starts as the whole haystack lower-cased at once (without `co`, the
        // longest word is the one reported at its start).
        let upper = hay.to_ascii_uppercase();
        for words in [words.clone(), words[1..].to_vec()] {
            let automaton = Exact::Automaton(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(&words)
                    .expect("automaton"),
            );
            let expected = automaton.starts(hay);
            let longest = words.iter().map(Vec::len).max().unwrap_or(0);
            for piece in 1..20 {
                assert_eq!(
                    starts_in_pieces(&automaton, &upper, piece, longest),
                    expected,
                    "{piece}"
                );
            }
        }
    }

    fn hir(p: &str) -> Hir {
        regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(p)
            .unwrap_or_else(|_| Hir::empty())
    }

    fn starts(p: &str) -> Vec<u8> {
        let (set, _) = first_bytes(&hir(p));
        (0..=255u8).filter(|b| set[usize::from(*b)]).collect()
    }

    #[test]
    fn value_group_selection() {
        assert_eq!(value_groups(&hir("abc")), vec![0]);
        assert_eq!(value_groups(&hir("k=(x+)")), vec![1]);
        assert_eq!(value_groups(&hir("(k)=(?P<value>x+)")), vec![2]);
        assert_eq!(
            value_groups(&hir("(?:a(?P<value>x)|b(?P<value2>y))")),
            vec![1, 2]
        );
    }

    #[test]
    fn first_byte_sets() {
        assert_eq!(starts("1[3-9][0-9]{9}"), b"1".to_vec());
        assert_eq!(starts("(?:\\+86)?1[0-9]"), b"+1".to_vec());
        assert_eq!(starts("[1-3]x|ab"), b"123a".to_vec());
        // Unicode case folding: (?i)k also matches the Kelvin sign U+212A (0xE2 …).
        assert_eq!(starts("(?i)k"), vec![b'K', b'k', 0xE2]);
        assert_eq!(starts("京").len(), 1);
    }
}
