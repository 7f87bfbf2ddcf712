//! Data kinds a column can hold, how one value is recognised (shape, then the same
//! checksum validators the scanner uses), and the column names that hint at each kind
//! in Chinese and English.

use leakhound_validators::normal;
use serde::Serialize;
use std::borrow::Cow;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Chinese resident identity number (18 characters, MOD 11-2).
    ResidentId,
    /// Hong Kong identity card number (check character).
    HkId,
    /// Taiwan national identification number (check digit).
    TwId,
    /// Passport number (recognised with a column name that says so).
    Passport,
    /// Chinese mobile number.
    Mobile,
    /// E-mail address.
    Email,
    /// Vehicle identification number (ISO 3779 check digit).
    Vin,
    /// Chinese licence plate.
    Plate,
    /// Bank card number (Luhn and issuer ranges).
    BankCard,
    /// Unified social credit code of an organisation.
    Uscc,
    /// A person's name (Chinese, recognised with a column name that says so).
    Name,
    /// A postal address (recognised with a column name that says so).
    Address,
    /// A GPS coordinate (latitude or longitude in China, or a pair).
    Gps,
    /// A date of birth (recognised with a column name that says so).
    BirthDate,
}

impl Kind {
    /// Every kind, in the order values are tried.
    pub const ALL: &'static [Kind] = &[
        Kind::ResidentId,
        Kind::HkId,
        Kind::TwId,
        Kind::Passport,
        Kind::Uscc,
        Kind::Vin,
        Kind::Mobile,
        Kind::BankCard,
        Kind::Email,
        Kind::Plate,
        Kind::Gps,
        Kind::BirthDate,
        Kind::Name,
        Kind::Address,
    ];

    /// Column-name fragments (lower-case) that say a column holds this kind.
    pub fn header_words(self) -> &'static [&'static str] {
        match self {
            Kind::ResidentId => &[
                "身份证",
                "证件号",
                "idcard",
                "id_card",
                "id_no",
                "idno",
                "id_number",
                "resident_id",
                "identity",
                "sfz",
            ],
            Kind::HkId => &["香港身份证", "港澳", "hkid", "hk_id", "hkic"],
            Kind::TwId => &["台湾身份证", "台胞", "twid", "tw_id"],
            Kind::Passport => &["护照", "passport"],
            Kind::Mobile => &["手机", "电话", "联系方式", "mobile", "phone", "tel", "cell"],
            Kind::Email => &["邮箱", "邮件", "email", "e-mail", "mail"],
            Kind::Vin => &["车架号", "车辆识别", "vin", "chassis", "frame_no"],
            Kind::Plate => &["车牌", "号牌", "plate", "license_no", "licence"],
            Kind::BankCard => &[
                "银行卡",
                "卡号",
                "账号",
                "bank",
                "card_no",
                "cardno",
                "account_no",
            ],
            Kind::Uscc => &["信用代码", "统一社会", "uscc", "credit_code", "tax_no"],
            Kind::Name => &[
                "姓名",
                "名字",
                "客户名",
                "联系人",
                "车主",
                "name",
                "owner",
                "contact",
            ],
            Kind::Address => &["地址", "住址", "address", "addr", "street"],
            Kind::Gps => &[
                "经度",
                "纬度",
                "坐标",
                "lat",
                "lng",
                "lon",
                "longitude",
                "latitude",
                "gps",
                "coord",
            ],
            Kind::BirthDate => &["出生", "生日", "birth", "dob"],
        }
    }

    /// Kinds that identify a person, in the order people are keyed by.
    pub const PERSON_KEYS: &'static [Kind] = &[
        Kind::ResidentId,
        Kind::HkId,
        Kind::TwId,
        Kind::Passport,
        Kind::Mobile,
        Kind::Email,
    ];

    /// Identifiers that name one person each: two different ones are two people.
    /// A row holding several of different kinds (a resident ID and a passport) is one
    /// person holding several documents.
    pub const STRONG: &'static [Kind] = &[Kind::ResidentId, Kind::HkId, Kind::TwId, Kind::Passport];

    /// Identifiers a person can be reached by, and can share (a family's e-mail, a
    /// dealer's phone): they join rows to a person only where the data ties them to one.
    pub const CONTACTS: &'static [Kind] = &[Kind::Mobile, Kind::Email];
}

/// Does the column name suggest `kind`?
pub fn header_suggests(header: &str, kind: Kind) -> bool {
    let h = header.to_lowercase();
    kind.header_words().iter().any(|w| h.contains(w))
}

/// A column's name, with the kinds it suggests worked out once rather than per value.
#[derive(Debug, Clone)]
pub struct Column {
    suggests: Vec<Kind>,
}

impl Column {
    /// The context a column named `name` gives its values.
    pub fn new(name: &str) -> Column {
        Column {
            suggests: Kind::ALL
                .iter()
                .copied()
                .filter(|k| header_suggests(name, *k))
                .collect(),
        }
    }

    /// Does the name say the column holds `kind`?
    pub fn suggests(&self, kind: Kind) -> bool {
        self.suggests.contains(&kind)
    }
}

/// The kind `value` is, if any, with its normalised form (what identifies the same
/// thing however it was written: `+86 138-0013-8000` and `13800138000` are one number).
pub fn recognise(value: &str, column: &Column) -> Option<(Kind, String)> {
    let v = value.trim();
    if v.is_empty() || v.len() > 200 {
        return None;
    }
    for &kind in Kind::ALL {
        if let Some(n) = check(kind, v, column) {
            return Some((kind, n.into_owned()));
        }
    }
    None
}

/// Is `v` a valid value of `kind`? Returns its normalised form. Identifiers that need
/// no column name are normalised in [`leakhound_validators::normal`]; names,
/// addresses, birth dates and a lone coordinate need the column to say so.
pub fn check<'v>(kind: Kind, v: &'v str, column: &Column) -> Option<Cow<'v, str>> {
    match kind {
        Kind::ResidentId => normal::resident_id(v),
        Kind::Uscc => normal::uscc(v),
        Kind::Vin => normal::vin(v),
        Kind::Mobile => normal::mobile(v),
        Kind::BankCard => normal::bank_card(v),
        Kind::Email => normal::email(v),
        Kind::Plate => normal::plate(v),
        // Eight or ten characters with a check character match product codes one time
        // in ten: an identity-card column, or Hong Kong's bracketed form, says which.
        Kind::HkId
            if !v.contains('(') && !column.suggests(kind) && !column.suggests(Kind::ResidentId) =>
        {
            None
        }
        Kind::HkId => normal::hk_id(v),
        Kind::TwId if !column.suggests(kind) && !column.suggests(Kind::ResidentId) => None,
        Kind::TwId => normal::tw_id(v),
        Kind::Passport if !column.suggests(kind) => None,
        Kind::Passport => normal::passport(v),
        Kind::Gps if !v.starts_with(|c: char| c.is_ascii_digit() || c == '-') => None,
        // A pair in one cell, or one coordinate in a column named for it.
        Kind::Gps if v.contains(',') => normal::gps_pair(v),
        Kind::Name | Kind::Address | Kind::BirthDate if !column.suggests(kind) => None,
        Kind::BirthDate => {
            let (y, m, d) = date_of(v)?;
            (1900..=2030)
                .contains(&y)
                .then(|| Cow::Owned(format!("{y:04}-{m:02}-{d:02}")))
        }
        Kind::Gps => {
            let x: f64 = v.parse().ok()?;
            let decimals = v.split_once('.').map_or(0, |(_, d)| d.len());
            let in_china = (3.0..=54.0).contains(&x) || (73.0..=136.0).contains(&x);
            (decimals >= 4 && in_china && column.suggests(Kind::Gps)).then_some(Cow::Borrowed(v))
        }
        Kind::Name => {
            // Chinese names: 2-4 Han characters (a middle dot for minority names), in a
            // column named for names. Latin names are too like any word to guess.
            let n = v.chars().count();
            let han = v
                .chars()
                .all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c) || c == '·');
            ((2..=6).contains(&n) && han).then_some(Cow::Borrowed(v))
        }
        Kind::Address => {
            // One pass over the characters: an address column is long text on every row.
            let (mut n, mut marker) = (0, false);
            for c in v.chars() {
                n += 1;
                marker |= matches!(
                    c,
                    '省' | '市' | '区' | '县' | '路' | '街' | '号' | '镇' | '村'
                );
            }
            let latin = || {
                v.chars().any(|c| c.is_ascii_digit())
                    && v.split_whitespace().count() >= 3
                    && v.chars().any(|c| c.is_ascii_alphabetic())
            };
            (n >= 6 && (marker || latin())).then_some(Cow::Borrowed(v))
        }
    }
}

/// Is `normal` (a normalised mobile or e-mail) a placeholder typed where the real value
/// was unknown: `13800000000`, `13800138000`, `test@test.com`? Placeholders stand on
/// many rows of unrelated people, so they identify no one.
pub fn is_placeholder(kind: Kind, normal: &str) -> bool {
    match kind {
        Kind::Mobile => {
            let tail = normal.get(3..).unwrap_or("");
            let same = tail.bytes().all(|b| Some(b) == tail.bytes().next());
            same || normal == "13800138000"
        }
        Kind::Email => {
            let (local, domain) = normal.rsplit_once('@').unwrap_or(("", normal));
            const LOCALS: &[&str] = &[
                "test", "xxx", "null", "none", "noreply", "no-reply", "nobody", "unknown",
            ];
            const DOMAINS: &[&str] = &[
                "test.com",
                "test.cn",
                "xxx.com",
                "abc.com",
                "a.com",
                "123.com",
                "example.com",
                "example.cn",
            ];
            LOCALS.contains(&local) || DOMAINS.contains(&domain)
        }
        _ => false,
    }
}

/// The calendar date at the start of `v`, however it is written: `2021-08-03`,
/// `2021/8/3`, `20210803`, `2021年8月3日`, with or without a time after it.
pub fn date_of(v: &str) -> Option<(i32, u8, u8)> {
    let v = v.trim();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (y, m, d) =
        if v.get(..8).is_some_and(digits) && !v[8..].starts_with(|c: char| c.is_ascii_digit()) {
            (&v[..4], &v[4..6], &v[6..8])
        } else {
            let mut parts = v.splitn(4, ['-', '/', '.', '年', '月', '日', ' ', 'T']);
            let y = parts.next()?;
            let m = parts.next()?;
            let d = parts.next()?;
            (y, m, d)
        };
    if y.len() != 4 || !digits(y) || !digits(m) || !digits(d) || m.len() > 2 || d.len() > 2 {
        return None;
    }
    let (y, m, d): (i32, u8, u8) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let last = *days.get(usize::from(m).checked_sub(1)?)?;
    (d >= 1 && d <= last).then_some((y, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_recognised_and_normalised() {
        let recognise = |v: &str, h: &str| recognise(v, &Column::new(h));
        assert_eq!(
            recognise("440304198706151231", "x"),
            Some((Kind::ResidentId, "440304198706151231".into()))
        );
        assert_eq!(
            recognise("+86 139-1234-5678", "x"),
            Some((Kind::Mobile, "13912345678".into()))
        );
        assert_eq!(
            recognise("Zhang.San@Carmaker.CN", "x"),
            Some((Kind::Email, "zhang.san@carmaker.cn".into()))
        );
        assert_eq!(
            recognise("lsvau218xn2183294", "x"),
            Some((Kind::Vin, "LSVAU218XN2183294".into()))
        );
        assert_eq!(recognise("粤B·12345", "x").map(|k| k.0), Some(Kind::Plate));
        assert_eq!(recognise("张伟", "姓名").map(|k| k.0), Some(Kind::Name));
        assert_eq!(
            recognise("张伟", "comment"),
            None,
            "names need a column that says so"
        );
        assert_eq!(
            recognise("广东省深圳市南山区科技园路1号", "联系地址").map(|k| k.0),
            Some(Kind::Address)
        );
        assert_eq!(recognise("22.543096", "lat").map(|k| k.0), Some(Kind::Gps));
        assert_eq!(recognise("22.543096", "price"), None);
        assert_eq!(
            recognise("440304198706151232", "x"),
            None,
            "wrong check character"
        );
        assert_eq!(recognise("", "x"), None);
    }

    #[test]
    fn dates_are_read_in_the_usual_ways() {
        for v in [
            "2021-08-03",
            "2021/8/3",
            "20210803",
            "2021年8月3日",
            "2021-08-03 10:22:11",
            "2021-08-03T10:22:11Z",
        ] {
            assert_eq!(date_of(v), Some((2021, 8, 3)), "{v}");
        }
        for v in [
            "2021-02-30",
            "2021-13-01",
            "3/8/2021",
            "202108031",
            "",
            "13912345678",
            // Found by fuzzing: byte 8 inside a character (a slice panic).
            "\u{ff}\u{ff}\u{ff}\u{fffd}\u{fffd}",
            "1234567\u{e9}",
        ] {
            assert_eq!(date_of(v), None, "{v}");
        }
        assert_eq!(
            recognise("1987/6/15", &Column::new("出生日期")),
            Some((Kind::BirthDate, "1987-06-15".into()))
        );
        assert_eq!(recognise("1987-06-15", &Column::new("created_at")), None);
    }

    #[test]
    fn header_words_cover_both_languages() {
        assert!(header_suggests("客户手机号", Kind::Mobile));
        assert!(header_suggests("Mobile_Phone", Kind::Mobile));
        assert!(header_suggests("车架号(VIN)", Kind::Vin));
        assert!(!header_suggests("amount", Kind::Mobile));
    }
}
