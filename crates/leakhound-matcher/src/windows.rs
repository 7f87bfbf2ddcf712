//! Matching a keyworded rule only on the lines that hold its keywords.
//!
//! A keyword hit used to mean "run this rule's regex over the whole blob". In config
//! files, where `password` or `secret` sits on every sixth line, that is a dozen
//! regexes over every byte, and it made a 41 KB properties file cost 1.5 ms (27 MB/s).
//! When every match of a rule must contain one of its keywords and cannot cross a
//! newline, a match can only lie on a line with a keyword hit, so the regex runs on
//! those lines alone. Both facts are proven from the pattern's syntax tree, never
//! assumed: a rule that cannot be proven (a multi-line private key, a keyword that is
//! context rather than part of the value) is still matched over the whole blob.

use regex_syntax::hir::{Class, Hir, HirKind};

/// Can the rule be matched on its keyword lines only?
pub(crate) fn line_bound(hir: &Hir, keywords: &[String]) -> bool {
    let keywords: Vec<Vec<u8>> = keywords
        .iter()
        .map(|k| k.to_ascii_lowercase().into_bytes())
        .collect();
    !keywords.is_empty()
        && !keywords.iter().any(|k| k.contains(&b'\n') || k.is_empty())
        && !can_match_newline(hir)
        && always_contains(hir, &keywords)
}

/// Could any match of `hir` contain a `\n` byte?
fn can_match_newline(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(l) => l.0.contains(&b'\n'),
        HirKind::Class(Class::Unicode(c)) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= '\n' && '\n' <= r.end()),
        HirKind::Class(Class::Bytes(c)) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= b'\n' && b'\n' <= r.end()),
        HirKind::Repetition(r) => r.max != Some(0) && can_match_newline(&r.sub),
        HirKind::Capture(c) => can_match_newline(&c.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().any(can_match_newline),
    }
}

/// Does every match of `hir` contain one of `keywords` (ASCII case-insensitively)?
/// Conservative: `false` whenever it cannot tell.
fn always_contains(hir: &Hir, keywords: &[Vec<u8>]) -> bool {
    let all_hold = |set: &[Vec<u8>]| set.iter().all(|s| holds_keyword(s, keywords));
    if let Some(set) = fixed_set(hir) {
        return all_hold(&set);
    }
    match hir.kind() {
        HirKind::Repetition(r) => r.min >= 1 && always_contains(&r.sub, keywords),
        HirKind::Capture(c) => always_contains(&c.sub, keywords),
        HirKind::Alternation(subs) => subs.iter().all(|s| always_contains(s, keywords)),
        HirKind::Concat(subs) => {
            // Adjacent fixed parts spell a few possible strings ("api" "_"? "key"); if
            // each holds a keyword, so does every match. Any part that always holds a
            // keyword is enough too.
            let mut run: Vec<Vec<u8>> = vec![Vec::new()];
            for sub in subs {
                if let Some(set) = fixed_set(sub) {
                    run = match cross(&run, &set) {
                        Some(longer) => longer,
                        None if all_hold(&run) => return true,
                        None => set,
                    };
                    continue;
                }
                if all_hold(&run) || always_contains(sub, keywords) {
                    return true;
                }
                run = vec![Vec::new()];
            }
            all_hold(&run)
        }
        _ => false,
    }
}

/// Most strings a fixed part may spell before the analysis gives up on it.
const MAX_SPELLINGS: usize = 64;

/// Every string (lower-cased) a match of `hir` can spell, if they are few: literals,
/// classes that are one ASCII character in either case (what `(?i)` makes of a
/// letter), and alternations, concatenations and short repetitions of those.
/// Non-ASCII members of a class are ignored, as the keyword prefilter ignores them.
fn fixed_set(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Empty => Some(vec![Vec::new()]),
        HirKind::Literal(l) => Some(vec![l.0.to_ascii_lowercase()]),
        HirKind::Class(c) => one_ascii_char(c).map(|b| vec![vec![b]]),
        HirKind::Capture(c) => fixed_set(&c.sub),
        HirKind::Concat(subs) => {
            let mut out = vec![Vec::new()];
            for s in subs {
                out = cross(&out, &fixed_set(s)?)?;
            }
            Some(out)
        }
        HirKind::Alternation(subs) => {
            let mut out = Vec::new();
            for s in subs {
                out.extend(fixed_set(s)?);
                if out.len() > MAX_SPELLINGS {
                    return None;
                }
            }
            Some(out)
        }
        HirKind::Repetition(r) => {
            let max = r.max.filter(|&m| m <= 4)?;
            let one = fixed_set(&r.sub)?;
            let mut out = Vec::new();
            let mut k_times = vec![Vec::new()];
            for k in 0..=max {
                if k >= r.min {
                    out.extend(k_times.iter().cloned());
                }
                k_times = cross(&k_times, &one)?;
            }
            (out.len() <= MAX_SPELLINGS).then_some(out)
        }
        HirKind::Look(_) => None,
    }
}

/// Every `a` followed by every `b`, unless that makes too many.
fn cross(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len() * b.len() > MAX_SPELLINGS {
        return None;
    }
    Some(
        a.iter()
            .flat_map(|x| b.iter().map(move |y| [x.as_slice(), y.as_slice()].concat()))
            .collect(),
    )
}

fn one_ascii_char(class: &Class) -> Option<u8> {
    let mut members: Vec<u8> = Vec::new();
    let mut add = |lo: u32, hi: u32| -> Option<()> {
        for c in lo..=hi.min(127) {
            members.push(u8::try_from(c).ok()?.to_ascii_lowercase());
            if members.len() > 2 {
                return None;
            }
        }
        Some(())
    };
    match class {
        Class::Unicode(c) => {
            for r in c.ranges() {
                add(u32::from(r.start()), u32::from(r.end()))?;
            }
        }
        Class::Bytes(c) => {
            for r in c.ranges() {
                add(u32::from(r.start()), u32::from(r.end()))?;
            }
        }
    }
    match members.as_slice() {
        [a] => Some(*a),
        [a, b] if a == b => Some(*a),
        _ => None,
    }
}

fn holds_keyword(s: &[u8], keywords: &[Vec<u8>]) -> bool {
    keywords
        .iter()
        .any(|k| s.len() >= k.len() && s.windows(k.len()).any(|w| w.eq_ignore_ascii_case(k)))
}

/// The line holding `hay[start..end]`: from after the previous `\n` to just after the
/// next one (the newline kept, so a `\b` or look-ahead at the line's end sees it).
pub(crate) fn line_around(hay: &[u8], start: usize, end: usize) -> (usize, usize) {
    let from = memchr::memrchr(b'\n', &hay[..start]).map_or(0, |i| i + 1);
    let to = memchr::memchr(b'\n', &hay[end..]).map_or(hay.len(), |i| end + i + 1);
    (from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(pattern: &str, keywords: &[&str]) -> bool {
        let hir = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(pattern)
            .unwrap_or_else(|e| panic!("{e}"));
        let keywords: Vec<String> = keywords.iter().map(|k| k.to_string()).collect();
        line_bound(&hir, &keywords)
    }

    #[test]
    fn keywords_inside_every_match_on_one_line() {
        assert!(bound("LTAI[A-Za-z0-9]{12,20}", &["ltai"]));
        assert!(bound(
            "(?i)(?:db|mysql)[a-z0-9]*[_.-]?(?:password|pwd)[ \\t]*=[ \\t]*(?P<value>[^\\s\"']{4,})",
            &["password", "pwd"]
        ));
        assert!(bound("(?i)pass(?:word)?=\\S+", &["pass"]));
        assert!(bound("[a-z0-9.]+@[a-z0-9.]+", &["@"]));
        assert!(bound(
            "(?i)(?:secret|api_?key|client_?secret)[a-z]{0,20}=(?P<value>[a-z]{16})",
            &["secret", "apikey", "api_key"]
        ));
        assert!(bound(
            "(?i)(?:password|pwd)=(?P<value>[^;\\s]{3,})",
            &["password=", "pwd="]
        ));
    }

    #[test]
    fn what_cannot_be_proven_runs_over_the_whole_blob() {
        // The keyword is context, not part of the match.
        assert!(!bound("(?P<value>[A-Za-z0-9]{32})", &["secret"]));
        // One branch lacks the keyword.
        assert!(!bound("(?:password|token)=(?P<value>\\S+)", &["password"]));
        assert!(!bound("(?i)api_?key=(?P<value>\\S+)", &["apikey"]));
        // Optional keyword.
        assert!(!bound("(?:password)?=(?P<value>[a-z]+)", &["password"]));
        // Matches may cross lines.
        assert!(!bound(
            "-----BEGIN RSA PRIVATE KEY-----[\\s\\S]+?-----END",
            &["begin rsa"]
        ));
        assert!(!bound("password:\\s*(?P<value>[a-z]+)", &["password"]));
        assert!(!bound("(?s)datasource:.{0,300}?password", &["datasource:"]));
        // No keywords at all.
        assert!(!bound("[0-9]{11}", &[]));
    }

    #[test]
    fn lines_keep_their_newline() {
        let hay = b"a\nkey=1\nb";
        assert_eq!(line_around(hay, 2, 5), (2, 8));
        assert_eq!(line_around(hay, 8, 9), (8, 9));
        assert_eq!(line_around(b"key", 0, 3), (0, 3));
    }
}

#[cfg(test)]
mod scan_tests {
    use crate::Matcher;
    use leakhound_rules::RuleSet;

    /// Keywords on line 3,000 of a long file: the rules matched on those lines alone
    /// still find their values, including one whose keyword (`password`) sits inside
    /// a longer keyword's hit (`db_password`).
    #[test]
    fn values_deep_in_a_long_file_are_found_on_their_keyword_lines() {
        let Ok(Ok(m)) = RuleSet::builtin().map(|s| Matcher::new(&s)) else {
            panic!("built-in rules");
        };
        let mut text = String::new();
        for i in 0..6_000 {
            if i == 3_000 {
                text.push_str(
                    "spring.datasource.url=jdbc:mysql://app:Wq8#mZ2!rT5v@10.0.0.5:3306/crm\n",
                );
                text.push_str("db_password=\"Xv93-kLp2-Qq81\"\n");
            }
            text.push_str(&format!(
                "2024-05-01 INFO request {i} served in {}ms\n",
                i % 97
            ));
        }
        let found: Vec<(String, String)> = m
            .scan(text.as_bytes())
            .iter()
            .map(|h| {
                (
                    m.rule(h.rule).id.to_string(),
                    text[h.start..h.end].to_string(),
                )
            })
            .collect();
        assert!(
            found.contains(&(
                "database-password-assignment".into(),
                "Xv93-kLp2-Qq81".into()
            )),
            "{found:?}"
        );
        assert!(found.iter().any(|(_, v)| v == "Wq8#mZ2!rT5v"), "{found:?}");
    }
}
