//! Canary records: synthetic customers that pass every checksum (resident ID, mobile,
//! VIN, plate, bank card) yet are derived from the key and a recipient's name. Mixed
//! into the copy a recipient gets, they name that recipient when the copy leaks.
//!
//! Nothing is stored: `trace match` regenerates each recipient's canaries from the key
//! and recognises them by exact fingerprint. The ledger next to the key file keeps
//! only recipient names and counts, so a match need not be told who received what.
//!
//! A canary must not be a real customer: when an index is given, a candidate whose
//! identifiers are in it is skipped for the next attempt, and matching (which always
//! has the index) skips the same ones, so both sides agree on the canary set.

use crate::identifiers::{name_normal, normalise, IdKind, Key64};
use crate::index::Index;
use crate::key::{Draw, Key};
use crate::TraceError;
use leakhound_validators::{luhn, resident_id_check_char, vin_check_char, Validator, Verdict};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Attempts per canary before giving up on avoiding the index (each collides with
/// probability about 10^-3 for an index of 50 million people).
const ATTEMPTS: u32 = 4;

/// One synthetic customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Canary {
    /// Chinese name.
    pub name: String,
    /// 18-character resident ID with a valid check character.
    pub resident_id: String,
    /// 11-digit mobile number in a real carrier segment.
    pub mobile: String,
    /// E-mail address.
    pub email: String,
    /// VIN with a valid check digit and a Chinese manufacturer prefix.
    pub vin: String,
    /// Licence plate of the resident ID's province.
    pub plate: String,
    /// Date of birth (the one inside the resident ID).
    pub birth_date: String,
    /// Postal address in the resident ID's district.
    pub address: String,
    /// UnionPay card number passing Luhn.
    pub bank_card: String,
}

impl Canary {
    /// The column names of [`Canary::fields`].
    pub const COLUMNS: [&'static str; 9] = [
        "name",
        "resident_id",
        "mobile",
        "email",
        "vin",
        "plate",
        "birth_date",
        "address",
        "bank_card",
    ];

    /// The values in [`Canary::COLUMNS`] order.
    pub fn fields(&self) -> [&str; 9] {
        [
            &self.name,
            &self.resident_id,
            &self.mobile,
            &self.email,
            &self.vin,
            &self.plate,
            &self.birth_date,
            &self.address,
            &self.bank_card,
        ]
    }

    /// The fingerprints a dump holding this canary would give.
    pub fn keys(&self, key: &Key) -> Vec<Key64> {
        let full = |kind: IdKind, v: &str| Key64 {
            kind,
            hash: key.fingerprint(kind as u8, &normalise(kind, v)),
        };
        vec![
            full(IdKind::ResidentId, &self.resident_id),
            full(IdKind::Mobile, &self.mobile),
            full(IdKind::Email, &self.email),
            full(IdKind::Vin, &self.vin),
            full(IdKind::Plate, &self.plate),
            full(IdKind::BankCard, &self.bank_card),
            full(
                IdKind::NameBirth,
                &format!("{}|{}", name_normal(&self.name), self.birth_date),
            ),
        ]
    }
}

/// Canaries as CSV with a header row.
pub fn write_csv(list: &[Canary], out: &mut dyn std::io::Write) -> Result<(), TraceError> {
    let mut w = csv::Writer::from_writer(out);
    let csv_error = |e: csv::Error| TraceError::Csv(e.to_string());
    w.write_record(Canary::COLUMNS).map_err(csv_error)?;
    for c in list {
        w.write_record(c.fields()).map_err(csv_error)?;
    }
    w.flush().map_err(|e| TraceError::Io("canaries".into(), e))
}

/// Canary number `j` of `recipient`, attempt `attempt`.
pub fn canary(key: &Key, recipient: &str, j: u64, attempt: u32) -> Canary {
    let mut d = Draw::new(
        key,
        &[
            b"leakhound canary v1",
            recipient.as_bytes(),
            &j.to_le_bytes(),
            &attempt.to_le_bytes(),
        ],
    );
    let (region, place, plate_province) = *d.pick(REGIONS);
    let (surname, surname_py) = *d.pick(SURNAMES);
    let given: Vec<&(&str, &str)> = (0..1 + d.below(2)).map(|_| d.pick(GIVEN)).collect();
    let name = format!("{surname}{}", given.iter().map(|g| g.0).collect::<String>());
    let year = 1960 + d.below(44);
    let month = 1 + d.below(12);
    let day = 1 + d.below(28);
    let birth_date = format!("{year:04}-{month:02}-{day:02}");
    let mut id = format!("{region}{year:04}{month:02}{day:02}{:03}", d.below(1000));
    let digits: Vec<u8> = id.bytes().map(|b| b - b'0').collect();
    id.push(char::from(resident_id_check_char(&digits)));
    let mobile = loop {
        let m = format!("{}{:08}", d.pick(MOBILE_PREFIXES), d.below(100_000_000));
        if Validator::CnMobile.check(&m) == Verdict::Valid {
            break m;
        }
    };
    let domain = *d.pick(MAIL_DOMAINS);
    let email = if domain == "qq.com" {
        format!("{}@qq.com", 100_000_000 + d.below(2_900_000_000))
    } else {
        let style = d.below(3);
        let given_py: String = given.iter().map(|g| g.1).collect();
        match style {
            0 => format!("{surname_py}{given_py}{}@{domain}", year % 100),
            1 => format!("{given_py}.{surname_py}@{domain}"),
            _ => format!("{surname_py}{given_py}{}@{domain}", d.below(1000)),
        }
    };
    let vin = loop {
        let mut v: Vec<u8> = d.pick(WMIS).bytes().collect();
        for _ in 0..5 {
            v.push(*d.pick(VIN_CHARS));
        }
        v.push(b'0');
        v.push(*d.pick(VIN_YEARS));
        v.push(*d.pick(VIN_CHARS));
        v.extend(format!("{:06}", d.below(1_000_000)).bytes());
        if let Some(c) = vin_check_char(&v) {
            v[8] = c;
            break String::from_utf8_lossy(&v).into_owned();
        }
    };
    let plate = loop {
        let serial: String = (0..5)
            .map(|i| {
                if i == 0 && d.below(3) == 0 {
                    char::from(*d.pick(PLATE_LETTERS))
                } else {
                    char::from(b'0' + d.below(10) as u8)
                }
            })
            .collect();
        let p = format!(
            "{plate_province}{}{serial}",
            char::from(b'A' + d.below(8) as u8)
        );
        if Validator::CnPlate.check(&p) == Verdict::Valid {
            break p;
        }
    };
    let address = format!(
        "{place}{}{}号{}栋{}室",
        d.pick(STREETS),
        1 + d.below(300),
        1 + d.below(30),
        101 + d.below(20) * 100 + d.below(6)
    );
    let bank_card = {
        let mut digits: Vec<u8> = vec![6, 2];
        digits.extend((0..16).map(|_| d.below(10) as u8));
        let check = (0..10u8)
            .find(|&c| {
                let mut all = digits.clone();
                all.push(c);
                luhn(&all)
            })
            .unwrap_or(0);
        digits.push(check);
        digits.iter().map(|x| char::from(b'0' + x)).collect()
    };
    Canary {
        name,
        resident_id: id,
        mobile,
        email,
        vin,
        plate,
        birth_date,
        address,
        bank_card,
    }
}

/// The first `count` canaries of `recipient`, none of them sharing an identifier with
/// a record of `index`.
pub fn canaries(key: &Key, recipient: &str, count: u64, index: Option<&Index>) -> Vec<Canary> {
    (0..count)
        .filter_map(|j| accepted(key, recipient, j, index).map(|(c, _)| c))
        .collect()
}

/// Canary `j`: the first attempt whose identifiers are not in the index.
fn accepted(
    key: &Key,
    recipient: &str,
    j: u64,
    index: Option<&Index>,
) -> Option<(Canary, Vec<Key64>)> {
    (0..ATTEMPTS).find_map(|a| {
        let c = canary(key, recipient, j, a);
        let keys = c.keys(key);
        let clash = index.is_some_and(|i| keys.iter().any(|k| i.contains(k)));
        (!clash).then_some((c, keys))
    })
}

/// Every canary fingerprint of a set of recipients, to recognise canaries in a dump.
pub struct CanarySet {
    names: Vec<String>,
    by_hash: HashMap<u64, usize>,
}

impl CanarySet {
    /// The canaries of each `(recipient, count)`, as generation with `index` made them.
    pub fn new(key: &Key, recipients: &[(String, u64)], index: &Index) -> CanarySet {
        let mut by_hash = HashMap::new();
        for (i, (name, count)) in recipients.iter().enumerate() {
            for j in 0..*count {
                if let Some((_, keys)) = accepted(key, name, j, Some(index)) {
                    for k in keys {
                        by_hash.insert(k.hash, i);
                    }
                }
            }
        }
        CanarySet {
            names: recipients.iter().map(|r| r.0.clone()).collect(),
            by_hash,
        }
    }

    /// The recipient whose canary has this fingerprint.
    pub fn recipient(&self, hash: u64) -> Option<usize> {
        self.by_hash.get(&hash).copied()
    }

    /// Recipient names, by the numbers [`CanarySet::recipient`] gives.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// Canaries to give a copy of `rows` rows so that a random sample of `sample` rows of
/// it holds at least one with probability `p`: the smallest c with
/// 1 - (1 - c/(rows+c))^sample >= p.
pub fn needed(rows: u64, sample: u64, p: f64) -> u64 {
    if sample == 0 {
        return 0;
    }
    let miss = (1.0 - p).ln() / sample as f64;
    // (1 - f)^s <= 1 - p  <=>  f >= 1 - e^(ln(1-p)/s)
    let share = 1.0 - miss.exp();
    let c = (share * rows as f64 / (1.0 - share)).ceil();
    (c as u64).max(1)
}

/// Where recipients and their canary counts are kept: beside the key file.
pub fn ledger_path(key_file: &Path) -> PathBuf {
    let mut p = key_file.as_os_str().to_owned();
    p.push(".recipients");
    PathBuf::from(p)
}

/// Recipients in the ledger with the most canaries generated for each.
pub fn read_ledger(path: &Path) -> Result<Vec<(String, u64)>, TraceError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(TraceError::Io(path.display().to_string(), e)),
    };
    let mut out: Vec<(String, u64)> = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let Some((count, name)) = line.split_once('\t') else {
            continue;
        };
        let Ok(count) = count.trim().parse::<u64>() else {
            continue;
        };
        match out.iter_mut().find(|(n, _)| n == name) {
            Some(e) => e.1 = e.1.max(count),
            None => out.push((name.to_string(), count)),
        }
    }
    Ok(out)
}

/// Note in the ledger that `recipient` was given `count` canaries.
pub fn record_in_ledger(path: &Path, recipient: &str, count: u64) -> Result<(), TraceError> {
    use std::io::Write;
    let io = |e| TraceError::Io(path.display().to_string(), e);
    let fresh = !path.exists();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    if fresh {
        writeln!(
            f,
            "# leakhound trace: recipients given canaries (count, tab, name). No canary values are kept here."
        )
        .map_err(io)?;
    }
    writeln!(f, "{count}\t{}", recipient.replace(['\n', '\t'], " ")).map_err(io)
}

const REGIONS: &[(&str, &str, &str)] = &[
    ("110101", "北京市东城区", "京"),
    ("110105", "北京市朝阳区", "京"),
    ("120101", "天津市和平区", "津"),
    ("310104", "上海市徐汇区", "沪"),
    ("310115", "上海市浦东新区", "沪"),
    ("320106", "江苏省南京市鼓楼区", "苏"),
    ("330106", "浙江省杭州市西湖区", "浙"),
    ("350203", "福建省厦门市思明区", "闽"),
    ("370202", "山东省青岛市市南区", "鲁"),
    ("410105", "河南省郑州市金水区", "豫"),
    ("420106", "湖北省武汉市武昌区", "鄂"),
    ("430104", "湖南省长沙市岳麓区", "湘"),
    ("440106", "广东省广州市天河区", "粤"),
    ("440305", "广东省深圳市南山区", "粤"),
    ("500103", "重庆市渝中区", "渝"),
    ("510107", "四川省成都市武侯区", "川"),
    ("610113", "陕西省西安市雁塔区", "陕"),
    ("210202", "辽宁省大连市中山区", "辽"),
];

const SURNAMES: &[(&str, &str)] = &[
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("罗", "luo"),
    ("高", "gao"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
];

const GIVEN: &[(&str, &str)] = &[
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀", "xiu"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("英", "ying"),
    ("华", "hua"),
    ("建", "jian"),
    ("文", "wen"),
    ("辉", "hui"),
    ("玲", "ling"),
    ("鹏", "peng"),
    ("宇", "yu"),
    ("浩", "hao"),
    ("晨", "chen"),
    ("婷", "ting"),
    ("博", "bo"),
    ("鑫", "xin"),
];

const MOBILE_PREFIXES: &[&str] = &[
    "134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "182",
    "183", "187", "188", "130", "131", "132", "155", "156", "185", "186", "133", "153", "180",
    "181", "189", "177", "199", "166",
];

const MAIL_DOMAINS: &[&str] = &[
    "163.com",
    "126.com",
    "qq.com",
    "sina.com",
    "foxmail.com",
    "outlook.com",
    "139.com",
];

const WMIS: &[&str] = &[
    "LSV", "LFV", "LGB", "LSG", "LVS", "LHG", "LBV", "LFM", "LGW", "LNB", "LDC", "LBE", "LZW",
    "LGX",
];

const VIN_CHARS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
const VIN_YEARS: &[u8] = b"BCDEFGHJKLMNPR";
const PLATE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

const STREETS: &[&str] = &[
    "中山路",
    "人民路",
    "解放路",
    "建设路",
    "和平路",
    "长江路",
    "黄河路",
    "新华路",
    "文化路",
    "科技路",
    "学府路",
    "东风路",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key::from_bytes(b"0123456789abcdef0123").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn canaries_pass_every_checksum() {
        let k = key();
        for j in 0..300 {
            let c = canary(&k, "supplier-a", j, 0);
            for (v, validator) in [
                (&c.resident_id, Validator::CnResidentId),
                (&c.mobile, Validator::CnMobile),
                (&c.email, Validator::Email),
                (&c.vin, Validator::Vin),
                (&c.plate, Validator::CnPlate),
                (&c.bank_card, Validator::PaymentCard),
            ] {
                assert_eq!(
                    validator.check(v),
                    Verdict::Valid,
                    "{v} ({validator:?}) in {c:?}"
                );
            }
            assert_eq!(c.resident_id[6..14], c.birth_date.replace('-', ""));
        }
    }

    #[test]
    fn canaries_depend_on_key_recipient_and_number() {
        let k = key();
        let other = Key::from_bytes(b"another key of 20 bytes").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(canary(&k, "a", 1, 0), canary(&k, "a", 1, 0));
        assert_ne!(canary(&k, "a", 1, 0), canary(&k, "b", 1, 0));
        assert_ne!(canary(&k, "a", 1, 0), canary(&k, "a", 2, 0));
        assert_ne!(canary(&k, "a", 1, 0), canary(&other, "a", 1, 0));
    }

    #[test]
    fn needed_canaries_grow_as_samples_shrink() {
        // 1,000 canaries in a million rows: a 10,000-row sample holds one with ~99.995%.
        assert!(needed(1_000_000, 10_000, 0.99) <= 500);
        assert!(needed(1_000_000, 1_000, 0.99) > needed(1_000_000, 10_000, 0.99));
        let c = needed(100_000, 1_000, 0.95);
        let share = c as f64 / (100_000 + c) as f64;
        assert!(1.0 - (1.0 - share).powi(1_000) >= 0.95);
        let fewer = (c - 1) as f64 / (100_000 + c - 1) as f64;
        assert!(1.0 - (1.0 - fewer).powi(1_000) < 0.95, "the smallest count");
    }

    #[test]
    fn the_ledger_keeps_the_largest_count_per_recipient() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = ledger_path(&dir.path().join("key"));
        assert!(read_ledger(&p).unwrap_or_else(|e| panic!("{e}")).is_empty());
        for (n, c) in [("a", 10), ("b", 5), ("a", 30), ("a", 20)] {
            record_in_ledger(&p, n, c).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(
            read_ledger(&p).unwrap_or_else(|e| panic!("{e}")),
            [("a".to_string(), 30), ("b".to_string(), 5)]
        );
    }
}
