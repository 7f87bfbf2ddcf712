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
    assert!(failures.is_empty(), "{} example failures:\n{}", failures.len(), report.join("\n"));
}
