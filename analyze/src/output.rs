//! Rendering quadruples as an aligned table, JSON or CSV.

use std::fmt::Write as _;

use crate::quads::Quad;

/// How "none" (no request, no downstream call) is written in the table and CSV; JSON uses null.
pub const NONE: &str = "none";

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// An array of objects with keys caller, caller_func, callee, callee_func, count.
    Json,
    /// Comma-separated values with a header row.
    Csv,
}

const HEADERS: [&str; 5] = ["CALLER", "CALLER_FUNC", "CALLEE", "CALLEE_FUNC", "COUNT"];
const CSV_HEADER: &str = "caller,caller_func,callee,callee_func,count";

/// Renders quadruples in `format`; the result ends with a newline.
pub fn render(quads: &[Quad], format: Format) -> String {
    match format {
        Format::Table => table(quads),
        Format::Json => json(quads),
        Format::Csv => csv(quads),
    }
}

fn cells(q: &Quad) -> [String; 5] {
    let [a, b, c, d] = q.key().map(|s| s.unwrap_or(NONE).to_owned());
    [a, b, c, d, q.count.to_string()]
}

fn table(quads: &[Quad]) -> String {
    let rows: Vec<[String; 5]> = quads
        .iter()
        .map(|q| cells(q).map(|c| printable(&c)))
        .collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = HEADERS.map(str::to_owned);
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i == 4 {
                // Counts line up on the right, like `uniq -c` and `ps`.
                let _ = write!(line, "{cell:>w$}");
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Escapes control characters so a hostile path cannot break the table's lines.
fn printable(s: &str) -> String {
    if s.chars().any(char::is_control) {
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        s.to_owned()
    }
}

fn json(quads: &[Quad]) -> String {
    // Serializing plain strings, options and integers cannot fail; the fallback keeps the
    // output valid JSON regardless.
    let mut out = serde_json::to_string_pretty(quads).unwrap_or_else(|_| "[]".to_owned());
    out.push('\n');
    out
}

fn csv(quads: &[Quad]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for q in quads {
        let row: Vec<String> = cells(q).iter().map(|c| csv_field(c)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// Quotes a field as RFC 4180 asks: when it holds a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Quad> {
        vec![
            Quad {
                caller: "http_demo".into(),
                caller_func: Some("/handle".into()),
                callee: Some("http_demo".into()),
                callee_func: Some("/echo".into()),
                count: 12,
            },
            Quad {
                caller: "http_demo".into(),
                caller_func: Some("/echo".into()),
                callee: None,
                callee_func: None,
                count: 3,
            },
        ]
    }

    #[test]
    fn table_is_aligned() {
        assert_eq!(
            render(&sample(), Format::Table),
            "\
CALLER     CALLER_FUNC  CALLEE     CALLEE_FUNC  COUNT
http_demo  /handle      http_demo  /echo           12
http_demo  /echo        none       none             3
"
        );
        assert_eq!(
            render(&[], Format::Table),
            "CALLER  CALLER_FUNC  CALLEE  CALLEE_FUNC  COUNT\n"
        );
    }

    #[test]
    fn json_uses_null_for_none() {
        let v: serde_json::Value =
            serde_json::from_str(&render(&sample(), Format::Json)).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!([
                {"caller": "http_demo", "caller_func": "/handle", "callee": "http_demo",
                 "callee_func": "/echo", "count": 12},
                {"caller": "http_demo", "caller_func": "/echo", "callee": null,
                 "callee_func": null, "count": 3},
            ])
        );
        assert_eq!(render(&[], Format::Json), "[]\n");
    }

    #[test]
    fn csv_quotes_when_needed() {
        let mut quads = sample();
        quads[1].caller_func = Some("/a,\"b\"".into());
        assert_eq!(
            render(&quads, Format::Csv),
            "\
caller,caller_func,callee,callee_func,count
http_demo,/handle,http_demo,/echo,12
http_demo,\"/a,\"\"b\"\"\",none,none,3
"
        );
    }

    #[test]
    fn control_characters_are_escaped_in_tables() {
        assert_eq!(printable("/a\nb"), "/a\\nb");
        assert_eq!(printable("/ok"), "/ok");
    }
}
