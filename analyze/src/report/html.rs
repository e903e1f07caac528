//! The `analyze report` page: one self-contained HTML file for an on-call engineer after an
//! incident, with the window and recordings, warnings, the topology picture, the quadruple
//! table (sortable) and, per caller -> callee edge, a per-minute chart of calls, errors and
//! p99, its calls by evidence kind and sample calls.
//!
//! A [`Report`] enters, a `String` leaves; nothing is read or written here. The page works
//! opened from disk with no network: styles, script and charts (SVG drawn here, in Rust) are
//! inline, and its Content-Security-Policy forbids loading anything (`html/policy.rs`). Every
//! string from a recording is escaped (`html/escape.rs`).
//!
//! The script marks `<body data-ready="1">` once it has run, and sorts the quadruple table as
//! a `#sort=KEY-asc|desc` fragment asks (keys: `caller`, `caller_func`, `callee`,
//! `callee_func`, `count`, `errors`, `error_rate`, `p50_ms`, `p99_ms`), so that a headless
//! browser can check both (`tests/report_browser.rs`).
//!
//! ```
//! use quadtrace_analyze::html::{render, Report};
//!
//! let page = render(&Report {
//!     title: "quadtrace report: 1 recording".into(),
//!     ..Report::default()
//! });
//! assert!(page.starts_with("<!DOCTYPE html>"));
//! ```

mod cells;
mod chart;
mod edges;
mod escape;
mod page;
mod policy;
mod quad_table;
mod report;
mod samples;
#[cfg(test)]
mod tests;
mod units;

pub use report::{EdgeReport, Minute, Report, Sample};

/// The page for `r`, a complete HTML document.
pub fn render(r: &Report) -> String {
    page::page(r)
}
