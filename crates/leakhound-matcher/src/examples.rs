//! Running every rule's examples: what `leakhound rules check` and the test suite do.

use crate::Matcher;
use leakhound_rules::RuleSet;

/// One example that did not behave as its rule file says.
#[derive(Debug, Clone)]
pub struct ExampleFailure {
    /// Rule id.
    pub rule: String,
    /// The example text.
    pub example: String,
    /// True for a positive example that did not match; false for a negative that did.
    pub should_match: bool,
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.should_match {
            "example did not match"
        } else {
            "negative example matched"
        };
        write!(f, "rule `{}`: {what}: {:?}", self.rule, self.example)
    }
}

/// Run every example of every rule through the full engine (filters included) and
/// return the ones that misbehave. Empty means every rule does what it says.
pub fn check_examples(set: &RuleSet, matcher: &Matcher) -> Vec<ExampleFailure> {
    let mut failures = Vec::new();
    for (index, rule) in set.rules().iter().enumerate() {
        let hits = |text: &str| {
            matcher
                .scan(text.as_bytes())
                .iter()
                .any(|m| m.rule == index)
        };
        for ex in &rule.examples {
            if !hits(ex) {
                failures.push(ExampleFailure {
                    rule: rule.id.clone(),
                    example: ex.clone(),
                    should_match: true,
                });
            }
        }
        for ex in &rule.negative_examples {
            if hits(ex) {
                failures.push(ExampleFailure {
                    rule: rule.id.clone(),
                    example: ex.clone(),
                    should_match: false,
                });
            }
        }
    }
    failures
}
