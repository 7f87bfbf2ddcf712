//! What not to report, and why: a project's `leakhound.toml` policy, inline
//! `leakhound:allow` comments, and baselines of findings already known.
//!
//! Every suppression here is keyed by the value (its fingerprint) or by an explicit
//! rule, never by a line number alone, so a new secret added to a line that once held
//! an allowed one is still reported (gitleaks' line-based ignores hide exactly that).
//!
//! ```
//! use leakhound_suppress::Policy;
//! let policy = Policy::parse(r#"
//!     [allow]
//!     paths = ["tests/fixtures/**"]
//!     stopwords = ["dummy"]
//! "#, "leakhound.toml").unwrap();
//! let allow = policy.allowlist().unwrap();
//! assert!(allow.allows("tests/fixtures/keys.env", "AKIA...", "fp"));
//! assert!(allow.allows("src/main.rs", "dummy-token-123", "fp"));
//! assert!(!allow.allows("src/main.rs", "real-token-123", "fp"));
//! ```
#![deny(missing_docs)]

mod baseline;

pub use baseline::Baseline;

use globset::{Glob, GlobSet, GlobSetBuilder};
use leakhound_findings::Severity;
use regex::RegexSet;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Written on the line of a value, in any comment syntax, it suppresses findings on
/// that line: `password = "x"  # leakhound:allow`.
pub const INLINE_MARKER: &str = "leakhound:allow";

/// File names looked for in the current folder when no `--config` is given.
pub const CONFIG_NAMES: &[&str] = &["leakhound.toml", ".leakhound.toml"];

/// Why a policy or baseline could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SuppressError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, or unknown keys (a typo must not silently allow nothing).
    #[error("{origin}: {message}")]
    Toml {
        /// The file.
        origin: String,
        /// What is wrong, with the line.
        message: String,
    },
    /// A glob that does not compile.
    #[error("{origin}: allow.paths: {source}")]
    Glob {
        /// The file.
        origin: String,
        /// Why.
        source: globset::Error,
    },
    /// A regex that does not compile.
    #[error("{origin}: allow.regexes: {source}")]
    Regex {
        /// The file.
        origin: String,
        /// Why.
        source: regex::Error,
    },
    /// A baseline that is none of leakhound's report formats.
    #[error("{path}: not a leakhound json, jsonl or sarif report ({message})")]
    Baseline {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
}

/// A project's `leakhound.toml`.
///
/// ```toml
/// [allow]
/// paths = ["tests/fixtures/**", "**/*.min.js"]   # globs on the reported path
/// regexes = ["^AKIA[0-9A-Z]{12}TEST$"]           # on the matched value
/// stopwords = ["example", "dummy"]               # value contains, any case
/// fingerprints = ["47f50a18…"]                   # one known value, anywhere
///
/// [rules]
/// disable = ["email-address"]
/// severity = { cn-mobile = "high" }
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// What to leave out of reports.
    #[serde(default)]
    pub allow: AllowSection,
    /// Rule switches.
    #[serde(default)]
    pub rules: RulesSection,
    /// Where it was read from, for messages.
    #[serde(skip)]
    pub origin: String,
}

/// `[allow]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSection {
    /// Globs matched against the reported path (and each archive layer's path).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Regexes matched against the raw value.
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Words whose presence in a value (any case) marks it as a placeholder.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Fingerprints of values accepted everywhere.
    #[serde(default)]
    pub fingerprints: Vec<String>,
}

/// `[rules]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSection {
    /// Rule ids to turn off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Severity per rule id.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
}

impl Policy {
    /// Parse a policy's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Policy, SuppressError> {
        let mut policy: Policy = toml::from_str(text).map_err(|e| SuppressError::Toml {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        policy.origin = origin.to_string();
        Ok(policy)
    }

    /// Read and parse a policy file.
    pub fn load(path: &Path) -> Result<Policy, SuppressError> {
        let text = std::fs::read_to_string(path).map_err(|source| SuppressError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Policy::parse(&text, &path.display().to_string())
    }

    /// The policy in `folder`, if it has one of [`CONFIG_NAMES`].
    pub fn find(folder: &Path) -> Result<Option<Policy>, SuppressError> {
        for name in CONFIG_NAMES {
            let path = folder.join(name);
            if path.is_file() {
                return Policy::load(&path).map(Some);
            }
        }
        Ok(None)
    }

    /// The compiled `[allow]` section.
    pub fn allowlist(&self) -> Result<Allowlist, SuppressError> {
        let mut globs = GlobSetBuilder::new();
        for p in &self.allow.paths {
            let pattern = p.strip_prefix("./").unwrap_or(p);
            globs.add(Glob::new(pattern).map_err(|source| SuppressError::Glob {
                origin: self.origin.clone(),
                source,
            })?);
        }
        let paths = globs.build().map_err(|source| SuppressError::Glob {
            origin: self.origin.clone(),
            source,
        })?;
        let regexes =
            RegexSet::new(&self.allow.regexes).map_err(|source| SuppressError::Regex {
                origin: self.origin.clone(),
                source,
            })?;
        Ok(Allowlist {
            paths,
            regexes,
            stopwords: self
                .allow
                .stopwords
                .iter()
                .map(|w| w.to_lowercase())
                .filter(|w| !w.is_empty())
                .collect(),
            fingerprints: self
                .allow
                .fingerprints
                .iter()
                .map(|f| f.trim().to_ascii_lowercase())
                .collect(),
        })
    }
}

/// The compiled allowlist a scanner consults for every finding.
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    paths: GlobSet,
    regexes: RegexSet,
    stopwords: Vec<String>,
    fingerprints: HashSet<String>,
}

impl Allowlist {
    /// True when a finding of `value` (with `fingerprint`) at `path` is not reported.
    pub fn allows(&self, path: &str, value: &str, fingerprint: &str) -> bool {
        if self.fingerprints.contains(fingerprint) {
            return true;
        }
        if !self.paths.is_empty() && path_allowed(&self.paths, path) {
            return true;
        }
        if !self.regexes.is_empty() && self.regexes.is_match(value) {
            return true;
        }
        if !self.stopwords.is_empty() {
            let lower = value.to_lowercase();
            if self.stopwords.iter().any(|w| lower.contains(w.as_str())) {
                return true;
            }
        }
        false
    }

    /// Nothing is allowed: scanners skip the check.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
            && self.regexes.is_empty()
            && self.stopwords.is_empty()
            && self.fingerprints.is_empty()
    }
}

/// A path is allowed when it, or the file an archive member came from (each `!`
/// layer), matches: `vendor/**` covers `vendor/sdk.jar!com/a/Key.class`.
fn path_allowed(globs: &GlobSet, path: &str) -> bool {
    let path = path.strip_prefix("./").unwrap_or(path);
    if globs.is_match(path) {
        return true;
    }
    path.match_indices('!')
        .any(|(i, _)| globs.is_match(&path[..i]))
}

/// True when `line` carries an inline [`INLINE_MARKER`].
pub fn inline_allowed(line: &[u8]) -> bool {
    memchr::memmem::find(line, INLINE_MARKER.as_bytes()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(toml: &str) -> Allowlist {
        Policy::parse(toml, "t.toml")
            .and_then(|p| p.allowlist())
            .unwrap_or_default()
    }

    #[test]
    fn paths_match_whole_paths_and_archive_layers() {
        let a = allow("[allow]\npaths = [\"vendor/**\", \"**/*.min.js\"]");
        assert!(a.allows("vendor/a/b.env", "v", "f"));
        assert!(a.allows("./vendor/a.env", "v", "f"));
        assert!(a.allows("vendor/sdk.jar!com/Key.class", "v", "f"));
        assert!(a.allows("web/dist/app.min.js", "v", "f"));
        assert!(!a.allows("src/vendor.rs", "v", "f"));
        assert!(!a.allows("backup.zip!vendor/a.env", "v", "f"));
    }

    #[test]
    fn values_match_regexes_stopwords_and_fingerprints() {
        let a = allow(
            "[allow]\nregexes = [\"^AKIA.*TEST$\"]\nstopwords = [\"Dummy\"]\nfingerprints = [\"ABCDEF\"]",
        );
        assert!(a.allows("x", "AKIA1234567890TEST", "f"));
        assert!(!a.allows("x", "AKIA1234567890PROD", "f"));
        assert!(a.allows("x", "my-DUMMY-key", "f"));
        assert!(a.allows("x", "anything", "abcdef"));
        assert!(!a.allows("x", "anything", "abcde0"));
    }

    #[test]
    fn typos_and_bad_patterns_are_errors() {
        assert!(matches!(
            Policy::parse("[allow]\npath = [\"x\"]", "t.toml"),
            Err(SuppressError::Toml { .. })
        ));
        let bad_regex =
            Policy::parse("[allow]\nregexes = [\"(\"]", "t.toml").and_then(|p| p.allowlist());
        assert!(matches!(bad_regex, Err(SuppressError::Regex { .. })));
        let bad_glob =
            Policy::parse("[allow]\npaths = [\"a[\"]", "t.toml").and_then(|p| p.allowlist());
        assert!(matches!(bad_glob, Err(SuppressError::Glob { .. })));
        assert!(matches!(
            Policy::parse("[rules]\nseverity = { x = \"severe\" }", "t.toml"),
            Err(SuppressError::Toml { .. })
        ));
    }

    #[test]
    fn rule_switches_parse() {
        let p = Policy::parse(
            "[rules]\ndisable = [\"email-address\"]\nseverity = { cn-mobile = \"high\" }",
            "t.toml",
        );
        let p = p.unwrap_or_default();
        assert_eq!(p.rules.disable, ["email-address"]);
        assert_eq!(p.rules.severity.get("cn-mobile"), Some(&Severity::High));
        assert!(allow("").is_empty());
    }

    #[test]
    fn inline_marker_is_found_anywhere_on_the_line() {
        assert!(inline_allowed(b"key = \"x\"  # leakhound:allow"));
        assert!(inline_allowed(b"/* leakhound:allow */ token: x"));
        assert!(!inline_allowed(b"key = \"x\"  # leakhound: allow"));
    }

    proptest::proptest! {
        #[test]
        fn allows_never_panics(path in "\\PC{0,40}", value in "\\PC{0,40}") {
            let a = allow("[allow]\npaths = [\"**/x/**\"]\nstopwords = [\"ß\"]");
            let _ = a.allows(&path, &value, "f");
        }
    }
}
