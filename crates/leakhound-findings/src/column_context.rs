//! What a table column's name says about the personal data found in its cells. In a
//! data file the column decides: a Luhn-valid 16-digit number is a card number in
//! `card_no` but a coupon code in `coupon_code` (one number in ten passes Luhn by
//! chance), and an 11-digit number in `order_sn` is an order number that happens to
//! look like a mobile number.

/// Name parts of columns that number or identify things, not people: their values are
/// codes that may pass a personal-data checksum by chance.
const THING_WORDS: &[&str] = &[
    "coupon",
    "voucher",
    "promo",
    "promotion",
    "order",
    "orders",
    "sku",
    "spu",
    "barcode",
    "ean",
    "upc",
    "isbn",
    "serial",
    "tracking",
    "waybill",
    "express",
    "logistics",
    "product",
    "goods",
    "item",
    "invoice",
    "trade",
    "transaction",
    "txn",
    "trace",
    "batch",
    "lot",
    "version",
    "checksum",
    "hash",
    "uuid",
    "guid",
    "sn",
    "seq",
    "sequence",
    "timestamp",
    "ts",
    "price",
    "amount",
    "total",
    "count",
    "qty",
    "quantity",
    "stock",
    "sort",
    "weight",
    "size",
    "lng",
    "lat",
    "订单",
    "优惠",
    "券",
    "商品",
    "物流",
    "运单",
    "快递",
    "流水",
    "批次",
    "序号",
    "金额",
    "价格",
    "数量",
    "库存",
    "条码",
];

/// Name parts that say a column holds a person's identifier or contact: these win
/// over [`THING_WORDS`] (`receiver_phone` on an order is still a phone).
const PERSON_WORDS: &[&str] = &[
    "phone",
    "mobile",
    "tel",
    "telephone",
    "cell",
    "card",
    "bank",
    "account",
    "idcard",
    "identity",
    "passport",
    "license",
    "licence",
    "email",
    "mail",
    "customer",
    "user",
    "member",
    "owner",
    "contact",
    "receiver",
    "buyer",
    "person",
    "vin",
    "plate",
    "手机",
    "电话",
    "卡",
    "身份",
    "证件",
    "邮箱",
    "客户",
    "用户",
    "会员",
    "车主",
    "联系",
    "收货",
    "车架",
    "车牌",
];

/// Does a column named `name` number things (coupons, orders, products) rather than
/// hold a person's data? Then a personal-data match in one of its cells is a number
/// that passed a checksum by chance, not an ID, phone or card.
pub fn column_names_a_thing(name: &str) -> bool {
    let words = words(name);
    let has = |list: &[&str]| {
        words.iter().any(|w| {
            list.iter()
                .any(|l| w == l || (!l.is_ascii() && w.contains(l)))
        })
    };
    has(THING_WORDS) && !has(PERSON_WORDS)
}

/// A column name's parts, lower case: split at anything not a letter or digit and at
/// lower-to-upper case changes (`couponCode` → `coupon`, `code`). Han text is one part,
/// searched by substring.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            previous_lower = false;
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            continue;
        }
        if c.is_uppercase() && previous_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_lowercase();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_that_number_things_are_recognised() {
        for name in [
            "coupon_code",
            "couponCode",
            "ORDER_SN",
            "order_no",
            "tracking number",
            "product_barcode",
            "优惠券码",
            "订单编号",
        ] {
            assert!(column_names_a_thing(name), "{name}");
        }
    }

    #[test]
    fn columns_of_people_are_not_things() {
        for name in [
            "card_no",
            "bank_card",
            "receiver_phone",
            "order_mobile",
            "id_card",
            "手机号",
            "收货人电话",
            "订单手机号",
            "phone",
            "c3",
            "",
            "serialize",
            "ordered_by",
        ] {
            assert!(!column_names_a_thing(name), "{name}");
        }
    }
}
