//! Text from scanned input made safe to print on a terminal.
//!
//! File names, matched lines, git authors, process command lines and table headers all
//! come from whoever wrote the input. Printed raw, `ESC]0;…BEL` retitles the window,
//! `ESC[2J` clears the screen (and text after it can fake a clean result), OSC 8 plants
//! links, a bare CR overwrites what the line said, and bidirectional overrides reorder
//! what the reader sees. Every human-facing output passes such text through
//! [`for_terminal`], which shows those characters as visible escapes instead.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach a terminal as it is: C0 controls (tab aside), DEL, C1
/// controls, and the Unicode bidirectional formatting characters.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character written as a visible escape (`\x1b`, `\r`, `\n`,
/// `\u{202e}`); borrowed unchanged when there is none, which is the common case.
///
/// ```
/// use leakhound_findings::for_terminal;
/// assert_eq!(for_terminal("a\x1b[2Jb"), "a\\x1b[2Jb");
/// assert_eq!(for_terminal("客户.csv"), "客户.csv");
/// ```
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::for_terminal;

    #[test]
    fn escapes_every_terminal_control() {
        assert_eq!(
            for_terminal("\x1b]0;pwned\x07x"),
            "\\x1b]0;pwned\\x07x",
            "window title"
        );
        assert_eq!(for_terminal("ok\rALL CLEAN"), "ok\\rALL CLEAN");
        assert_eq!(for_terminal("a\nb"), "a\\nb");
        assert_eq!(for_terminal("\u{9b}31m"), "\\x9b31m", "C1 CSI");
        assert_eq!(for_terminal("x\u{7f}"), "x\\x7f");
        assert_eq!(for_terminal("abc\u{202e}gpj.exe"), "abc\\u{202e}gpj.exe");
        assert_eq!(for_terminal("tab\tkept"), "tab\tkept");
    }

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(
            for_terminal("张伟,13812345678"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    proptest::proptest! {
        #[test]
        fn output_never_holds_a_control(s in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}\\u{202a}-\\u{202e}a]*") {
            let out = for_terminal(&s);
            proptest::prop_assert!(!out.chars().any(super::is_unsafe));
        }
    }
}
