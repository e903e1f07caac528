//! Escaping names for each output form, in one place.
//!
//! The strings of a recording (paths, hosts, methods, service names) come from the network and
//! may be hostile: markup (`<script>`), quotes that end an attribute or a label, ANSI escapes,
//! line breaks. Whatever shows one escapes it for its own syntax: [`terminal`] for tables,
//! [`xml`] for SVG and HTML, [`dot`] for Graphviz, [`mermaid`] for Mermaid. Control characters
//! (and line separators, bidirectional controls, U+FFFE, U+FFFF) are never passed on by any of
//! them: each shows them as Rust writes them (`\n`, `\u{1b}`), so that a line break or an
//! escape sequence in a name is seen, not obeyed, and a name reads the same in every form.
//!
//! Each returns its input borrowed when nothing in it needs escaping, as most names don't.

use std::borrow::Cow;

use quadtrace_schema::stream::hidden;

/// `s` with control characters shown as Rust escapes (`\n`, `\u{1b}`): a hostile name can
/// neither break a table's lines nor send escape sequences to the terminal. So are the few
/// other characters no form shows as themselves (see `hidden`).
pub fn terminal(s: &str) -> Cow<'_, str> {
    quadtrace_schema::stream::printable(s)
}

/// `s` for XML and HTML text and attribute values: `& < > " '` as entities, and the
/// characters XML 1.0 forbids (control characters, U+FFFE, U+FFFF) shown as Rust escapes.
///
/// Tab, line feed and carriage return are allowed by XML but are shown too: a parser would
/// fold them into spaces in an attribute, and a name should read the same everywhere.
pub fn xml(s: &str) -> Cow<'_, str> {
    let special = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\'') || hidden(c);
    replace(s, special, |c, out| match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        // Rust's escapes are plain ASCII letters, digits, braces and a backslash: nothing in
        // them needs an entity.
        _ => visible(c, out),
    })
}

/// `s` for the inside of a Graphviz DOT quoted string (`"..."`), as a label shows it.
///
/// A quote ends the string and a backslash starts a label escape (`\n`, `\l`, `\N`): both
/// are escaped with a backslash. Graphviz reads HTML entities in every label (`&lt;` shows
/// `<`), so `&` is written `&amp;`. Control characters are shown as Rust escapes, whose
/// backslash is escaped in turn, so that the label reads `\n` where the name had a line break
/// and the DOT file never has one inside a string.
pub fn dot(s: &str) -> Cow<'_, str> {
    let special = |c: char| matches!(c, '"' | '\\' | '&') || hidden(c);
    replace(s, special, |c, out| match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '&' => out.push_str("&amp;"),
        _ => {
            for e in c.escape_default() {
                if e == '\\' {
                    out.push('\\');
                }
                out.push(e);
            }
        }
    })
}

/// `s` for the inside of a Mermaid quoted label (`["..."]`, `|"..."|`), with Mermaid's entity
/// codes (`#quot;`, `#lt;`, `#35;`) for what would end the label or be read as markup.
///
/// Escaped besides quotes and markup: `#` (else a name could spell an entity), `` ` `` (it
/// starts a Markdown label), `%` (`%%{init: ...}%%` anywhere in a diagram is read as its
/// configuration). `ﬂ` (U+FB02) starts Mermaid's own stand-ins for entities, which it turns
/// back into entities after its sanitizer has decoded ours, so no entity code would keep it
/// from forging one: it is written as the two letters it joins, `fl`. Control characters are
/// shown as Rust escapes.
pub fn mermaid(s: &str) -> Cow<'_, str> {
    let special = |c: char| {
        matches!(
            c,
            '"' | '<' | '>' | '&' | '#' | '`' | '\'' | '%' | '\u{fb02}'
        ) || hidden(c)
    };
    replace(s, special, |c, out| match c {
        '"' => out.push_str("#quot;"),
        '<' => out.push_str("#lt;"),
        '>' => out.push_str("#gt;"),
        '&' => out.push_str("#amp;"),
        '\u{fb02}' => out.push_str("fl"),
        c if hidden(c) => visible(c, out),
        c => {
            out.push('#');
            out.push_str(&u32::from(c).to_string());
            out.push(';');
        }
    })
}

/// `c` as Rust writes it in a string literal: `\n`, `\t`, `\u{1b}`.
fn visible(c: char, out: &mut String) {
    out.extend(c.escape_default());
}

/// `s` with each character for which `special` holds written by `write`; borrowed when there
/// is none.
fn replace(
    s: &str,
    special: impl Fn(char) -> bool,
    write: impl Fn(char, &mut String),
) -> Cow<'_, str> {
    let Some(first) = s.find(&special) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if special(c) {
            write(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>\
                           '`#lt;%%{init}%%\u{1b}[31m\n\r\t\\{}|\u{0}\u{7f}\u{85}\u{2028}ﬂ";

    #[test]
    fn plain_names_are_borrowed() {
        for name in [
            "front-end",
            "10.0.0.7:5432",
            "GET /users/{id}",
            "ünïcödé 服务",
        ] {
            assert!(matches!(terminal(name), Cow::Borrowed(_)), "{name}");
            assert!(matches!(xml(name), Cow::Borrowed(_)), "{name}");
            assert!(matches!(dot(name), Cow::Borrowed(_)), "{name}");
        }
        assert!(matches!(mermaid("GET /users/{id}"), Cow::Borrowed(_)));
    }

    #[test]
    fn terminal_shows_control_characters() {
        assert_eq!(terminal("/a\nb"), "/a\\nb");
        assert_eq!(terminal("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(terminal("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(terminal("\u{ffff}"), "\\u{ffff}");
        // Right-to-left override: "gnp.exe" would show as "exe.png".
        assert_eq!(terminal("a\u{202e}gnp.exe"), "a\\u{202e}gnp.exe");
        assert!(!terminal(HOSTILE).contains(|c: char| c.is_control()));
    }

    #[test]
    fn xml_escapes_markup_and_forbidden_characters() {
        assert_eq!(
            xml("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(xml("a\u{1b}[31m\nb\u{fffe}"), "a\\u{1b}[31m\\nb\\u{fffe}");
        let escaped = xml(HOSTILE);
        assert!(!escaped.contains(['<', '>', '"', '\'']), "{escaped}");
        assert!(!escaped.contains(|c: char| c.is_control()), "{escaped}");
        // Every `&` starts one of the entities written.
        let entities = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"];
        for (at, _) in escaped.match_indices('&') {
            assert!(entities.iter().any(|e| escaped[at..].starts_with(e)));
        }
    }

    #[test]
    fn dot_keeps_the_string_closed_and_on_one_line() {
        assert_eq!(dot(r#"say "hi"\n"#), r#"say \"hi\"\\n"#);
        assert_eq!(dot("a\nb\u{1b}"), r"a\\nb\\u{1b}");
        assert_eq!(dot("&lt; & <"), "&amp;lt; &amp; <");
        let escaped = dot(HOSTILE);
        assert!(!escaped.contains(|c: char| c.is_control()), "{escaped}");
        // Read as DOT reads a quoted string: no quote ends it early, no backslash is left to
        // escape the closing one.
        let mut chars = escaped.chars();
        while let Some(c) = chars.next() {
            assert_ne!(c, '"', "a raw quote in {escaped}");
            if c == '\\' {
                let next = chars.next();
                assert!(matches!(next, Some('\\' | '"')), "{next:?} in {escaped}");
            }
        }
    }

    #[test]
    fn mermaid_uses_entity_codes() {
        assert_eq!(
            mermaid("a \"b\" <c> & #d"),
            "a #quot;b#quot; #lt;c#gt; #amp; #35;d"
        );
        assert_eq!(mermaid("`md` 50% 'x'"), "#96;md#96; 50#37; #39;x#39;");
        assert_eq!(mermaid("a\nb"), "a\\nb");
        let escaped = mermaid(HOSTILE);
        assert!(!escaped.contains(['<', '>', '"', '`', '%', '\'', '\u{2028}', 'ﬂ']));
        assert!(!escaped.contains(|c: char| c.is_control()), "{escaped}");
        // A name that spells an entity shows it, not the character.
        assert!(escaped.contains("#35;lt;"), "{escaped}");
    }
}
