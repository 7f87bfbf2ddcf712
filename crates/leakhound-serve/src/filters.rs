//! The finding list's filters, as the query string carries them (so a filtered view is
//! a link to share) and as the store takes them. Words that are not a status,
//! category or severity are dropped rather than refused: a stale bookmark still opens.

use leakhound_findings::{Category, Severity, Status};
use leakhound_store::{Cursor, Filter};

/// The filters of a finding list, as given.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListQuery {
    pub statuses: Vec<Status>,
    pub categories: Vec<Category>,
    pub severities: Vec<Severity>,
    pub rule: String,
    pub target: String,
    pub path: String,
    /// `YYYY-MM-DD`.
    pub since: String,
    /// `YYYY-MM-DD` (inclusive).
    pub until: String,
    pub scan: Option<i64>,
    pub new_in: Option<i64>,
    pub run: String,
    /// New in this estate run (not seen by the run before it).
    pub new_in_run: String,
    /// One finding (its export: every place).
    pub fingerprint: String,
    pub after: Option<Cursor>,
}

/// Pairs of a query string or form body.
pub(crate) fn pairs(raw: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(raw)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A posted form: its fields by name, repeated names kept (`fp=…&fp=…`).
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(pairs(body))
    }

    /// The first value of `name`, or "" when the form has none.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A `YYYY-MM-DD` as the start of that day, RFC 3339 UTC like the store's times.
fn day(text: &str, plus_days: i64) -> Option<String> {
    let date: jiff::civil::Date = text.trim().parse().ok()?;
    let date = date.checked_add(jiff::Span::new().days(plus_days)).ok()?;
    Some(format!("{date}T00:00:00.000Z"))
}

impl ListQuery {
    pub fn parse(raw: Option<&str>) -> ListQuery {
        let mut q = ListQuery::default();
        for (key, value) in pairs(raw.unwrap_or("").as_bytes()) {
            let value = value.trim().to_string();
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "status" => q.statuses.extend(value.parse::<Status>().ok()),
                "category" => q.categories.extend(value.parse::<Category>().ok()),
                "severity" => q.severities.extend(value.parse::<Severity>().ok()),
                "rule" => q.rule = value.chars().take(200).collect(),
                "target" => q.target = value.chars().take(1000).collect(),
                "path" => q.path = value.chars().take(1000).collect(),
                "since" if day(&value, 0).is_some() => q.since = value,
                "until" if day(&value, 0).is_some() => q.until = value,
                "scan" => q.scan = value.parse().ok(),
                "new_in" => q.new_in = value.parse().ok(),
                "run" => q.run = value.chars().take(200).collect(),
                "new_in_run" => q.new_in_run = value.chars().take(200).collect(),
                "fp" if value.len() <= 128 && value.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    q.fingerprint = value.to_ascii_lowercase()
                }
                "after" => q.after = Cursor::decode(&value),
                _ => {}
            }
        }
        q.statuses.dedup();
        q.categories.dedup();
        q.severities.dedup();
        q
    }

    /// The store's filter.
    pub fn filter(&self) -> Filter {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Filter {
            statuses: self.statuses.clone(),
            categories: self.categories.clone(),
            severities: self.severities.clone(),
            rules: some(&self.rule).into_iter().collect(),
            since: day(&self.since, 0),
            until: day(&self.until, 1),
            scan: self.scan,
            new_in_scan: self.new_in,
            run: some(&self.run),
            new_in_run: some(&self.new_in_run),
            path: some(&self.path),
            target: some(&self.target),
            fingerprints: some(&self.fingerprint).into_iter().collect(),
            at_most: None,
        }
    }

    /// The query string of these filters (no page cursor), for links and exports.
    pub fn query_string(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for s in &self.statuses {
            out.append_pair("status", s.as_str());
        }
        for c in &self.categories {
            out.append_pair("category", c.as_str());
        }
        for s in &self.severities {
            out.append_pair("severity", s.as_str());
        }
        for (k, v) in [
            ("rule", &self.rule),
            ("target", &self.target),
            ("path", &self.path),
            ("since", &self.since),
            ("until", &self.until),
            ("run", &self.run),
            ("new_in_run", &self.new_in_run),
            ("fp", &self.fingerprint),
        ] {
            if !v.is_empty() {
                out.append_pair(k, v);
            }
        }
        if let Some(n) = self.scan {
            out.append_pair("scan", &n.to_string());
        }
        if let Some(n) = self.new_in {
            out.append_pair("new_in", &n.to_string());
        }
        out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_becomes_a_filter_and_back() {
        let q = ListQuery::parse(Some(
            "status=open&status=confirmed&status=bogus&category=secret&severity=high\
             &rule=aws-access-key&path=src%2F%3Cb%3E&since=2026-12-01&until=2026-12-06\
             &target=&new_in=7&after=junk",
        ));
        assert_eq!(q.statuses, [Status::Open, Status::Confirmed]);
        let f = q.filter();
        assert_eq!(f.rules, ["aws-access-key"]);
        assert_eq!(f.path.as_deref(), Some("src/<b>"));
        assert_eq!(f.target, None);
        assert_eq!(f.since.as_deref(), Some("2026-12-01T00:00:00.000Z"));
        assert_eq!(f.until.as_deref(), Some("2026-12-07T00:00:00.000Z"));
        assert_eq!(f.new_in_scan, Some(7));
        assert!(q.after.is_none());
        let again = ListQuery::parse(Some(&q.query_string()));
        assert_eq!(again.query_string(), q.query_string());
        assert_eq!(again.path, "src/<b>");
    }

    #[test]
    fn bad_dates_are_dropped() {
        let q = ListQuery::parse(Some("since=yesterday&until=2026-13-40&fp=zz"));
        assert!(q.filter().since.is_none() && q.filter().until.is_none());
        assert!(q.filter().fingerprints.is_empty());
        let one = ListQuery::parse(Some("fp=ABCDEF12"));
        assert_eq!(one.filter().fingerprints, ["abcdef12"]);
    }
}
