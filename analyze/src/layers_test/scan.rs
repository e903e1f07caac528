//! Reading Rust source as the layout check needs it: code without comments, literals and
//! `#[cfg(test)]` items, and the `crate::`, `super::` and `self::` paths in it.

/// `text` with comments and the contents of string and character literals blanked (lines
/// kept), so that only code is left to look at.
pub(super) fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, s: &[char]| {
        out.extend(s.iter().map(|&ch| if ch == '\n' { '\n' } else { ' ' }));
    };
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        let rest = &c[i..];
        if rest.starts_with(&['/', '/']) {
            let end = rest.iter().position(|&ch| ch == '\n').unwrap_or(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest.starts_with(&['/', '*']) {
            let (mut depth, mut j) = (0, 0);
            while j < rest.len() {
                if rest[j..].starts_with(&['/', '*']) {
                    depth += 1;
                    j += 2;
                } else if rest[j..].starts_with(&['*', '/']) {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &rest[..j]);
            i += j;
        } else if let Some(len) = raw_string(rest).filter(|_| i == 0 || !ident(c[i - 1])) {
            blank(&mut out, &rest[..len]);
            i += len;
        } else if rest[0] == '"' {
            let mut j = 1;
            while j < rest.len() && rest[j] != '"' {
                j += if rest[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            blank(&mut out, &rest[..end]);
            i += end;
        } else if rest[0] == '\'' {
            // A character literal, or a lifetime or label (left as it is).
            let len = match rest.get(1) {
                Some('\\') => rest[2..].iter().position(|&ch| ch == '\'').map(|p| p + 3),
                Some(_) if rest.get(2) == Some(&'\'') => Some(3),
                _ => None,
            };
            let len = len.unwrap_or(1);
            blank(&mut out, &rest[..len]);
            i += len;
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    out
}

/// The length of the raw string literal `rest` starts with (`r"…"`, `br#"…"#`), if it does.
fn raw_string(rest: &[char]) -> Option<usize> {
    let start = match rest {
        ['b', 'r', ..] => 2,
        ['r', ..] => 1,
        _ => return None,
    };
    let hashes = rest[start..].iter().take_while(|&&ch| ch == '#').count();
    if rest.get(start + hashes) != Some(&'"') {
        return None;
    }
    let body = start + hashes + 1;
    (body..rest.len())
        .find(|&j| {
            rest[j] == '"'
                && rest[j + 1..]
                    .iter()
                    .take(hashes)
                    .filter(|&&h| h == '#')
                    .count()
                    == hashes
        })
        .map(|j| j + 1 + hashes)
}

/// `code` without its `#[cfg(test)]` items, and the names of the modules among them.
pub(super) fn without_tests(code: &str) -> (String, Vec<String>) {
    const MARK: &str = "#[cfg(test)]";
    let mut code = code.to_owned();
    let mut modules = Vec::new();
    while let Some(at) = code.find(MARK) {
        let b = code.as_bytes();
        let mut i = at + MARK.len();
        // Further attributes of the same item.
        loop {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if !code[i..].starts_with("#[") {
                break;
            }
            i = matching(b, i + 1).map_or(b.len(), |j| j + 1);
        }
        // The item: up to its `;`, or through its `{ … }`.
        let mut end = i;
        while end < b.len() && b[end] != b';' && b[end] != b'{' {
            end += 1;
        }
        let head = &code[i..end.min(b.len())];
        let words: Vec<&str> = head.split_whitespace().collect();
        if let Some(p) = words.iter().position(|w| *w == "mod") {
            if let Some(name) = words.get(p + 1) {
                modules.push(name.to_string());
            }
        }
        if b.get(end) == Some(&b'{') {
            end = matching(b, end).unwrap_or(b.len());
        }
        code.replace_range(at..(end + 1).min(code.len()), "");
    }
    (code, modules)
}

/// The index of the bracket closing the one at `open`.
fn matching(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, &ch) in b.iter().enumerate().skip(open) {
        match ch {
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// Every path in `code` that starts with `crate`, `super` or `self`, use-groups spelled out
/// (`crate::a::{b, c::d}` is `crate::a::b` and `crate::a::c::d`).
pub(super) fn paths(code: &str) -> Vec<Vec<String>> {
    let tokens = tokens(code);
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let starts = matches!(tokens[i].as_str(), "crate" | "super" | "self")
            && tokens.get(i + 1).is_some_and(|t| t == "::")
            && (i == 0 || tokens[i - 1] != "::");
        if starts {
            i = tree(&tokens, i, Vec::new(), &mut out);
        } else {
            i += 1;
        }
    }
    out
}

/// Reads the path or use-tree at `tokens[i]`, after `prefix`; returns where it ends.
fn tree(
    tokens: &[String],
    mut i: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    loop {
        match tokens.get(i).map(String::as_str) {
            Some("{") => {
                i += 1;
                while tokens.get(i).is_some_and(|t| t != "}") {
                    i = tree(tokens, i, prefix.clone(), out);
                    if tokens.get(i).is_some_and(|t| t == ",") {
                        i += 1;
                    }
                }
                return i + 1;
            }
            Some(t) if t.chars().all(|ch| ch.is_alphanumeric() || ch == '_') => {
                prefix.push(t.to_owned());
                i += 1;
                if tokens.get(i).is_some_and(|t| t == "::") {
                    i += 1;
                    continue;
                }
                out.push(prefix);
                return i;
            }
            _ => {
                // `*`, or the end of the path.
                out.push(prefix);
                return i + 1;
            }
        }
    }
}

/// Identifiers, `::` and single punctuation characters.
fn tokens(code: &str) -> Vec<String> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(c[start..i].iter().collect());
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push("::".to_owned());
            i += 2;
        } else {
            if !ch.is_whitespace() {
                out.push(ch.to_string());
            }
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers_test::{resolve, ModPath};

    #[test]
    fn the_checker_reads_paths_as_the_compiler_does() {
        let code = code_only(
            "use crate::a::{b, c::{d, e}}; // crate::x\n\
             let s = \"crate::y\"; let r = r#\"crate::z\"#; let c = '{';\n\
             fn f<'a>() { super::g::h(); }\n\
             #[cfg(test)]\nmod tests { use crate::w; }\n\
             #[cfg(test)]\nmod more;\n",
        );
        let (code, tests) = without_tests(&code);
        assert_eq!(tests, ["tests", "more"]);
        let module: ModPath = vec!["p".into(), "q".into()];
        let resolved: Vec<String> = paths(&code)
            .iter()
            .filter_map(|p| resolve(&module, p))
            .map(|p| p.join("::"))
            .collect();
        assert_eq!(resolved, ["a::b", "a::c::d", "a::c::e", "p::g::h"]);
    }
}
