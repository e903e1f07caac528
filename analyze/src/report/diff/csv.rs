//! Compared quadruples as CSV: one row each, both sides' figures side by side (empty where a
//! quadruple is missing), quoted as `analyze quads` quotes.

use super::compare::Compared;
use super::figures::Figures;
use crate::report::output::{self, NONE};
use crate::report::quads::ns_to_ms;

/// The header row.
pub const DIFF_COLUMNS: [&str; 14] = [
    "caller",
    "caller_func",
    "callee",
    "callee_func",
    "status",
    "before_count",
    "before_errors",
    "before_p50_ms",
    "before_p99_ms",
    "after_count",
    "after_errors",
    "after_p50_ms",
    "after_p99_ms",
    "changed",
];

pub(super) fn render(rows: &[Compared]) -> String {
    output::csv(&DIFF_COLUMNS, rows.iter().map(cells))
}

fn cells(row: &Compared) -> Vec<String> {
    let mut cells: Vec<String> = row
        .key()
        .iter()
        .map(|name| name.unwrap_or(NONE).to_owned())
        .collect();
    cells.push(row.status.name().to_owned());
    cells.extend(side(row.before.as_ref()));
    cells.extend(side(row.after.as_ref()));
    cells.push(row.changed.names().join(";"));
    cells
}

/// Count, errors, p50 and p99; empty fields, which CSV readers take as null, when absent.
fn side(figures: Option<&Figures>) -> [String; 4] {
    // As exactly as f64 holds them: the shortest form that reads back the same.
    let ms = |ns: Option<i64>| ns.map(|ns| ns_to_ms(ns).to_string()).unwrap_or_default();
    figures.map_or_else(Default::default, |f| {
        [
            f.count.to_string(),
            f.errors.to_string(),
            ms(f.p50_ns),
            ms(f.p99_ns),
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn one_row_per_quadruple_with_both_sides() {
        let out = render(&fixture::compared());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.first(), Some(&DIFF_COLUMNS.join(",").as_str()));
        assert_eq!(lines.len(), 1 + fixture::compared().len());
        for line in &lines {
            assert_eq!(line.split(',').count(), DIFF_COLUMNS.len(), "{line}");
        }
        for row in [
            "front,/home,catalog,/items,changed,3000,0,5,20,2400,0,5,20,rate",
            "front,/checkout,payments,POST /charge,added,,,,,240,2,12.5,50,",
            "front,/checkout,legacy-payments,/charge,removed,600,3,15,60,,,,,",
            "front,/home,users,/me,unchanged,1500,15,10,40,630,7,11,44,",
            "users,/me,none,none,unchanged,1500,0,8.75,35,600,0,,,",
        ] {
            assert!(lines.contains(&row), "{row} not in\n{out}");
        }
        assert_eq!(render(&[]), DIFF_COLUMNS.join(",") + "\n");
    }

    #[test]
    fn hostile_names_are_quoted() {
        assert_eq!(
            render(&fixture::hostile()),
            format!(
                "{}\n{}\n{}\n{}\n",
                DIFF_COLUMNS.join(","),
                "<script>alert(1)</script>,\"\"\"><img src=x onerror=alert(1)>\",\
                 \"evil\x1b[31m, red\",\"/a\nb|{c}\\d\",changed,600,0,2.5,10,480,0,2.5,10,rate",
                "\"\"\"><img src=x onerror=alert(1)>\",\"evil\x1b[31m, red\",none,none,added,\
                 ,,,,24,1,1.25,5,",
                "<script>alert(1)</script>,none,\"/a\nb|{c}\\d\",/<script>,removed,60,0,,,,,,,",
            )
        );
    }
}
