//! The page around the parts: the document head (policy, style), the header (title, window,
//! recordings), a bar of links to the sections, the warnings, the topology, and the script.
//!
//! Warnings come right after the header, before any number: lost events or requests begun
//! before the recording change how far the numbers below can be trusted.

use std::fmt::Write as _;

use super::edges::edges_section;
use super::escape::text;
use super::policy::{content_security_policy, SCRIPT};
use super::quad_table::quad_table;
use super::report::Report;
use super::units::{count, date_time, machine_time, span, Clock};

const STYLE: &str = include_str!("style.css");

/// The whole document.
pub fn page(r: &Report) -> String {
    let clock = Clock::for_window(r.window);
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        content_security_policy(),
        text(&r.title),
    );
    out.push_str(&header(r));
    out.push_str(&section_links(r));
    out.push_str("<main class=\"wrap\">\n");
    out.push_str(&warnings(&r.warnings));
    out.push_str(&topology(&r.topology_svg));
    let _ = write!(
        out,
        "<section id=\"quads\"><h2>Service quadruples</h2>\
         <p class=\"hint\">Click a column header to sort, again to reverse. \
         <em>none</em> as caller func: a call made outside any request; \
         as callee: a request that called nothing.</p>\n{}</section>\n",
        quad_table(&r.quads)
    );
    let _ = write!(
        out,
        "<section id=\"edges\"><h2>Edges</h2>\
         <p class=\"hint\">Each caller → callee edge over the window, per minute, \
         with the evidence its calls were attributed by and a few sample calls. \
         Hover over a chart for a minute's numbers.</p>\n{}</section>\n",
        edges_section(&r.edges, r.window, clock)
    );
    out.push_str(
        "</main>\n<footer class=\"wrap\">Made by quadtrace analyze. All times are UTC. \
         This page loads nothing from the network.</footer>\n",
    );
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

fn header(r: &Report) -> String {
    let (start, end) = r.window;
    let mut out = format!(
        "<header class=\"top\"><div class=\"wrap\">\n<h1>{}</h1>\n\
         <p class=\"window\">Window <time datetime=\"{}\">{}</time> → \
         <time datetime=\"{}\">{}</time> UTC <span class=\"span\">({})</span></p>\n",
        text(&r.title),
        machine_time(start),
        date_time(start),
        machine_time(end),
        date_time(end),
        span(end.saturating_sub(start)),
    );
    if !r.sources.is_empty() {
        let _ = write!(
            out,
            "<h2>Recordings ({})</h2>\n<ul class=\"sources\">",
            r.sources.len()
        );
        for source in &r.sources {
            let _ = write!(out, "<li>{}</li>", text(source));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</div></header>\n");
    out
}

/// Links to the sections, with how much each holds; warnings stand out when there are any.
fn section_links(r: &Report) -> String {
    let warning_class = if r.warnings.is_empty() {
        ""
    } else {
        " class=\"alert\""
    };
    format!(
        "<nav class=\"sections\"><div class=\"wrap\">\
         <a href=\"#warnings\"{warning_class}>Warnings <span class=\"count\">{}</span></a>\
         <a href=\"#topology\">Topology</a>\
         <a href=\"#quads\">Quadruples <span class=\"count\">{}</span></a>\
         <a href=\"#edges\">Edges <span class=\"count\">{}</span></a>\
         </div></nav>\n",
        count(r.warnings.len() as u64),
        count(r.quads.len() as u64),
        count(r.edges.len() as u64),
    )
}

fn warnings(warnings: &[String]) -> String {
    if warnings.is_empty() {
        return "<section id=\"warnings\" class=\"no-warnings\"><h2>Warnings</h2>\
                <p>None: no events were lost and every request was seen whole.</p></section>\n"
            .to_owned();
    }
    let mut out = format!(
        "<section id=\"warnings\" class=\"warnings\"><h2>Warnings ({})</h2><ul>",
        warnings.len()
    );
    for w in warnings {
        let _ = write!(out, "<li>{}</li>", text(w));
    }
    out.push_str("</ul></section>\n");
    out
}

/// The topology picture, made by quadtrace: trusted, so inserted as is.
fn topology(svg: &str) -> String {
    let picture = if svg.trim().is_empty() {
        "<p class=\"empty\">No topology was drawn.</p>"
    } else {
        svg
    };
    format!(
        "<section id=\"topology\"><h2>Topology</h2><div class=\"topology\">{picture}</div></section>\n"
    )
}
