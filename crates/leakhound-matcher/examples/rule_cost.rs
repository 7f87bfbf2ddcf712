//! Which rules cost most on a file: for rule authors chasing a slow scan.
//! `cargo run --release -p leakhound-matcher --example rule_cost -- FILE [ROUNDS]`
//! prints the time of all built-in rules together, then the 15 costliest rules each
//! alone (each alone includes the keyword pass, so compare them with each other).

use leakhound_matcher::Matcher;
use leakhound_rules::RuleSet;
use std::time::Instant;

fn per_scan(m: &Matcher, data: &[u8], rounds: u32) -> (f64, usize) {
    let hits = m.scan(data).len(); // compiles the rules it needs
    let t = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(m.scan(data));
    }
    (t.elapsed().as_secs_f64() * 1e3 / f64::from(rounds), hits)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: rule_cost FILE [ROUNDS]")?;
    let rounds: u32 = args.next().map(|r| r.parse()).transpose()?.unwrap_or(20);
    let data = std::fs::read(&path)?;
    let all = RuleSet::builtin()?;
    let (ms, hits) = per_scan(&Matcher::new(&all)?, &data, rounds);
    println!("all rules: {ms:.3} ms per scan, {hits} matches");
    let ids: Vec<String> = all.rules().iter().map(|r| r.id.to_string()).collect();
    let mut costs = Vec::new();
    for id in &ids {
        let mut one = RuleSet::builtin()?;
        let others: Vec<String> = ids.iter().filter(|i| *i != id).cloned().collect();
        one.disable(&others);
        // An aggregate rule alone lacks the rule it counts: skip it.
        let Ok(m) = Matcher::new(&one) else { continue };
        let (ms, hits) = per_scan(&m, &data, rounds);
        costs.push((ms, id, hits));
    }
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, id, hits) in costs.iter().take(15) {
        println!("{ms:8.3} ms  {id} ({hits} matches)");
    }
    Ok(())
}
