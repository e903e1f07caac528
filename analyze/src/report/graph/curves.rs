//! SVG path data for edges: runs joined by curves that leave and arrive level, self-loops,
//! arrowheads; and how coordinates are written.

use std::fmt::Write as _;

use super::layout::Run;

/// The path of an edge along `runs`, joined by curves that leave and arrive level, stopping
/// short of the end by `arrow`; and its arrowhead there, pointing right or left.
pub fn runs_path(runs: &[Run], rightward: bool, arrow: f64) -> (String, String) {
    let direction = if rightward { 1.0 } else { -1.0 };
    let mut d = String::new();
    let mut at: Option<(f64, f64)> = None;
    let mut tip = (0.0, 0.0);
    for (i, run) in runs.iter().enumerate() {
        let last = i + 1 == runs.len();
        let to = if last {
            tip = (run.to, run.y);
            run.to - direction * arrow
        } else {
            run.to
        };
        // A last run shorter than the arrowhead: the curve goes straight to the arrowhead.
        let from = if last && (run.from - to) * direction > 0.0 {
            to
        } else {
            run.from
        };
        match at {
            None => {
                let _ = write!(d, "M{} {}", num(from), num(run.y));
            }
            Some((x, y)) => {
                let half = (from - x) / 2.0;
                let _ = write!(
                    d,
                    "C{} {} {} {} {} {}",
                    num(x + half),
                    num(y),
                    num(from - half),
                    num(run.y),
                    num(from),
                    num(run.y)
                );
            }
        }
        if num(from) != num(to) {
            let _ = write!(d, "H{}", num(to));
        }
        at = Some((to, run.y));
    }
    let (x, y) = tip;
    let base = x - direction * arrow;
    let half = arrow * 0.4;
    let head = format!(
        "M{} {}L{} {}L{} {}Z",
        num(x),
        num(y),
        num(base),
        num(y - half),
        num(base),
        num(y + half)
    );
    (d, head)
}

/// A loop from `left` on a box's top `y` up `height` and down to `right`, and its arrowhead
/// pointing down onto the box.
pub fn loop_path(left: f64, right: f64, y: f64, height: f64, arrow: f64) -> (String, String) {
    // A cubic with both handles `reach` above its ends peaks at three quarters of it.
    let reach = height / 0.75;
    let d = format!(
        "M{} {}C{} {} {} {} {} {}",
        num(left),
        num(y),
        num(left),
        num(y - reach),
        num(right),
        num(y - reach),
        num(right),
        num(y - arrow)
    );
    let half = arrow * 0.4;
    let head = format!(
        "M{} {}L{} {}L{} {}Z",
        num(right),
        num(y),
        num(right - half),
        num(y - arrow),
        num(right + half),
        num(y - arrow)
    );
    (d, head)
}

/// A coordinate to 0.1, without a trailing `.0`, and never `-0`.
pub fn num(value: f64) -> String {
    let tenths = (value * 10.0).round();
    if tenths == 0.0 || !tenths.is_finite() {
        return "0".to_owned();
    }
    if tenths % 10.0 == 0.0 {
        format!("{}", tenths / 10.0)
    } else {
        format!("{:.1}", tenths / 10.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_short_and_never_negative_zero() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.04), "12");
        assert_eq!(num(12.06), "12.1");
        assert_eq!(num(-0.01), "0");
        assert_eq!(num(-3.25), "-3.3");
        assert_eq!(num(f64::NAN), "0");
    }

    #[test]
    fn a_path_stops_short_of_its_arrowhead() {
        let runs = [
            Run {
                y: 10.0,
                from: 0.0,
                to: 20.0,
            },
            Run {
                y: 30.0,
                from: 60.0,
                to: 100.0,
            },
        ];
        let (line, head) = runs_path(&runs, true, 8.0);
        assert_eq!(line, "M0 10H20C40 10 40 30 60 30H92");
        assert_eq!(head, "M100 30L92 26.8L92 33.2Z");
        // Leftwards, and a last run shorter than the arrowhead.
        let back = [
            Run {
                y: 30.0,
                from: 100.0,
                to: 60.0,
            },
            Run {
                y: 10.0,
                from: 20.0,
                to: 16.0,
            },
        ];
        let (line, head) = runs_path(&back, false, 8.0);
        assert_eq!(line, "M100 30H60C42 30 42 10 24 10");
        assert_eq!(head, "M16 10L24 6.8L24 13.2Z");
    }

    #[test]
    fn a_loop_ends_pointing_down_onto_its_box() {
        let (line, head) = loop_path(40.0, 60.0, 100.0, 18.0, 8.0);
        assert_eq!(line, "M40 100C40 76 60 76 60 92");
        assert_eq!(head, "M60 100L56.8 92L63.2 92Z");
    }
}
