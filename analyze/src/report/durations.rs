//! The durations of one quadruple, for its percentiles: every one while they are few, a
//! log-linear histogram once they are many, so that a quadruple of a billion calls costs
//! kilobytes, not gigabytes, and two sets of durations merge (per-minute series, several
//! files, several hosts).
//!
//! Up to [`EXACT_MAX`] durations, percentiles are exact by nearest rank (always a duration that
//! was observed). Beyond, a duration `v` counts in the bucket of its top eight significant
//! bits: `v` itself below 256 ns; otherwise, with `e` the index of its highest set bit,
//! `v >> (e - 7)` (128..=255) at exponent `e`. A percentile is then the lower bound of the
//! bucket holding the nearest rank: never above the true nearest-rank value and at most 1/128
//! (0.79%) below it. The bucket is plain integer arithmetic, so SQL can compute the same one.

/// Durations kept one by one before they become a histogram: 128 KiB per quadruple.
pub const EXACT_MAX: usize = 1 << 14;

/// Values below this are their own bucket.
const LINEAR: u64 = 256;
/// Significant bits kept above [`LINEAR`].
const BITS: u32 = 8;

/// Durations (ns, never negative) of one quadruple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Durations {
    /// Every duration, in the order seen.
    Exact(Vec<i64>),
    /// Counts per bucket (see the module's doc), indexed by [`bucket`].
    Histogram { counts: Vec<u64>, total: u64 },
}

impl Default for Durations {
    fn default() -> Self {
        Durations::Exact(Vec::new())
    }
}

/// The bucket of `v`: its index and its lower bound.
pub fn bucket(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // ≥ BITS
    let top = v >> (e - (BITS - 1)); // 128..=255
    LINEAR as usize + (e - BITS) as usize * 128 + (top - 128) as usize
}

/// The smallest duration in bucket `i`.
pub fn bucket_floor(i: usize) -> u64 {
    let i = i as u64;
    if i < LINEAR {
        return i;
    }
    let e = (i - LINEAR) / 128 + u64::from(BITS);
    let top = (i - LINEAR) % 128 + 128;
    top << (e - u64::from(BITS - 1))
}

impl Durations {
    /// How many durations.
    pub fn len(&self) -> u64 {
        match self {
            Durations::Exact(v) => v.len() as u64,
            Durations::Histogram { total, .. } => *total,
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One more duration.
    pub fn add(&mut self, ns: i64) {
        match self {
            Durations::Exact(v) if v.len() < EXACT_MAX => v.push(ns),
            Durations::Exact(_) => {
                self.become_histogram();
                self.add(ns);
            }
            Durations::Histogram { counts, total } => {
                let i = bucket(ns.max(0) as u64);
                if counts.len() <= i {
                    counts.resize(i + 1, 0);
                }
                counts[i] += 1;
                *total += 1;
            }
        }
    }

    /// Adds every duration of `other`.
    pub fn merge(&mut self, other: &Durations) {
        match other {
            Durations::Exact(v) => v.iter().for_each(|&ns| self.add(ns)),
            Durations::Histogram { counts, total } => {
                self.become_histogram();
                if let Durations::Histogram {
                    counts: mine,
                    total: my_total,
                } = self
                {
                    if mine.len() < counts.len() {
                        mine.resize(counts.len(), 0);
                    }
                    mine.iter_mut().zip(counts).for_each(|(m, c)| *m += c);
                    *my_total += total;
                }
            }
        }
    }

    fn become_histogram(&mut self) {
        if let Durations::Exact(v) = self {
            let values = std::mem::take(v);
            *self = Durations::Histogram {
                counts: Vec::new(),
                total: 0,
            };
            values.into_iter().for_each(|ns| self.add(ns));
        }
    }

    /// The `pct`-th percentile by nearest rank (see the module's doc); none when empty. Exact
    /// durations are reordered (a selection, linear, where a sort is not).
    pub fn percentile(&mut self, pct: u32) -> Option<i64> {
        let n = self.len();
        let rank = (u64::from(pct) * n).div_ceil(100).max(1).min(n);
        let index = rank.checked_sub(1)?;
        match self {
            Durations::Exact(v) => {
                let (_, value, _) = v.select_nth_unstable(index as usize);
                Some(*value)
            }
            Durations::Histogram { counts, .. } => {
                let mut seen = 0;
                counts.iter().enumerate().find_map(|(i, &c)| {
                    seen += c;
                    (seen > index).then(|| bucket_floor(i) as i64)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_floors_are_their_smallest_value() {
        let mut last = 0;
        for v in (0u64..70_000).chain([1 << 40, (1 << 40) + 12345, u64::MAX >> 1]) {
            let b = bucket(v);
            assert!(b >= last || v > 70_000, "{v}");
            last = b;
            let floor = bucket_floor(b);
            assert!(floor <= v && bucket(floor) == b, "{v}: floor {floor}");
            // The next bucket starts above v.
            assert!(bucket_floor(b + 1) > v, "{v}");
            // Within 1/128 below.
            assert!((v - floor) * 128 <= v, "{v}: floor {floor}");
        }
        assert_eq!((bucket(255), bucket(256), bucket(257)), (255, 256, 256));
        assert_eq!(bucket_floor(256), 256);
    }

    #[test]
    fn few_durations_are_exact() {
        let mut d = Durations::default();
        (0..100).map(|i| (i * 37) % 100 + 1).for_each(|v| d.add(v));
        assert_eq!((d.percentile(50), d.percentile(99)), (Some(50), Some(99)));
        assert_eq!(Durations::default().percentile(50), None);
    }

    /// Past [`EXACT_MAX`], each percentile is at most 1/128 below the exact one, never above.
    #[test]
    fn many_durations_are_within_the_bound() {
        let mut d = Durations::default();
        let mut exact = Vec::new();
        // A spread of latencies from 1 µs to ~2 s (a deterministic pseudo-random walk).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..(3 * EXACT_MAX) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = 1_000 + (x % 2_000_000_000) as i64 / (1 + (x >> 60) as i64);
            d.add(v);
            exact.push(v);
        }
        assert!(matches!(d, Durations::Histogram { .. }));
        for pct in [1, 50, 90, 99, 100] {
            let want = crate::report::stats::nearest_rank(&mut exact, pct).expect("some") as f64;
            let got = d.percentile(pct).expect("some") as f64;
            assert!(
                got <= want && got >= want * (1.0 - 1.0 / 128.0),
                "p{pct}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn merging_equals_adding_all() {
        let (mut a, mut b, mut all) = Default::default();
        for i in 0..(EXACT_MAX as i64 + 500) {
            let v = i * 7919 % 1_000_003;
            if i % 3 == 0 {
                Durations::add(&mut a, v)
            } else {
                Durations::add(&mut b, v)
            }
            Durations::add(&mut all, v);
        }
        let mut merged: Durations = a.clone();
        merged.merge(&b);
        assert_eq!(merged.len(), all.len());
        for pct in [50, 99] {
            assert_eq!(merged.percentile(pct), all.percentile(pct));
        }
        let mut small = Durations::default();
        small.add(5);
        small.merge(&Durations::default());
        assert_eq!(small, Durations::Exact(vec![5]));
    }
}
