//! Policy files and baselines come from repositories and CI artefacts: parsing any
//! bytes as either must return an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(policy) = leakhound_suppress::Policy::parse(&text, "fuzz.toml") {
        if let Ok(allow) = policy.allowlist() {
            let _ = allow.allows("a/b.zip!c/d.env", &text, "00");
        }
    }
    if let Ok(baseline) = leakhound_suppress::Baseline::parse(&text) {
        let _ = baseline.contains("00", "a");
    }
    let _ = leakhound_suppress::inline_allowed(data);
});
