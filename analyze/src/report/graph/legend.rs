//! The legend over the picture: what a box, a dashed box, a grey and a red edge mean, and
//! what the figures are.

use std::fmt::Write as _;

use super::curves::{num, runs_path};
use super::layout::Run;
use super::style::{
    ADDRESS_DASHES, ADDRESS_FILL, ADDRESS_STROKE, EDGE_COLOR, ERROR_COLOR, FIGURES_COLOR,
    SERVICE_FILL, SERVICE_STROKE,
};
use super::text;

/// Height of the legend.
pub const LEGEND_HEIGHT: f64 = 18.0;

/// The legend, in one line, and its width.
pub fn legend() -> (String, f64) {
    let px = text::FIGURES_PX;
    let middle = LEGEND_HEIGHT / 2.0;
    let baseline = num(middle + 0.35 * px);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<g font-size=\"{}\" fill=\"{FIGURES_COLOR}\">",
        num(px)
    );
    let mut x = 0.0;
    let caption = |out: &mut String, x: &mut f64, words: &str| {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{baseline}\">{words}</text>",
            num(*x)
        );
        *x += text::width(words, px) + 20.0;
    };
    let dashed = format!(" stroke-dasharray=\"{ADDRESS_DASHES}\"");
    for (fill, stroke, dash, words) in [
        (SERVICE_FILL, SERVICE_STROKE, "", "service"),
        (
            ADDRESS_FILL,
            ADDRESS_STROKE,
            &*dashed,
            "address, not recorded",
        ),
    ] {
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"2\" width=\"26\" height=\"{}\" rx=\"4\" fill=\"{fill}\" \
             stroke=\"{stroke}\" stroke-width=\"1.3\"{dash}/>",
            num(x),
            num(LEGEND_HEIGHT - 4.0)
        );
        x += 32.0;
        caption(&mut out, &mut x, words);
    }
    for (color, words) in [(EDGE_COLOR, "calls"), (ERROR_COLOR, "calls with errors")] {
        let run = [Run {
            y: middle,
            from: x,
            to: x + 30.0,
        }];
        let (line, head) = runs_path(&run, true, 8.0);
        let _ = writeln!(
            out,
            "<path d=\"{line}\" stroke=\"{color}\" stroke-width=\"2\" fill=\"none\"/>\
             <path d=\"{head}\" fill=\"{color}\"/>"
        );
        x += 36.0;
        caption(&mut out, &mut x, words);
    }
    caption(
        &mut out,
        &mut x,
        "figures: calls, errors, p99 latency; thicker: more calls",
    );
    out.push_str("</g>\n");
    (out, x - 20.0)
}
