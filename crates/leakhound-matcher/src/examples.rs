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

/// An example's bytes: `hex:…` spells out a binary example (a keystore's magic
/// number), anything else is the text itself.
pub fn example_bytes(example: &str) -> Vec<u8> {
    match example.strip_prefix("hex:") {
        Some(hex) => (0..hex.len() / 2)
            .filter_map(|i| hex.get(2 * i..2 * i + 2))
            .filter_map(|pair| u8::from_str_radix(pair, 16).ok())
            .collect(),
        None => example.as_bytes().to_vec(),
    }
}

/// Run every example of every rule through the full engine (filters included) and
/// return the ones that misbehave. Empty means every rule does what it says.
pub fn check_examples(set: &RuleSet, matcher: &Matcher) -> Vec<ExampleFailure> {
    let mut failures = Vec::new();
    for (index, rule) in set.rules().iter().enumerate() {
        // A path rule's examples run at its example path, where it applies.
        let at = rule.example_path.as_deref().unwrap_or("example.txt");
        let scoped = matcher.rules_for_path(at);
        if !rule.paths.is_empty() && !scoped.contains(&index) {
            failures.push(ExampleFailure {
                rule: rule.id.clone(),
                example: format!("example_path {at}"),
                should_match: true,
            });
        }
        let hits = |text: &str| {
            matcher
                .scan_with(&example_bytes(text), &scoped)
                .iter()
                .any(|m| m.rule == index)
        };
        // …and nowhere else: the same text in an unrelated file is not its business.
        if !rule.paths.is_empty() {
            let elsewhere = matcher.rules_for_path("notes/unrelated.txt");
            for ex in &rule.examples {
                if matcher
                    .scan_with(&example_bytes(ex), &elsewhere)
                    .iter()
                    .any(|m| m.rule == index)
                {
                    failures.push(ExampleFailure {
                        rule: rule.id.clone(),
                        example: format!("{ex} (at notes/unrelated.txt)"),
                        should_match: false,
                    });
                }
            }
        }
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
