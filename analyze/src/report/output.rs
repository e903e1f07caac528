//! Rendering quadruples and calls as an aligned table, JSON or CSV.

use std::fmt::Write as _;

use serde::Serialize;

use crate::report::calls::{CallRow, CALL_COLUMNS};
use crate::report::escape;
use crate::report::quads::{ns_to_ms, Quad};

/// How "none" (no request, no downstream call) is written in the table and CSV; JSON uses null.
pub const NONE: &str = "none";

/// How a missing number (no status, no end, no request) is written in a table. CSV leaves the
/// field empty, which spreadsheets and CSV readers take as null; JSON uses null.
pub const NO_NUMBER: &str = "-";

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// An array of objects, one per row, with null for none.
    Json,
    /// Comma-separated values with a header row.
    Csv,
}

/// The columns of `analyze quads` (the keys of [`Quad`] in JSON).
pub const QUAD_COLUMNS: [&str; 8] = [
    "caller",
    "caller_func",
    "callee",
    "callee_func",
    "count",
    "errors",
    "p50_ms",
    "p99_ms",
];

/// Renders quadruples in `format`; the result ends with a newline.
pub fn render(quads: &[Quad], format: Format) -> String {
    match format {
        Format::Table => table(
            &QUAD_COLUMNS,
            &[4, 5, 6, 7],
            quads.iter().map(|q| quad_cells(q, Ms::Table)),
        ),
        Format::Json => json(quads),
        Format::Csv => csv(&QUAD_COLUMNS, quads.iter().map(|q| quad_cells(q, Ms::Csv))),
    }
}

/// Renders calls in `format`; the result ends with a newline.
pub fn render_calls(calls: &[CallRow], format: Format) -> String {
    match format {
        Format::Table => table(
            &CALL_COLUMNS,
            &NUMERIC_CALL_COLUMNS,
            calls.iter().map(|c| call_cells(c, NO_NUMBER)),
        ),
        Format::Json => json(calls),
        Format::Csv => csv(&CALL_COLUMNS, calls.iter().map(|c| call_cells(c, ""))),
    }
}

/// Writes calls in `format` to `out` as they come: CSV and JSON one row at a time, so that
/// millions of rows are never held together; a table needs every row for its widths. The same
/// bytes as [`render_calls`].
pub struct CallWriter<W: std::io::Write> {
    format: Format,
    out: W,
    /// Rows so far: those of a table, or only how many for CSV and JSON.
    table: Vec<CallRow>,
    rows: u64,
}

impl<W: std::io::Write> CallWriter<W> {
    /// Writes the header (CSV) now.
    pub fn new(format: Format, mut out: W) -> std::io::Result<Self> {
        if format == Format::Csv {
            writeln!(out, "{}", CALL_COLUMNS.join(","))?;
        }
        Ok(CallWriter {
            format,
            out,
            table: Vec::new(),
            rows: 0,
        })
    }

    /// One more call.
    pub fn row(&mut self, c: CallRow) -> std::io::Result<()> {
        let first = self.rows == 0;
        self.rows += 1;
        match self.format {
            Format::Table => {
                self.table.push(c);
                Ok(())
            }
            Format::Csv => {
                let row: Vec<String> = call_cells(&c, "").iter().map(|f| csv_field(f)).collect();
                writeln!(self.out, "{}", row.join(","))
            }
            Format::Json => {
                // As serde_json's pretty array: `[`, each element indented by two, `]`.
                let element = serde_json::to_string_pretty(&c).map_err(std::io::Error::other)?;
                self.out.write_all(if first { b"[\n" } else { b",\n" })?;
                for (i, line) in element.lines().enumerate() {
                    if i > 0 {
                        self.out.write_all(b"\n")?;
                    }
                    write!(self.out, "  {line}")?;
                }
                Ok(())
            }
        }
    }

    /// Writes what is left (the table; JSON's closing bracket) and flushes.
    pub fn finish(mut self) -> std::io::Result<W> {
        match self.format {
            Format::Table => {
                let table = render_calls(&self.table, Format::Table);
                self.out.write_all(table.as_bytes())?;
            }
            Format::Csv => {}
            Format::Json if self.rows == 0 => self.out.write_all(b"[]\n")?,
            Format::Json => self.out.write_all(b"\n]\n")?,
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Columns of [`CALL_COLUMNS`] that hold numbers, aligned right in tables.
const NUMERIC_CALL_COLUMNS: [usize; 11] = [0, 1, 2, 11, 12, 14, 15, 16, 18, 19, 20];

/// How milliseconds are written.
#[derive(Clone, Copy)]
enum Ms {
    /// To the µs, aligned; `-` when none.
    Table,
    /// As exactly as f64 holds them (the shortest form that reads back the same); empty when
    /// none.
    Csv,
}

fn quad_cells(q: &Quad, style: Ms) -> Vec<String> {
    let [a, b, c, d] = q.key().map(|s| s.unwrap_or(NONE).to_owned());
    let ms = |ns: Option<i64>| match (ns.map(ns_to_ms), style) {
        (Some(ms), Ms::Table) => format!("{ms:.3}"),
        (Some(ms), Ms::Csv) => ms.to_string(),
        (None, Ms::Table) => NO_NUMBER.to_owned(),
        (None, Ms::Csv) => String::new(),
    };
    vec![
        a,
        b,
        c,
        d,
        q.count.to_string(),
        q.errors.to_string(),
        ms(q.p50_ns),
        ms(q.p99_ns),
    ]
}

fn call_cells(c: &CallRow, no_number: &str) -> Vec<String> {
    let name = |s: &Option<String>| s.clone().unwrap_or_else(|| NONE.to_owned());
    let number = |n: Option<i64>| n.map_or_else(|| no_number.to_owned(), |n| n.to_string());
    vec![
        c.ts_ns.to_string(),
        c.pid.to_string(),
        c.goid.to_string(),
        c.caller.clone(),
        name(&c.caller_path),
        name(&c.caller_func),
        name(&c.method),
        c.callee.clone(),
        name(&c.callee_addr),
        name(&c.callee_path),
        name(&c.callee_func),
        number(c.status.map(i64::from)),
        number(c.duration_ns),
        c.attribution.to_owned(),
        format!("{:.2}", c.confidence),
        number(c.request_goid),
        number(c.request_ts_ns),
        // Not a name: a missing link is written like a missing number.
        c.link.unwrap_or(no_number).to_owned(),
        number(c.linked_pid.map(i64::from)),
        number(c.linked_goid),
        number(c.linked_ts_ns),
        c.linked_path
            .clone()
            .unwrap_or_else(|| no_number.to_owned()),
    ]
}

/// Columns padded to their widest cell and separated by two spaces; headers in upper case;
/// the columns in `right` (indexes) aligned right, like counts in `uniq -c` and `ps`. Control
/// characters in cells are escaped ([`crate::report::escape::terminal`]).
pub(crate) fn table(
    columns: &[&str],
    right: &[usize],
    rows: impl Iterator<Item = Vec<String>>,
) -> String {
    let header: Vec<String> = columns.iter().map(|c| c.to_uppercase()).collect();
    let rows: Vec<Vec<String>> = rows
        // Escaped so that a hostile path can neither break the table's lines nor drive the
        // terminal.
        .map(|row| {
            row.iter()
                .map(|c| escape::terminal(c).into_owned())
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            if right.contains(&i) {
                let _ = write!(line, "{cell:>w$}");
            } else {
                let _ = write!(line, "{cell:<w$}");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `rows` as a pretty JSON array, ending with a newline.
pub(crate) fn json<T: Serialize>(rows: &[T]) -> String {
    // Serializing plain strings, options and numbers cannot fail; the fallback keeps the
    // output valid JSON regardless.
    let mut out = serde_json::to_string_pretty(rows).unwrap_or_else(|_| "[]".to_owned());
    out.push('\n');
    out
}

/// A header row of `columns`, then `rows`, each field quoted when it must be ([`csv_field`]).
pub(crate) fn csv(columns: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = columns.join(",");
    out.push('\n');
    for row in rows {
        let row: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
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
                errors: 1,
                p50_ns: Some(1_250_000),
                p99_ns: Some(30_000_001),
            },
            Quad {
                caller: "http_demo".into(),
                caller_func: Some("/echo".into()),
                callee: None,
                callee_func: None,
                count: 3,
                errors: 0,
                p50_ns: None,
                p99_ns: None,
            },
        ]
    }

    #[test]
    fn table_is_aligned() {
        assert_eq!(
            render(&sample(), Format::Table),
            "\
CALLER     CALLER_FUNC  CALLEE     CALLEE_FUNC  COUNT  ERRORS  P50_MS  P99_MS
http_demo  /handle      http_demo  /echo           12       1   1.250  30.000
http_demo  /echo        none       none             3       0       -       -
"
        );
        assert_eq!(
            render(&[], Format::Table),
            "CALLER  CALLER_FUNC  CALLEE  CALLEE_FUNC  COUNT  ERRORS  P50_MS  P99_MS\n"
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
                 "callee_func": "/echo", "count": 12, "errors": 1, "p50_ms": 1.25,
                 "p99_ms": 30.000001},
                {"caller": "http_demo", "caller_func": "/echo", "callee": null,
                 "callee_func": null, "count": 3, "errors": 0, "p50_ms": null,
                 "p99_ms": null},
            ])
        );
        assert_eq!(render(&[], Format::Json), "[]\n");
    }

    #[test]
    fn json_keys_are_the_columns_in_order() {
        let json = render(&sample(), Format::Json);
        let mut at = 0;
        for key in QUAD_COLUMNS {
            let pos = json[at..].find(&format!("\"{key}\":"));
            assert!(pos.is_some(), "{key} missing or out of order in {json}");
            at += pos.unwrap_or(0);
        }
    }

    #[test]
    fn csv_quotes_when_needed() {
        let mut quads = sample();
        quads[1].caller_func = Some("/a,\"b\"".into());
        assert_eq!(
            render(&quads, Format::Csv),
            "\
caller,caller_func,callee,callee_func,count,errors,p50_ms,p99_ms
http_demo,/handle,http_demo,/echo,12,1,1.25,30.000001
http_demo,\"/a,\"\"b\"\"\",none,none,3,0,,
"
        );
    }

    fn call() -> CallRow {
        CallRow {
            ts_ns: 1500,
            pid: 42,
            goid: 7,
            caller: "front".into(),
            caller_path: Some("/page".into()),
            caller_func: Some("/page".into()),
            method: Some("GET".into()),
            callee: "back".into(),
            callee_addr: Some("back:8080".into()),
            callee_path: Some("/data".into()),
            callee_func: Some("/data".into()),
            status: Some(200),
            duration_ns: Some(250),
            attribution: "same_goroutine",
            confidence: 1.0,
            request_goid: Some(7),
            request_ts_ns: Some(1000),
            link: Some("connection"),
            linked_pid: Some(43),
            linked_goid: Some(9),
            linked_ts_ns: Some(1100),
            linked_path: Some("/data".into()),
        }
    }

    fn background_call() -> CallRow {
        CallRow {
            ts_ns: 20000,
            goid: 31,
            caller_path: None,
            caller_func: None,
            method: None,
            callee: "?".into(),
            callee_addr: None,
            callee_path: Some("/tick".into()),
            callee_func: Some("/tick".into()),
            status: None,
            duration_ns: None,
            attribution: "none",
            confidence: 0.0,
            request_goid: None,
            request_ts_ns: None,
            link: None,
            linked_pid: None,
            linked_goid: None,
            linked_ts_ns: None,
            linked_path: None,
            ..call()
        }
    }

    #[test]
    fn written_calls_are_the_rendered_bytes() {
        for rows in [vec![], vec![call()], vec![call(), background_call()]] {
            for format in [Format::Table, Format::Csv, Format::Json] {
                let mut w = CallWriter::new(format, Vec::new()).expect("header");
                rows.iter().for_each(|r| w.row(r.clone()).expect("row"));
                let out = w.finish().expect("finish");
                assert_eq!(
                    String::from_utf8(out).expect("utf-8"),
                    render_calls(&rows, format)
                );
            }
        }
    }

    #[test]
    fn calls_render_in_every_format() {
        let calls = [call(), background_call()];
        assert_eq!(
            render_calls(&calls, Format::Table),
            "\
TS_NS  PID  GOID  CALLER  CALLER_PATH  CALLER_FUNC  METHOD  CALLEE  CALLEE_ADDR  CALLEE_PATH  CALLEE_FUNC  STATUS  DURATION_NS  ATTRIBUTION     CONFIDENCE  REQUEST_GOID  REQUEST_TS_NS  LINK        LINKED_PID  LINKED_GOID  LINKED_TS_NS  LINKED_PATH
 1500   42     7  front   /page        /page        GET     back    back:8080    /data        /data           200          250  same_goroutine        1.00             7           1000  connection          43            9          1100  /data
20000   42    31  front   none         none         none    ?       none         /tick        /tick             -            -  none                  0.00             -              -  -                    -            -             -  -
"
        );
        assert_eq!(
            render_calls(&calls, Format::Csv),
            "\
ts_ns,pid,goid,caller,caller_path,caller_func,method,callee,callee_addr,callee_path,callee_func,status,duration_ns,attribution,confidence,request_goid,request_ts_ns,link,linked_pid,linked_goid,linked_ts_ns,linked_path
1500,42,7,front,/page,/page,GET,back,back:8080,/data,/data,200,250,same_goroutine,1.00,7,1000,connection,43,9,1100,/data
20000,42,31,front,none,none,none,?,none,/tick,/tick,,,none,0.00,,,,,,,
"
        );
        let v: serde_json::Value =
            serde_json::from_str(&render_calls(&calls, Format::Json)).unwrap_or_default();
        assert_eq!(v[0]["confidence"], 1.0);
        assert_eq!(v[1]["caller_path"], serde_json::Value::Null);
        assert_eq!(v[1]["status"], serde_json::Value::Null);
        assert_eq!(v[0]["link"], "connection");
        assert_eq!(v[0]["linked_ts_ns"], 1100);
        assert_eq!(v[1]["link"], serde_json::Value::Null);
        assert_eq!(render_calls(&[], Format::Json), "[]\n");
    }

    #[test]
    fn control_characters_are_escaped_in_tables() {
        let mut quads = sample();
        quads[0].caller_func = Some("/a\nb\u{1b}[31m".into());
        let table = render(&quads, Format::Table);
        assert_eq!(table.lines().count(), 3, "{table}");
        assert!(table.contains("/a\\nb\\u{1b}[31m"), "{table}");
        assert!(!table.contains('\u{1b}'), "{table}");
    }
}
