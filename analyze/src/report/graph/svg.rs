//! The topology as an SVG picture: boxes for services (dashed for addresses no recording saw
//! serve), curved edges with arrowheads, thicker for more calls and red when some failed,
//! their figures beside them, and a legend on top. The geometry comes from `layout`.
//!
//! Only presentation attributes are used, no `<style>` and no `id`: an SVG inlined in an HTML
//! page shares the page's style sheets and ids, so a style sheet here would restyle the page,
//! and ids would clash between two pictures. Every name is escaped ([`crate::report::escape::xml`])
//! and goes only into text and `<title>` (the tooltip), never into an attribute. Numbers are
//! written to 0.1 px, so the same topology gives the same bytes.

use std::fmt::Write as _;

use super::curves::{loop_path, num, runs_path};
use super::layout::{layout, Label, Layout, NodeBox, Path, LINE};
use super::legend::{legend, LEGEND_HEIGHT};
use super::style::{
    ADDRESS_COLOR, ADDRESS_DASHES, ADDRESS_FILL, ADDRESS_STROKE, EDGE_COLOR, ERROR_COLOR,
    FIGURES_COLOR, FONT, NAME_COLOR, SERVICE_FILL, SERVICE_STROKE,
};
use super::text;
use super::topology::{Edge, Topology};
use crate::report::escape;

/// Room around the picture.
const MARGIN: f64 = 16.0;
/// Room under the legend.
const LEGEND_GAP: f64 = 18.0;
/// Stroke widths of the edge with the fewest calls (none) and the most.
const THIN: f64 = 1.2;
const THICK: f64 = 4.0;

/// A standalone SVG document: an XML declaration and [`svg_element`].
pub fn svg(t: &Topology) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&svg_element(t));
    out
}

/// The `<svg>` element alone, to inline in HTML; the same bytes for the same topology.
pub fn svg_element(t: &Topology) -> String {
    let layout = layout(t);
    let (legend, legend_width) = legend();
    let empty = t.nodes.is_empty();
    let content_height = if empty { LINE } else { layout.height };
    let width = layout.width.max(legend_width) + 2.0 * MARGIN;
    let height = MARGIN + LEGEND_HEIGHT + LEGEND_GAP + content_height + MARGIN;
    let (width, height) = (num(width.ceil()), num(height.ceil()));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"{FONT}\" role=\"img\">"
    );
    let _ = writeln!(
        out,
        "<title>Who calls whom: {} services and addresses, {} edges</title>",
        t.nodes.len(),
        t.drawable_edges().count()
    );
    let _ = writeln!(
        out,
        "<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    let _ = writeln!(
        out,
        "<g class=\"legend\" transform=\"translate({} {})\">\n{legend}</g>",
        num(MARGIN),
        num(MARGIN)
    );
    let top = MARGIN + LEGEND_HEIGHT + LEGEND_GAP;
    let _ = writeln!(
        out,
        "<g transform=\"translate({} {})\">",
        num(MARGIN),
        num(top)
    );
    if empty {
        let _ = writeln!(
            out,
            "<text y=\"{}\" font-size=\"{}\" fill=\"{FIGURES_COLOR}\">No calls recorded.</text>",
            num(LINE - 3.5),
            num(text::NAME_PX)
        );
    }
    if let Some(caption) = layout.alone {
        let _ = writeln!(
            out,
            "<text y=\"{}\" font-size=\"{}\" fill=\"{FIGURES_COLOR}\">No calls in or out:</text>",
            num(caption + LINE - 3.5),
            num(text::FIGURES_PX)
        );
    }
    draw_edges(&mut out, t, &layout);
    draw_nodes(&mut out, t, &layout);
    draw_figures(&mut out, t, &layout);
    out.push_str("</g>\n</svg>\n");
    out
}

fn draw_edges(out: &mut String, t: &Topology, layout: &Layout) {
    let most = t.drawable_edges().map(|(_, e)| e.calls).max().unwrap_or(0);
    out.push_str("<g class=\"edges\" fill=\"none\">\n");
    for (i, edge) in t.drawable_edges() {
        let Some(Some(route)) = layout.routes.get(i) else {
            continue;
        };
        let stroke = stroke_width(edge.calls, most);
        let color = edge_color(edge);
        let arrow = 5.0 + 1.6 * stroke;
        let (line, head) = match &route.path {
            Path::Runs { runs, rightward } => runs_path(runs, *rightward, arrow),
            Path::Loop {
                left,
                right,
                y,
                height,
            } => loop_path(*left, *right, *y, *height, arrow),
        };
        let _ = writeln!(
            out,
            "<g class=\"edge\"><title>{} → {}: {}</title>\
             <path d=\"{line}\" stroke=\"{color}\" stroke-width=\"{}\"/>\
             <path d=\"{head}\" fill=\"{color}\"/></g>",
            escape::xml(&t.nodes[edge.caller].name),
            escape::xml(&t.nodes[edge.callee].name),
            escape::xml(&edge.label()),
            num(stroke),
        );
    }
    out.push_str("</g>\n");
}

fn draw_nodes(out: &mut String, t: &Topology, layout: &Layout) {
    let _ = writeln!(
        out,
        "<g class=\"nodes\" font-size=\"{}\" text-anchor=\"middle\">",
        num(text::NAME_PX)
    );
    for (node, b) in t.nodes.iter().zip(&layout.boxes) {
        let (fill, stroke, color, dash) = if node.recorded {
            (SERVICE_FILL, SERVICE_STROKE, NAME_COLOR, String::new())
        } else {
            (
                ADDRESS_FILL,
                ADDRESS_STROKE,
                ADDRESS_COLOR,
                format!(" stroke-dasharray=\"{ADDRESS_DASHES}\""),
            )
        };
        let _ = writeln!(
            out,
            "<g class=\"node\"><title>{}</title>\
             <rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"5\" fill=\"{fill}\" \
             stroke=\"{stroke}\" stroke-width=\"1.3\"{dash}/>\
             <text x=\"{}\" y=\"{}\" fill=\"{color}\">{}</text></g>",
            escape::xml(&node.name),
            num(b.x),
            num(b.y),
            num(b.width),
            num(b.height),
            num(b.x + b.width / 2.0),
            num(middle_baseline(b)),
            escape::xml(&b.text),
        );
    }
    out.push_str("</g>\n");
}

/// The baseline that centres a line of a name in its box: digits and capitals stand about
/// 0.7 em high, so their middle is 0.35 em above the baseline.
fn middle_baseline(b: &NodeBox) -> f64 {
    b.y + b.height / 2.0 + 0.35 * text::NAME_PX
}

fn draw_figures(out: &mut String, t: &Topology, layout: &Layout) {
    // A white halo under the figures keeps them legible where a line comes near.
    let _ = writeln!(
        out,
        "<g class=\"figures\" font-size=\"{}\" text-anchor=\"middle\" fill=\"{FIGURES_COLOR}\" \
         stroke=\"#ffffff\" stroke-width=\"3\" stroke-linejoin=\"round\" paint-order=\"stroke\">",
        num(text::FIGURES_PX)
    );
    for (i, edge) in t.drawable_edges() {
        if let Some(Some(route)) = layout.routes.get(i) {
            figures(out, edge, &route.label);
        }
    }
    out.push_str("</g>\n");
}

/// An edge's label: calls and errors (in red) on one line, p99 under it.
fn figures(out: &mut String, edge: &Edge, label: &Label) {
    let baseline = |line: usize| num(label.top + (line + 1) as f64 * LINE - 3.5);
    let x = num(label.x);
    let _ = write!(
        out,
        "<text x=\"{x}\" y=\"{}\">{}",
        baseline(0),
        edge.count()
    );
    if let Some(errors) = edge.failures() {
        let _ = write!(
            out,
            ", <tspan fill=\"{ERROR_COLOR}\" font-weight=\"bold\">{errors}</tspan>"
        );
    }
    out.push_str("</text>\n");
    if let Some(latency) = edge.latency() {
        let _ = writeln!(
            out,
            "<text x=\"{x}\" y=\"{}\">{latency}</text>",
            baseline(1)
        );
    }
}

fn edge_color(edge: &Edge) -> &'static str {
    if edge.failing() {
        ERROR_COLOR
    } else {
        EDGE_COLOR
    }
}

/// Thicker for more calls, on a log scale up to the busiest edge.
fn stroke_width(calls: u64, most: u64) -> f64 {
    if most == 0 {
        return THIN;
    }
    let share = (calls as f64).ln_1p() / (most as f64).ln_1p();
    THIN + (THICK - THIN) * share
}

#[cfg(test)]
mod tests;
