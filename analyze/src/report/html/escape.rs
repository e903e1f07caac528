//! Making a recording's strings safe to put in the page, in text and in attribute values.
//!
//! Paths, hosts and names come from the internet. Besides the characters that are markup,
//! control characters (an ANSI escape, a newline) and the invisible marks that reorder text
//! (bidi overrides) are shown as Rust escapes like `\u{1b}`, so that a hostile string is seen
//! for what it is instead of quietly reshaping the page or reading as something else.

/// A string from a recording, ready for the page: as HTML text or a quoted attribute value.
pub fn text(s: &str) -> String {
    xml(&visible(s))
}

/// Control and text-reordering characters written as escapes; everything else as is.
fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || reorders_text(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The Unicode marks that change the direction in which the text around them is shown.
fn reorders_text(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Escapes the five characters that are markup in XML and HTML, so that the result is text
/// both between tags and inside a quoted attribute value.
// merge: use crate::report::escape::xml
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_becomes_text() {
        assert_eq!(
            text("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            text("\"><img src=x onerror='a&b'>"),
            "&quot;&gt;&lt;img src=x onerror=&#39;a&amp;b&#39;&gt;"
        );
    }

    #[test]
    fn control_and_reordering_characters_are_shown_escaped() {
        assert_eq!(text("\x1b[31mred\n"), "\\u{1b}[31mred\\n");
        assert_eq!(text("a\u{202e}b\tc"), "a\\u{202e}b\\tc");
        assert_eq!(text("/ok/{id}|x\\y é"), "/ok/{id}|x\\y é");
    }
}
