//! The text stream of the original write-up (its `http.bt`): one block per finished server
//! request, naming the caller and, per downstream call, the callee's method, host and URL, or
//! `callee: none`. `record --live` prints it while recording and `analyze replay` plays a
//! recording back in it, so both share this one definition.
//!
//! Paths, hosts and methods come from the network: control characters in them (and the other
//! [`hidden`] ones) are printed as escapes (`\u{1b}`, `\n`), so that a hostile path can neither
//! forge a block nor drive the terminal. [`printable`] is also what every terminal output of
//! analyze uses.

use std::borrow::Cow;
use std::fmt::Write;

/// One downstream call of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Callee<'a> {
    /// HTTP method (`GET` when not recorded).
    pub method: &'a str,
    /// The `host:port` called.
    pub host: &'a str,
    /// The path called.
    pub url: &'a str,
}

/// The block of a finished request of `service` for `path` that made `callees` (none: one
/// `callee: none` entry), ending with a blank line.
pub fn request_block(service: &str, path: &str, callees: &[Callee<'_>]) -> String {
    let mut out = String::new();
    let caller = format!(
        "caller: {}\n  caller_path: {}\n",
        printable(service),
        printable(path)
    );
    if callees.is_empty() {
        out.push_str(&caller);
        out.push_str("callee: none\n\n");
    }
    for c in callees {
        out.push_str(&caller);
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "callee:\n  method: {}\n  host: {}\n  url: {}\n\n",
            printable(c.method),
            printable(c.host),
            printable(c.url)
        );
    }
    out
}

/// `s` with every [`hidden`] character written as Rust writes it in a string literal (`\n`,
/// `\u{1b}`); borrowed when there is none.
pub fn printable(s: &str) -> Cow<'_, str> {
    let Some(first) = s.find(hidden) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether `c` would act on a terminal or a text's layout instead of showing: control
/// characters, the line and paragraph separators, the bidirectional overrides and isolates
/// (which reorder what follows), and the noncharacters U+FFFE and U+FFFF.
pub fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
        || matches!(c, '\u{fffe}' | '\u{ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_the_write_up_s() {
        assert_eq!(
            request_block("http_demo", "/echo", &[]),
            "caller: http_demo\n  caller_path: /echo\ncallee: none\n\n"
        );
        let callee = Callee {
            method: "GET",
            host: "0.0.0.0:9932",
            url: "/echo",
        };
        assert_eq!(
            request_block("http_demo", "/handle", &[callee, callee]),
            "caller: http_demo\n  caller_path: /handle\ncallee:\n  method: GET\n  host: \
             0.0.0.0:9932\n  url: /echo\n\n"
                .repeat(2)
        );
    }

    #[test]
    fn control_characters_cannot_forge_a_block() {
        let block = request_block("a", "/x\ncallee: none\n\x1b[31m", &[]);
        assert_eq!(
            block,
            "caller: a\n  caller_path: /x\\ncallee: none\\n\\u{1b}[31m\ncallee: none\n\n"
        );
    }
}
