//! Structured tokens whose format carries its own check: GitHub tokens, JWTs.

use crate::Verdict;
use base64::Engine as _;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Six-character base62 rendering of a CRC32, left-padded with `0`.
fn base62_6(mut n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// GitHub's 2021 token format: prefix, 30 random base62 characters, then the CRC32 of
/// those 30 characters in base62. Random strings pass with odds of 1 in 62^6.
pub(crate) fn github_token(value: &str) -> Verdict {
    let Some((prefix, rest)) = value.split_once('_') else {
        return Verdict::Invalid;
    };
    if !matches!(prefix, "ghp" | "gho" | "ghu" | "ghs" | "ghr") || rest.len() != 36 {
        return Verdict::Invalid;
    }
    let (random, check) = rest.as_bytes().split_at(30);
    Verdict::from_bool(base62_6(crc32fast::hash(random)) == check)
}

fn b64url_json(segment: &str) -> Option<serde_json::Value> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub(crate) fn jwt(value: &str) -> Verdict {
    let mut parts = value.split('.');
    let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
        return Verdict::Invalid;
    };
    let header_ok = b64url_json(h)
        .and_then(|v| v.get("alg").map(|a| a.is_string()))
        .unwrap_or(false);
    let payload_ok = b64url_json(p).map(|v| v.is_object()).unwrap_or(false);
    Verdict::from_bool(header_ok && payload_ok)
}

#[cfg(test)]
pub(crate) fn make_github_token(prefix: &str, random: &str) -> String {
    let check = base62_6(crc32fast::hash(random.as_bytes()));
    format!("{prefix}_{random}{}", String::from_utf8_lossy(&check))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn github_doc_example_has_no_valid_checksum() {
        // The token printed in GitHub's own documentation is illustrative only.
        assert_eq!(
            github_token("gho_16C7e42F292c6912E7710c838347Ae178B4a"),
            Verdict::Invalid
        );
        let t = make_github_token("ghp", "16C7e42F292c6912E7710c838347Ae");
        assert_eq!(t, "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");
        assert_eq!(github_token(&t), Verdict::Valid);
    }

    #[test]
    fn jwts() {
        let good = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl";
        assert_eq!(jwt(good), Verdict::Valid);
        assert_eq!(
            jwt("eyJub3QiOiJqd3QifQ.eyJzdWIiOiIxIn0.c2ln"),
            Verdict::Invalid
        );
        assert_eq!(jwt("a.b.c"), Verdict::Invalid);
    }

    proptest! {
        #[test]
        fn github_checksum_detects_changes(random in "[A-Za-z0-9]{30}", pos in 0usize..30) {
            let t = make_github_token("ghs", &random);
            prop_assert_eq!(github_token(&t), Verdict::Valid);
            let mut b = t.into_bytes();
            let i = 4 + pos;
            b[i] = if b[i] == b'a' { b'b' } else { b'a' };
            let changed = String::from_utf8(b).unwrap_or_default();
            prop_assert_eq!(github_token(&changed), Verdict::Invalid);
        }
    }
}
