//! The small closed vocabularies of a finding: category, severity, confidence.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A word that is not one of a vocabulary's values.
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} `{value}` (expected one of: {expected})")]
pub struct ParseKindError {
    kind: &'static str,
    value: String,
    expected: &'static str,
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $kind:literal, { $($(#[$vmeta:meta])* $variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $word)] $variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word used in rule files, flags and outputs.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseKindError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($word => Ok($name::$variant),)+
                    _ => Err(ParseKindError {
                        kind: $kind,
                        value: s.to_string(),
                        expected: concat!($($word, " "),+),
                    }),
                }
            }
        }
    };
}

vocabulary!(
    /// Rule family; also the name of the rule pack users pick with `--rules`.
    Category, "category", {
        /// Credentials: keys, tokens, passwords, private keys.
        Secret => "secret",
        /// Data about a person: ID numbers, phones, e-mail, bank cards.
        Personal => "personal",
        /// Data about a vehicle: VIN, plate, location traces.
        Vehicle => "vehicle",
        /// Data about an organisation: unified social credit codes.
        Organisation => "organisation",
        /// Crypto-mining artefacts: pools, wallets, miner configs.
        Mining => "mining",
    }
);

vocabulary!(
    /// How bad a finding is if it is real.
    Severity, "severity", {
        /// Worth knowing.
        Info => "info",
        /// Minor exposure.
        Low => "low",
        /// Exposure that needs a look.
        Medium => "medium",
        /// A usable credential or identifying data.
        High => "high",
        /// Direct access to production systems or money.
        Critical => "critical",
    }
);

impl Severity {
    /// One level lower (`info` stays `info`): for findings in tests, fixtures and
    /// examples, and for values that look like examples.
    pub fn lowered(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium => Severity::Low,
            Severity::Low | Severity::Info => Severity::Info,
        }
    }
}

vocabulary!(
    /// How sure the detector is that the value is what the rule says.
    Confidence, "confidence", {
        /// Shape only, or a checksum that many random strings pass.
        Low => "low",
        /// Shape plus context.
        Medium => "medium",
        /// A checksum or structure that random strings almost never pass.
        High => "high",
    }
);

vocabulary!(
    /// What a person decided about a finding (`leakhound triage`). Kept in the datastore
    /// and carried over to every later scan that sees the same value.
    Status, "status", {
        /// Not looked at yet.
        Open => "open",
        /// Not a real secret or not real personal data.
        FalsePositive => "false-positive",
        /// Real, and being dealt with.
        Confirmed => "confirmed",
        /// Real, and the credential has been rotated or revoked; seeing it in a new place
        /// is flagged, since a revoked key that spreads means someone copied old material.
        Revoked => "revoked",
        /// Real, and the risk is accepted (test data, a public key meant to be public).
        Accepted => "accepted",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>().ok(), Some(*c));
        }
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>().ok(), Some(*s));
        }
        assert_eq!("HIGH".parse::<Confidence>().ok(), Some(Confidence::High));
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().ok(), Some(*s));
        }
        assert_eq!(
            serde_json::to_string(&Status::FalsePositive)
                .ok()
                .as_deref(),
            Some("\"false-positive\"")
        );
        let err = "severe".parse::<Severity>().unwrap_err().to_string();
        assert!(err.contains("critical"), "{err}");
    }

    #[test]
    fn severities_order_by_badness() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
    }
}
