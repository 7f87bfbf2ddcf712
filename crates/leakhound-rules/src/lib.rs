//! Rules are data: every detector leakhound runs is declared in a TOML rule file, and
//! this crate turns those files into a [`RuleSet`].
//!
//! The built-in packs live in `rules/` beside this crate and are embedded in the binary,
//! so a scan needs no files on disk. Users add their own with the same format
//! (`--rules-file`). Compiling patterns and running examples is the matcher's job; this
//! crate only parses, fills defaults and checks what can be checked without an engine
//! (unique ids, a pattern or an aggregate but not both, examples present).
//!
//! ```
//! let rules = leakhound_rules::RuleSet::builtin().unwrap();
//! assert!(rules.rules().iter().any(|r| r.id == "cn-resident-id"));
//! ```
#![deny(missing_docs)]

mod builtin;
mod model;

pub use builtin::BUILTIN_FILES;
pub use model::{Filters, Rule, RuleFile};

use leakhound_findings::{Category, Severity};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Why rules could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// A rule file is not valid TOML or does not fit the schema.
    #[error("rule file {file}: {message}")]
    Parse {
        /// File name (or built-in pack name).
        file: String,
        /// What the TOML parser said.
        message: String,
    },
    /// A rule file could not be read.
    #[error("cannot read rule file {path}")]
    Io {
        /// The path given.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A rule breaks a constraint of the format.
    #[error("rule `{id}` in {file}: {message}")]
    Invalid {
        /// Rule id.
        id: String,
        /// File it came from.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// A loaded, checked set of rules plus the global filters that apply to them.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    filters: Filters,
}

impl RuleSet {
    /// The packs compiled into the binary.
    pub fn builtin() -> Result<RuleSet, RulesError> {
        let mut set = RuleSet::default();
        for (name, text) in BUILTIN_FILES {
            set.add_text(name, text)?;
        }
        Ok(set)
    }

    /// Parse one rule file's text and add its rules (and filters, if it has any).
    pub fn add_text(&mut self, file: &str, text: &str) -> Result<(), RulesError> {
        let parsed: RuleFile = toml::from_str(text).map_err(|e| RulesError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        self.filters.extend(parsed.filters.clone());
        let seen: HashSet<String> = self.rules.iter().map(|r| r.id.clone()).collect();
        let mut added = HashSet::new();
        for rule in parsed.into_rules() {
            let rule = rule.map_err(|(id, message)| RulesError::Invalid {
                id,
                file: file.to_string(),
                message,
            })?;
            if seen.contains(&rule.id) || !added.insert(rule.id.clone()) {
                return Err(RulesError::Invalid {
                    id: rule.id,
                    file: file.to_string(),
                    message: "duplicate rule id".into(),
                });
            }
            self.rules.push(Rule {
                source: file.to_string(),
                ..rule
            });
        }
        Ok(())
    }

    /// Read a rule file from disk and add its rules.
    pub fn add_file(&mut self, path: &Path) -> Result<(), RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.add_text(&path.display().to_string(), &text)
    }

    /// Keep only rules of the given categories (the packs a user picked).
    pub fn retain_categories(&mut self, keep: &[Category]) {
        self.rules.retain(|r| keep.contains(&r.category));
    }

    /// Turn rules off by id (a project's `leakhound.toml`). Returns the ids that name
    /// no rule, so a typo is reported instead of silently disabling nothing.
    pub fn disable(&mut self, ids: &[String]) -> Vec<String> {
        let unknown = self.unknown_ids(ids.iter().map(String::as_str));
        self.rules.retain(|r| !ids.contains(&r.id));
        unknown
    }

    /// Override the severity of rules by id. Returns the ids that name no rule.
    pub fn set_severities<'a>(
        &mut self,
        severities: impl IntoIterator<Item = (&'a str, Severity)>,
    ) -> Vec<String> {
        let mut unknown = Vec::new();
        for (id, severity) in severities {
            match self.rules.iter_mut().find(|r| r.id == id) {
                Some(rule) => rule.severity = severity,
                None => unknown.push(id.to_string()),
            }
        }
        unknown
    }

    fn unknown_ids<'a>(&self, ids: impl Iterator<Item = &'a str>) -> Vec<String> {
        ids.filter(|id| !self.rules.iter().any(|r| r.id == *id))
            .map(str::to_string)
            .collect()
    }

    /// All rules, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Global filters (placeholders, published example values, stopwords).
    pub fn filters(&self) -> &Filters {
        &self.filters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_can_be_disabled_and_reweighted_by_id() {
        let mut set = RuleSet::builtin().unwrap_or_default();
        let before = set.rules().len();
        assert!(set.disable(&["email-address".into()]).is_empty());
        assert_eq!(set.rules().len(), before - 1);
        assert_eq!(set.disable(&["no-such-rule".into()]), ["no-such-rule"]);
        assert!(set
            .set_severities([("cn-mobile", Severity::Critical)])
            .is_empty());
        let mobile = set.rules().iter().find(|r| r.id == "cn-mobile");
        assert_eq!(mobile.map(|r| r.severity), Some(Severity::Critical));
        assert_eq!(set.set_severities([("nope", Severity::Low)]), ["nope"]);
    }

    #[test]
    fn builtin_packs_load_and_cover_every_category() {
        let set = RuleSet::builtin().expect("built-in rules load");
        for c in Category::ALL {
            assert!(set.rules().iter().any(|r| r.category == *c), "no {c} rules");
        }
        let secrets = set
            .rules()
            .iter()
            .filter(|r| r.category == Category::Secret)
            .count();
        assert!(secrets >= 150, "only {secrets} secret rules");
    }

    #[test]
    fn every_rule_has_positive_and_negative_examples() {
        let set = RuleSet::builtin().expect("built-in rules load");
        for r in set.rules() {
            assert!(!r.examples.is_empty(), "{} has no example", r.id);
            assert!(
                !r.negative_examples.is_empty(),
                "{} has no negative example",
                r.id
            );
        }
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let text = r#"
category = "secret"
[[rules]]
id = "x"
name = "X"
regex = "x"
examples = ["x"]
negative_examples = ["y"]
"#;
        let mut set = RuleSet::default();
        set.add_text("a.toml", text).expect("first load");
        let err = set.add_text("b.toml", text).unwrap_err().to_string();
        assert!(err.contains("duplicate"), "{err}");
    }

    #[test]
    fn a_rule_needs_a_pattern_or_an_aggregate() {
        let text = r#"
[[rules]]
id = "x"
name = "X"
category = "personal"
examples = ["x"]
negative_examples = ["y"]
"#;
        let err = RuleSet::default()
            .add_text("a.toml", text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("regex"), "{err}");
    }

    #[test]
    fn unknown_fields_are_errors_not_silently_ignored() {
        let text = r#"
[[rules]]
id = "x"
name = "X"
category = "secret"
regexp = "x"
"#;
        let err = RuleSet::default()
            .add_text("a.toml", text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("regexp"), "{err}");
    }

    #[test]
    fn a_path_rule_needs_an_example_path() {
        let text = r#"
[[rules]]
id = "x"
name = "X"
category = "secret"
paths = ['(?:^|/)\.x$']
regex = "k=(v+)"
examples = ["k=vvv"]
negative_examples = ["k="]
"#;
        let err = RuleSet::default()
            .add_text("a.toml", text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("example_path"), "{err}");
        let with = text.replace("paths =", "example_path = 'a/.x'\npaths =");
        let mut set = RuleSet::default();
        set.add_text("a.toml", &with)
            .expect("loads with an example path");
        assert_eq!(set.rules()[0].paths.len(), 1);
    }
}
