//! The floor under any engine built from automata: how fast one pass over a file goes
//! when it only searches one literal (what `rg AKIA` does), when it only runs the
//! keyword automaton of every rule, and when it runs the whole matcher. All on one
//! thread, so the numbers are per core.
//!
//! `cargo run --release -p leakhound-matcher --example floor -- FILE [ROUNDS]`
//!
//! Why it exists: the speed target for the scanner was set as a multiple of ripgrep's
//! time. A single table-driven automaton pass, with no rule work at all, already costs
//! several times a SIMD literal search; this prints by how much on the machine at hand.

use aho_corasick::{AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use leakhound_matcher::Matcher;
use leakhound_rules::RuleSet;
use regex_automata::hybrid::dfa::DFA;
use regex_automata::{Input, MatchKind as ReMatchKind};
use std::hint::black_box;
use std::time::Instant;

/// Files are scanned one at a time, so passes run over file-sized pieces.
const PIECE: usize = 64 << 10;

fn rate(bytes: usize, rounds: u32, mut pass: impl FnMut() -> usize) -> (f64, usize) {
    let found = pass(); // warm caches and lazy states
    let t = Instant::now();
    for _ in 0..rounds {
        black_box(pass());
    }
    let secs = t.elapsed().as_secs_f64() / f64::from(rounds);
    (bytes as f64 / 1e6 / secs, found)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: floor FILE [ROUNDS]")?;
    let rounds: u32 = args.next().map(|r| r.parse()).transpose()?.unwrap_or(3);
    let data = std::fs::read(&path)?;
    let pieces: Vec<&[u8]> = data.chunks(PIECE).collect();
    let set = RuleSet::builtin()?;
    let mut keywords: Vec<String> = set
        .rules()
        .iter()
        .flat_map(|r| r.keywords.iter().map(|k| k.to_ascii_lowercase()))
        .collect();
    keywords.sort();
    keywords.dedup();
    println!(
        "{} MB, {} rules, {} distinct keywords, one thread",
        data.len() / 1_000_000,
        set.rules().len(),
        keywords.len()
    );

    let finder = memchr::memmem::Finder::new("AKIA");
    let (mbs, n) = rate(data.len(), rounds, || {
        pieces.iter().map(|p| finder.find_iter(p).count()).sum()
    });
    println!("{mbs:8.0} MB/s  one literal, SIMD (memchr::memmem, as ripgrep): {n} hits");

    let ac = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .kind(Some(AhoCorasickKind::DFA))
        .match_kind(MatchKind::Standard)
        .build(&keywords)?;
    let (mbs, n) = rate(data.len(), rounds, || {
        pieces
            .iter()
            .map(|p| ac.find_overlapping_iter(p).count())
            .sum()
    });
    println!("{mbs:8.0} MB/s  keyword automaton alone (Aho-Corasick DFA, overlapping, as the matcher runs it): {n} hits");
    let (mbs, n) = rate(data.len(), rounds, || {
        pieces.iter().map(|p| ac.find_iter(p).count()).sum()
    });
    println!("{mbs:8.0} MB/s  same automaton, non-overlapping: {n} hits");

    let patterns: Vec<String> = keywords
        .iter()
        .map(|k| format!("(?i-u){}", regex_syntax::escape(k)))
        .collect();
    let dfa = DFA::builder()
        .configure(DFA::config().match_kind(ReMatchKind::LeftmostFirst))
        .syntax(regex_automata::util::syntax::Config::new().utf8(false))
        .build_many(&patterns)?;
    let mut cache = dfa.create_cache();
    let (mbs, n) = rate(data.len(), rounds, || {
        let mut hits = 0;
        for p in &pieces {
            let mut at = 0;
            while let Ok(Some(m)) = dfa.try_search_fwd(&mut cache, &Input::new(p).range(at..)) {
                hits += 1;
                at = m.offset();
                if at >= p.len() {
                    break;
                }
            }
        }
        hits
    });
    println!(
        "{mbs:8.0} MB/s  same keywords, regex-automata lazy DFA (unrolled search loop): {n} hits"
    );

    let matcher = Matcher::new(&set)?;
    let (mbs, n) = rate(data.len(), rounds, || {
        pieces.iter().map(|p| matcher.scan(p).len()).sum()
    });
    println!("{mbs:8.0} MB/s  whole matcher, every rule: {n} matches");
    Ok(())
}
