//! Per-quadruple figures: how many, how many failed, how long.
//!
//! A quadruple with a callee is measured on its client calls: a call failed when it got a 5xx
//! status or a transport error (the round trip returned an error, or ended without a
//! response); its duration runs from `client_start` to `client_end`. A `[svc, func, none,
//! none]` quadruple is measured on its server requests: a request failed when it answered 5xx;
//! its duration runs from `server_start` to `server_end`. Calls and requests whose end the
//! recording missed count, but neither fail nor have a duration.
//!
//! Percentiles are by nearest rank: the p-th percentile of n sorted durations is the one at
//! rank ⌈p·n/100⌉ (from 1). They are exact (a duration that was observed) for quadruples of up
//! to [`EXACT_MAX`] durations; beyond, they come from a histogram and are at most 1/128 below
//! the exact value ([`crate::report::durations`]).

use crate::rebuild::attribute::ClientCall;
use crate::rebuild::requests::Request;
use crate::report::durations::Durations;
pub use crate::report::durations::EXACT_MAX;

/// What a quadruple adds up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Calls or requests.
    pub count: u64,
    /// Those that failed.
    pub errors: u64,
    /// Median duration, ns; none when no duration was seen.
    pub p50_ns: Option<i64>,
    /// 99th percentile duration, ns; none when no duration was seen.
    pub p99_ns: Option<i64>,
}

/// Adds up calls or requests for one quadruple.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    count: u64,
    errors: u64,
    durations: Durations,
}

impl Tally {
    /// One client call.
    pub fn call(&mut self, call: &ClientCall) {
        self.add(call_failed(call), duration(call.ts_ns, call.end_ns));
    }

    /// One server request.
    pub fn request(&mut self, r: &Request) {
        self.add(request_failed(r), duration(r.start_ns, r.end_ns()));
    }

    /// Everything `other` added up.
    pub fn merge(&mut self, other: Tally) {
        self.count += other.count;
        self.errors += other.errors;
        self.durations.merge(&other.durations);
    }

    fn add(&mut self, failed: bool, duration: Option<i64>) {
        self.count += 1;
        self.errors += u64::from(failed);
        if let Some(ns) = duration {
            self.durations.add(ns);
        }
    }

    /// The count, errors and percentiles.
    pub fn summary(mut self) -> Summary {
        Summary {
            count: self.count,
            errors: self.errors,
            p50_ns: self.durations.percentile(50),
            p99_ns: self.durations.percentile(99),
        }
    }
}

/// Whether a call got a 5xx or a transport error. Go's `roundTrip` returns a response or an
/// error, never both, so an end without a status is an error even if the flag was not read.
pub fn call_failed(call: &ClientCall) -> bool {
    let ended = call.end_ns.is_some();
    call.error || call.status.is_some_and(is_5xx) || (ended && call.status.is_none())
}

/// Whether a request answered 5xx, or a gRPC request ended with a status other than OK.
pub fn request_failed(r: &Request) -> bool {
    r.failed || r.status().is_some_and(is_5xx)
}

fn is_5xx(status: i32) -> bool {
    (500..600).contains(&status)
}

/// From `start` to `end`, when the end was seen (never negative: events of one goroutine are
/// in order, but a clock read on another CPU may not be).
fn duration(start: i64, end: Option<i64>) -> Option<i64> {
    end.map(|end| end.saturating_sub(start).max(0))
}

/// The `pct`-th percentile of `values` by nearest rank; none when it is empty. The values are
/// reordered: only the one at the rank is put in its sorted place (a selection, linear where a
/// sort is not).
pub fn nearest_rank(values: &mut [i64], pct: u32) -> Option<i64> {
    let n = values.len();
    let rank = (usize::try_from(pct).ok()? * n).div_ceil(100).max(1);
    let index = rank.min(n).checked_sub(1)?;
    let (_, value, _) = values.select_nth_unstable(index);
    Some(*value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebuild::attribute::reconstruct;
    use crate::test_support::LogBuilder;

    #[test]
    fn nearest_rank_percentiles() {
        // Shuffled (a multiplier prime to 100): ranks, not positions, count.
        let mut v: Vec<i64> = (0..100).map(|i| (i * 37) % 100 + 1).collect();
        assert_eq!(nearest_rank(&mut v, 50), Some(50));
        assert_eq!(nearest_rank(&mut v, 99), Some(99));
        assert_eq!(nearest_rank(&mut v, 100), Some(100));
        assert_eq!(nearest_rank(&mut [7], 50), Some(7));
        assert_eq!(nearest_rank(&mut [7], 99), Some(7));
        // ⌈0.5·4⌉ = 2, ⌈0.99·4⌉ = 4.
        assert_eq!(nearest_rank(&mut [4, 1, 3, 2], 50), Some(2));
        assert_eq!(nearest_rank(&mut [4, 1, 3, 2], 99), Some(4));
        // ⌈0.5·3⌉ = 2.
        assert_eq!(nearest_rank(&mut [9, 1, 5], 50), Some(5));
        assert_eq!(nearest_rank(&mut [2, 1], 0), Some(1));
        assert_eq!(nearest_rank(&mut [], 50), None);
    }

    #[test]
    fn calls_fail_on_5xx_and_transport_errors() {
        let log = LogBuilder::new()
            .client_start(1, 1, "a", 1, "b:1", "/ok")
            .client_end(3, 1, "a", 1, Some(404))
            .client_start(4, 1, "a", 1, "b:1", "/bad")
            .client_end(5, 1, "a", 1, Some(503))
            .client_start(6, 1, "a", 1, "b:1", "/down")
            .client_error(16, 1, "a", 1)
            .client_start(20, 1, "a", 1, "b:1", "/lost")
            .build();
        let rec = reconstruct(&log);
        let failed: Vec<bool> = rec.calls.iter().map(call_failed).collect();
        assert_eq!(failed, [false, true, true, false]);
        let mut tally = Tally::default();
        rec.calls.iter().for_each(|c| tally.call(c));
        let ms = 1_000_000;
        assert_eq!(
            tally.summary(),
            Summary {
                count: 4,
                errors: 2,
                p50_ns: Some(2 * ms),
                p99_ns: Some(10 * ms),
            }
        );
    }

    #[test]
    fn requests_fail_on_5xx() {
        let log = LogBuilder::new()
            .server_start(1, 1, "a", 1, ":80", "/x")
            .server_end_with(2, 1, "a", 1, Some(500), None)
            .server_start(3, 1, "a", 2, ":80", "/x")
            .server_end_with(6, 1, "a", 2, Some(499), None)
            .server_start(7, 1, "a", 3, ":80", "/x")
            .build();
        let rec = reconstruct(&log);
        let failed: Vec<bool> = rec.requests.all().map(request_failed).collect();
        assert_eq!(failed, [true, false, false]);
        let mut tally = Tally::default();
        rec.requests.all().for_each(|r| tally.request(r));
        let ms = 1_000_000;
        let summary = tally.summary();
        assert_eq!((summary.count, summary.errors), (3, 1));
        assert_eq!((summary.p50_ns, summary.p99_ns), (Some(ms), Some(3 * ms)));
    }

    #[test]
    fn nothing_timed_has_no_percentiles() {
        let summary = Tally::default().summary();
        assert_eq!(summary, Summary::default());
    }
}
