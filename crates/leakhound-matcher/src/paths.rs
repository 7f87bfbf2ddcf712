//! Rules that run only on files at certain paths: the credential files that tools
//! write for their users (`.s3cfg`, FileZilla's `sitemanager.xml`, `.pgpass`), whose
//! secrets sit in shapes (`secret_key = …`, `<Pass>…</Pass>`, `host:port:db:user:pw`)
//! that mean nothing in other files. Keeping them out of the keyword automaton means a
//! `password` line in a README never wakes them.

use crate::RuleIndex;
use regex::bytes::{RegexSet, RegexSetBuilder};
use std::sync::OnceLock;

/// Every path rule's path patterns, as one set compiled on first use: a scan with no
/// file at such a path (most pre-commit hooks) never pays for it.
#[derive(Default)]
pub(crate) struct PathRules {
    patterns: Vec<String>,
    /// Pattern index -> rule.
    owners: Vec<RuleIndex>,
    set: OnceLock<Option<RegexSet>>,
}

impl PathRules {
    pub(crate) fn add(&mut self, rule: RuleIndex, pattern: &str) {
        self.patterns.push(pattern.to_string());
        self.owners.push(rule);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The rules whose paths match `path`, in rule order, without repeats. An archive
    /// member's `!` is read as `/`, so `(^|/)\.s3cfg$` also finds `backup.zip!.s3cfg`.
    pub(crate) fn matching(&self, path: &str) -> Vec<RuleIndex> {
        if self.is_empty() {
            return Vec::new();
        }
        let Some(set) = self
            .set
            // Bytes, not Unicode: a path's letters that matter are ASCII, and the
            // Unicode tables made the set take 1 ms to build.
            .get_or_init(|| {
                RegexSetBuilder::new(&self.patterns)
                    .unicode(false)
                    .build()
                    .ok()
            })
            .as_ref()
        else {
            return Vec::new();
        };
        let normal;
        let path = if path.contains(['!', '\\']) {
            normal = path.replace(['!', '\\'], "/");
            normal.as_str()
        } else {
            path
        };
        let mut rules: Vec<RuleIndex> = set
            .matches(path.as_bytes())
            .iter()
            .map(|i| self.owners[i])
            .collect();
        rules.sort_unstable();
        rules.dedup();
        rules
    }
}

/// Check one path pattern's syntax when the matcher is built, so a bad pattern in a
/// user's rule file fails the run at start. Parsed, not compiled: compiling ~70
/// patterns here cost 7 ms of every start.
pub(crate) fn check(pattern: &str) -> Result<(), String> {
    regex_syntax::Parser::new()
        .parse(pattern)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(patterns: &[(&str, RuleIndex)]) -> PathRules {
        let mut p = PathRules::default();
        for (pattern, rule) in patterns {
            p.add(*rule, pattern);
        }
        p
    }

    #[test]
    fn a_path_selects_the_rules_whose_patterns_match_it() {
        let p = rules(&[
            (r"(?:^|/)\.s3cfg$", 3),
            (r"(?i)(?:^|/)winscp\.ini$", 1),
            (r"(?i)\.rdp$", 1),
        ]);
        assert_eq!(p.matching("home/ops/.s3cfg"), vec![3]);
        assert_eq!(p.matching(".s3cfg"), vec![3]);
        assert!(p.matching("home/ops/x.s3cfg").is_empty());
        assert!(p.matching("docs/s3cfg.md").is_empty());
        // Two patterns of one rule: the rule once.
        assert_eq!(p.matching("C:\\Users\\ops\\WinSCP.INI"), vec![1]);
        assert_eq!(p.matching("jump.RDP"), vec![1]);
    }

    #[test]
    fn archive_members_and_non_utf8_names_are_matched() {
        let p = rules(&[(r"(?:^|/)\.pgpass$", 0), (r"(?:^|/)[^/]*\.tfstate$", 2)]);
        assert_eq!(p.matching("backup.tar.gz!home/.pgpass"), vec![0]);
        assert_eq!(p.matching("backup.zip!.pgpass"), vec![0]);
        assert_eq!(p.matching("infra/环境.tfstate"), vec![2]);
        assert!(PathRules::default().matching(".pgpass").is_empty());
    }

    #[test]
    fn a_bad_pattern_is_reported_not_compiled() {
        assert!(check(r"(?:^|/)\.s3cfg$").is_ok());
        assert!(check(r"(unclosed").is_err());
    }
}
