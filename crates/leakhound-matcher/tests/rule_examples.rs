//! Every built-in rule's examples, run through the full engine with every other rule
//! loaded, exactly as a scan runs them.

use leakhound_matcher::{check_examples, Matcher};
use leakhound_rules::RuleSet;

#[test]
fn every_builtin_example_behaves() {
    let set = RuleSet::builtin().expect("built-in rules load");
    let matcher = Matcher::new(&set).expect("built-in rules compile");
    let failures = check_examples(&set, &matcher);
    let report: Vec<String> = failures.iter().map(ToString::to_string).collect();
    assert!(
        failures.is_empty(),
        "{} example failures:\n{}",
        failures.len(),
        report.join("\n")
    );
}

/// Regression: `+86 186 0000 1234` was reported twice, once from `+` and once from the
/// token `186` inside it.
#[test]
fn a_rule_does_not_report_a_value_nested_in_its_own_match() {
    let set = RuleSet::builtin().expect("built-in rules load");
    let matcher = Matcher::new(&set).expect("built-in rules compile");
    let hay = "mobile: +86 186 0000 1234\n".as_bytes();
    let hits = matcher.scan(hay);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(&hay[hits[0].start..hits[0].end], b"+86 186 0000 1234");
}

/// A generic rule gives way to a specific one of its category on an overlapping value.
/// The check was quadratic in a blob's matches (a 300,000-row customer CSV took
/// minutes); now it sorts. 2,000 independent blocks scanned as one blob must give what
/// each block gives alone.
#[test]
fn generic_overlaps_are_dropped_the_same_in_a_big_blob() {
    let set = RuleSet::builtin().expect("built-in rules load");
    let matcher = Matcher::new(&set).expect("built-in rules compile");
    let block = |i: usize| {
        format!(
            "# Copyright 2019 Li Na <li.na{i}@tsp-vendor.cn>\n{}\ncontact: wang.fang{i}@carmaker-dealer.com.cn 13912345678\npassword = \"Xk{i}qGSRBhuQQme2\"\n{}\n",
            "-".repeat(100),
            "-".repeat(100)
        )
    };
    let mut hay = String::new();
    let mut expected = Vec::new();
    for i in 0..2000 {
        let b = block(i);
        for m in matcher.scan(b.as_bytes()) {
            expected.push((m.rule, m.start + hay.len(), m.end + hay.len()));
        }
        hay.push_str(&b);
    }
    let got: Vec<(usize, usize, usize)> = matcher
        .scan(hay.as_bytes())
        .iter()
        .map(|m| (m.rule, m.start, m.end))
        .collect();
    assert!(expected.len() >= 6000, "{}", expected.len());
    assert_eq!(got, expected);
}

mod fuzz {
    //! Stable-toolchain stand-in for `fuzz/fuzz_targets/matcher.rs`: arbitrary bytes and
    //! mixes of the fragments rules care about must never panic, and every reported
    //! span must lie inside the input.
    use leakhound_matcher::Matcher;
    use leakhound_rules::RuleSet;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn matcher() -> &'static Matcher {
        static M: OnceLock<Matcher> = OnceLock::new();
        M.get_or_init(|| {
            let set = RuleSet::builtin().expect("built-in rules load");
            Matcher::new(&set).expect("built-in rules compile")
        })
    }

    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{1,20}",
            "[A-Z0-9]{1,18}",
            Just("+86 ".to_string()),
            Just("京A".to_string()),
            Just("ghp_".to_string()),
            Just("password=".to_string()),
            Just("-----BEGIN RSA PRIVATE KEY-----\n".to_string()),
            "[ ,.:;()\n-]{1,3}",
            "\\PC{1,4}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
            for m in matcher().scan(&data) {
                prop_assert!(m.start < m.end && m.end <= data.len());
            }
        }

        #[test]
        fn fragment_soup(parts in proptest::collection::vec(fragment(), 0..60)) {
            let text = parts.concat();
            for m in matcher().scan(text.as_bytes()) {
                prop_assert!(m.start < m.end && m.end <= text.len());
            }
        }
    }
}
