//! Vehicle identifiers: VIN, Chinese licence plates, GPS positions.

use crate::Verdict;

/// ISO 3779 transliteration of a VIN character to its value; I, O and Q are not allowed.
fn vin_value(c: u8) -> Option<u32> {
    Some(match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        b'A' | b'J' => 1,
        b'B' | b'K' | b'S' => 2,
        b'C' | b'L' | b'T' => 3,
        b'D' | b'M' | b'U' => 4,
        b'E' | b'N' | b'V' => 5,
        b'F' | b'W' => 6,
        b'G' | b'P' | b'X' => 7,
        b'H' | b'Y' => 8,
        b'R' | b'Z' => 9,
        _ => return None,
    })
}

/// The check character a VIN should carry at position 9.
pub fn vin_check_char(vin: &[u8]) -> Option<u8> {
    const W: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    if vin.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (&c, w) in vin.iter().zip(W) {
        sum += vin_value(c)? * w;
    }
    Some(match sum % 11 {
        10 => b'X',
        n => b'0' + n as u8,
    })
}

pub(crate) fn vin(value: &str) -> Verdict {
    let v = value.as_bytes();
    let Some(check) = vin_check_char(v) else {
        return Verdict::Invalid;
    };
    let digits = v.iter().filter(|c| c.is_ascii_digit()).count();
    let letters = 17 - digits;
    // Real VINs mix letters (manufacturer, body, model year) and digits; a 17-character
    // run with one or two letters is a type constant or a document id
    // (`U1125899906842623`, `S1570866706000353`).
    if letters < 3 || digits < 3 {
        return Verdict::Invalid;
    }
    // China (L) and North America (1-5) make the check digit mandatory.
    if matches!(v[0], b'L' | b'1'..=b'5') {
        return Verdict::from_bool(v[8] == check);
    }
    if v[8] == check {
        return Verdict::Valid;
    }
    // Elsewhere position 9 may be anything, but the serial (last 4) is numeric.
    if v[13..].iter().all(u8::is_ascii_digit) {
        Verdict::Plausible
    } else {
        Verdict::Invalid
    }
}

/// Province (and special-use) abbreviations that open a Chinese plate.
pub const PLATE_PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

pub(crate) fn cn_plate(value: &str) -> Verdict {
    let mut chars = value
        .chars()
        .filter(|c| !matches!(c, '·' | '•' | ' ' | '-' | '.'));
    let Some(province) = chars.next() else {
        return Verdict::Invalid;
    };
    if !PLATE_PROVINCES.contains(province) {
        return Verdict::Invalid;
    }
    let Some(authority) = chars.next() else {
        return Verdict::Invalid;
    };
    if !authority.is_ascii_uppercase() || matches!(authority, 'I' | 'O') {
        return Verdict::Invalid;
    }
    let serial: Vec<char> = chars.collect();
    let alnum =
        |c: &char| (c.is_ascii_uppercase() && !matches!(c, 'I' | 'O')) || c.is_ascii_digit();
    match serial.len() {
        // Regular plate: five letters/digits, at least two of them digits; a trailing
        // 学/警/挂/港/澳/领 marks special use.
        5 | 6 if serial[..5].iter().all(alnum) => {
            if serial.len() == 6 && !"学警挂港澳领试超".contains(serial[5]) {
                return new_energy(&serial);
            }
            let digits = serial[..5].iter().filter(|c| c.is_ascii_digit()).count();
            Verdict::from_bool(digits >= 2)
        }
        _ => Verdict::Invalid,
    }
}

/// New-energy plates have six serial characters: a class letter first (small cars) and
/// five digits, or five digits and the class letter last (large vehicles).
fn new_energy(serial: &[char]) -> Verdict {
    let class = |c: char| matches!(c, 'A'..='H' | 'J' | 'K');
    let digits = |s: &[char]| s.iter().all(char::is_ascii_digit);
    let small = class(serial[0])
        && (digits(&serial[1..]) || (serial[1].is_ascii_uppercase() && digits(&serial[2..])));
    let large = digits(&serial[..5]) && class(serial[5]);
    Verdict::from_bool(small || large)
}

/// Bounding box of China's territory, generous on purpose: this is a sanity check that
/// a pair is a position, not a geofence.
const LAT: (f64, f64) = (18.0, 54.0);
const LON: (f64, f64) = (73.0, 135.5);

pub(crate) fn gps_cn(value: &str) -> Verdict {
    let mut parts = value
        .split([',', ' ', ';', '\t', '，'])
        .filter(|p| !p.is_empty());
    let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
        return Verdict::Invalid;
    };
    let (Ok(a), Ok(b)) = (a.parse::<f64>(), b.parse::<f64>()) else {
        return Verdict::Invalid;
    };
    let inside =
        |lat: f64, lon: f64| (LAT.0..=LAT.1).contains(&lat) && (LON.0..=LON.1).contains(&lon);
    Verdict::from_bool(inside(a, b) || inside(b, a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vins() {
        assert_eq!(vin("1HGCM82633A004352"), Verdict::Valid);
        assert_eq!(vin("1HGCM82643A004352"), Verdict::Invalid);
        assert_eq!(
            vin("LSVAU2180N2183294"),
            Verdict::from_bool(vin_check_char(b"LSVAU2180N2183294") == Some(b'0'))
        );
        assert_eq!(vin("WVWZZZ1JZXW000001"), Verdict::Plausible);
        assert_eq!(vin("WVWZZZ1JZXWABCDEF"), Verdict::Invalid);
        assert_eq!(vin("12345678901234567"), Verdict::Invalid);
        assert_eq!(vin("U1125899906842623"), Verdict::Invalid);
        assert_eq!(vin("S1570866706000353"), Verdict::Invalid);
        assert_eq!(vin("1HGCM82633A00435I"), Verdict::Invalid);
    }

    #[test]
    fn plates() {
        assert_eq!(cn_plate("京A12345"), Verdict::Valid);
        assert_eq!(cn_plate("粤B·8K3Q1"), Verdict::Valid);
        assert_eq!(cn_plate("沪AD12345"), Verdict::Valid);
        assert_eq!(cn_plate("沪A12345D"), Verdict::Valid);
        assert_eq!(cn_plate("苏E1234学"), Verdict::Invalid); // serial too short
        assert_eq!(cn_plate("苏E12345学"), Verdict::Valid);
        assert_eq!(cn_plate("京AABCDE"), Verdict::Invalid);
        assert_eq!(cn_plate("京I12345"), Verdict::Invalid);
        assert_eq!(cn_plate("美A12345"), Verdict::Invalid);
        assert_eq!(cn_plate("沪AZ12345"), Verdict::Invalid);
    }

    #[test]
    fn gps() {
        assert_eq!(gps_cn("39.908722,116.397499"), Verdict::Valid);
        assert_eq!(gps_cn("116.397499, 39.908722"), Verdict::Valid);
        assert_eq!(gps_cn("48.858370,2.294481"), Verdict::Invalid);
    }

    proptest! {
        /// Any 16 VIN characters with the computed check digit validate under a Chinese WMI.
        #[test]
        fn vin_check_digit_is_exact(body in "L[A-HJ-NPR-Z]{2}[A-HJ-NPR-Z0-9]{5}[A-HJ-NPR-Z0-9]{4}[0-9]{4}") {
            let mut v = body.into_bytes();
            v.insert(8, b'0');
            let check = vin_check_char(&v).unwrap_or(b'?');
            v[8] = check;
            let s = String::from_utf8(v.clone()).unwrap_or_default();
            prop_assert_eq!(vin(&s), Verdict::Valid);
            v[8] = if check == b'X' { b'0' } else { b'X' };
            let s = String::from_utf8(v).unwrap_or_default();
            prop_assert_eq!(vin(&s), Verdict::Invalid);
        }

        #[test]
        fn never_panic(s in "\\PC{0,20}") {
            let _ = vin(&s);
            let _ = cn_plate(&s);
            let _ = gps_cn(&s);
        }
    }
}
