//! Finding keyword-less rules from token starts with one anchored multi-pattern DFA.

use crate::RuleIndex;
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::hybrid::LazyStateID;
use regex_automata::util::pool::Pool;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind};

type CachePool = Pool<
    Cache,
    Box<dyn Fn() -> Cache + Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>,
>;

/// Keyword-less rules whose matches must start at a token boundary.
pub(crate) struct TokenRules {
    dfa: DFA,
    caches: CachePool,
    /// DFA pattern id -> rule
    rules: Vec<RuleIndex>,
    /// Per byte: `WORD` and/or `CAN_START` (can begin a match of at least one rule).
    class: [u8; 256],
    /// Per first byte, the rules that can begin with it (fallback when the DFA quits).
    by_first_byte: Vec<Vec<RuleIndex>>,
    /// For a non-ASCII first byte that can start a rule, which second bytes keep the
    /// DFA alive (bit `b0 << 8 | b1`), found on first use: the first byte of most
    /// Chinese characters can start a plate, so every character of a name or address
    /// began a walk that died on its second byte.
    pairs: std::sync::OnceLock<Vec<u64>>,
}

/// End offset meaning "not known: let the rule's regex find it".
pub(crate) const UNKNOWN_END: usize = usize::MAX;

const WORD: u8 = 1;
const CAN_START: u8 = 2;

/// Is the pair `b0 b1` in `pairs` (see `TokenRules::pairs`)?
fn is_live(pairs: &[u64], b0: u8, b1: u8) -> bool {
    let bit = usize::from(b0) << 8 | usize::from(b1);
    pairs
        .get(bit / 64)
        .is_some_and(|w| w & (1 << (bit % 64)) != 0)
}

pub(crate) fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl TokenRules {
    /// `rules`: (rule index, pattern, first-byte set) for every token-bounded,
    /// keyword-less rule.
    pub(crate) fn new(
        rules: Vec<(RuleIndex, String, [bool; 256])>,
    ) -> Result<Option<TokenRules>, String> {
        if rules.is_empty() {
            return Ok(None);
        }
        let patterns: Vec<&str> = rules.iter().map(|(_, p, _)| p.as_str()).collect();
        let dfa = DFA::builder()
            .configure(
                DFA::config()
                    .match_kind(MatchKind::All)
                    .cache_capacity(8 << 20)
                    .skip_cache_capacity_check(true),
            )
            .syntax(syntax::Config::new().utf8(false))
            .build_many(&patterns)
            .map_err(|e| e.to_string())?;
        let mut class = [0u8; 256];
        for (b, c) in class.iter_mut().enumerate() {
            if is_word(b as u8) {
                *c |= WORD;
            }
        }
        let mut by_first_byte = vec![Vec::new(); 256];
        for (index, _, first) in &rules {
            for (b, yes) in first.iter().enumerate() {
                if *yes {
                    class[b] |= CAN_START;
                    by_first_byte[b].push(*index);
                }
            }
        }
        let for_pool = dfa.clone();
        let create: Box<
            dyn Fn() -> Cache + Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe,
        > = Box::new(move || for_pool.create_cache());
        Ok(Some(TokenRules {
            caches: Pool::new(create),
            dfa,
            rules: rules.iter().map(|(i, _, _)| *i).collect(),
            class,
            by_first_byte,
            pairs: std::sync::OnceLock::new(),
        }))
    }

    /// Call `found(start, hits)` at every token start where some rule matches; `hits`
    /// holds (rule, end) for every end at which each rule matches, in walk order.
    /// `by_pairs`: skip non-ASCII starts whose second byte kills the DFA without
    /// walking it (the tests turn it off to compare).
    pub(crate) fn for_each_candidate(
        &self,
        hay: &[u8],
        by_pairs: bool,
        mut found: impl FnMut(usize, &[(RuleIndex, usize)]),
    ) {
        let mut cache = self.caches.get();
        let mut hits: Vec<(RuleIndex, usize)> = Vec::new();
        let mut start_state = None;
        let pairs = self.pairs.get_or_init(|| self.live_pairs());
        let n = hay.len();
        let mut p = 0;
        while p < n {
            let class = self.class[usize::from(hay[p])];
            if class & CAN_START != 0
                && (!by_pairs || hay[p] < 0x80 || p + 1 == n || is_live(pairs, hay[p], hay[p + 1]))
            {
                hits.clear();
                self.rules_at(&mut cache, &mut start_state, hay, p, &mut hits);
                if !hits.is_empty() {
                    found(p, &hits);
                }
            }
            p += 1;
            if class & WORD != 0 {
                // Inside a word no token starts: skip to its end.
                while p < n && self.class[usize::from(hay[p])] & WORD != 0 {
                    p += 1;
                }
            }
        }
    }

    /// The pairs of bytes, non-ASCII first, after which the DFA is not dead (see
    /// `TokenRules::pairs`). A pair the DFA cannot judge (it quits) counts as live.
    fn live_pairs(&self) -> Vec<u64> {
        let mut live = vec![0u64; 65536 / 64];
        let mut cache = self.dfa.create_cache();
        let input = Input::new(&[][..]).anchored(Anchored::Yes);
        let Ok(start) = self.dfa.start_state_forward(&mut cache, &input) else {
            return vec![u64::MAX; 65536 / 64];
        };
        for b0 in 0x80..=0xFFu8 {
            if self.class[usize::from(b0)] & CAN_START == 0 {
                continue;
            }
            let after = self.dfa.next_state(&mut cache, start, b0);
            for b1 in 0..=0xFFu8 {
                let alive = match after {
                    Ok(sid) => match self.dfa.next_state(&mut cache, sid, b1) {
                        Ok(next) => !next.is_dead(),
                        Err(_) => true,
                    },
                    Err(_) => true,
                };
                if alive {
                    let bit = usize::from(b0) << 8 | usize::from(b1);
                    live[bit / 64] |= 1 << (bit % 64);
                }
            }
        }
        live
    }

    /// Every (rule, end) matching at `start`, from the DFA, or from a conservative
    /// fallback when the DFA gives up.
    fn rules_at(
        &self,
        cache: &mut Cache,
        start_state: &mut Option<(usize, LazyStateID)>,
        hay: &[u8],
        start: usize,
        hits: &mut Vec<(RuleIndex, usize)>,
    ) {
        if self.walk(cache, start_state, hay, start, hits).is_err() {
            // The lazy DFA gave up (pathological input): let every rule that can start
            // with this byte confirm with its own regex (end unknown). Slower, never wrong.
            hits.clear();
            hits.extend(
                self.by_first_byte[usize::from(hay[start])]
                    .iter()
                    .map(|&r| (r, UNKNOWN_END)),
            );
        }
    }

    /// Walk the anchored DFA from `start` by hand: cheaper than the search API for the
    /// millions of short walks a scan makes, most of which die on the second byte.
    fn walk(
        &self,
        cache: &mut Cache,
        start_state: &mut Option<(usize, LazyStateID)>,
        hay: &[u8],
        start: usize,
        hits: &mut Vec<(RuleIndex, usize)>,
    ) -> Result<(), ()> {
        // Token patterns have no look-around, so one anchored start state serves every
        // position. State ids die with a cache clear, hence the clear count beside it.
        let mut sid = match *start_state {
            Some((clears, sid)) if clears == cache.clear_count() => sid,
            _ => {
                let input = Input::new(hay).range(start..).anchored(Anchored::Yes);
                let sid = self
                    .dfa
                    .start_state_forward(cache, &input)
                    .map_err(|_| ())?;
                *start_state = Some((cache.clear_count(), sid));
                sid
            }
        };
        for (i, &b) in hay[start..].iter().enumerate() {
            sid = self.dfa.next_state(cache, sid, b).map_err(|_| ())?;
            if sid.is_tagged() {
                // Match states are delayed by one byte: this match ended before `b`.
                if sid.is_match() {
                    self.record(cache, sid, start + i, hits);
                }
                if sid.is_dead() {
                    return Ok(());
                }
                if sid.is_quit() {
                    return Err(());
                }
            }
        }
        sid = self.dfa.next_eoi_state(cache, sid).map_err(|_| ())?;
        if sid.is_match() {
            self.record(cache, sid, hay.len(), hits);
        }
        Ok(())
    }

    fn record(
        &self,
        cache: &Cache,
        sid: LazyStateID,
        end: usize,
        hits: &mut Vec<(RuleIndex, usize)>,
    ) {
        for i in 0..self.dfa.match_len(cache, sid) {
            hits.push((
                self.rules[self.dfa.match_pattern(cache, sid, i).as_usize()],
                end,
            ));
        }
    }
}
