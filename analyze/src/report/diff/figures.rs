//! One window's figures for one quadruple: what [`super::judge`] compares and the outputs show.

use crate::report::quads::Quad;

/// How often a quadruple was seen in a window, how often it failed and how long it took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Calls (requests, for a none-callee quadruple).
    pub count: u64,
    /// Those that failed.
    pub errors: u64,
    /// Median duration, ns; none when no duration was seen.
    pub p50_ns: Option<i64>,
    /// 99th percentile duration, ns; none when no duration was seen.
    pub p99_ns: Option<i64>,
    /// Length of the window, s.
    pub seconds: f64,
}

impl Figures {
    /// A quadruple's figures over a window of `seconds`.
    pub fn of(quad: &Quad, seconds: f64) -> Figures {
        Figures {
            count: quad.count,
            errors: quad.errors,
            p50_ns: quad.p50_ns,
            p99_ns: quad.p99_ns,
            seconds,
        }
    }

    /// Adds the same quadruple listed again in the window. The percentiles of the whole cannot
    /// be known from those of the parts; the larger is an upper bound (no more than 1% of
    /// either part, hence of the whole, lies above the larger p99).
    pub fn add(&mut self, quad: &Quad) {
        self.count = self.count.saturating_add(quad.count);
        self.errors = self.errors.saturating_add(quad.errors);
        // None is below any duration.
        self.p50_ns = self.p50_ns.max(quad.p50_ns);
        self.p99_ns = self.p99_ns.max(quad.p99_ns);
    }

    /// Calls per second; none when the window's length is not a positive number.
    pub fn per_s(&self) -> Option<f64> {
        (self.seconds.is_finite() && self.seconds > 0.0).then(|| self.count as f64 / self.seconds)
    }

    /// Failed calls over calls; none without calls.
    pub fn error_rate(&self) -> Option<f64> {
        (self.count > 0).then(|| self.errors as f64 / self.count as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quad(count: u64, errors: u64, p99_ms: Option<i64>) -> Quad {
        Quad {
            caller: "a".into(),
            caller_func: None,
            callee: None,
            callee_func: None,
            count,
            errors,
            p50_ns: p99_ms.map(|ms| ms * 500_000),
            p99_ns: p99_ms.map(|ms| ms * 1_000_000),
        }
    }

    #[test]
    fn rates_are_over_the_window() {
        let figures = Figures::of(&quad(600, 30, None), 120.0);
        assert_eq!(figures.per_s(), Some(5.0));
        assert_eq!(figures.error_rate(), Some(0.05));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(Figures::of(&quad(600, 0, None), bad).per_s(), None);
        }
        assert_eq!(Figures::of(&quad(0, 0, None), 60.0).error_rate(), None);
    }

    #[test]
    fn a_quadruple_listed_twice_is_added_up() {
        let mut figures = Figures::of(&quad(100, 1, None), 60.0);
        figures.add(&quad(50, 2, Some(30)));
        figures.add(&quad(10, 0, Some(8)));
        assert_eq!(
            figures,
            Figures {
                count: 160,
                errors: 3,
                p50_ns: Some(15_000_000),
                p99_ns: Some(30_000_000),
                seconds: 60.0,
            }
        );
    }
}
