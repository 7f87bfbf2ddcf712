//! Validators: the checks that separate a real identifier or token from a string that
//! merely has its shape.
//!
//! Every validator is a pure function of the matched value. Rule files name them
//! (`validator = "cn-resident-id"`); [`Validator::from_name`] is the only lookup, so a
//! typo in a rule file fails at load time, not silently at scan time.
//!
//! ```
//! use leakhound_validators::{Validator, Verdict};
//! let v = Validator::from_name("luhn").unwrap();
//! assert_eq!(v.check("4111 1111 1111 1111"), Verdict::Valid);
//! assert_eq!(v.check("4111 1111 1111 1112"), Verdict::Invalid);
//! ```
#![deny(missing_docs)]

mod crypto;
mod identity;
pub mod normal;
mod payment;
mod token;
mod vehicle;

pub use identity::{cn_resident_id_birth_date, resident_id_check_char, CN_PROVINCE_CODES};
pub use payment::luhn;
pub use vehicle::{vin_check_char, PLATE_PROVINCES};

/// What a validator concluded about a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The checksum or structure holds: keep the rule's confidence.
    Valid,
    /// Nothing contradicts it but nothing proves it (a VIN from a region without a
    /// mandatory check digit): keep it at low confidence.
    Plausible,
    /// Not what the rule looks for: drop it.
    Invalid,
}

impl Verdict {
    fn from_bool(ok: bool) -> Verdict {
        if ok {
            Verdict::Valid
        } else {
            Verdict::Invalid
        }
    }
}

macro_rules! validators {
    ($($(#[$m:meta])* $variant:ident => $name:literal, $func:path;)+) => {
        /// A named check a rule can ask for.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Validator {
            $($(#[$m])* $variant),+
        }

        impl Validator {
            /// Every validator, for listing and for tests.
            pub const ALL: &'static [Validator] = &[$(Validator::$variant),+];

            /// The name rule files use.
            pub fn name(self) -> &'static str {
                match self { $(Validator::$variant => $name),+ }
            }

            /// Look a validator up by the name a rule file uses.
            pub fn from_name(name: &str) -> Option<Validator> {
                match name { $($name => Some(Validator::$variant),)+ _ => None }
            }

            /// Run the check on a matched value.
            pub fn check(self, value: &str) -> Verdict {
                match self { $(Validator::$variant => $func(value)),+ }
            }
        }
    };
}

validators! {
    /// Luhn mod-10 over the digits (spaces and dashes ignored).
    Luhn => "luhn", payment::luhn_verdict;
    /// Payment card: Luhn plus a known issuer range (Visa, Mastercard, Amex, JCB,
    /// Discover, Diners, UnionPay 62).
    PaymentCard => "payment-card", payment::payment_card;
    /// IMEI: 15 digits, Luhn, not a run of one digit.
    Imei => "imei", payment::imei;
    /// ICCID (SIM serial): `89` prefix, 19-20 digits, Luhn.
    Iccid => "iccid", payment::iccid;
    /// IMSI with China's MCC 460 and a known operator code.
    ImsiCn => "imsi-cn", identity::imsi_cn;
    /// IBAN: country length table and ISO 7064 mod 97-10.
    Iban => "iban", payment::iban;
    /// Chinese resident ID (18): region prefix, real birth date, ISO 7064 MOD 11-2.
    CnResidentId => "cn-resident-id", identity::cn_resident_id;
    /// Legacy 15-digit Chinese resident ID: region prefix and real birth date.
    CnResidentId15 => "cn-resident-id-15", identity::cn_resident_id_15;
    /// Chinese mobile number: an allocated 1xx segment after removing +86/0086 and separators.
    CnMobile => "cn-mobile", identity::cn_mobile;
    /// Hong Kong identity card check digit.
    HkId => "hk-id", identity::hk_id;
    /// Taiwan national ID check digit.
    TwId => "tw-id", identity::tw_id;
    /// US SSN: excluded areas, groups and serials, and famous published numbers.
    UsSsn => "us-ssn", identity::us_ssn;
    /// E-mail: a real-looking domain, not an image name like `logo@2x.png`.
    Email => "email", identity::email;
    /// Unified Social Credit Code: GB 32100 mod 31 and the inner GB 11714 check.
    Uscc => "uscc", identity::uscc;
    /// VIN: ISO 3779 check digit, required for Chinese (`L`) and North-American WMIs.
    Vin => "vin", vehicle::vin;
    /// Chinese licence plate serial rules (regular and new-energy).
    CnPlate => "cn-plate", vehicle::cn_plate;
    /// A latitude/longitude pair (either order) inside China's bounding box.
    GpsCn => "gps-cn", vehicle::gps_cn;
    /// GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` token CRC32 checksum.
    GithubToken => "github-token", token::github_token;
    /// JSON Web Token: a decodable header with `alg` and a decodable payload.
    Jwt => "jwt", token::jwt;
    /// Bitcoin address: base58check (P2PKH/P2SH) or bech32/bech32m segwit.
    BitcoinAddress => "bitcoin-address", crypto::bitcoin_address;
    /// Ethereum address: EIP-55 checksum when mixed-case, plausible otherwise.
    EthereumAddress => "ethereum-address", crypto::ethereum_address;
    /// Ethereum address that must carry a valid EIP-55 mixed-case checksum.
    EthereumAddressChecksummed => "ethereum-address-checksummed", crypto::ethereum_address_checksummed;
    /// Monero address: Monero base58 with a Keccak-256 checksum.
    MoneroAddress => "monero-address", crypto::monero_address;
}

/// Shannon entropy of a value in bits per byte; rules use it to drop `aaaaaaaa`-like
/// matches of otherwise generic patterns.
pub fn shannon_entropy(value: &[u8]) -> f64 {
    if value.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in value {
        counts[usize::from(b)] += 1;
    }
    let n = value.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// The digits of a value, dropping the separators people type (space, dash, dot).
/// Returns `None` if anything else is present.
pub(crate) fn digits_of(value: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'0'..=b'9' => out.push(b - b'0'),
            b' ' | b'-' | b'.' | b'\t' => {}
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_validator_round_trips_its_name() {
        for v in Validator::ALL {
            assert_eq!(Validator::from_name(v.name()), Some(*v));
        }
        assert_eq!(Validator::from_name("lunh"), None);
    }

    #[test]
    fn entropy_orders_random_above_repetitive() {
        assert_eq!(shannon_entropy(b"aaaaaaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert!(shannon_entropy(b"x8Jq2LpZ0vRt") > 3.5);
    }
}
