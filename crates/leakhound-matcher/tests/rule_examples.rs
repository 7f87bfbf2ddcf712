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
