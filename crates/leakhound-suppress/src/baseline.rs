//! Baselines: findings already known, so CI fails only on new ones.
//!
//! A finding is in the baseline when the same value (fingerprint) was reported at the
//! same path. The line is not part of the key, so edits that move a secret up or down
//! do not make it new; a known secret copied into another file is new, since that is a
//! new exposure.

use crate::SuppressError;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Known (fingerprint, path) pairs.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// fingerprint -> paths it was reported at.
    known: HashMap<String, HashSet<String>>,
}

impl Baseline {
    /// Read a previous report: leakhound's `json` (also what `leakhound report --format
    /// json` exports from a datastore), `jsonl` or `sarif`.
    pub fn load(path: &Path) -> Result<Baseline, SuppressError> {
        let text = std::fs::read_to_string(path).map_err(|source| SuppressError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Baseline::parse(&text).map_err(|message| SuppressError::Baseline {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parse a report's text.
    pub fn parse(text: &str) -> Result<Baseline, String> {
        let mut known = Keys::default();
        if text.trim().is_empty() {
            return Ok(Baseline::default());
        }
        match serde_json::from_str::<Value>(text) {
            Ok(doc) => {
                if let Some(findings) = doc.get("findings").and_then(Value::as_array) {
                    for f in findings {
                        known.insert(record_key(f)?);
                    }
                } else if let Some(runs) = doc.get("runs").and_then(Value::as_array) {
                    for result in runs
                        .iter()
                        .filter_map(|r| r.get("results").and_then(Value::as_array))
                        .flatten()
                    {
                        known.insert(sarif_key(result)?);
                    }
                } else if doc.get("fingerprint").is_some() {
                    // A jsonl report of exactly one finding.
                    known.insert(record_key(&doc)?);
                } else {
                    return Err("no `findings` or `runs`".into());
                }
            }
            Err(_) => {
                for (n, line) in text
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| !l.trim().is_empty())
                {
                    let v: Value =
                        serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
                    known.insert(record_key(&v).map_err(|e| format!("line {}: {e}", n + 1))?);
                }
            }
        }
        let mut b = Baseline::default();
        for (fp, path) in known.0 {
            b.known.entry(fp).or_default().insert(path);
        }
        Ok(b)
    }

    /// True when this value was already reported at this path.
    pub fn contains(&self, fingerprint: &str, path: &str) -> bool {
        self.known
            .get(fingerprint)
            .is_some_and(|paths| paths.contains(path))
    }

    /// Known findings.
    pub fn len(&self) -> usize {
        self.known.values().map(HashSet::len).sum()
    }

    /// No known findings.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }
}

#[derive(Default)]
struct Keys(Vec<(String, String)>);

impl Keys {
    fn insert(&mut self, key: (String, String)) {
        self.0.push(key);
    }
}

fn record_key(v: &Value) -> Result<(String, String), String> {
    let fp = v
        .get("fingerprint")
        .and_then(Value::as_str)
        .ok_or("a finding without `fingerprint`")?;
    let path = v
        .get("path")
        .and_then(Value::as_str)
        .ok_or("a finding without `path`")?;
    Ok((fp.to_string(), path.to_string()))
}

fn sarif_key(result: &Value) -> Result<(String, String), String> {
    let fp = result
        .pointer("/partialFingerprints/leakhound~1v1")
        .and_then(Value::as_str)
        .ok_or("a SARIF result without leakhound/v1 fingerprint")?;
    let uri = result
        .pointer("/locations/0/physicalLocation/artifactLocation/uri")
        .and_then(Value::as_str)
        .ok_or("a SARIF result without a location")?;
    Ok((fp.to_string(), uri.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_jsonl_and_sarif() {
        let json = r#"{"findings":[{"fingerprint":"aa","path":"a.env","line":3}],"summary":{}}"#;
        let b = Baseline::parse(json).unwrap_or_default();
        assert!(b.contains("aa", "a.env") && !b.contains("aa", "b.env"));

        let jsonl = "{\"fingerprint\":\"aa\",\"path\":\"a.env\"}\n\n{\"fingerprint\":\"bb\",\"path\":\"b.env\"}\n";
        assert_eq!(Baseline::parse(jsonl).map(|b| b.len()), Ok(2));

        let sarif = r#"{"runs":[{"results":[{"partialFingerprints":{"leakhound/v1":"cc"},
            "locations":[{"physicalLocation":{"artifactLocation":{"uri":"c.env"}}}]}]}]}"#;
        assert!(Baseline::parse(sarif)
            .unwrap_or_default()
            .contains("cc", "c.env"));
        assert_eq!(Baseline::parse("").map(|b| b.is_empty()), Ok(true));
    }

    #[test]
    fn rejects_what_is_not_a_report() {
        assert!(Baseline::parse("{\"hello\": 1}").is_err());
        assert!(Baseline::parse("not json\n").is_err());
        assert!(Baseline::parse("{\"findings\":[{\"path\":\"a\"}]}").is_err());
    }

    proptest::proptest! {
        /// Baselines come from CI artefacts: any text is an error or a baseline.
        #[test]
        fn parsing_never_panics(text in "\\PC{0,200}") {
            let _ = Baseline::parse(&text);
        }

        #[test]
        fn json_shaped_noise_never_panics(
            fp in "[a-f0-9]{0,8}",
            path in "\\PC{0,20}",
            extra in "[\\[\\]{}:,\"a-z0-9 ]{0,40}",
        ) {
            let text = format!("{{\"findings\":[{{\"fingerprint\":\"{fp}\",\"path\":{path:?}}}{extra}");
            let _ = Baseline::parse(&text);
        }
    }
}
