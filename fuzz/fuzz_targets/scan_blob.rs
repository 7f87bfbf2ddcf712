//! Any bytes through the whole blob scan, at a plain path and at credential-file
//! paths: path rules, decoding layers (base64, hex, url, quoted-printable, escapes),
//! locating and grading must never panic. Run: `cargo fuzz run scan_blob`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static SCANNER: OnceLock<Option<leakhound_scan::Scanner>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let scanner = SCANNER.get_or_init(|| {
        let rules = leakhound_rules::RuleSet::builtin().ok()?;
        let matcher = leakhound_matcher::Matcher::new(&rules).ok()?;
        Some(leakhound_scan::Scanner::new(matcher, Default::default()))
    });
    if let Some(s) = scanner {
        for path in ["notes.txt", "home/.s3cfg", "mail.eml", "deck.pptx"] {
            s.scan_blob(path, data, &mut |_| {});
        }
    }
});
