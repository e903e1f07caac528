//! An edge's minutes drawn as inline SVG: calls, errors and p99 per minute, in three panels
//! over one time axis spanning the whole window.
//!
//! Drawn in Rust rather than by a charting script, so the page needs nothing from outside and
//! shows its charts even where scripts are off. Each panel has its own scale: errors are
//! usually a sliver of calls and would vanish on a shared one. Every minute carries a tooltip
//! with its three numbers.

use std::fmt::Write as _;

use super::report::Minute;
use super::units::{count, ms, percent, Clock};

const MINUTE_NS: i64 = 60_000_000_000;
const WIDTH: f64 = 1160.0;
/// Room for the y-axis labels.
const LEFT: f64 = 64.0;
const RIGHT: f64 = 8.0;
/// Room above each panel for its name.
const TITLE: f64 = 18.0;
const PANEL: f64 = 58.0;
const GAP: f64 = 8.0;
/// Room below the last panel for the time labels.
const AXIS: f64 = 20.0;
/// About this many time labels at most (one more when both ends fall on a round minute).
const TICKS: i64 = 8;

/// What one panel draws: a value per minute, as bars or as a line broken at gaps.
struct Panel {
    name: &'static str,
    class: &'static str,
    values: Vec<Option<f64>>,
    line: bool,
    label: fn(f64) -> String,
}

/// The chart of one edge over `window` (start, end ns), or a line saying it has no minute in
/// the window. `labelled_by` is the id of the element naming the edge, for screen readers: the
/// chart holds no string from the recording, not even in an attribute.
pub fn time_series(
    window: (i64, i64),
    minutes: &[Minute],
    clock: Clock,
    labelled_by: &str,
) -> String {
    let Some((t0, t1)) = span_of(window, minutes) else {
        return "<p class=\"empty\">No calls in the window.</p>".to_owned();
    };
    let frame = Frame { t0, t1 };
    // Peaks and scales are the window's own.
    let minutes: Vec<Minute> = minutes
        .iter()
        .filter(|m| frame.minute(m.start_ns).is_some())
        .copied()
        .collect();
    if minutes.is_empty() {
        return "<p class=\"empty\">No calls in the window.</p>".to_owned();
    }
    let minutes = minutes.as_slice();
    let panels = [
        Panel {
            name: "Calls per minute",
            class: "calls",
            values: minutes.iter().map(|m| Some(m.calls as f64)).collect(),
            line: false,
            label: |v| count(v as u64),
        },
        Panel {
            name: "Errors per minute",
            class: "errors",
            values: minutes.iter().map(|m| Some(m.errors as f64)).collect(),
            line: false,
            label: |v| count(v as u64),
        },
        Panel {
            name: "p99 duration",
            class: "p99",
            values: minutes
                .iter()
                .map(|m| m.p99_ns.map(|ns| ns as f64 / 1e6))
                .collect(),
            line: true,
            label: |v| format!("{} ms", ms((v * 1e6) as i64)),
        },
    ];
    let height = panels.len() as f64 * (TITLE + PANEL + GAP) + AXIS;
    let mut svg = format!(
        "<svg class=\"series\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" \
         aria-labelledby=\"{labelled_by}\"><desc>Calls, errors and p99 per minute</desc>"
    );
    let plot_bottom = height - AXIS;
    time_axis(&mut svg, frame, clock, plot_bottom);
    for (i, panel) in panels.iter().enumerate() {
        let top = i as f64 * (TITLE + PANEL + GAP) + TITLE;
        draw_panel(&mut svg, frame, minutes, panel, top);
    }
    hover_targets(&mut svg, frame, minutes, clock, plot_bottom);
    svg.push_str("</svg>");
    svg
}

/// The span drawn: the window, or when it is empty the minutes' own.
fn span_of(window: (i64, i64), minutes: &[Minute]) -> Option<(i64, i64)> {
    if window.1 > window.0 {
        return Some(window);
    }
    let first = minutes.first()?.start_ns;
    let last = minutes.iter().map(|m| m.start_ns).max()?;
    Some((first, last.saturating_add(MINUTE_NS)))
}

/// Time to x.
#[derive(Clone, Copy)]
struct Frame {
    t0: i64,
    t1: i64,
}

impl Frame {
    fn x(self, ns: i64) -> f64 {
        // In f64: a hostile window's end minus its start may not fit an i64.
        let span = self.t1 as f64 - self.t0 as f64;
        let at = (ns as f64 - self.t0 as f64) / span;
        LEFT + at.clamp(0.0, 1.0) * (WIDTH - LEFT - RIGHT)
    }

    /// The x range of a minute, when it falls in the window.
    fn minute(self, start_ns: i64) -> Option<(f64, f64)> {
        let end = start_ns.saturating_add(MINUTE_NS);
        if start_ns >= self.t1 || end <= self.t0 {
            return None;
        }
        let (x0, x1) = (self.x(start_ns), self.x(end));
        // Bars a gap apart while they are wide enough to spare it.
        let gap = if x1 - x0 > 3.0 { 1.0 } else { 0.0 };
        Some((x0, (x1 - x0 - gap).max(0.5)))
    }
}

fn draw_panel(svg: &mut String, frame: Frame, minutes: &[Minute], panel: &Panel, top: f64) {
    let bottom = top + PANEL;
    let Some(peak) = panel.values.iter().flatten().copied().reduce(f64::max) else {
        let _ = write!(
            svg,
            "<text class=\"panel-name\" x=\"{LEFT}\" y=\"{:.1}\">{} \
             <tspan class=\"peak\">none: no call ended</tspan></text>\
             <line class=\"baseline\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{bottom:.1}\" y2=\"{bottom:.1}\"/>",
            top - 5.0,
            panel.name,
            WIDTH - RIGHT,
        );
        return;
    };
    let max = nice_ceiling(peak);
    let y = |v: f64| bottom - (v / max).clamp(0.0, 1.0) * PANEL;
    let _ = write!(
        svg,
        "<text class=\"panel-name\" x=\"{LEFT}\" y=\"{:.1}\">{} <tspan class=\"peak\">peak {}</tspan></text>",
        top - 5.0,
        panel.name,
        (panel.label)(peak),
    );
    let _ = write!(
        svg,
        "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{top:.1}\" y2=\"{top:.1}\"/>\
         <line class=\"baseline\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{bottom:.1}\" y2=\"{bottom:.1}\"/>\
         <text class=\"y-label\" x=\"{:.1}\" y=\"{:.1}\">{}</text>\
         <text class=\"y-label\" x=\"{:.1}\" y=\"{bottom:.1}\">0</text>",
        WIDTH - RIGHT,
        WIDTH - RIGHT,
        LEFT - 6.0,
        top + 4.0,
        (panel.label)(max),
        LEFT - 6.0,
    );
    let _ = write!(svg, "<g class=\"{}\">", panel.class);
    if panel.line {
        draw_line(svg, frame, minutes, &panel.values, y);
    } else {
        for (m, v) in minutes.iter().zip(&panel.values) {
            let (Some((x, w)), Some(v)) = (frame.minute(m.start_ns), v) else {
                continue;
            };
            if *v > 0.0 {
                let top = y(*v).min(bottom - 1.0);
                let _ = write!(
                    svg,
                    "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{w:.1}\" height=\"{:.1}\"/>",
                    bottom - top
                );
            }
        }
    }
    svg.push_str("</g>");
}

/// A polyline through the minutes' values, broken where a minute or its value is missing;
/// a value alone between two breaks is a dot, which a line of one point would not show.
fn draw_line(
    svg: &mut String,
    frame: Frame,
    minutes: &[Minute],
    values: &[Option<f64>],
    y: impl Fn(f64) -> f64,
) {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut last_start: Option<i64> = None;
    for (m, v) in minutes.iter().zip(values) {
        let point = match (frame.minute(m.start_ns), v) {
            (Some((x, w)), Some(v)) => Some((x + w / 2.0, y(*v))),
            _ => None,
        };
        let follows = last_start.is_some_and(|s| m.start_ns.saturating_sub(s) <= MINUTE_NS);
        match point {
            Some(p) if follows && runs.last().is_some_and(|r| !r.is_empty()) => {
                if let Some(run) = runs.last_mut() {
                    run.push(p);
                }
            }
            Some(p) => runs.push(vec![p]),
            None => runs.push(Vec::new()),
        }
        last_start = Some(m.start_ns);
    }
    let mut path = String::new();
    for run in runs.iter().filter(|r| r.len() > 1) {
        for (i, (x, y)) in run.iter().enumerate() {
            let _ = write!(path, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
        }
    }
    if !path.is_empty() {
        let _ = write!(svg, "<path d=\"{path}\"/>");
    }
    for run in runs.iter().filter(|r| r.len() == 1) {
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2\"/>",
            run[0].0, run[0].1
        );
    }
}

/// Vertical grid lines and time labels at round minutes.
fn time_axis(svg: &mut String, frame: Frame, clock: Clock, plot_bottom: f64) {
    let step = tick_step(frame.t1 as i128 - frame.t0 as i128);
    let first = (frame.t0 as i128).div_euclid(step) * step
        + if (frame.t0 as i128).rem_euclid(step) == 0 {
            0
        } else {
            step
        };
    let mut tick = first;
    while tick <= frame.t1 as i128 {
        // Within [t0, t1], so an i64.
        let ns = tick as i64;
        let x = frame.x(ns);
        let anchor = if x > WIDTH - RIGHT - 30.0 {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            svg,
            "<line class=\"tick\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{TITLE}\" y2=\"{plot_bottom:.1}\"/>\
             <text class=\"x-label\" text-anchor=\"{anchor}\" x=\"{x:.1}\" y=\"{:.1}\">{}</text>",
            plot_bottom + 15.0,
            clock.minute(ns),
        );
        tick += step;
    }
}

/// The spacing of time labels, in ns: a round number of minutes giving at most [`TICKS`].
fn tick_step(span_ns: i128) -> i128 {
    const STEPS: [i128; 13] = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 10080];
    let minute = MINUTE_NS as i128;
    let span_minutes = span_ns.max(1) / minute + 1;
    let fits = STEPS.iter().find(|&&s| span_minutes / s <= TICKS as i128);
    let minutes = fits.copied().unwrap_or_else(|| {
        // Beyond weeks: whole days.
        let days = span_minutes / 1440 / TICKS as i128 + 1;
        days * 1440
    });
    minutes * minute
}

/// Transparent columns, one per minute, whose tooltips give the minute's numbers.
fn hover_targets(
    svg: &mut String,
    frame: Frame,
    minutes: &[Minute],
    clock: Clock,
    plot_bottom: f64,
) {
    svg.push_str("<g class=\"hover\">");
    for m in minutes {
        let Some((x, w)) = frame.minute(m.start_ns) else {
            continue;
        };
        let p99 = m
            .p99_ns
            .map_or_else(|| "no p99".to_owned(), |ns| format!("p99 {} ms", ms(ns)));
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{TITLE}\" width=\"{w:.1}\" height=\"{:.1}\">\
             <title>{} UTC: {} calls, {} errors ({}), {p99}</title></rect>",
            plot_bottom - TITLE,
            clock.minute(m.start_ns),
            count(m.calls),
            count(m.errors),
            percent(m.errors, m.calls),
        );
    }
    svg.push_str("</g>");
}

/// The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) that is
/// at least `v`, 1 for nothing: fine enough steps that the tallest bar nearly fills its panel.
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(v.log10().floor());
    [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|&c| c >= v)
        .unwrap_or(10.0 * power)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_714_521_600_000_000_000;

    fn minute(i: i64, calls: u64, errors: u64, p99_ms: Option<i64>) -> Minute {
        Minute {
            start_ns: T0 + i * MINUTE_NS,
            calls,
            errors,
            p99_ns: p99_ms.map(|ms| ms * 1_000_000),
        }
    }

    fn chart(minutes: &[Minute]) -> String {
        let window = (T0, T0 + 10 * MINUTE_NS);
        time_series(window, minutes, Clock::for_window(window), "edge-1-name")
    }

    #[test]
    fn each_minute_is_a_bar_and_a_tooltip() {
        let svg = chart(&[minute(0, 120, 3, Some(45)), minute(1, 80, 0, Some(30))]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
        // Two call bars, one error bar, and two hover columns.
        assert_eq!(svg.matches("<rect").count(), 5, "{svg}");
        assert!(svg.contains("<title>00:00 UTC: 120 calls, 3 errors (2.5%), p99 45.0 ms</title>"));
        assert!(svg.contains("peak 120"));
        assert!(
            svg.contains(">150</text>"),
            "the calls scale rounds up: {svg}"
        );
        assert!(svg.contains("aria-labelledby=\"edge-1-name\""));
    }

    #[test]
    fn the_p99_line_breaks_at_gaps() {
        // Minutes 0-1 joined; minute 3 alone after a gap; minute 4 has no p99.
        let svg = chart(&[
            minute(0, 1, 0, Some(10)),
            minute(1, 1, 0, Some(20)),
            minute(3, 1, 0, Some(10)),
            minute(4, 1, 0, None),
            minute(5, 1, 0, Some(5)),
        ]);
        let path = svg.split("<path d=\"").nth(1).unwrap_or_default();
        let d = path.split('"').next().unwrap_or_default();
        assert_eq!(d.matches('M').count(), 1, "{d}");
        assert_eq!(d.matches('L').count(), 1, "{d}");
        assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
    }

    #[test]
    fn minutes_outside_the_window_are_left_out() {
        let svg = chart(&[minute(-5, 9, 9, Some(1)), minute(3, 1, 0, None)]);
        assert_eq!(svg.matches("<title>").count(), 1, "{svg}");
        assert!(svg.contains("p99 duration <tspan class=\"peak\">none: no call ended"));
        assert_eq!(
            chart(&[minute(-5, 9, 9, Some(1)), minute(20, 9, 9, Some(1))]),
            "<p class=\"empty\">No calls in the window.</p>"
        );
        assert_eq!(chart(&[]), "<p class=\"empty\">No calls in the window.</p>");
    }

    #[test]
    fn an_empty_window_falls_back_to_the_minutes() {
        let minutes = [minute(0, 5, 0, None), minute(2, 5, 0, None)];
        let svg = time_series((0, 0), &minutes, Clock::for_window((0, 0)), "x");
        assert_eq!(svg.matches("<title>").count(), 2, "{svg}");
        assert_eq!(
            time_series((0, 0), &[], Clock::for_window((0, 0)), "x"),
            "<p class=\"empty\">No calls in the window.</p>"
        );
    }

    #[test]
    fn a_hostile_window_still_draws() {
        let svg = time_series(
            (i64::MIN, i64::MAX),
            &[minute(0, 1, 1, Some(1))],
            Clock::for_window((i64::MIN, i64::MAX)),
            "x",
        );
        assert!(svg.ends_with("</svg>"));
        assert!(svg.matches("class=\"x-label\"").count() <= TICKS as usize + 1);
    }

    #[test]
    fn ticks_are_round_and_few() {
        let m = MINUTE_NS as i128;
        assert_eq!(tick_step(10 * m), m * 2);
        assert_eq!(tick_step(60 * m), m * 10);
        assert_eq!(tick_step(24 * 60 * m), m * 180);
        assert_eq!(tick_step(90 * 24 * 60 * m), m * 1440 * 12);
        assert_eq!(nice_ceiling(120.0), 150.0);
        assert_eq!(nice_ceiling(212.0), 250.0);
        assert_eq!(nice_ceiling(3.0), 3.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert!((nice_ceiling(0.07) - 0.08).abs() < 1e-12);
    }
}
