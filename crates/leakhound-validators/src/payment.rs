//! Card, SIM and bank-account numbers: Luhn, issuer ranges, IBAN mod 97.

use crate::{digits_of, Verdict};

/// Luhn mod-10 over a digit slice (the last digit is the check digit).
pub fn luhn(digits: &[u8]) -> bool {
    if digits.len() < 2 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// One repeated digit (`0000…`, `1111…`) passes Luhn for some lengths but is never real.
fn is_one_digit_run(d: &[u8]) -> bool {
    d.windows(2).all(|w| w[0] == w[1])
}

pub(crate) fn luhn_verdict(value: &str) -> Verdict {
    match digits_of(value) {
        Some(d) => Verdict::from_bool(luhn(&d) && !is_one_digit_run(&d)),
        None => Verdict::Invalid,
    }
}

fn prefix_num(d: &[u8], n: usize) -> u32 {
    d.iter().take(n).fold(0, |acc, &x| acc * 10 + u32::from(x))
}

/// Issuer ranges (IIN) with the card lengths each network actually issues. Lengths
/// matter as much as prefixes: Luhn passes one random number in ten, and 17-18 digit
/// order and ID numbers are everywhere, while only UnionPay and Visa issue beyond 16.
fn known_issuer(d: &[u8]) -> bool {
    let len = d.len();
    let p1 = prefix_num(d, 1);
    let p2 = prefix_num(d, 2);
    let p3 = prefix_num(d, 3);
    let p4 = prefix_num(d, 4);
    match len {
        // Visa
        13 | 16 | 19 if p1 == 4 => true,
        // American Express
        15 if p2 == 34 || p2 == 37 => true,
        // UnionPay (62): 16-digit credit and 19-digit debit cards
        16 | 19 if p2 == 62 => true,
        // Mastercard 51-55 and 2221-2720
        16 if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) => true,
        // Discover 6011, 644-649, 65
        16 if p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 => true,
        // JCB 3528-3589
        16 if (3528..=3589).contains(&p4) => true,
        // Diners Club 300-305, 36, 38-39
        14 | 16 if (300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39 => true,
        _ => false,
    }
}

pub(crate) fn payment_card(value: &str) -> Verdict {
    let Some(d) = digits_of(value) else {
        return Verdict::Invalid;
    };
    Verdict::from_bool(
        (13..=19).contains(&d.len())
            && card_layout(value)
            && known_issuer(&d)
            && luhn(&d)
            && !is_one_digit_run(&d),
    )
}

/// Cards are written solid or in the issuer's groups, with one kind of separator:
/// `4111 1111 1111 1111`, `4111-1111-1111-1111`, Amex `3782 822463 10005`, 19 digits
/// `6222 2896 6553 7193 159` or `622228 9665537193159`. Any other grouping is something
/// else that Luhn passed by chance one time in ten: the tail of a UUID
/// (`4444-555555555555`), a run of small numbers (`36 37 38 40 41 …`), a list of sizes.
fn card_layout(value: &str) -> bool {
    let separators: Vec<u8> = value.bytes().filter(|b| !b.is_ascii_digit()).collect();
    let Some(&sep) = separators.first() else {
        return true;
    };
    if separators.iter().any(|&b| b != sep) {
        return false;
    }
    let groups: Vec<usize> = value.split(char::from(sep)).map(str::len).collect();
    matches!(
        groups.as_slice(),
        [4, 4, 4, 4] | [4, 4, 4, 4, 1..=3] | [4, 6, 5] | [4, 6, 4] | [6, 13] | [6, 10]
    )
}

pub(crate) fn imei(value: &str) -> Verdict {
    let Some(d) = digits_of(value) else {
        return Verdict::Invalid;
    };
    Verdict::from_bool(d.len() == 15 && luhn(&d) && !is_one_digit_run(&d[..14]))
}

pub(crate) fn iccid(value: &str) -> Verdict {
    let Some(d) = digits_of(value) else {
        return Verdict::Invalid;
    };
    Verdict::from_bool((19..=20).contains(&d.len()) && d[0] == 8 && d[1] == 9 && luhn(&d))
}

/// IBAN length by country (ISO 13616 registry); unknown countries are rejected.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

pub(crate) fn iban(value: &str) -> Verdict {
    let compact: Vec<u8> = value
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if compact.len() < 15 || !compact.iter().all(u8::is_ascii_alphanumeric) {
        return Verdict::Invalid;
    }
    let country = std::str::from_utf8(&compact[..2]).unwrap_or("");
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country) else {
        return Verdict::Invalid;
    };
    if compact.len() != len || !compact[2..4].iter().all(u8::is_ascii_digit) {
        return Verdict::Invalid;
    }
    // Move the first four characters to the end, letters become 10..35, then mod 97.
    let mut rem: u32 = 0;
    for &b in compact[4..].iter().chain(&compact[..4]) {
        let v = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    Verdict::from_bool(rem == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Append the Luhn check digit that makes `body` valid.
    fn with_check_digit(body: &[u8]) -> Vec<u8> {
        (0..10)
            .map(|c| {
                let mut v = body.to_vec();
                v.push(c);
                v
            })
            .find(|v| luhn(v))
            .unwrap_or_default()
    }

    #[test]
    fn known_cards() {
        assert_eq!(payment_card("4111111111111111"), Verdict::Valid);
        assert_eq!(payment_card("5500 0000 0000 0004"), Verdict::Valid);
        assert_eq!(payment_card("378282246310005"), Verdict::Valid);
        assert_eq!(payment_card("6222021234567890127"), Verdict::Invalid); // bad Luhn
        assert_eq!(payment_card("6222021234567890128"), Verdict::Valid);
        // Luhn-valid 18-digit numbers are order numbers, not cards.
        assert_eq!(payment_card("622202123456789012"), Verdict::Invalid);
        assert_eq!(
            payment_card("385012345678906709"),
            Verdict::from_bool(false)
        );
        assert_eq!(payment_card("9111111111111111"), Verdict::Invalid); // no issuer
        assert_eq!(payment_card("0000000000000000"), Verdict::Invalid);
        // Groupings a card is written in, and ones it never is (found on real code).
        assert_eq!(payment_card("4111-1111-1111-1111"), Verdict::Valid);
        assert_eq!(payment_card("3782 822463 10005"), Verdict::Valid);
        assert_eq!(payment_card("6222 0212 3456 7890 128"), Verdict::Valid);
        assert_eq!(payment_card("4111 1111-1111 1111"), Verdict::Invalid);
        assert_eq!(payment_card("4111-111111111111"), Verdict::Invalid);
        assert_eq!(payment_card("4444-555555555555"), Verdict::Invalid);
        assert_eq!(payment_card("41 11 11 11 11 11 11 11"), Verdict::Invalid);
    }

    #[test]
    fn imei_iccid_iban() {
        assert_eq!(imei("490154203237518"), Verdict::Valid);
        assert_eq!(imei("490154203237519"), Verdict::Invalid);
        let body = digits_of("8986031874020123456").unwrap_or_default();
        let full: String = with_check_digit(&body)
            .iter()
            .map(|d| char::from(b'0' + d))
            .collect();
        assert_eq!(iccid(&full), Verdict::Valid);
        let mut wrong = full.clone().into_bytes();
        wrong[19] = b'0' + (wrong[19] - b'0' + 1) % 10;
        assert_eq!(
            iccid(&String::from_utf8(wrong).unwrap_or_default()),
            Verdict::Invalid
        );
        assert_eq!(iban("GB82 WEST 1234 5698 7654 32"), Verdict::Valid);
        assert_eq!(iban("GB82 WEST 1234 5698 7654 33"), Verdict::Invalid);
        assert_eq!(iban("DE89370400440532013000"), Verdict::Valid);
        assert_eq!(iban("ZZ89370400440532013000"), Verdict::Invalid);
    }

    proptest! {
        /// Any body plus its computed check digit passes; changing one digit fails.
        #[test]
        fn luhn_detects_every_single_digit_error(body in proptest::collection::vec(0u8..10, 12..18), pos in 0usize..12, delta in 1u8..10) {
            let full = with_check_digit(&body);
            prop_assert!(luhn(&full));
            let mut broken = full.clone();
            broken[pos] = (broken[pos] + delta) % 10;
            prop_assert!(!luhn(&broken));
        }

        #[test]
        fn validators_never_panic(s in "\\PC{0,40}") {
            let _ = payment_card(&s);
            let _ = iban(&s);
            let _ = imei(&s);
            let _ = iccid(&s);
        }
    }
}
