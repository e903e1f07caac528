//! Compared quadruples as an aligned table for people: what needs a look first, each figure as
//! `before -> after`, and which moved.

use super::compare::{by_significance, Compared};
use super::figures::Figures;
use crate::report::output::{self, NONE, NO_NUMBER};
use crate::report::quads::ns_to_ms;

/// The columns. Rates are what is compared (the windows may differ in length); counts say
/// whether there were enough calls to judge.
const COLUMNS: [&str; 10] = [
    "status",
    "caller",
    "caller_func",
    "callee",
    "callee_func",
    "calls",
    "calls/s",
    "errors",
    "p99_ms",
    "changed",
];

/// Columns of numbers, aligned right.
const NUMERIC: [usize; 4] = [5, 6, 7, 8];

pub(super) fn render(rows: &[Compared]) -> String {
    let mut rows: Vec<&Compared> = rows.iter().collect();
    rows.sort_by(|a, b| by_significance(a, b));
    output::table(&COLUMNS, &NUMERIC, rows.into_iter().map(cells))
}

fn cells(row: &Compared) -> Vec<String> {
    let mut cells = vec![row.status.name().to_owned()];
    cells.extend(row.key().map(|name| name.unwrap_or(NONE).to_owned()));
    let (before, after) = (row.before.as_ref(), row.after.as_ref());
    cells.push(moved(before, after, |f| f.count.to_string()));
    cells.push(moved(before, after, rate));
    cells.push(moved(before, after, error_rate));
    cells.push(moved(before, after, p99));
    cells.push(row.changed.names().join(";"));
    cells
}

/// `before -> after`, with `-` for the side a quadruple is missing from.
fn moved(
    before: Option<&Figures>,
    after: Option<&Figures>,
    cell: fn(&Figures) -> String,
) -> String {
    let side = |f: Option<&Figures>| f.map_or_else(|| NO_NUMBER.to_owned(), cell);
    format!("{} -> {}", side(before), side(after))
}

fn rate(f: &Figures) -> String {
    f.per_s()
        .map_or_else(|| format!("{} calls", f.count), significant)
}

fn error_rate(f: &Figures) -> String {
    f.error_rate().map_or_else(
        || NO_NUMBER.to_owned(),
        |r| format!("{}%", significant(r * 100.0)),
    )
}

fn p99(f: &Figures) -> String {
    f.p99_ns
        .map_or_else(|| NO_NUMBER.to_owned(), |ns| significant(ns_to_ms(ns)))
}

/// Three significant digits, or every digit before the point for a thousand and more, so that
/// a call a day (`0.0000116`/s) and 20,000 calls a second (`20000`) both read at a glance.
fn significant(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 9) as usize;
    format!("{x:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn significant_rows_first_with_before_and_after() {
        let mut rows = fixture::compared();
        // Whatever order they are given in.
        rows.reverse();
        assert_eq!(
            render(&rows),
            "\
STATUS     CALLER   CALLER_FUNC  CALLEE           CALLEE_FUNC          CALLS          CALLS/S           ERRORS        P99_MS  CHANGED
changed    front    /home        catalog          /items        3000 -> 2400     10.0 -> 20.0         0% -> 0%  20.0 -> 20.0  rate
changed    catalog  /items       db-proxy         /query        3000 -> 1200     10.0 -> 10.0         0% -> 0%  10.0 -> 30.0  p99
changed    catalog  /items       inventory        /stock          600 -> 600     2.00 -> 5.00         0% -> 0%  8.00 -> 8.00  rate
changed    front    /cart        cart             /get           1500 -> 600     5.00 -> 5.00  0.200% -> 15.0%  15.0 -> 15.0  error_rate
added      front    /checkout    payments         POST /charge      - -> 240        - -> 2.00      - -> 0.833%     - -> 50.0
removed    front    /checkout    legacy-payments  /charge           600 -> -        2.00 -> -      0.500% -> -     60.0 -> -
unchanged  front    /home        users            /me            1500 -> 630     5.00 -> 5.25   1.00% -> 1.11%  40.0 -> 44.0
unchanged  users    /me          none             none           1500 -> 600     5.00 -> 5.00         0% -> 0%     35.0 -> -
unchanged  front    /admin       audit            /log               5 -> 12  0.0167 -> 0.100      0% -> 33.3%  10.0 -> 90.0
"
        );
        assert_eq!(
            render(&[]),
            "STATUS  CALLER  CALLER_FUNC  CALLEE  CALLEE_FUNC  CALLS  CALLS/S  ERRORS  P99_MS  CHANGED\n"
        );
    }

    #[test]
    fn three_significant_digits() {
        assert_eq!(significant(20.0), "20.0");
        assert_eq!(significant(5.0), "5.00");
        assert_eq!(significant(0.2), "0.200");
        assert_eq!(significant(1.0 / 86_400.0), "0.0000116");
        assert_eq!(significant(123_456.0), "123456");
        assert_eq!(significant(0.0), "0");
    }

    #[test]
    fn hostile_names_cannot_break_lines_or_colour_the_terminal() {
        let out = render(&fixture::hostile());
        assert!(!out.contains('\x1b'), "raw escape in {out}");
        let lines: Vec<&str> = out.lines().collect();
        // Escaped as `analyze quads` escapes them; the rest is harmless in a terminal.
        assert_eq!(
            lines,
            [
                r#"STATUS   CALLER                          CALLER_FUNC                     CALLEE               CALLEE_FUNC       CALLS       CALLS/S      ERRORS        P99_MS  CHANGED"#,
                r#"changed  <script>alert(1)</script>       "><img src=x onerror=alert(1)>  evil\u{1b}[31m, red  /a\nb|{c}\d  600 -> 480  2.00 -> 4.00    0% -> 0%  10.0 -> 10.0  rate"#,
                r#"added    "><img src=x onerror=alert(1)>  evil\u{1b}[31m, red             none                 none            - -> 24    - -> 0.200  - -> 4.17%     - -> 5.00"#,
                r#"removed  <script>alert(1)</script>       none                            /a\nb|{c}\d          /<script>       60 -> -    0.200 -> -     0% -> -        - -> -"#,
            ]
        );
    }
}
