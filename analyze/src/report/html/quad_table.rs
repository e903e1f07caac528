//! The quadruple table: one row per `[caller, caller_func, callee, callee_func]` with its
//! calls, errors and latency, in the order given, sortable in the page by any column.
//!
//! Each header carries the column's key, which is also what a `#sort=KEY-asc|desc` fragment
//! names (see `sort.js`), so that a link can open the table already sorted.

use std::fmt::Write as _;

use super::cells;
use crate::report::quads::Quad;

/// A column of the table: the key the script and the URL fragment use, its heading, and
/// whether it holds numbers (numbers sort numerically, and first high).
struct Column {
    key: &'static str,
    heading: &'static str,
    numeric: bool,
}

const fn column(key: &'static str, heading: &'static str, numeric: bool) -> Column {
    Column {
        key,
        heading,
        numeric,
    }
}

const COLUMNS: [Column; 9] = [
    column("caller", "Caller", false),
    column("caller_func", "Caller func", false),
    column("callee", "Callee", false),
    column("callee_func", "Callee func", false),
    column("count", "Calls", true),
    column("errors", "Errors", true),
    column("error_rate", "Err %", true),
    column("p50_ms", "p50 ms", true),
    column("p99_ms", "p99 ms", true),
];

/// The table of `quads`.
pub fn quad_table(quads: &[Quad]) -> String {
    let mut out = String::from("<table id=\"quad-table\" class=\"sortable quads\"><thead><tr>");
    for c in &COLUMNS {
        let (class, kind) = if c.numeric {
            (" class=\"num\"", " data-type=\"number\"")
        } else {
            ("", "")
        };
        let _ = write!(
            out,
            "<th scope=\"col\"{class} data-key=\"{}\"{kind}><button type=\"button\">{}</button></th>",
            c.key, c.heading
        );
    }
    out.push_str("</tr></thead><tbody>");
    for q in quads {
        let _ = write!(
            out,
            "<tr>{}{}{}{}{}{}{}{}{}</tr>",
            cells::name(Some(&q.caller)),
            cells::name(q.caller_func.as_deref()),
            cells::name(q.callee.as_deref()),
            cells::name(q.callee_func.as_deref()),
            cells::calls(q.count),
            cells::errors(q.errors),
            cells::error_rate(q.errors, q.count),
            cells::duration(q.p50_ns),
            cells::duration(q.p99_ns),
        );
    }
    if quads.is_empty() {
        let _ = write!(
            out,
            "<tr><td class=\"empty\" colspan=\"{}\">No quadruples in the window.</td></tr>",
            COLUMNS.len()
        );
    }
    out.push_str("</tbody></table>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quad() -> Quad {
        Quad {
            caller: "front".into(),
            caller_func: Some("/page".into()),
            callee: None,
            callee_func: None,
            count: 1200,
            errors: 12,
            p50_ns: Some(1_250_000),
            p99_ns: None,
        }
    }

    #[test]
    fn every_column_has_a_sort_key_and_every_row_a_cell_per_column() {
        let html = quad_table(&[quad(), quad()]);
        for c in &COLUMNS {
            assert!(
                html.contains(&format!("data-key=\"{}\"", c.key)),
                "{}",
                c.key
            );
        }
        assert_eq!(html.matches("data-type=\"number\"").count(), 5);
        let row = html.split("<tbody>").nth(1).unwrap_or_default();
        let first = row.split("</tr>").next().unwrap_or_default();
        assert_eq!(first.matches("<td").count(), COLUMNS.len(), "{first}");
        assert_eq!(
            first,
            "<tr><td class=\"name\">front</td><td class=\"name\">/page</td>\
             <td class=\"name none\" data-none>none</td><td class=\"name none\" data-none>none</td>\
             <td class=\"num\" data-sort=\"1200\">1,200</td><td class=\"num bad\" data-sort=\"12\">12</td>\
             <td class=\"num bad\" data-sort=\"0.01\">1.0%</td>\
             <td class=\"num\" data-sort=\"1250000\">1.25</td><td class=\"num none\" data-none>–</td>"
        );
    }

    #[test]
    fn no_quadruples_is_said() {
        assert!(quad_table(&[]).contains("No quadruples in the window."));
    }
}
