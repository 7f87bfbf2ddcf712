//! A value as one identifier, in its normal form: what names the same person or vehicle
//! however it was typed (`+86 138-0013-8000` and `13800138000` are one number). Cheap
//! shape tests come before the checksum, because table readers and `assess` try most
//! cells against every kind.
//!
//! These need no column name. The kinds that do (names, addresses, birth dates, a lone
//! coordinate) are decided in `leakhound-assess`, which knows the column.

use crate::{Validator, Verdict};
use std::borrow::Cow;

fn valid(validator: Validator, s: &str) -> bool {
    validator.check(s) == Verdict::Valid
}

/// `v` upper-cased, borrowed when it already is (most identifiers are): no allocation
/// per value on the assessment's hot path.
fn ascii_upper(v: &str) -> Cow<'_, str> {
    if v.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(v.to_ascii_uppercase())
    } else {
        Cow::Borrowed(v)
    }
}

/// `v` without the characters `drop` matches, borrowed when it has none.
fn without(v: &str, drop: impl Fn(char) -> bool) -> Cow<'_, str> {
    if v.contains(&drop) {
        Cow::Owned(v.chars().filter(|c| !drop(*c)).collect())
    } else {
        Cow::Borrowed(v)
    }
}

/// Only digits and the separators people type into phone and card numbers.
fn phone_like(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'(' | b')' | b'+'))
}

/// An 18-character Chinese resident ID, upper-cased.
pub fn resident_id(v: &str) -> Option<Cow<'_, str>> {
    if v.len() != 18 {
        return None;
    }
    let s = ascii_upper(v);
    valid(Validator::CnResidentId, &s).then_some(s)
}

/// A unified social credit code, upper-cased.
pub fn uscc(v: &str) -> Option<Cow<'_, str>> {
    if v.len() != 18 {
        return None;
    }
    let s = ascii_upper(v);
    valid(Validator::Uscc, &s).then_some(s)
}

/// A VIN with a valid check digit, upper-cased.
pub fn vin(v: &str) -> Option<Cow<'_, str>> {
    if v.len() != 17 {
        return None;
    }
    let s = ascii_upper(v);
    valid(Validator::Vin, &s).then_some(s)
}

/// A Chinese mobile number as its 11 digits (country code and separators dropped).
pub fn mobile(v: &str) -> Option<Cow<'_, str>> {
    if !(11..=20).contains(&v.len()) || !phone_like(v) {
        return None;
    }
    let digits = without(v, |c| matches!(c, ' ' | '-' | '(' | ')'));
    let d = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
        .unwrap_or(&digits);
    if !(d.len() == 11 && d.bytes().all(|b| b.is_ascii_digit()) && valid(Validator::CnMobile, d)) {
        return None;
    }
    Some(match digits {
        Cow::Borrowed(all) if all.len() == 11 => Cow::Borrowed(all),
        _ => Cow::Owned(d.to_string()),
    })
}

/// A payment card number as its digits.
pub fn bank_card(v: &str) -> Option<Cow<'_, str>> {
    if !(13..=23).contains(&v.len()) || !phone_like(v) {
        return None;
    }
    let d = without(v, |c| matches!(c, ' ' | '-'));
    ((13..=19).contains(&d.len())
        && d.bytes().all(|b| b.is_ascii_digit())
        && valid(Validator::PaymentCard, &d))
    .then_some(d)
}

/// An e-mail address, lower-cased.
pub fn email(v: &str) -> Option<Cow<'_, str>> {
    if !v.contains('@') {
        return None;
    }
    let s = if !v.is_ascii() {
        Cow::Owned(v.to_lowercase())
    } else if v.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(v.to_ascii_lowercase())
    } else {
        Cow::Borrowed(v)
    };
    valid(Validator::Email, &s).then_some(s)
}

/// A Chinese licence plate without its separators (`京A·12345` is `京A12345`).
pub fn plate(v: &str) -> Option<Cow<'_, str>> {
    if v.is_ascii() || !(9..=16).contains(&v.len()) {
        return None;
    }
    let s = without(v, |c| matches!(c, ' ' | '·' | '-'));
    let n = s.chars().count();
    ((7..=8).contains(&n) && valid(Validator::CnPlate, &s)).then_some(s)
}

/// A Hong Kong identity card number as letters, six digits and check character, with
/// no brackets (`A123456(3)` is `A1234563`), upper-cased.
pub fn hk_id(v: &str) -> Option<Cow<'_, str>> {
    if !(8..=12).contains(&v.len()) || !v.is_ascii() {
        return None;
    }
    let s: String = v
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    valid(Validator::HkId, &s).then_some(Cow::Owned(s))
}

/// A Taiwan national identification number, upper-cased.
pub fn tw_id(v: &str) -> Option<Cow<'_, str>> {
    if v.len() != 10 {
        return None;
    }
    let s = ascii_upper(v);
    valid(Validator::TwId, &s).then_some(s)
}

/// A passport number's shape (one or two letters, then seven or eight digits: China's
/// `E12345678`, `EA1234567`, `G12345678`), upper-cased. No checksum exists, so callers
/// need a column name that says passport.
pub fn passport(v: &str) -> Option<Cow<'_, str>> {
    let s = ascii_upper(v.trim());
    let letters = s.bytes().take_while(u8::is_ascii_uppercase).count();
    let digits = s.len() - letters;
    ((1..=2).contains(&letters)
        && (7..=8).contains(&digits)
        && (8..=9).contains(&s.len())
        && s.bytes().skip(letters).all(|b| b.is_ascii_digit()))
    .then_some(s)
}

/// A latitude/longitude pair in China, in one value (`31.2304,121.4737`).
pub fn gps_pair(v: &str) -> Option<Cow<'_, str>> {
    if !v.starts_with(|c: char| c.is_ascii_digit() || c == '-') || !v.contains(',') {
        return None;
    }
    valid(Validator::GpsCn, v).then_some(Cow::Borrowed(v))
}

/// One of the functions above: a value's normal form, if it is that identifier.
type Normaliser = fn(&str) -> Option<Cow<'_, str>>;

/// Is `value` (trimmed) one of the identifiers above? A table's first row is data,
/// not a header, when one of its cells is.
pub fn is_identifier(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() || v.len() > 200 {
        return false;
    }
    let checks: [Normaliser; 8] = [
        resident_id,
        uscc,
        vin,
        mobile,
        bank_card,
        email,
        plate,
        gps_pair,
    ];
    checks.iter().any(|check| check(v).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hong_kong_taiwan_and_passport_numbers() {
        assert_eq!(hk_id("a123456(3)").as_deref(), Some("A1234563"));
        assert_eq!(hk_id("A123456(4)"), None, "wrong check character");
        assert_eq!(hk_id("A12345"), None);
        assert_eq!(tw_id("a123456789").as_deref(), Some("A123456789"));
        assert_eq!(tw_id("A123456788"), None, "wrong check digit");
        assert_eq!(passport(" e12345678 ").as_deref(), Some("E12345678"));
        assert_eq!(passport("EA1234567").as_deref(), Some("EA1234567"));
        assert_eq!(passport("E1234"), None);
        assert_eq!(passport("123456789"), None, "no letter");
        assert_eq!(passport("E1234567X"), None);
    }

    #[test]
    fn each_identifier_has_one_normal_form() {
        assert_eq!(mobile("+86 138-0013-8000").as_deref(), Some("13800138000"));
        assert_eq!(mobile("0086 13800138000").as_deref(), Some("13800138000"));
        assert_eq!(mobile("1380013800"), None, "ten digits");
        assert_eq!(
            resident_id("11010519491231002x").as_deref(),
            Some("11010519491231002X")
        );
        assert_eq!(
            resident_id("110105194912310021"),
            None,
            "wrong check character"
        );
        assert_eq!(bank_card("4111-1111-1111-1112"), None, "Luhn fails");
        assert_eq!(
            bank_card("4111-1111-1111-1111").as_deref(),
            Some("4111111111111111")
        );
        assert_eq!(email("Li.Wei@163.COM").as_deref(), Some("li.wei@163.com"));
        assert_eq!(plate("京A·12345").as_deref(), Some("京A12345"));
        assert_eq!(plate("JA12345"), None, "no province character");
        assert_eq!(
            gps_pair("31.2304,121.4737").as_deref(),
            Some("31.2304,121.4737")
        );
        assert_eq!(gps_pair("31.2304"), None, "one coordinate needs its column");
    }

    #[test]
    fn values_already_in_normal_form_are_borrowed() {
        for normal in [
            mobile("13800138000"),
            resident_id("11010519491231002X"),
            email("li.wei@163.com"),
            vin("LSVAU218XN2183294"),
            plate("京A12345"),
        ] {
            assert!(matches!(normal, Some(Cow::Borrowed(_))), "{normal:?}");
        }
        assert!(matches!(mobile("+86 13800138000"), Some(Cow::Owned(_))));
        assert_eq!(email("Li.Wei@Sina.com").as_deref(), Some("li.wei@sina.com"));
        assert_eq!(email("Ärger@web.de").as_deref(), Some("ärger@web.de"));
    }

    #[test]
    fn a_header_row_is_not_identifiers() {
        for header in ["手机号", "身份证", "email", "vin", "plate", "", "  "] {
            assert!(!is_identifier(header), "{header}");
        }
        for value in [
            " 13912345678 ",
            "li.wei@163.com",
            "京A12345",
            "31.2304,121.4737",
        ] {
            assert!(is_identifier(value), "{value}");
        }
        assert!(!is_identifier(&"1".repeat(201)));
    }
}
