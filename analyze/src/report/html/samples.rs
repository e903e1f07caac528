//! An edge's sample calls as a small table: when, from which request to which func, by what
//! evidence and how surely, how long and with what status.

use std::fmt::Write as _;

use super::cells;
use super::escape::text;
use super::report::Sample;
use super::units::{ms, Clock};

/// The table of `samples`, or a line saying there are none.
pub fn samples_table(samples: &[Sample], clock: Clock) -> String {
    if samples.is_empty() {
        return "<p class=\"empty\">No sample calls.</p>".to_owned();
    }
    let mut out = String::from(
        "<table class=\"samples\"><thead><tr>\
         <th scope=\"col\">Time (UTC)</th><th scope=\"col\">Caller func</th>\
         <th scope=\"col\">Callee func</th><th scope=\"col\">Attribution</th>\
         <th scope=\"col\" class=\"num\">Conf.</th><th scope=\"col\" class=\"num\">ms</th>\
         <th scope=\"col\" class=\"num\">Status</th></tr></thead><tbody>",
    );
    for s in samples {
        let _ = write!(
            out,
            "<tr><td class=\"when\">{}</td>{}{}<td>{}</td><td class=\"num\">{:.2}</td>{}{}</tr>",
            clock.millis(s.ts_ns),
            cells::name(s.caller_func.as_deref()),
            cells::name(s.callee_func.as_deref()),
            text(&s.attribution),
            s.confidence,
            match s.duration_ns {
                Some(ns) => format!("<td class=\"num\">{}</td>", ms(ns)),
                None => "<td class=\"num none\" title=\"its end was not seen\">–</td>".to_owned(),
            },
            status_cell(s.status),
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// A server error or a missing status (a transport error, or no end seen) stands out.
fn status_cell(status: Option<i32>) -> String {
    match status {
        Some(s) if s >= 500 => format!("<td class=\"num bad\">{s}</td>"),
        Some(s) => format!("<td class=\"num\">{s}</td>"),
        None => "<td class=\"num bad\" title=\"a transport error, or its end was not seen\">–</td>"
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_is_a_row() {
        let clock = Clock::for_window((0, 1));
        let sample = Sample {
            ts_ns: 3_723_004_000_000,
            caller_func: Some("/a/<b>".into()),
            callee_func: None,
            attribution: "spawned".into(),
            confidence: 0.9,
            duration_ns: Some(1_250_000),
            status: Some(503),
        };
        let table = samples_table(&[sample], clock);
        assert!(
            table.contains(
                "<tr><td class=\"when\">01:02:03.004</td><td class=\"name\">/a/&lt;b&gt;</td>\
                 <td class=\"name none\" data-none>none</td><td>spawned</td><td class=\"num\">0.90</td>\
                 <td class=\"num\">1.25</td><td class=\"num bad\">503</td></tr>"
            ),
            "{table}"
        );
        assert_eq!(
            samples_table(&[], clock),
            "<p class=\"empty\">No sample calls.</p>"
        );
    }
}
