//! Whether a quadruple's rate, error rate and p99 moved between two windows beyond chance and
//! beyond what an on-call engineer would care about (the rules are in [`crate::report::diff`]).

use super::figures::Figures;

/// How far a figure must move to count as changed; every test must pass. The defaults
/// ([`Thresholds::default`]) are for comparing minutes of production traffic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Fewest calls on each side before the rate or the error rate can count as changed.
    /// Default 20: below it, one call more or less moves them by 5% or more, and the tests'
    /// normal approximations no longer hold.
    pub min_calls: u64,
    /// Fewest calls on each side before p99 can count as changed. Default 100: the fewest for
    /// which the nearest-rank p99 is not the slowest call, so one outlier cannot move it.
    pub min_calls_p99: u64,
    /// How far a figure must move, as a ratio either way. Default 1.5: up by half, or down by
    /// a third. A figure from zero to anything has moved by any factor.
    pub factor: f64,
    /// How much the rate must move, calls per second. Default one call a minute (1/60): a
    /// rarer edge's traffic moving loads nothing; its errors and latency are still judged.
    pub min_rate_change_per_s: f64,
    /// How much the error rate must move, as a fraction of calls. Default 0.01: one call in a
    /// hundred failing more or less; a smaller move is rarely what an incident is about.
    pub min_error_rate_change: f64,
    /// How much p99 must move, ns. Default 5 ms: less is jitter for a network call.
    pub min_p99_change_ns: u64,
    /// How many standard deviations a move of the rate or error rate must span. Default 3: a
    /// move that large happens by chance about once in 370 stable quadruples.
    pub min_z: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_calls: 20,
            min_calls_p99: 100,
            factor: 1.5,
            min_rate_change_per_s: 1.0 / 60.0,
            min_error_rate_change: 0.01,
            min_p99_change_ns: 5_000_000,
            min_z: 3.0,
        }
    }
}

/// Which figures of a quadruple moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changed {
    /// Calls per second.
    pub rate: bool,
    /// Failed calls over calls.
    pub error_rate: bool,
    /// 99th percentile duration.
    pub p99: bool,
}

impl Changed {
    /// Whether anything moved.
    pub fn any(&self) -> bool {
        self.rate || self.error_rate || self.p99
    }

    /// How many figures moved: the more, the more significant the row.
    pub fn how_many(&self) -> usize {
        usize::from(self.rate) + usize::from(self.error_rate) + usize::from(self.p99)
    }

    /// The names of the figures that moved (`rate`, `error_rate`, `p99`), in that order.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.rate, "rate"),
            (self.error_rate, "error_rate"),
            (self.p99, "p99"),
        ]
        .into_iter()
        .filter_map(|(moved, name)| moved.then_some(name))
        .collect()
    }
}

/// Which figures moved from `before` to `after`.
pub fn judge(before: &Figures, after: &Figures, thresholds: &Thresholds) -> Changed {
    Changed {
        rate: rate_moved(before, after, thresholds),
        error_rate: error_rate_moved(before, after, thresholds),
        p99: p99_moved(before, after, thresholds),
    }
}

fn rate_moved(before: &Figures, after: &Figures, t: &Thresholds) -> bool {
    let (Some(was), Some(is)) = (before.per_s(), after.per_s()) else {
        return false;
    };
    enough_calls(before, after, t.min_calls)
        && moved_by(was, is, t.factor)
        && (is - was).abs() >= t.min_rate_change_per_s
        && rate_z(before, after).abs() >= t.min_z
}

fn error_rate_moved(before: &Figures, after: &Figures, t: &Thresholds) -> bool {
    let (Some(was), Some(is)) = (before.error_rate(), after.error_rate()) else {
        return false;
    };
    enough_calls(before, after, t.min_calls)
        && moved_by(was, is, t.factor)
        && (is - was).abs() >= t.min_error_rate_change
        && error_rate_z(before, after).abs() >= t.min_z
}

fn p99_moved(before: &Figures, after: &Figures, t: &Thresholds) -> bool {
    let (Some(was), Some(is)) = (before.p99_ns, after.p99_ns) else {
        return false;
    };
    enough_calls(before, after, t.min_calls_p99)
        && moved_by(was as f64, is as f64, t.factor)
        && was.abs_diff(is) >= t.min_p99_change_ns
}

fn enough_calls(before: &Figures, after: &Figures, min: u64) -> bool {
    before.count >= min && after.count >= min
}

/// Whether the larger of two non-negative figures is at least `factor` times the smaller.
fn moved_by(was: f64, is: f64, factor: f64) -> bool {
    let (low, high) = (was.min(is), was.max(is));
    high > low && high >= low * factor
}

/// How far the after count lies from what the before rate predicts, in standard deviations.
/// Were the rates equal, each of the `n` calls of both windows would fall in the after window
/// with its share of the time: the after count would be binomial (n, share).
fn rate_z(before: &Figures, after: &Figures) -> f64 {
    let n = (before.count + after.count) as f64;
    let share = after.seconds / (before.seconds + after.seconds);
    let deviation = (n * share * (1.0 - share)).sqrt();
    if deviation > 0.0 {
        (after.count as f64 - n * share) / deviation
    } else {
        0.0
    }
}

/// The two-proportion z statistic of the error rates, with their pooled rate.
fn error_rate_z(before: &Figures, after: &Figures) -> f64 {
    let (b, a) = (before.count as f64, after.count as f64);
    let pooled = (before.errors + after.errors) as f64 / (b + a);
    let error = (pooled * (1.0 - pooled) * (1.0 / b + 1.0 / a)).sqrt();
    if error > 0.0 {
        (after.errors as f64 / a - before.errors as f64 / b) / error
    } else {
        // Both all failed or none did.
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(count: u64, errors: u64, p99_ms: f64, seconds: f64) -> Figures {
        let p99_ns = (p99_ms * 1e6) as i64;
        Figures {
            count,
            errors,
            p50_ns: Some(p99_ns / 2),
            p99_ns: Some(p99_ns),
            seconds,
        }
    }

    fn changed(before: Figures, after: Figures) -> Vec<&'static str> {
        judge(&before, &after, &Thresholds::default()).names()
    }

    #[test]
    fn rates_not_counts_are_compared() {
        // 10/s on both sides, over windows of 5 and 2 minutes.
        assert!(changed(figures(3000, 0, 20.0, 300.0), figures(1200, 0, 20.0, 120.0)).is_empty());
        // The same count over a shorter window is a higher rate.
        let (before, after) = (figures(3000, 0, 20.0, 300.0), figures(3000, 0, 20.0, 120.0));
        assert_eq!(changed(before, after), ["rate"]);
        assert_eq!(changed(after, before), ["rate"]);
    }

    #[test]
    fn a_rate_must_move_by_the_factor_and_beyond_chance() {
        let before = figures(1000, 0, 20.0, 100.0);
        assert!(changed(before, figures(1400, 0, 20.0, 100.0)).is_empty());
        assert_eq!(changed(before, figures(1500, 0, 20.0, 100.0)), ["rate"]);
        assert_eq!(changed(before, figures(666, 0, 20.0, 100.0)), ["rate"]);
        // Half again as many calls, but 20 against 30 is within chance.
        assert!(changed(figures(20, 0, 20.0, 60.0), figures(30, 0, 20.0, 60.0)).is_empty());
        // More than doubled and beyond chance, but by less than a call a minute.
        let rare = figures(40, 0, 20.0, 3600.0);
        assert!(changed(rare, figures(90, 0, 20.0, 3600.0)).is_empty());
    }

    #[test]
    fn few_calls_are_never_judged() {
        let before = figures(19, 0, 10.0, 60.0);
        let after = figures(190, 150, 900.0, 60.0);
        assert!(changed(before, after).is_empty());
        // p99 needs more: with 99 calls it is the slowest one.
        let (before, after) = (figures(99, 0, 10.0, 60.0), figures(99, 0, 90.0, 60.0));
        assert!(changed(before, after).is_empty());
        let (before, after) = (figures(100, 0, 10.0, 60.0), figures(100, 0, 90.0, 60.0));
        assert_eq!(changed(before, after), ["p99"]);
    }

    #[test]
    fn an_error_rate_must_move_by_a_point_and_beyond_chance() {
        let before = figures(1000, 10, 20.0, 100.0);
        assert_eq!(
            changed(before, figures(1000, 40, 20.0, 100.0)),
            ["error_rate"]
        );
        assert_eq!(
            changed(figures(1000, 0, 20.0, 100.0), before),
            ["error_rate"]
        );
        // Tripled, but by less than a point.
        let busy = figures(100_000, 100, 20.0, 100.0);
        assert!(changed(busy, figures(100_000, 300, 20.0, 100.0)).is_empty());
        // One failure in 40 calls after none is chance.
        assert!(changed(figures(40, 0, 20.0, 60.0), figures(40, 1, 20.0, 60.0)).is_empty());
        // Everything failing on both sides is no change.
        assert!(changed(figures(40, 40, 20.0, 60.0), figures(40, 40, 20.0, 60.0)).is_empty());
    }

    #[test]
    fn p99_must_move_by_the_factor_and_the_floor() {
        let before = figures(1000, 0, 2.0, 100.0);
        // Tripled, but by 4 ms.
        assert!(changed(before, figures(1000, 0, 6.0, 100.0)).is_empty());
        assert_eq!(changed(before, figures(1000, 0, 7.0, 100.0)), ["p99"]);
        let slow = figures(1000, 0, 100.0, 100.0);
        assert!(changed(slow, figures(1000, 0, 140.0, 100.0)).is_empty());
        assert_eq!(changed(slow, figures(1000, 0, 50.0, 100.0)), ["p99"]);
        let untimed = Figures {
            p99_ns: None,
            ..slow
        };
        assert!(changed(untimed, slow).is_empty());
    }

    #[test]
    fn windows_without_a_length_have_no_rate_to_judge() {
        let before = figures(1000, 0, 20.0, 0.0);
        assert!(changed(before, figures(5000, 0, 20.0, 100.0)).is_empty());
        // The other figures do not depend on the window.
        assert_eq!(
            changed(before, figures(1000, 500, 20.0, f64::NAN)),
            ["error_rate"]
        );
    }

    #[test]
    fn changes_are_named_in_order() {
        let all = Changed {
            rate: true,
            error_rate: true,
            p99: true,
        };
        assert_eq!(all.names(), ["rate", "error_rate", "p99"]);
        assert_eq!(all.how_many(), 3);
        assert!(all.any());
        assert!(!Changed::default().any());
        assert!(Changed::default().names().is_empty());
    }
}
