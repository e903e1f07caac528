//! Times and numbers as people read them: UTC wall-clock times, spans, counts with thousands
//! separators and durations in ms.
//!
//! Every time in the page is UTC and says so once (in the header), because the recordings may
//! come from machines in different zones and the engineer reading them from a third one.

use chrono::{DateTime, Utc};

/// Writes instants of one window: with the date only when the window spans more than one UTC
/// day, since within a day the date in the header says it.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    multi_day: bool,
}

impl Clock {
    /// A clock for instants within `window` (start, end in ns since the epoch).
    pub fn for_window(window: (i64, i64)) -> Clock {
        let day = |ns| utc_of(ns).date_naive();
        Clock {
            multi_day: day(window.0) != day(window.1),
        }
    }

    /// To the minute, e.g. `12:03` (`05-01 12:03`): chart ticks.
    pub fn minute(self, ns: i64) -> String {
        self.format(ns, "%H:%M")
    }

    /// To the millisecond, e.g. `12:03:04.123`: sample calls.
    pub fn millis(self, ns: i64) -> String {
        self.format(ns, "%H:%M:%S%.3f")
    }

    fn format(self, ns: i64, time: &str) -> String {
        let at = utc_of(ns);
        if self.multi_day {
            format!("{} {}", at.format("%m-%d"), at.format(time))
        } else {
            at.format(time).to_string()
        }
    }
}

/// An instant with its date, e.g. `2024-05-01 12:03:04`.
pub fn date_time(ns: i64) -> String {
    utc_of(ns).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The same instant as a `<time datetime="...">` value (RFC 3339).
pub fn machine_time(ns: i64) -> String {
    utc_of(ns).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn utc_of(ns: i64) -> DateTime<Utc> {
    // Every i64 of ns is a valid instant (years 1677 to 2262).
    DateTime::from_timestamp_nanos(ns)
}

/// A span of time, to the second, e.g. `45 s`, `30 min`, `2 h 5 min`, `3 d 4 h`.
pub fn span(ns: i64) -> String {
    let s = ns.max(0) / 1_000_000_000;
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) if s % 60 == 0 => format!("{m} min"),
        (0, 0, m) => format!("{m} min {} s", s % 60),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// A count with thousands separators, e.g. `12,345`.
pub fn count(n: u64) -> String {
    let digits: Vec<char> = n.to_string().chars().collect();
    let groups: Vec<String> = digits
        .rchunks(3)
        .rev()
        .map(|group| group.iter().collect())
        .collect();
    groups.join(",")
}

/// A count and what of, e.g. `1 error`, `12,345 errors`.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// A duration in ms, with about three significant digits: `0.004`, `1.25`, `30.0`, `1,234`.
pub fn ms(ns: i64) -> String {
    // Durations are far below 2^53 ns (104 days), where f64 is exact.
    let ms = ns as f64 / 1e6;
    let magnitude = ms.abs();
    if magnitude < 1.0 {
        format!("{ms:.3}")
    } else if magnitude < 10.0 {
        format!("{ms:.2}")
    } else if magnitude < 100.0 {
        format!("{ms:.1}")
    } else {
        let whole = ms.round();
        let sign = if whole < 0.0 { "-" } else { "" };
        format!("{sign}{}", count(whole.abs() as u64))
    }
}

/// A share of a whole as a percentage, e.g. `12.5%`; `0%` for none (not `0.0%`: nothing at
/// all is not a rounded small share).
pub fn percent(part: u64, whole: u64) -> String {
    if part == 0 || whole == 0 {
        return "0%".to_owned();
    }
    let p = part as f64 * 100.0 / whole as f64;
    if p > 0.0 && p < 0.1 {
        "<0.1%".to_owned()
    } else {
        format!("{p:.1}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAY_1_2024: i64 = 1_714_521_600_000_000_000;
    const MINUTE: i64 = 60_000_000_000;

    #[test]
    fn instants_are_utc() {
        let t = MAY_1_2024 + 12 * 60 * MINUTE + 3 * MINUTE + 4_123_456_789;
        assert_eq!(date_time(t), "2024-05-01 12:03:04");
        assert_eq!(machine_time(t), "2024-05-01T12:03:04Z");
        let one_day = Clock::for_window((MAY_1_2024, MAY_1_2024 + 60 * MINUTE));
        assert_eq!(one_day.minute(t), "12:03");
        assert_eq!(one_day.millis(t), "12:03:04.123");
        let two_days = Clock::for_window((MAY_1_2024, MAY_1_2024 + 25 * 60 * MINUTE));
        assert_eq!(two_days.minute(t), "05-01 12:03");
        assert_eq!(date_time(i64::MIN), "1677-09-21 00:12:43");
    }

    #[test]
    fn spans_read_naturally() {
        let s = 1_000_000_000;
        assert_eq!(span(45 * s), "45 s");
        assert_eq!(span(30 * MINUTE), "30 min");
        assert_eq!(span(90 * s), "1 min 30 s");
        assert_eq!(span(125 * MINUTE), "2 h 5 min");
        assert_eq!(span(120 * MINUTE), "2 h");
        assert_eq!(span(76 * 60 * MINUTE), "3 d 4 h");
        assert_eq!(span(-5), "0 s");
    }

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(12_345), "12,345");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(counted(1, "error", "errors"), "1 error");
        assert_eq!(counted(1_000, "error", "errors"), "1,000 errors");
        assert_eq!(ms(4_000), "0.004");
        assert_eq!(ms(1_250_000), "1.25");
        assert_eq!(ms(30_000_001), "30.0");
        assert_eq!(ms(1_234_400_000), "1,234");
        assert_eq!(percent(1, 8), "12.5%");
        assert_eq!(percent(1, 10_000), "<0.1%");
        assert_eq!(percent(0, 0), "0%");
        assert_eq!(percent(0, 7), "0%");
    }
}
