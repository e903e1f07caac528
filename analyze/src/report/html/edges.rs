//! The edges section: an overview of every caller -> callee edge (calls, errors, worst p99),
//! then one part per edge with its chart over the window, its calls by evidence kind and its
//! sample calls.
//!
//! Edges are numbered in the order given, and their anchors (`#edge-1`) use that number, not
//! the services' names, which are recording strings.

use std::fmt::Write as _;

use super::cells;
use super::chart::time_series;
use super::escape::text;
use super::report::EdgeReport;
use super::samples::samples_table;
use super::units::{count, counted, ms, percent, Clock};

/// The whole section's content after its heading.
pub fn edges_section(edges: &[EdgeReport], window: (i64, i64), clock: Clock) -> String {
    if edges.is_empty() {
        return "<p class=\"empty\">No edges in the window.</p>".to_owned();
    }
    let mut out = overview(edges);
    for (i, edge) in edges.iter().enumerate() {
        out.push_str(&edge_part(i + 1, edge, window, clock));
    }
    out
}

/// One row per edge, sortable like the quadruples, each linking to its part.
fn overview(edges: &[EdgeReport]) -> String {
    let mut out = String::from(
        "<table id=\"edge-table\" class=\"sortable overview\"><thead><tr>\
         <th scope=\"col\" data-key=\"edge\"><button type=\"button\">Edge</button></th>\
         <th scope=\"col\" class=\"num\" data-key=\"calls\" data-type=\"number\"><button type=\"button\">Calls</button></th>\
         <th scope=\"col\" class=\"num\" data-key=\"errors\" data-type=\"number\"><button type=\"button\">Errors</button></th>\
         <th scope=\"col\" class=\"num\" data-key=\"error_rate\" data-type=\"number\"><button type=\"button\">Err %</button></th>\
         <th scope=\"col\" class=\"num\" data-key=\"worst_p99_ms\" data-type=\"number\"><button type=\"button\">Worst p99 ms</button></th>\
         </tr></thead><tbody>",
    );
    for (i, edge) in edges.iter().enumerate() {
        let (calls, errors) = (edge.calls(), edge.errors());
        let _ = write!(
            out,
            "<tr><td class=\"name\"><a href=\"#edge-{}\">{}</a></td>{}{}{}{}</tr>",
            i + 1,
            edge_name(edge),
            cells::calls(calls),
            cells::errors(errors),
            cells::error_rate(errors, calls),
            cells::duration(edge.worst_p99_ns()),
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// `caller → callee`, escaped.
fn edge_name(edge: &EdgeReport) -> String {
    format!(
        "<span class=\"svc\">{}</span> <span class=\"arrow\">→</span> <span class=\"svc\">{}</span>",
        text(&edge.caller),
        text(&edge.callee)
    )
}

fn edge_part(number: usize, edge: &EdgeReport, window: (i64, i64), clock: Clock) -> String {
    let (calls, errors) = (edge.calls(), edge.errors());
    let worst = edge.worst_p99_ns().map_or_else(
        || "no p99".to_owned(),
        |ns| format!("worst p99 {} ms", ms(ns)),
    );
    let error_class = if errors > 0 { " class=\"bad\"" } else { "" };
    format!(
        "<article class=\"edge\" id=\"edge-{number}\">\
         <h3 id=\"edge-{number}-name\">{}</h3>\
         <p class=\"facts\">{} · <span{error_class}>{} ({})</span> · {worst}</p>\
         <figure class=\"chart\">{}</figure>\
         <div class=\"edge-detail\">\
         <div><h4>Calls by evidence</h4>{}</div>\
         <div><h4>Sample calls</h4>{}</div>\
         </div></article>",
        edge_name(edge),
        counted(calls, "call", "calls"),
        counted(errors, "error", "errors"),
        percent(errors, calls),
        time_series(window, &edge.minutes, clock, &format!("edge-{number}-name")),
        evidence_table(&edge.evidence),
        samples_table(&edge.samples, clock),
    )
}

/// Calls by evidence kind, each with its share drawn as a bar.
fn evidence_table(evidence: &[(String, u64)]) -> String {
    if evidence.is_empty() {
        return "<p class=\"empty\">No evidence recorded.</p>".to_owned();
    }
    let total: u64 = evidence.iter().map(|(_, n)| n).sum();
    let mut out = String::from(
        "<table class=\"evidence\"><thead><tr><th scope=\"col\">Kind</th>\
         <th scope=\"col\" class=\"num\">Calls</th><th scope=\"col\">Share</th></tr></thead><tbody>",
    );
    for (kind, n) in evidence {
        let share = if total == 0 {
            0.0
        } else {
            *n as f64 * 100.0 / total as f64
        };
        let title = describe(kind).map_or_else(String::new, |d| format!(" title=\"{d}\""));
        let _ = write!(
            out,
            "<tr><td class=\"kind\"{title}>{}</td><td class=\"num\">{}</td>\
             <td class=\"share\"><span class=\"track\"><span class=\"bar\" style=\"width:{share:.1}%\">\
             </span></span><span class=\"pct\">{}</span></td></tr>",
            text(kind),
            count(*n),
            percent(*n, total),
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// What an evidence kind means, for its tooltip.
fn describe(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "same_goroutine" => "made on the goroutine serving the request",
        "spawned" => "made by a goroutine the request's goroutine started (or a timer it armed)",
        "context" => "made with the request's context, or one derived from it",
        "channel" => "made by a goroutine that last received a value from the request's",
        "none" => "nothing ties the call to a request: background work",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::report::Minute;
    use super::*;

    fn edge() -> EdgeReport {
        EdgeReport {
            caller: "front".into(),
            callee: "<b>back</b>".into(),
            minutes: vec![
                Minute {
                    start_ns: 0,
                    calls: 30,
                    errors: 3,
                    p99_ns: Some(20_000_000),
                },
                Minute {
                    start_ns: 60_000_000_000,
                    calls: 10,
                    errors: 0,
                    p99_ns: None,
                },
            ],
            evidence: vec![("same_goroutine".into(), 30), ("\"><i>x".into(), 10)],
            samples: Vec::new(),
        }
    }

    #[test]
    fn the_overview_links_each_edge_to_its_part() {
        let window = (0, 120_000_000_000);
        let html = edges_section(&[edge(), edge()], window, Clock::for_window(window));
        assert!(html.contains("<a href=\"#edge-2\"><span class=\"svc\">front</span>"));
        assert!(html.contains("id=\"edge-1\"") && html.contains("id=\"edge-2\""));
        assert!(
            html.contains("<td class=\"num\" data-sort=\"40\">40</td>"),
            "{html}"
        );
        assert!(html.contains("<td class=\"num bad\" data-sort=\"0.075\">7.5%</td>"));
        assert!(html
            .contains("40 calls · <span class=\"bad\">3 errors (7.5%)</span> · worst p99 20.0 ms"));
        assert!(html.contains("&lt;b&gt;back&lt;/b&gt;") && !html.contains("<b>"));
    }

    #[test]
    fn evidence_shares_add_up() {
        let table = evidence_table(&edge().evidence);
        assert!(
            table.contains("style=\"width:75.0%\"></span></span><span class=\"pct\">75.0%"),
            "{table}"
        );
        assert!(
            table.contains("style=\"width:25.0%\"></span></span><span class=\"pct\">25.0%"),
            "{table}"
        );
        assert!(table.contains("title=\"made on the goroutine serving the request\""));
        assert!(table.contains("&quot;&gt;&lt;i&gt;x") && !table.contains("<i>"));
        assert_eq!(
            edges_section(&[], (0, 1), Clock::for_window((0, 1))),
            "<p class=\"empty\">No edges in the window.</p>"
        );
    }
}
