//! Table cells shared by the page's tables, carrying what the sorting script reads.
//!
//! A number's cell holds its exact value in `data-sort` (the text is rounded and grouped);
//! a cell for nothing ("none", a missing number) is marked `data-none`, so that it sorts last
//! in either direction.

use super::escape::text;
use super::units::{count, ms, percent};

/// A name (service, func), or "none" for no request or no downstream call.
pub fn name(name: Option<&str>) -> String {
    match name {
        Some(n) => format!("<td class=\"name\">{}</td>", text(n)),
        None => "<td class=\"name none\" data-none>none</td>".to_owned(),
    }
}

/// A count.
pub fn calls(n: u64) -> String {
    format!("<td class=\"num\" data-sort=\"{n}\">{}</td>", count(n))
}

/// A count of failures: red when there are any.
pub fn errors(n: u64) -> String {
    format!(
        "<td class=\"{}\" data-sort=\"{n}\">{}</td>",
        bad_if(n > 0),
        count(n)
    )
}

/// The share of `calls` that failed.
pub fn error_rate(errors: u64, calls: u64) -> String {
    let rate = if calls == 0 {
        0.0
    } else {
        errors as f64 / calls as f64
    };
    format!(
        "<td class=\"{}\" data-sort=\"{rate}\">{}</td>",
        bad_if(errors > 0),
        percent(errors, calls)
    )
}

/// A duration in ms, or a dash when there is none (no call ended).
pub fn duration(ns: Option<i64>) -> String {
    match ns {
        Some(ns) => format!("<td class=\"num\" data-sort=\"{ns}\">{}</td>", ms(ns)),
        None => "<td class=\"num none\" data-none>–</td>".to_owned(),
    }
}

fn bad_if(bad: bool) -> &'static str {
    if bad {
        "num bad"
    } else {
        "num"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_exact_value_and_none_is_marked() {
        assert_eq!(
            calls(12_345),
            "<td class=\"num\" data-sort=\"12345\">12,345</td>"
        );
        assert_eq!(errors(2), "<td class=\"num bad\" data-sort=\"2\">2</td>");
        assert_eq!(
            error_rate(1, 3),
            "<td class=\"num bad\" data-sort=\"0.3333333333333333\">33.3%</td>"
        );
        assert_eq!(
            duration(Some(1_250_000)),
            "<td class=\"num\" data-sort=\"1250000\">1.25</td>"
        );
        assert_eq!(duration(None), "<td class=\"num none\" data-none>–</td>");
        assert_eq!(name(Some("<x>")), "<td class=\"name\">&lt;x&gt;</td>");
        assert_eq!(name(None), "<td class=\"name none\" data-none>none</td>");
    }
}
