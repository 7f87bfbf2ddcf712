//! The rule-file schema. Field names here are the contract with rule authors; see
//! docs/rules.md.

use leakhound_findings::{Category, Confidence, Severity};
use serde::Deserialize;

/// One rule file: optional defaults, rules, and optional global filters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Category for rules in this file that do not set one.
    #[serde(default)]
    pub category: Option<Category>,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<RawRule>,
    /// Filters that apply across all rules.
    #[serde(default)]
    pub filters: Filters,
}

/// Values and patterns that are never real, whatever rule matched them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// Regexes for placeholder values (`${VAR}`, `<your-password>`, `changeme`). Applied
    /// to rules with `placeholder_filter` (secrets by default).
    #[serde(default)]
    pub placeholders: Vec<String>,
    /// Exact values published in documentation (`AKIAIOSFODNN7EXAMPLE`).
    #[serde(default)]
    pub example_values: Vec<String>,
    /// Case-insensitive words that, inside a secret value, mark it as a sample.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Regexes for secret values that look like an example or a test value (`hunter2`,
    /// `MySekretPassword`): reported, but with low confidence and one severity lower.
    #[serde(default)]
    pub doubtful: Vec<String>,
}

impl Filters {
    pub(crate) fn extend(&mut self, other: Filters) {
        self.placeholders.extend(other.placeholders);
        self.example_values.extend(other.example_values);
        self.stopwords.extend(other.stopwords);
        self.doubtful.extend(other.doubtful);
    }
}

/// A rule as written in a file, before defaults are applied.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    id: String,
    name: String,
    #[serde(default)]
    category: Option<Category>,
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default)]
    confidence: Option<Confidence>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    validator: Option<String>,
    #[serde(default)]
    min_entropy: Option<f64>,
    #[serde(default)]
    context_words: Vec<String>,
    #[serde(default)]
    context_window: Option<usize>,
    #[serde(default)]
    boundary: Option<bool>,
    #[serde(default)]
    placeholder_filter: Option<bool>,
    #[serde(default)]
    generic: bool,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    doubtful: Vec<String>,
    #[serde(default)]
    aggregate_of: Option<String>,
    #[serde(default)]
    min_count: Option<usize>,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    negative_examples: Vec<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    example_path: Option<String>,
}

/// A rule with defaults applied. See docs/rules.md for what each field means.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Stable id (kebab-case); used in output, fingerprints and suppressions.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Family and pack.
    pub category: Category,
    /// Default severity of findings.
    pub severity: Severity,
    /// Confidence when the validator (if any) passes.
    pub confidence: Confidence,
    /// Longer explanation.
    pub description: Option<String>,
    /// The pattern. The group named `value` (else group 1, else the whole match) is the
    /// reported value. `None` for aggregate rules.
    pub regex: Option<String>,
    /// Literals (ASCII case-insensitive) of which at least one must occur in a blob for
    /// the regex to run. Empty: the rule runs on every blob.
    pub keywords: Vec<String>,
    /// Name of a validator in `leakhound-validators`.
    pub validator: Option<String>,
    /// Minimum Shannon entropy (bits/byte) of the value.
    pub min_entropy: Option<f64>,
    /// Words of which one must appear near the value (case-insensitive).
    pub context_words: Vec<String>,
    /// Bytes searched for context words on either side of the value.
    pub context_window: usize,
    /// Require the value not to touch letters or digits on either side.
    pub boundary: bool,
    /// Drop placeholder values (`${VAR}`, `changeme`…).
    pub placeholder_filter: bool,
    /// A catch-all rule: dropped where a specific rule matched the same value.
    pub generic: bool,
    /// Regexes: a value matching any of them is not reported.
    pub allow: Vec<String>,
    /// Regexes: a value matching any of them is reported as doubtful (low confidence,
    /// one severity lower): a shape that is usually not what the rule is after.
    pub doubtful: Vec<String>,
    /// For aggregate rules: the rule whose matches are counted per blob.
    pub aggregate_of: Option<String>,
    /// For aggregate rules: how many matches make one aggregate finding.
    pub min_count: usize,
    /// Texts the rule must match.
    pub examples: Vec<String>,
    /// Texts the rule must not match.
    pub negative_examples: Vec<String>,
    /// Where the format is documented.
    pub references: Vec<String>,
    /// Regexes on a file's path (archive members' `!` read as `/`): when set, the rule
    /// runs only on files whose path matches one of them, and its keywords do not make
    /// it run anywhere else. Credential files that tools write (`.s3cfg`,
    /// `sitemanager.xml`, `.pgpass`) hold secrets in shapes that mean nothing elsewhere.
    pub paths: Vec<String>,
    /// For path rules: the path its examples are matched at (required with `paths`).
    pub example_path: Option<String>,
    /// The file the rule came from.
    pub source: String,
}

impl RuleFile {
    /// Apply defaults and per-rule checks. Errors carry the rule id.
    pub(crate) fn into_rules(self) -> Vec<Result<Rule, (String, String)>> {
        let file_category = self.category;
        self.rules
            .into_iter()
            .map(|r| {
                let category = r.category.or(file_category).ok_or_else(|| {
                    (
                        r.id.clone(),
                        "no category (set it on the rule or the file)".to_string(),
                    )
                })?;
                match (&r.regex, &r.aggregate_of) {
                    (None, None) => {
                        return Err((r.id.clone(), "needs a `regex` or an `aggregate_of`".into()))
                    }
                    (Some(_), Some(_)) => {
                        return Err((r.id.clone(), "has both `regex` and `aggregate_of`".into()))
                    }
                    _ => {}
                }
                if !r.paths.is_empty() && r.example_path.is_none() {
                    return Err((
                        r.id.clone(),
                        "a rule with `paths` needs an `example_path` to run its examples at".into(),
                    ));
                }
                if r.id.is_empty()
                    || !r
                        .id
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                {
                    return Err((r.id.clone(), "id must be kebab-case ascii".into()));
                }
                Ok(Rule {
                    severity: r.severity.unwrap_or(match category {
                        Category::Secret => Severity::High,
                        Category::Mining => Severity::Medium,
                        _ => Severity::Medium,
                    }),
                    confidence: r.confidence.unwrap_or(Confidence::Medium),
                    placeholder_filter: r
                        .placeholder_filter
                        .unwrap_or(category == Category::Secret),
                    boundary: r.boundary.unwrap_or(true),
                    context_window: r.context_window.unwrap_or(64),
                    min_count: r.min_count.unwrap_or(20),
                    id: r.id,
                    name: r.name,
                    category,
                    description: r.description,
                    regex: r.regex,
                    keywords: r.keywords,
                    validator: r.validator,
                    min_entropy: r.min_entropy,
                    context_words: r.context_words,
                    generic: r.generic,
                    allow: r.allow,
                    doubtful: r.doubtful,
                    aggregate_of: r.aggregate_of,
                    examples: r.examples,
                    negative_examples: r.negative_examples,
                    references: r.references,
                    paths: r.paths,
                    example_path: r.example_path,
                    source: String::new(),
                })
            })
            .collect()
    }
}
