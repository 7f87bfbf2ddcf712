//! Any bytes through every built-in rule: must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static MATCHER: OnceLock<Option<leakhound_matcher::Matcher>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let m = MATCHER.get_or_init(|| {
        let rules = leakhound_rules::RuleSet::builtin().ok()?;
        leakhound_matcher::Matcher::new(&rules).ok()
    });
    if let Some(m) = m {
        let _ = m.scan(data);
    }
});
