//! Masking: the one place that decides how much of a value a report may show.

/// Most hidden characters drawn; longer values show a fixed run so the output stays short
/// and does not leak the exact length of long secrets.
const MAX_STARS: usize = 12;

/// Mask a value so a reader can recognise it (first and last few characters) without
/// being able to use it. Short values are hidden entirely. Works on characters, so
/// Chinese plates and names are masked, not split mid-character.
///
/// An 18-character resident ID keeps 4 + 4 characters, the common Chinese convention.
pub fn mask(value: &str) -> String {
    let first_line = value.lines().next().unwrap_or("");
    let multi_line = first_line.len() < value.len();
    let chars: Vec<char> = first_line.chars().collect();
    let n = chars.len();
    let keep = match n {
        0..=5 => 0,
        6..=9 => 1,
        10..=15 => 2,
        16..=23 => 4,
        _ => 6,
    };
    let hidden = n - 2 * keep;
    let mut out = String::with_capacity(first_line.len() + 4);
    out.extend(&chars[..keep]);
    out.extend(std::iter::repeat_n('*', hidden.min(MAX_STARS)));
    out.extend(&chars[n - keep..]);
    if multi_line {
        out.push('…');
    }
    out
}

/// What a shown line may not carry even when no finding names it: a line is printed and
/// stored for context, and the rules that found something on it are not the only ones
/// that could (`--rules personal` on `张伟,<id>,AKIA…,<mobile>`, a rule turned off in
/// `leakhound.toml`, an ID number whose checksum failed). Anything shaped like a secret
/// or an identifier is masked whatever rules ran:
/// - the value of an assignment to a password, secret, token or key;
/// - e-mail addresses;
/// - tokens of 16 or more letters, digits and `+/_=-` that mix letters and digits
///   (access keys, API tokens, hashes);
/// - runs of 6 or more digits (identity, phone, card and account numbers), including
///   cards written in groups of four.
static SHAPED_LIKE_A_VALUE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r#"(?x)
        (?i:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)
            [\w.-]*["']?\s*(?:[:=]|=>)\s*["']?(?P<assigned>[^\s"'`,;<>()*]{4,})
        | (?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)
        | (?P<token>[A-Za-z0-9+/_=-]{16,})
        | (?P<digits>[0-9]{4}(?:\ [0-9]{4}){2,}[0-9]*|[0-9]{6,}[Xx]?)
        "#,
    )
    .expect("the redaction pattern is a constant and compiles")
});

/// `line` with everything [`SHAPED_LIKE_A_VALUE`] describes masked (borrowed when
/// nothing is). Applied to every line a report shows or a datastore keeps, after the
/// line's own findings are masked.
///
/// ```
/// use leakhound_findings::redact_rest;
/// assert_eq!(redact_rest("key AKIAIOSFODNN7EXAMPLE ok"), "key AKIA************MPLE ok");
/// assert_eq!(redact_rest("no numbers here"), "no numbers here");
/// ```
pub fn redact_rest(line: &str) -> std::borrow::Cow<'_, str> {
    let mut out = String::new();
    let mut done = 0;
    for caps in SHAPED_LIKE_A_VALUE.captures_iter(line) {
        let Some(m) = ["assigned", "email", "token", "digits"]
            .iter()
            .find_map(|g| caps.name(g))
        else {
            continue;
        };
        if caps.name("token").is_some() {
            let v = m.as_str();
            let mixed =
                v.bytes().any(|b| b.is_ascii_digit()) && v.bytes().any(|b| b.is_ascii_alphabetic());
            // A long run of digits is an identifier like any other; letters alone are a
            // word or an identifier in code.
            let digits = v.bytes().all(|b| b.is_ascii_digit());
            if !mixed && !digits {
                continue;
            }
        }
        out.push_str(&line[done..m.start()]);
        out.push_str(&mask(m.as_str()));
        done = m.end();
    }
    if done == 0 && out.is_empty() {
        return std::borrow::Cow::Borrowed(line);
    }
    out.push_str(&line[done..]);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::{mask, redact_rest};

    #[test]
    fn rest_of_a_line_carries_no_value_of_any_rule() {
        let line = "张伟,440304198706151231,AKIAIOSFODNN7EXAMPLE,13912345678";
        let shown = redact_rest(line);
        for raw in ["440304198706151231", "AKIAIOSFODNN7EXAMPLE", "13912345678"] {
            assert!(!shown.contains(raw), "{raw} in {shown}");
        }
        assert!(shown.starts_with("张伟,"));
        // An ID whose checksum fails, a card in groups, a password, an e-mail.
        let shown = redact_rest("id 110105199003072310 card 6222 0212 3456 7890");
        assert!(
            !shown.contains("199003072") && !shown.contains("3456"),
            "{shown}"
        );
        let shown = redact_rest("db.password = hunter2 # x");
        assert!(!shown.contains("hunter2"), "{shown}");
        let shown = redact_rest(r#"{"email": "zhang.wei@example.com"}"#);
        assert!(!shown.contains("zhang.wei@"), "{shown}");
    }

    #[test]
    fn ordinary_code_is_left_alone() {
        for line in [
            "fn main() { let x = 42; }",
            "AbstractBeanFactoryPostProcessor extends Base",
            "2026-12-05 12:00:01 started",
            "password = ****",
        ] {
            assert_eq!(redact_rest(line), line);
        }
    }
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(mask("abc"), "***");
        assert_eq!(mask("13800138000"), "13*******00");
        assert_eq!(mask("京A12345"), "京*****5");
        assert_eq!(
            mask("ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
            "ghp_aB************456789"
        );
        assert_eq!(
            mask("-----BEGIN KEY-----\nMIIE\n-----END KEY-----"),
            "----***********----…"
        );
    }

    proptest! {
        /// A mask never contains the middle of the value it hides.
        #[test]
        fn never_shows_more_than_half(v in "[a-zA-Z0-9]{1,80}") {
            let m = mask(&v);
            let shown = m.chars().filter(|c| *c != '*').count();
            prop_assert!(shown * 2 <= v.chars().count());
        }

        /// Masking a masked value changes nothing: the datastore keeps only masked
        /// values, and reports mask whatever they print.
        #[test]
        fn idempotent_on_one_line(v in "[^\\n\\r]{0,80}") {
            let once = mask(&v);
            prop_assert_eq!(mask(&once), once);
        }

        #[test]
        fn never_panics(v in "\\PC*") {
            let _ = mask(&v);
        }
    }
}
