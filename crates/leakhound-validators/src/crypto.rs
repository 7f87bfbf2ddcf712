//! Cryptocurrency wallet addresses: Bitcoin, Ethereum, Monero.

use crate::Verdict;
use tiny_keccak::{Hasher, Keccak};

fn keccak256(data: &[u8]) -> [u8; 32] {
    let mut k = Keccak::v256();
    k.update(data);
    let mut out = [0u8; 32];
    k.finalize(&mut out);
    out
}

pub(crate) fn bitcoin_address(value: &str) -> Verdict {
    // `get` rather than slicing: the value may start with a multi-byte character.
    if value.len() > 4
        && value
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case("bc1"))
    {
        return match bech32::segwit::decode(value) {
            Ok((hrp, _, _)) => Verdict::from_bool(hrp == bech32::hrp::BC),
            Err(_) => Verdict::Invalid,
        };
    }
    match bs58::decode(value).with_check(None).into_vec() {
        // Version byte 0x00 (P2PKH, `1…`) or 0x05 (P2SH, `3…`), then a 20-byte hash.
        Ok(payload) => Verdict::from_bool(payload.len() == 21 && matches!(payload[0], 0x00 | 0x05)),
        Err(_) => Verdict::Invalid,
    }
}

/// The EIP-55 spelling of a 40-hex-digit address body.
fn eip55(body: &str) -> String {
    let lower = body.to_ascii_lowercase();
    let hash = keccak256(lower.as_bytes());
    lower
        .bytes()
        .enumerate()
        .map(|(i, c)| {
            let nibble = (hash[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0xf;
            if c.is_ascii_alphabetic() && nibble >= 8 {
                char::from(c.to_ascii_uppercase())
            } else {
                char::from(c)
            }
        })
        .collect()
}

fn eth_body(value: &str) -> Option<&str> {
    let body = value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))?;
    (body.len() == 40 && body.bytes().all(|b| b.is_ascii_hexdigit())).then_some(body)
}

pub(crate) fn ethereum_address(value: &str) -> Verdict {
    let Some(body) = eth_body(value) else {
        return Verdict::Invalid;
    };
    let has_lower = body.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = body.bytes().any(|b| b.is_ascii_uppercase());
    if has_lower && has_upper {
        Verdict::from_bool(eip55(body) == body)
    } else if body.bytes().all(|b| b == b'0') {
        Verdict::Invalid
    } else {
        Verdict::Plausible
    }
}

pub(crate) fn ethereum_address_checksummed(value: &str) -> Verdict {
    match eth_body(value) {
        Some(body)
            if body.bytes().any(|b| b.is_ascii_uppercase())
                && body.bytes().any(|b| b.is_ascii_lowercase()) =>
        {
            Verdict::from_bool(eip55(body) == body)
        }
        _ => Verdict::Invalid,
    }
}

const B58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// Monero base58 encodes 8-byte blocks as 11 characters; a short last block of n bytes
/// takes `BLOCK_CHARS[n]` characters.
const BLOCK_CHARS: [usize; 9] = [0, 2, 3, 5, 6, 7, 9, 10, 11];

fn monero_base58_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 8 / 11 + 8);
    for block in bytes.chunks(11) {
        let n_bytes = BLOCK_CHARS.iter().position(|&c| c == block.len())?;
        let mut num: u64 = 0;
        for &c in block {
            let digit = B58.iter().position(|&x| x == c)? as u64;
            num = num.checked_mul(58)?.checked_add(digit)?;
        }
        if n_bytes < 8 && num >> (8 * n_bytes) != 0 {
            return None;
        }
        out.extend_from_slice(&num.to_be_bytes()[8 - n_bytes..]);
    }
    Some(out)
}

/// Standard (`4…`, 95 chars), subaddress (`8…`) and integrated (106 chars) mainnet
/// addresses: network byte, keys, then the first 4 bytes of Keccak-256 of the rest.
pub(crate) fn monero_address(value: &str) -> Verdict {
    if !matches!(value.len(), 95 | 106) {
        return Verdict::Invalid;
    }
    let Some(raw) = monero_base58_decode(value) else {
        return Verdict::Invalid;
    };
    if raw.len() < 5 || !matches!(raw[0], 0x12 | 0x13 | 0x2a) {
        return Verdict::Invalid;
    }
    let (body, check) = raw.split_at(raw.len() - 4);
    Verdict::from_bool(keccak256(body)[..4] == *check)
}

#[cfg(test)]
pub(crate) fn monero_base58_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for block in data.chunks(8) {
        let mut num = block.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b));
        let width = BLOCK_CHARS[block.len()];
        let mut chars = vec![b'1'; width];
        for slot in chars.iter_mut().rev() {
            *slot = B58[(num % 58) as usize];
            num /= 58;
        }
        out.push_str(&String::from_utf8_lossy(&chars));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bitcoin() {
        // The genesis block's coinbase address and BIP-173's P2WPKH test vector.
        assert_eq!(
            bitcoin_address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
            Verdict::Valid
        );
        assert_eq!(
            bitcoin_address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"),
            Verdict::Invalid
        );
        assert_eq!(
            bitcoin_address("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
            Verdict::Valid
        );
        assert_eq!(
            bitcoin_address("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"),
            Verdict::Invalid
        );
    }

    #[test]
    fn ethereum() {
        // EIP-55 test vector.
        assert_eq!(
            ethereum_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
            Verdict::Valid
        );
        assert_eq!(
            ethereum_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"),
            Verdict::Invalid
        );
        assert_eq!(
            ethereum_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
            Verdict::Plausible
        );
        assert_eq!(
            ethereum_address_checksummed("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
            Verdict::Invalid
        );
    }

    #[test]
    fn monero() {
        let mut raw = vec![0x12u8];
        raw.extend((0u8..64).map(|i| i.wrapping_mul(37).wrapping_add(11)));
        let check = keccak256(&raw);
        raw.extend_from_slice(&check[..4]);
        let addr = monero_base58_encode(&raw);
        assert_eq!(addr.len(), 95);
        assert!(addr.starts_with('4'));
        assert_eq!(monero_address(&addr), Verdict::Valid);
        let mut broken = addr.into_bytes();
        broken[50] = if broken[50] == b'2' { b'3' } else { b'2' };
        assert_eq!(
            monero_address(&String::from_utf8(broken).unwrap_or_default()),
            Verdict::Invalid
        );
    }

    proptest! {
        #[test]
        fn monero_round_trips(keys in proptest::collection::vec(any::<u8>(), 64)) {
            let mut raw = vec![0x12u8];
            raw.extend(keys);
            let check = keccak256(&raw);
            raw.extend_from_slice(&check[..4]);
            prop_assert_eq!(monero_address(&monero_base58_encode(&raw)), Verdict::Valid);
        }

        #[test]
        fn never_panic(s in "\\PC{0,110}") {
            let _ = bitcoin_address(&s);
            let _ = ethereum_address(&s);
            let _ = monero_address(&s);
        }
    }
}
