//! The matching engine: one pass over a buffer applies every enabled rule.
//!
//! How the work is narrowed, cheapest first:
//! 1. **Keyword prefilter.** One Aho-Corasick automaton over every rule keyword (ASCII
//!    case-insensitive) finds which keyworded rules can match at all. Most blobs trigger
//!    none or a handful, so most rule regexes never run.
//! 2. **Token starts for keyword-less rules.** Personal and vehicle data (IDs, phones,
//!    VINs) have no keyword, but they are tokens: a match can only begin where a token
//!    begins. One tight loop visits token starts whose byte can open some rule, and at
//!    each one a single *anchored* multi-pattern lazy DFA reports every rule that
//!    matches there (overlapping, so an 18-digit bank card and a resident ID at the same
//!    start are both seen). An unanchored union of these counted patterns was measured
//!    at 0.7 MB/s (its DFA states explode); anchored, the DFA stays small.
//! 3. **Confirmation.** Each rule's own regex extracts the value; token boundaries,
//!    filters, entropy, context words and the validator decide. For a token rule whose
//!    value is its whole match, the DFA's own match ends are used instead of a second
//!    regex search: the value is the longest match at that token start that passes
//!    the checks (so `4111 1111 1111 1111 2024` still yields the 16-digit card).
//!
//! ```
//! use leakhound_matcher::Matcher;
//! use leakhound_rules::RuleSet;
//! let m = Matcher::new(&RuleSet::builtin().unwrap()).unwrap();
//! let hits = m.scan("身份证: 440304198706151231".as_bytes());
//! assert_eq!(&*m.rule(hits[0].rule).id, "cn-resident-id");
//! ```
#![deny(missing_docs)]

mod accept;
mod compile;
mod examples;
mod paths;
mod tokens;
mod windows;

pub use examples::{check_examples, example_bytes, ExampleFailure};

use aho_corasick::AhoCorasick;
use compile::CompiledRule;
use leakhound_findings::Confidence;
use leakhound_rules::RuleSet;
use std::sync::Arc;

/// Why rules could not be compiled into an engine.
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    /// A rule's pattern does not compile.
    #[error("rule `{rule}`: invalid regex: {message}")]
    Regex {
        /// Rule id.
        rule: String,
        /// The regex error.
        message: String,
    },
    /// A rule names a validator that does not exist.
    #[error("rule `{rule}`: unknown validator `{validator}`")]
    UnknownValidator {
        /// Rule id.
        rule: String,
        /// The name given.
        validator: String,
    },
    /// An aggregate rule counts a rule that is not loaded.
    #[error("rule `{rule}`: aggregate_of names unknown rule `{target}`")]
    UnknownAggregate {
        /// Rule id.
        rule: String,
        /// The missing rule.
        target: String,
    },
    /// A pattern uses a construct that defeats the engine's fast paths.
    #[error("rule `{rule}`: {message}")]
    SlowPattern {
        /// Rule id.
        rule: String,
        /// What to write instead.
        message: String,
    },
    /// The keyword automaton or the combined automaton could not be built.
    #[error("cannot build automaton: {0}")]
    Automaton(String),
}

/// Index of a rule inside a [`Matcher`].
pub type RuleIndex = usize;

/// Rule metadata shared by every finding of that rule.
#[derive(Debug)]
pub struct RuleInfo {
    /// Stable id.
    pub id: Arc<str>,
    /// Human name.
    pub name: Arc<str>,
    /// Family.
    pub category: leakhound_findings::Category,
    /// Severity.
    pub severity: leakhound_findings::Severity,
    /// Confidence when validated.
    pub confidence: Confidence,
    /// Validator name, if any.
    pub validator: Option<&'static str>,
}

/// One accepted match, before it is given a path and a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMatch {
    /// Which rule.
    pub rule: RuleIndex,
    /// Byte offset where the value starts.
    pub start: usize,
    /// Byte offset just after the value.
    pub end: usize,
    /// Confidence after validation.
    pub confidence: Confidence,
    /// For aggregate rules: how many matches were counted.
    pub count: Option<u64>,
    /// The value looks like an example or test value: reported one severity lower.
    pub doubtful: bool,
}

/// One rule reporting a value inside another value it already reported (`+86 186 0000
/// 1234` and its tail `186 0000 1234`, reached from two token starts) is one finding.
/// Expects `out` sorted by start, longest first.
fn drop_nested_repeats(out: &mut Vec<RawMatch>) {
    let mut kept: Vec<RawMatch> = Vec::with_capacity(out.len());
    for m in out.drain(..) {
        let nested = kept
            .iter()
            .rev()
            .take_while(|k| k.end > m.start || k.start == m.start)
            .any(|k| k.rule == m.rule && k.start <= m.start && m.end <= k.end);
        if !nested {
            kept.push(m);
        }
    }
    *out = kept;
}

/// How [`Matcher::scan_parts`] runs the rules. The tests compare the two.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    /// Rules that share a regex search it once, values that are whole matches are
    /// found without captures, and context words are found once per haystack for a
    /// rule with many candidates.
    Fast,
    /// Each rule searches alone, with captures, and looks for its context words
    /// around each candidate: the plain reading of the rules.
    #[cfg_attr(not(test), allow(dead_code))]
    Reference,
}

/// Compiled rules, ready to scan any number of buffers from any number of threads.
pub struct Matcher {
    rules: Vec<CompiledRule>,
    info: Vec<RuleInfo>,
    keywords: Option<AhoCorasick>,
    /// keyword pattern index -> rules that list it
    keyword_rules: Vec<Vec<RuleIndex>>,
    /// Keyword-less, token-bounded rules, found from token starts.
    token_rules: Option<tokens::TokenRules>,
    /// Keyword-less rules without token boundaries: scanned on their own.
    unbounded_rules: Vec<RuleIndex>,
    /// Rules that run only on files at certain paths (see `paths.rs`).
    path_rules: paths::PathRules,
    aggregates: Vec<(RuleIndex, RuleIndex, usize)>,
    filters: accept::Filters,
}

impl Matcher {
    /// Compile a rule set. Fails on the first rule that cannot be compiled, naming it.
    pub fn new(rules: &RuleSet) -> Result<Matcher, MatcherError> {
        compile::build(rules)
    }

    /// Metadata of a rule.
    /// The index of the rule with this id, if it is loaded.
    pub fn rule_index(&self, id: &str) -> Option<RuleIndex> {
        self.info.iter().position(|i| &*i.id == id)
    }

    /// Rule metadata by index.
    pub fn rule(&self, index: RuleIndex) -> &RuleInfo {
        &self.info[index]
    }

    /// Number of rules compiled.
    pub fn len(&self) -> usize {
        self.info.len()
    }

    /// True if no rules are loaded.
    pub fn is_empty(&self) -> bool {
        self.info.is_empty()
    }

    /// The path rules (rules with `paths`) that apply to a file at `path`, for
    /// [`Matcher::scan_with`]. Empty for most paths, and always when no rule has paths.
    pub fn rules_for_path(&self, path: &str) -> Vec<RuleIndex> {
        self.path_rules.matching(path)
    }

    /// Every accepted match in `hay`, ordered by position (longest first at equal
    /// starts). Never panics on any input. Path rules do not run: see
    /// [`Matcher::scan_with`].
    pub fn scan(&self, hay: &[u8]) -> Vec<RawMatch> {
        self.scan_with(hay, &[])
    }

    /// [`Matcher::scan`], also running the path rules `scoped` (from
    /// [`Matcher::rules_for_path`]) over the whole of `hay`.
    pub fn scan_with(&self, hay: &[u8], scoped: &[RuleIndex]) -> Vec<RawMatch> {
        self.scan_parts(hay, scoped, true, Way::Fast)
    }

    /// [`Matcher::scan`] of one window of a bigger text, without counting the rules
    /// that [`Matcher::aggregates`] names into their aggregate: whether a file's
    /// coordinates are a trace depends on all of its windows, so the caller counts.
    /// (A counted match nested in another of its rule is dropped before it is counted
    /// here, after it is counted by [`Matcher::scan`]; no built-in rule nests so.)
    pub fn scan_window(&self, hay: &[u8]) -> Vec<RawMatch> {
        self.scan_parts(hay, &[], false, Way::Fast)
    }

    /// The aggregate rules: (aggregate, the rule it counts, the count from which the
    /// counted rule's matches in one text are reported as one aggregate match).
    pub fn aggregates(&self) -> &[(RuleIndex, RuleIndex, usize)] {
        &self.aggregates
    }

    /// Every accepted match in order, counted into aggregates if `aggregate`.
    fn scan_parts(
        &self,
        hay: &[u8],
        scoped: &[RuleIndex],
        aggregate: bool,
        way: Way,
    ) -> Vec<RawMatch> {
        let mut out = Vec::new();
        let mut context = accept::ContextHits::new(way == Way::Reference);
        // Per rule: not hit, hit (match the whole blob), or hit on some lines only.
        let mut whole = vec![false; self.rules.len()];
        let mut last_window: Vec<usize> = vec![usize::MAX; self.rules.len()];
        let mut windows: Vec<(RuleIndex, usize, usize)> = Vec::new();
        if let Some(ac) = &self.keywords {
            let mut line = (usize::MAX, 0);
            for m in ac.find_overlapping_iter(hay) {
                for &r in &self.keyword_rules[m.pattern().as_usize()] {
                    if whole[r] {
                        continue;
                    }
                    if !self.rules[r].line_bound {
                        whole[r] = true;
                        continue;
                    }
                    if !(line.0 <= m.start() && m.end() <= line.1) {
                        line = windows::line_around(hay, m.start(), m.end());
                    }
                    // Hits come in order: grow this rule's last window when the line
                    // is the same or the next one.
                    match windows.get_mut(last_window[r]) {
                        Some(w) if w.2 >= line.0 => w.2 = w.2.max(line.1),
                        _ => {
                            last_window[r] = windows.len();
                            windows.push((r, line.0, line.1));
                        }
                    }
                }
            }
        }
        // Every (search, span, rule) to run; rules that share a search over the same
        // span run it once.
        let mut jobs: Vec<(RuleIndex, usize, usize, RuleIndex)> = Vec::new();
        for (index, fired) in whole.iter().enumerate() {
            if *fired {
                jobs.push((self.rules[index].same_search, 0, hay.len(), index));
            }
        }
        for &(index, from, to) in &windows {
            if !whole[index] {
                jobs.push((self.rules[index].same_search, from, to, index));
            }
        }
        jobs.sort_unstable();
        let mut sharing: Vec<RuleIndex> = Vec::new();
        for (i, &(search, from, to, index)) in jobs.iter().enumerate() {
            sharing.push(index);
            let next = jobs.get(i + 1).map(|&(s, f, t, _)| (s, f, t));
            if next != Some((search, from, to)) || way == Way::Reference {
                self.run_rules(&sharing, hay, from, to, &mut out, &mut context);
                sharing.clear();
            }
        }
        self.run_always(hay, &mut out, &mut context);
        for &index in scoped {
            if index < self.rules.len() {
                self.run_rules(&[index], hay, 0, hay.len(), &mut out, &mut context);
            }
        }
        let order = |m: &RawMatch| (m.start, std::cmp::Reverse(m.end), m.rule);
        if way == Way::Reference {
            self.drop_generic_overlaps_by_sorting(&mut out);
        } else {
            out.sort_by_key(order);
            self.drop_generic_overlaps(&mut out);
        }
        if aggregate {
            self.apply_aggregates(&mut out);
        }
        if aggregate || way == Way::Reference {
            // Aggregates go at the end; sorting sorted runs is one pass.
            out.sort_by_key(order);
        }
        drop_nested_repeats(&mut out);
        out
    }

    /// Run the regex that the rules `sharing` have in common (one search, see
    /// `CompiledRule::same_search`) over `hay[from..to]`, and judge each value it
    /// extracts for each of them.
    fn run_rules(
        &self,
        sharing: &[RuleIndex],
        hay: &[u8],
        from: usize,
        to: usize,
        out: &mut Vec<RawMatch>,
        context: &mut accept::ContextHits,
    ) {
        let Some(&first) = sharing.first() else {
            return;
        };
        let rule = &self.rules[first];
        let Some(re) = rule.regex.as_ref().and_then(|r| r.get()) else {
            return;
        };
        let Some(bounded) = hay.get(..to) else {
            return;
        };
        let find_only = rule.find_only && !context.is_reference();
        let mut judge = |s: usize, e: usize| {
            for &index in sharing {
                if let Some(m) = self.accept(index, hay, s, e, context) {
                    out.push(m);
                }
            }
        };
        if find_only {
            // Same leftmost-first matches as the capturing search below, found by the
            // DFAs alone.
            let mut at = from;
            while at <= bounded.len() {
                let Some(whole) = re.find_at(bounded, at) else {
                    break;
                };
                at = if whole.end() > whole.start() {
                    whole.end()
                } else {
                    whole.end() + 1
                };
                judge(whole.start(), whole.end());
            }
            return;
        }
        let mut locations = re.capture_locations();
        let mut at = from;
        while at <= bounded.len() {
            let Some(whole) = re.captures_read_at(&mut locations, bounded, at) else {
                break;
            };
            at = if whole.end() > whole.start() {
                whole.end()
            } else {
                whole.end() + 1
            };
            let value = rule
                .value_groups
                .iter()
                .find_map(|&g| locations.get(g))
                .unwrap_or((whole.start(), whole.end()));
            judge(value.0, value.1);
        }
    }

    fn run_always(&self, hay: &[u8], out: &mut Vec<RawMatch>, context: &mut accept::ContextHits) {
        if let Some(tokens) = &self.token_rules {
            let mut rules: Vec<RuleIndex> = Vec::new();
            let mut ends: Vec<usize> = Vec::new();
            let by_pairs = !context.is_reference();
            tokens.for_each_candidate(hay, by_pairs, |start, hits| {
                rules.clear();
                for &(rule, _) in hits {
                    if !rules.contains(&rule) {
                        rules.push(rule);
                    }
                }
                for &rule in &rules {
                    if self.rules[rule].whole_value
                        && !hits
                            .iter()
                            .any(|&(r, e)| r == rule && e == tokens::UNKNOWN_END)
                    {
                        // The value is the whole match and the DFA already knows every
                        // end: take the longest one that is a token and validates.
                        ends.clear();
                        ends.extend(hits.iter().filter(|&&(r, _)| r == rule).map(|&(_, e)| e));
                        ends.sort_unstable_by(|a, b| b.cmp(a));
                        ends.dedup();
                        if let Some(m) = ends
                            .iter()
                            .find_map(|&end| self.accept(rule, hay, start, end, context))
                        {
                            out.push(m);
                        }
                    } else {
                        self.confirm_at(rule, hay, start, out, context);
                    }
                }
            });
        }
        for &index in &self.unbounded_rules {
            self.run_rules(&[index], hay, 0, hay.len(), out, context);
        }
    }

    /// Run rule `index`'s own regex anchored at `start` and judge what it extracts.
    fn confirm_at(
        &self,
        index: RuleIndex,
        hay: &[u8],
        start: usize,
        out: &mut Vec<RawMatch>,
        context: &mut accept::ContextHits,
    ) {
        let rule = &self.rules[index];
        if let (Some(anchored), true) = (
            rule.anchored.as_ref().and_then(|a| a.get()),
            rule.whole_value,
        ) {
            let input = regex_automata::Input::new(hay)
                .range(start..)
                .anchored(regex_automata::Anchored::Yes);
            if let Some(m) = anchored.find(input) {
                if let Some(found) = self.accept(index, hay, m.start(), m.end(), context) {
                    out.push(found);
                }
            }
            return;
        }
        let Some(re) = rule.regex.as_ref().and_then(|r| r.get()) else {
            return;
        };
        // The token DFA said this rule matches at `start`; the rule's own regex (leftmost-
        // first, greedy) decides the exact span and groups, as a standalone scan would.
        let Some(caps) = re.captures_at(hay, start) else {
            return;
        };
        let Some(whole) = caps.get(0) else { return };
        if whole.start() != start {
            return;
        }
        let Some(value) = rule
            .value_groups
            .iter()
            .find_map(|&g| caps.get(g))
            .or(Some(whole))
        else {
            return;
        };
        if let Some(m) = self.accept(index, hay, value.start(), value.end(), context) {
            out.push(m);
        }
    }

    /// A catch-all rule (generic password assignment) is noise where a specific rule of
    /// the same category already reported an overlapping value. Other categories do not
    /// count: an e-mail-shaped `user:pass@host` must not hide the credential in it.
    ///
    /// Linear, plus a binary search per generic match: `out` comes sorted by start, so
    /// each category that has a generic match (one or two) takes its specific matches
    /// in order in one pass. (A customer export has a generic e-mail and several
    /// specific matches on every row: comparing each with each was quadratic, and
    /// sorting every specific match of every window was 2% of a dense scan.)
    fn drop_generic_overlaps(&self, out: &mut Vec<RawMatch>) {
        let mut categories: Vec<leakhound_findings::Category> = Vec::new();
        for m in out.iter() {
            let c = self.info[m.rule].category;
            if self.rules[m.rule].generic && !categories.contains(&c) {
                categories.push(c);
            }
        }
        for c in categories {
            // This category's specific matches' (start, end), in order of start, and
            // the largest end among the first i of them.
            let mut specific: Vec<(usize, usize)> = Vec::new();
            let mut reach: Vec<usize> = Vec::new();
            let mut furthest = 0;
            for m in out.iter() {
                if !self.rules[m.rule].generic && self.info[m.rule].category == c {
                    specific.push((m.start, m.end));
                    furthest = furthest.max(m.end);
                    reach.push(furthest);
                }
            }
            out.retain(|m| {
                if !self.rules[m.rule].generic || self.info[m.rule].category != c {
                    return true;
                }
                // The specific matches that start before `m` ends overlap it if one of
                // them ends after it starts.
                let to = specific.partition_point(|&(s, _)| s < m.end);
                !(to > 0 && reach[to - 1] > m.start)
            });
        }
    }

    /// [`Matcher::drop_generic_overlaps`] on matches in any order, as it was before
    /// the matches came sorted: it sorts every category's specific matches. The
    /// reference way, which the tests compare with.
    fn drop_generic_overlaps_by_sorting(&self, out: &mut Vec<RawMatch>) {
        if !out.iter().any(|m| self.rules[m.rule].generic) {
            return;
        }
        // Per category: specific matches' (start, end) sorted by start, and the largest
        // end among the first i of them.
        let mut specific: Vec<(leakhound_findings::Category, usize, usize)> = out
            .iter()
            .filter(|m| !self.rules[m.rule].generic)
            .map(|m| (self.info[m.rule].category, m.start, m.end))
            .collect();
        specific.sort_unstable();
        let mut reach = Vec::with_capacity(specific.len());
        let mut category = None;
        let mut furthest = 0;
        for &(c, _, e) in &specific {
            if category != Some(c) {
                category = Some(c);
                furthest = 0;
            }
            furthest = furthest.max(e);
            reach.push(furthest);
        }
        out.retain(|m| {
            if !self.rules[m.rule].generic {
                return true;
            }
            let c = self.info[m.rule].category;
            // The specific matches of this category that start before `m` ends…
            let from = specific.partition_point(|&(sc, _, _)| sc < c);
            let to = specific.partition_point(|&(sc, s, _)| sc < c || (sc == c && s < m.end));
            // …overlap it if one of them ends after it starts.
            !(to > from && reach[to - 1] > m.start)
        });
    }

    /// Many coordinate pairs in one blob are a location trace: report the trace once
    /// instead of every point.
    fn apply_aggregates(&self, out: &mut Vec<RawMatch>) {
        for &(aggregate, counted, min_count) in &self.aggregates {
            let count = out.iter().filter(|m| m.rule == counted).count();
            if count < min_count {
                continue;
            }
            let first = out
                .iter()
                .filter(|m| m.rule == counted)
                .min_by_key(|m| m.start)
                .map(|m| (m.start, m.end));
            out.retain(|m| m.rule != counted);
            if let Some((start, end)) = first {
                out.push(RawMatch {
                    rule: aggregate,
                    start,
                    end,
                    confidence: self.info[aggregate].confidence,
                    count: Some(count as u64),
                    doubtful: false,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn matcher() -> &'static Matcher {
        static M: std::sync::OnceLock<Matcher> = std::sync::OnceLock::new();
        M.get_or_init(|| Matcher::new(&RuleSet::builtin().expect("rules")).expect("matcher"))
    }

    /// Pieces of customer exports, logs and source headers: values of rules that share
    /// a search (the two e-mail rules), of rules with context words, and the words
    /// themselves in any case, near and far.
    const PIECES: &[&str] = &[
        "u12@carmaker.cn",
        "Li.Wei+crm@example-mail.com.cn",
        "13912345678@qq.com",
        "password = \"AKIAZ7QK3MXPLW2RT4NB\"",
        "DB_PASSWORD=Sup3r-s3cret-Pa55\n",
        "mysql://app:Zx9-k2Lm-p0Qw@db.carmaker.cn/crm",
        "31.230416,121.473701 ",
        "a@b",
        "Author: ",
        "MAINTAINER ",
        "co-authored-by: ",
        "Signed-off-by: ",
        "(c) 2024 ",
        "copyright",
        "imei:490154203237518",
        "iccid=89860318640220133897",
        "SSN 078-05-1120",
        "passport E12345678",
        "身份证 110105800101101",
        "440304198706151231",
        "13800138000",
        "LSVAU218XN2183294",
        "粤B6F2J8",
        "京A·F1234",
        "徐英",
        "广东省深圳市南山区科技园路643号",
        "é",
        ",",
        "\n",
        " ",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "中文备注",
    ];

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(0..PIECES.len(), 0..400)
            .prop_map(|picks| picks.into_iter().map(|i| PIECES[i]).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The fast way (shared searches, searches without captures, context words
        /// found once per haystack, generic matches dropped from sorted matches)
        /// finds exactly what the plain reading of the rules finds.
        #[test]
        fn fast_matching_equals_the_reference(text in text()) {
            let m = matcher();
            for aggregate in [false, true] {
                let fast = m.scan_parts(text.as_bytes(), &[], aggregate, Way::Fast);
                let plain = m.scan_parts(text.as_bytes(), &[], aggregate, Way::Reference);
                prop_assert_eq!(fast, plain);
            }
        }
    }

    /// Past the first few candidates, a rule's context words are looked up in the
    /// haystack's list of them: a word near the 40th e-mail still counts, one beyond
    /// the rule's window does not. (The property test above compares whole outputs;
    /// this one shows the lookup is reached and decides.)
    #[test]
    fn context_words_found_once_per_haystack_still_decide() {
        let m = matcher();
        let contributor = m.rule_index("contributor-email").expect("rule");
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&format!("row {i},u{i}@carmaker.cn\n"));
        }
        text.push_str(&"-".repeat(200));
        text.push_str("\nAuthor: Li Wei <li.wei@carmaker.cn>\n");
        text.push_str(&"-".repeat(200));
        text.push_str("\nnobody@carmaker.cn\n");
        let found: Vec<&[u8]> = m
            .scan(text.as_bytes())
            .into_iter()
            .filter(|f| f.rule == contributor)
            .map(|f| &text.as_bytes()[f.start..f.end])
            .collect();
        assert_eq!(found, vec![&b"li.wei@carmaker.cn"[..]]);
        let reference = m.scan_parts(text.as_bytes(), &[], true, Way::Reference);
        assert_eq!(m.scan(text.as_bytes()), reference);
    }
}
