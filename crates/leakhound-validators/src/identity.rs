//! Identity numbers of people and organisations: Chinese resident ID, mobile, USCC,
//! Hong Kong and Taiwan IDs, IMSI, US SSN, e-mail.

use crate::{digits_of, Verdict};

/// First two digits of a Chinese administrative division code (GB/T 2260 provinces),
/// plus 71/81/82/83 used by Taiwan, Hong Kong and Macau residence permits.
pub const CN_PROVINCE_CODES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

fn known_region(d: &[u8]) -> bool {
    let province = d[0] * 10 + d[1];
    CN_PROVINCE_CODES.contains(&province) && d[..6] != [0; 6]
}

fn is_leap(y: u32) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

/// A real calendar date in a plausible birth range.
fn real_date(y: u32, m: u32, d: u32) -> bool {
    if !(1900..=2100).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let days = match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= days
}

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0, |a, &x| a * 10 + u32::from(x))
}

/// ISO 7064 MOD 11-2 check character of the first 17 digits (as values 0-9).
pub fn resident_id_check_char(d: &[u8]) -> u8 {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = d.iter().zip(W).map(|(&x, w)| u32::from(x) * w).sum();
    b"10X98765432"[(sum % 11) as usize]
}

/// The birth date (year, month, day) of a valid 18-character resident ID.
pub fn cn_resident_id_birth_date(value: &str) -> Option<(u32, u32, u32)> {
    if cn_resident_id(value) != Verdict::Valid {
        return None;
    }
    let d: Vec<u8> = value.bytes().take(14).map(|b| b - b'0').collect();
    Some((num(&d[6..10]), num(&d[10..12]), num(&d[12..14])))
}

pub(crate) fn cn_resident_id(value: &str) -> Verdict {
    let b = value.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return Verdict::Invalid;
    }
    let d: Vec<u8> = b[..17].iter().map(|x| x - b'0').collect();
    let check = b[17].to_ascii_uppercase();
    Verdict::from_bool(
        known_region(&d)
            && real_date(num(&d[6..10]), num(&d[10..12]), num(&d[12..14]))
            && resident_id_check_char(&d) == check,
    )
}

pub(crate) fn cn_resident_id_15(value: &str) -> Verdict {
    let b = value.as_bytes();
    if b.len() != 15 || !b.iter().all(u8::is_ascii_digit) {
        return Verdict::Invalid;
    }
    let d: Vec<u8> = b.iter().map(|x| x - b'0').collect();
    Verdict::from_bool(
        known_region(&d) && real_date(1900 + num(&d[6..8]), num(&d[8..10]), num(&d[10..12])),
    )
}

/// Allocated mobile segments (MIIT numbering plan): 13x, 145-149, 15x but 154, 162,
/// 165-167, 170-178, 18x, 19x but 194.
fn cn_mobile_segment(second: u8, third: u8) -> bool {
    match second {
        3 | 8 => true,
        4 => (5..=9).contains(&third),
        5 => third != 4,
        6 => matches!(third, 2 | 5 | 6 | 7),
        7 => third <= 8,
        9 => third != 4,
        _ => false,
    }
}

pub(crate) fn cn_mobile(value: &str) -> Verdict {
    let trimmed = value.trim();
    let rest = trimmed
        .strip_prefix("+86")
        .or_else(|| trimmed.strip_prefix("0086"))
        .or_else(|| trimmed.strip_prefix("(+86)"))
        .unwrap_or(trimmed);
    let Some(d) = digits_of(rest) else {
        return Verdict::Invalid;
    };
    if d.len() != 11 || d[0] != 1 {
        return Verdict::Invalid;
    }
    // Eight identical subscriber digits are test numbers, not people.
    let run = d[3..].windows(2).all(|w| w[0] == w[1]);
    Verdict::from_bool(cn_mobile_segment(d[1], d[2]) && !run)
}

pub(crate) fn hk_id(value: &str) -> Verdict {
    let compact: Vec<u8> = value
        .bytes()
        .filter(|b| !matches!(b, b'(' | b')' | b' '))
        .map(|b| b.to_ascii_uppercase())
        .collect();
    let letters = compact
        .iter()
        .take_while(|b| b.is_ascii_uppercase())
        .count();
    if !(1..=2).contains(&letters) || compact.len() != letters + 7 {
        return Verdict::Invalid;
    }
    let digits = &compact[letters..letters + 6];
    let check = compact[letters + 6];
    if !digits.iter().all(u8::is_ascii_digit) || !(check.is_ascii_digit() || check == b'A') {
        return Verdict::Invalid;
    }
    // A single-letter prefix is padded with a space worth 36.
    let mut values: Vec<u32> = Vec::with_capacity(8);
    if letters == 1 {
        values.push(36);
    }
    values.extend(compact[..letters].iter().map(|b| u32::from(b - b'A') + 10));
    values.extend(digits.iter().map(|b| u32::from(b - b'0')));
    let sum: u32 = values.iter().zip((2..=9).rev()).map(|(v, w)| v * w).sum();
    let expected = (11 - sum % 11) % 11;
    let got = if check == b'A' {
        10
    } else {
        u32::from(check - b'0')
    };
    Verdict::from_bool(expected == got)
}

pub(crate) fn tw_id(value: &str) -> Verdict {
    let b = value.as_bytes();
    if b.len() != 10 || !b[0].is_ascii_uppercase() || !b[1..].iter().all(u8::is_ascii_digit) {
        return Verdict::Invalid;
    }
    if !matches!(b[1], b'1' | b'2' | b'8' | b'9') {
        return Verdict::Invalid;
    }
    // Letter codes are not alphabetical: I, O, W, X, Y, Z were added later.
    const CODES: [u32; 26] = [
        10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21, 22, 35, 23, 24, 25, 26, 27, 28, 29, 32,
        30, 31, 33,
    ];
    let code = CODES[usize::from(b[0] - b'A')];
    let mut sum = code / 10 + (code % 10) * 9;
    for (i, &x) in b[1..9].iter().enumerate() {
        sum += u32::from(x - b'0') * (8 - i as u32);
    }
    sum += u32::from(b[9] - b'0');
    Verdict::from_bool(sum.is_multiple_of(10))
}

/// China's mobile network codes under MCC 460.
const CN_MNC: &[u32] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 15, 20];

pub(crate) fn imsi_cn(value: &str) -> Verdict {
    let Some(d) = digits_of(value) else {
        return Verdict::Invalid;
    };
    Verdict::from_bool(d.len() == 15 && num(&d[..3]) == 460 && CN_MNC.contains(&num(&d[3..5])))
}

pub(crate) fn us_ssn(value: &str) -> Verdict {
    let Some(d) = digits_of(value) else {
        return Verdict::Invalid;
    };
    if d.len() != 9 {
        return Verdict::Invalid;
    }
    let (area, group, serial) = (num(&d[..3]), num(&d[3..5]), num(&d[5..]));
    // 078-05-1120 (the Woolworth wallet card) and 219-09-9999 (an advert) are public.
    let published =
        (area, group, serial) == (78, 5, 1120) || (area, group, serial) == (219, 9, 9999);
    Verdict::from_bool(
        area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !published,
    )
}

/// Domains that only ever hold examples (RFC 2606 / 6761).
const EXAMPLE_DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "example.net",
    "localhost",
    "test",
    "invalid",
    "example",
];

/// File extensions that follow an `@` in asset names (`icon@2x.png`), not mail domains.
const FILE_TLDS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "js", "css", "ts", "map", "json",
    "scss", "less", "vue", "jsx", "tsx", "mp4", "pdf", "ttf", "woff", "woff2",
];

/// Last labels of names that only resolve inside a network (Kubernetes services,
/// mDNS, RFC 8375 home networks, the names RFC 6762 appendix G lists as in use): no
/// mailbox lives there. `reader@crm-db.crm.svc` is the user of a database URL.
const INTERNAL_TLDS: &[&str] = &[
    "svc",
    "local",
    "internal",
    "lan",
    "home",
    "corp",
    "intranet",
    "private",
    "localdomain",
    "localhost",
    "cluster",
];

/// Local parts that name a system or a protocol, not a person: `git@github.com` in an
/// SSH clone URL is not personal data.
const SYSTEM_LOCAL_PARTS: &[&str] = &[
    "git",
    "noreply",
    "no-reply",
    "donotreply",
    "do-not-reply",
    "mailer-daemon",
    "postmaster",
    "hg",
];

/// Two-letter top-level domains in use (ISO 3166 country codes and the few IANA
/// exceptions: ac, eu, su, uk). Random bytes make addresses like `s@6.DX`; a two-letter
/// TLD outside this list is not a mail domain.
const COUNTRY_TLDS: &str = "ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo bq br bs bt bw by bz \
ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg eh er es et eu \
fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il \
im in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma \
mc md me mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om \
pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr \
ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi \
vn vu wf ws ye yt za zm zw";

/// A domain a mail server could have: every label of letters, digits and inner
/// hyphens, the name before a two-letter TLD at least two characters (`x.cn` no;
/// `x.com` is real, so one character is fine before a longer TLD), the TLD in one case (`DX`, `dx`, not `Dx`) and, when it has two letters, a
/// country code in use.
/// `s` split at the last `sep` (an ASCII byte), as `rsplit_once` with a `char` but
/// without its character searcher (a memrchr and a memcmp per call, on every e-mail).
fn rsplit_ascii(s: &str, sep: u8) -> Option<(&str, &str)> {
    let at = s.bytes().rposition(|b| b == sep)?;
    Some((s.get(..at)?, s.get(at + 1..)?))
}

fn plausible_domain(domain: &str, tld_as_written: &str) -> bool {
    // No allocation: this runs on every e-mail-like value of a scan or an assessment.
    let label_ok = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let one_case = tld_as_written.bytes().all(|b| b.is_ascii_lowercase())
        || tld_as_written.bytes().all(|b| b.is_ascii_uppercase());
    let Some((rest, tld)) = rsplit_ascii(domain, b'.') else {
        return false;
    };
    let before_tld = rsplit_ascii(rest, b'.').map_or(rest, |(_, l)| l);
    domain.split('.').all(label_ok)
        && (before_tld.len() >= 2 || tld.len() >= 3)
        && one_case
        && (tld.len() != 2
            || COUNTRY_TLDS
                .as_bytes()
                .chunks(3)
                .any(|c| &c[..2] == tld.as_bytes()))
}

pub(crate) fn email(value: &str) -> Verdict {
    let Some((local, domain)) = rsplit_ascii(value, b'@') else {
        return Verdict::Invalid;
    };
    if SYSTEM_LOCAL_PARTS
        .iter()
        .any(|s| local.eq_ignore_ascii_case(s))
        || domain.ends_with("users.noreply.github.com")
    {
        return Verdict::Invalid;
    }
    let tld_as_written = rsplit_ascii(domain, b'.').map_or("", |(_, t)| t);
    // Most addresses are written in lower case: no copy for those.
    let domain = if domain.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(domain.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(domain)
    };
    let Some((_, tld)) = rsplit_ascii(&domain, b'.') else {
        return Verdict::Invalid;
    };
    if !plausible_domain(&domain, tld_as_written) {
        return Verdict::Invalid;
    }
    let example = EXAMPLE_DOMAINS.iter().any(|d| {
        domain == *d
            || domain
                .strip_suffix(d)
                .is_some_and(|parent| parent.ends_with('.'))
    });
    Verdict::from_bool(
        !local.is_empty()
            && (2..=24).contains(&tld.len())
            && tld.bytes().all(|b| b.is_ascii_alphabetic())
            && !FILE_TLDS.contains(&tld)
            && !INTERNAL_TLDS.contains(&tld)
            && !example,
    )
}

/// GB 32100 character set: digits and capitals without I, O, S, V, Z.
const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Registration authority (first character) and the organisation types it issues
/// (second character), per GB 32100 annex: 1 organs, 5 civil affairs, 9 market
/// regulation, Y others, and the less common 2-8 and A/N authorities.
fn uscc_authority_and_type(a: u8, t: u8) -> bool {
    match a {
        b'1' | b'5' => matches!(t, b'1' | b'2' | b'3' | b'9'),
        b'9' => matches!(t, b'1' | b'2' | b'3'),
        b'Y' => t == b'1',
        b'2' | b'3' | b'4' | b'6' | b'7' | b'8' | b'A' | b'N' => {
            matches!(t, b'1' | b'2' | b'3' | b'9')
        }
        _ => false,
    }
}

pub(crate) fn uscc(value: &str) -> Verdict {
    let b = value.as_bytes();
    if b.len() != 18 {
        return Verdict::Invalid;
    }
    // Structure first: checksums alone pass 1 random 18-digit number in ~341, and order
    // numbers are everywhere. Positions 3-8 are an administrative region code.
    if !uscc_authority_and_type(b[0], b[1]) || !b[2..8].iter().all(u8::is_ascii_digit) {
        return Verdict::Invalid;
    }
    let region: Vec<u8> = b[2..8].iter().map(|x| x - b'0').collect();
    if !known_region(&region) && region != [1, 0, 0, 0, 0, 0] {
        return Verdict::Invalid;
    }
    let mut vals = [0u32; 18];
    for (i, c) in b.iter().enumerate() {
        match USCC_CHARS.iter().position(|x| x == c) {
            Some(p) => vals[i] = p as u32,
            None => return Verdict::Invalid,
        }
    }
    const W: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: u32 = vals[..17].iter().zip(W).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    if check != vals[17] {
        return Verdict::Invalid;
    }
    Verdict::from_bool(org_code_check(&b[8..17]))
}

/// GB 11714 organisation code (8 body characters + check) embedded in a USCC.
fn org_code_check(code: &[u8]) -> bool {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let mut sum = 0;
    for (c, w) in code[..8].iter().zip(W) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return false,
        };
        sum += v * w;
    }
    let expected = match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        n => b'0' + n as u8,
    };
    code[8] == expected
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The country-code list is read three bytes at a time: every code must sit at a
    /// multiple of three, one space apart.
    #[test]
    fn country_codes_are_read_as_written() {
        let listed: Vec<&str> = COUNTRY_TLDS.split_whitespace().collect();
        assert_eq!(COUNTRY_TLDS.len(), listed.len() * 3 - 1);
        for (i, code) in listed.iter().enumerate() {
            assert_eq!(&COUNTRY_TLDS[i * 3..i * 3 + 2], *code);
        }
        assert!(plausible_domain("mail.example.cn", "cn"));
        assert!(!plausible_domain("mail.example.dx", "dx"));
        assert!(!plausible_domain("x.cn", "cn"));
        assert!(plausible_domain("x.com", "com"));
        assert!(!plausible_domain("-a.com", "com"));
    }
    use proptest::prelude::*;

    /// Build a valid 18-digit resident ID from its first 17 digits.
    fn complete_id(first17: &str) -> String {
        let d: Vec<u8> = first17.bytes().map(|b| b - b'0').collect();
        format!("{first17}{}", char::from(resident_id_check_char(&d)))
    }

    #[test]
    fn resident_id() {
        assert_eq!(cn_resident_id("11010519491231002X"), Verdict::Valid);
        assert_eq!(cn_resident_id("11010519491231002x"), Verdict::Valid);
        assert_eq!(cn_resident_id("110105194912310021"), Verdict::Invalid); // check char
        assert_eq!(
            cn_resident_id(&complete_id("11010519490231002")),
            Verdict::Invalid
        ); // Feb 31
        assert_eq!(
            cn_resident_id(&complete_id("99010519491231002")),
            Verdict::Invalid
        ); // region
        assert_eq!(
            cn_resident_id(&complete_id("44030420000229123")),
            Verdict::Valid
        ); // leap day
        assert_eq!(
            cn_resident_id(&complete_id("44030419000229123")),
            Verdict::Invalid
        ); // 1900 not leap
        assert_eq!(
            cn_resident_id_birth_date("11010519491231002X"),
            Some((1949, 12, 31))
        );
        assert_eq!(cn_resident_id_15("110105491231002"), Verdict::Valid);
        assert_eq!(cn_resident_id_15("110105491331002"), Verdict::Invalid);
    }

    #[test]
    fn mobile() {
        assert_eq!(cn_mobile("13800138000"), Verdict::Valid);
        assert_eq!(cn_mobile("+86 138 0013 8000"), Verdict::Valid);
        assert_eq!(cn_mobile("0086-138-0013-8000"), Verdict::Valid);
        assert_eq!(cn_mobile("15400138000"), Verdict::Invalid); // 154 unallocated
        assert_eq!(cn_mobile("12800138000"), Verdict::Invalid);
        assert_eq!(cn_mobile("13811111111"), Verdict::Invalid);
    }

    #[test]
    fn hk_tw() {
        assert_eq!(hk_id("A123456(3)"), Verdict::Valid);
        assert_eq!(hk_id("A1234563"), Verdict::Valid);
        assert_eq!(hk_id("A123456(4)"), Verdict::Invalid);
        assert_eq!(tw_id("A123456789"), Verdict::Valid);
        assert_eq!(tw_id("A123456788"), Verdict::Invalid);
        assert_eq!(tw_id("A323456789"), Verdict::Invalid);
    }

    #[test]
    fn uscc_codes() {
        // A widely published sample code; both the outer and the inner checks hold.
        assert_eq!(uscc("91350100M000100Y43"), Verdict::Valid);
        assert_eq!(uscc("9144030054XHYBLD2U"), Verdict::Valid);
        // Checksums hold but the authority/type/region structure does not.
        assert_eq!(uscc("151173657091826572"), Verdict::Invalid);
        assert_eq!(uscc("91350100M000100Y44"), Verdict::Invalid);
        assert_eq!(uscc("91350100M000100YI3"), Verdict::Invalid); // I not in the set
    }

    #[test]
    fn others() {
        assert_eq!(imsi_cn("460001234567890"), Verdict::Valid);
        assert_eq!(imsi_cn("310001234567890"), Verdict::Invalid);
        assert_eq!(us_ssn("123-45-6789"), Verdict::Valid);
        assert_eq!(us_ssn("666-45-6789"), Verdict::Invalid);
        assert_eq!(us_ssn("078-05-1120"), Verdict::Invalid);
        assert_eq!(email("zhang.wei@carmaker.com.cn"), Verdict::Valid);
        assert_eq!(email("icon@2x.png"), Verdict::Invalid);
        assert_eq!(email("someone@example.com"), Verdict::Invalid);
        assert_eq!(email("git@github.com"), Verdict::Invalid);
        // Random bytes: a one-character name, an unused country code, mixed case.
        assert_eq!(email("s@6.DX"), Verdict::Invalid);
        assert_eq!(email("ab@cd.Dx"), Verdict::Invalid);
        assert_eq!(email("li@x.cn"), Verdict::Invalid);
        assert_eq!(email("wang@163.com"), Verdict::Valid);
        // Users of database URLs on names inside a cluster or a network.
        assert_eq!(email("reader@crm-db.crm.svc"), Verdict::Invalid);
        assert_eq!(email("app@db.cluster.local"), Verdict::Invalid);
        assert_eq!(email("ops@build.corp"), Verdict::Invalid);
        assert_eq!(email("WANG@QQ.COM"), Verdict::Valid);
        assert_eq!(email("a.b@dealer.co.uk"), Verdict::Valid);
        assert_eq!(email("a@mail.de"), Verdict::Valid);
        // Real one-character names under three-letter TLDs.
        assert_eq!(email("elon@x.com"), Verdict::Valid);
        assert_eq!(email("ops@z.net"), Verdict::Valid);
    }

    proptest! {
        /// The byte split is `rsplit_once` with a character, on any text.
        #[test]
        fn rsplit_ascii_is_rsplit_once(s in "(\\PC|[@.])*", at in proptest::bool::ANY) {
            let sep = if at { '@' } else { '.' };
            prop_assert_eq!(rsplit_ascii(&s, sep as u8), s.rsplit_once(sep));
        }

        /// Any real date and known region with its computed check char validates, and any
        /// other check char does not.
        #[test]
        fn resident_id_check_is_exact(prov in proptest::sample::select(CN_PROVINCE_CODES.to_vec()), y in 1900u32..2025, m in 1u32..13, day in 1u32..29, seq in 0u32..1000, wrong in 0usize..11) {
            let first17 = format!("{prov:02}0102{y:04}{m:02}{day:02}{seq:03}");
            let id = complete_id(&first17);
            prop_assert_eq!(cn_resident_id(&id), Verdict::Valid);
            let alt = char::from(b"0123456789X"[wrong]);
            if !id.ends_with(alt) {
                let bad = format!("{first17}{alt}");
                prop_assert_eq!(cn_resident_id(&bad), Verdict::Invalid);
            }
        }

        #[test]
        fn never_panic(s in "\\PC{0,24}") {
            for f in [cn_resident_id, cn_resident_id_15, cn_mobile, hk_id, tw_id, imsi_cn, us_ssn, email, uscc] {
                let _ = f(&s);
            }
        }
    }
}
