//! The span of time a command looks at (`--since T`, `--until T`): a request or call counts when
//! it starts inside it.
//!
//! T is wall-clock time (RFC 3339, `2026-12-03T14:02:00Z`, fractions and offsets allowed) or an
//! offset from the start of the recordings (`+30s`, `+2m`, `+1h30m`). Events carry the
//! monotonic time of their host; each file's metadata says the wall-clock time of its zero
//! (`quadtrace.boot_wall_ns`), so that recordings from several hosts are placed on one
//! timeline, each by its own clock.

use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};

/// One end of the span, as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Wall-clock time, ns since the Unix epoch.
    At(i64),
    /// This long after the earliest start of the recordings, ns.
    After(i64),
}

impl FromStr for Bound {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(offset) = s.strip_prefix('+') {
            let d = humantime::parse_duration(offset)
                .map_err(|e| format!("{s:?} is not an offset like +30s or +2m ({e})"))?;
            let ns = i64::try_from(d.as_nanos()).map_err(|_| format!("{s:?} is too long"))?;
            return Ok(Bound::After(ns));
        }
        let t = DateTime::parse_from_rfc3339(s).map_err(|e| {
            format!("{s:?} is neither RFC 3339 time (2026-12-03T14:02:00Z) nor an offset like +30s ({e})")
        })?;
        t.timestamp_nanos_opt()
            .map(Bound::At)
            .ok_or_else(|| format!("{s:?} is out of range"))
    }
}

/// `--since` and `--until` as given (either may be absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub since: Option<Bound>,
    pub until: Option<Bound>,
}

impl Span {
    /// Whether either end was given.
    pub fn is_set(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// The span in wall-clock ns, `[since, until)`, given the earliest start of the recordings
    /// (needed only for offsets).
    pub(crate) fn resolve(&self, first_start: Option<i64>) -> Result<Period, String> {
        let at = |b: Option<Bound>, open: i64| {
            match b {
            None => Ok(open),
            Some(Bound::At(ns)) => Ok(ns),
            Some(Bound::After(ns)) => first_start
                .map(|s| s.saturating_add(ns))
                .ok_or_else(|| "no recording says when it began, so an offset like +30s has nothing to count from".to_owned()),
        }
        };
        let window = Period {
            since: at(self.since, i64::MIN)?,
            until: at(self.until, i64::MAX)?,
        };
        if window.since >= window.until {
            return Err(format!(
                "--since ({}) is not before --until ({})",
                wall(window.since),
                wall(window.until)
            ));
        }
        Ok(window)
    }
}

/// A resolved span: wall-clock ns, `since` included, `until` not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub since: i64,
    pub until: i64,
}

impl Period {
    /// Everything.
    pub const ALL: Period = Period {
        since: i64::MIN,
        until: i64::MAX,
    };

    /// Whether wall-clock time `ns` is inside.
    pub fn contains(&self, ns: i64) -> bool {
        self.since <= ns && ns < self.until
    }
}

/// Wall-clock ns as RFC 3339 in UTC, to the microsecond (`-` for times beyond chrono's range).
pub fn wall(ns: i64) -> String {
    match ns {
        i64::MIN => "the beginning".to_owned(),
        i64::MAX => "the end".to_owned(),
        _ => DateTime::<Utc>::from_timestamp_nanos(ns).to_rfc3339_opts(SecondsFormat::Micros, true),
    }
}

/// Which wall clock each process's monotonic times are on: the zero of the recording that
/// numbered it, by the first process number of each recording, in reading order.
#[derive(Debug, Default)]
pub(crate) struct Clocks {
    zeros: Vec<(usize, Option<i64>)>,
}

impl Clocks {
    /// A recording whose processes are numbered from `first_proc` on has its zero at
    /// `boot_wall_ns` (none: the file does not say).
    pub(crate) fn recording(&mut self, first_proc: usize, boot_wall_ns: Option<i64>) {
        self.zeros.push((first_proc, boot_wall_ns));
    }

    /// The wall-clock time of `ts_ns` on process `proc`'s host.
    pub(crate) fn wall(&self, proc: usize, ts_ns: i64) -> Option<i64> {
        // Processes are numbered in reading order; one seen again in a later segment of its
        // host keeps its first number, and so its first recording's clock (the same host's).
        let i = self.zeros.partition_point(|(first, _)| *first <= proc);
        let zero = self.zeros.get(i.checked_sub(1)?)?.1?;
        Some(zero.saturating_add(ts_ns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_parse_as_wall_time_or_offsets() {
        assert_eq!(
            "2026-12-03T14:02:00Z".parse(),
            Ok(Bound::At(1_796_306_520_000_000_000))
        );
        assert_eq!(
            "2026-12-03T15:02:00.5+01:00".parse(),
            Ok(Bound::At(1_796_306_520_500_000_000))
        );
        assert_eq!("+30s".parse(), Ok(Bound::After(30_000_000_000)));
        assert_eq!("+2m".parse(), Ok(Bound::After(120_000_000_000)));
        assert_eq!("+1h30m".parse(), Ok(Bound::After(5_400_000_000_000)));
        for bad in ["14:02", "yesterday", "+", "+3x", ""] {
            let err = bad.parse::<Bound>().expect_err(bad);
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn spans_resolve_from_the_first_start() {
        let span = Span {
            since: Some(Bound::After(10)),
            until: Some(Bound::At(1_000)),
        };
        assert_eq!(
            span.resolve(Some(100)),
            Ok(Period {
                since: 110,
                until: 1_000
            })
        );
        assert!(span.resolve(None).is_err());
        assert!(span.resolve(Some(995)).is_err(), "since after until");
        assert_eq!(Span::default().resolve(None), Ok(Period::ALL));
        let w = Period { since: 5, until: 7 };
        assert!(!w.contains(4) && w.contains(5) && w.contains(6) && !w.contains(7));
    }

    #[test]
    fn each_process_is_on_its_recording_s_clock() {
        let mut clocks = Clocks::default();
        clocks.recording(0, Some(1_000));
        clocks.recording(3, None);
        clocks.recording(5, Some(50_000));
        assert_eq!(clocks.wall(0, 7), Some(1_007));
        assert_eq!(clocks.wall(2, 7), Some(1_007));
        assert_eq!(clocks.wall(4, 7), None);
        assert_eq!(clocks.wall(9, 7), Some(50_007));
    }
}
