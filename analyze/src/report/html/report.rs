//! What a report shows, as its caller gathers it: the input of [`crate::report::html::render`].
//!
//! Plain data with no behaviour of its own, so that whoever gathers it (`analyze report`) and
//! the parts that draw it depend on this file and not on each other.

use crate::report::quads::Quad;

/// Everything one HTML report shows. Strings from a recording may be hostile; the renderer
/// escapes them all, except [`Report::topology_svg`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// The page's heading and title, e.g. "quadtrace report: 3 recordings".
    pub title: String,
    /// One line per recording (file, host, time range), shown as given.
    pub sources: Vec<String>,
    /// The analysed window, wall-clock ns since the Unix epoch (UTC): start, end.
    pub window: (i64, i64),
    /// An `<svg>` element made by quadtrace itself: trusted, inserted as is.
    pub topology_svg: String,
    /// The quadruples, in the order the table first shows them.
    pub quads: Vec<Quad>,
    /// One per caller -> callee edge of the topology.
    pub edges: Vec<EdgeReport>,
    /// Things that limit what the report can be trusted for (lost events, requests begun
    /// before the recording, ...).
    pub warnings: Vec<String>,
}

/// One caller -> callee edge of the topology.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeReport {
    /// The calling service.
    pub caller: String,
    /// The service (or `host:port`) called.
    pub callee: String,
    /// A per-minute series over the window, in time order; minutes may be missing.
    pub minutes: Vec<Minute>,
    /// Calls by evidence kind (same_goroutine, spawned, context, channel, link, none).
    pub evidence: Vec<(String, u64)>,
    /// A few sample calls, to explain a surprising edge.
    pub samples: Vec<Sample>,
}

/// One minute of an edge's traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Minute {
    /// When the minute starts, wall-clock ns since the Unix epoch.
    pub start_ns: i64,
    /// Calls begun in the minute.
    pub calls: u64,
    /// Of those, how many failed.
    pub errors: u64,
    /// 99th percentile duration of those that ended, ns.
    pub p99_ns: Option<i64>,
}

/// One call of an edge, shown as an example.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// When the call began, wall-clock ns since the Unix epoch.
    pub ts_ns: i64,
    /// The route (else path) of the request the call was made for; none outside requests.
    pub caller_func: Option<String>,
    /// The route (else path) called.
    pub callee_func: Option<String>,
    /// The evidence the call was attributed by.
    pub attribution: String,
    /// How sure the attribution is, 0 to 1.
    pub confidence: f64,
    /// How long the call took, ns; none when its end was not seen.
    pub duration_ns: Option<i64>,
    /// The HTTP status; none on a transport error or an unseen end.
    pub status: Option<i32>,
}

impl EdgeReport {
    /// Calls over the whole window.
    pub fn calls(&self) -> u64 {
        self.minutes.iter().map(|m| m.calls).sum()
    }

    /// Failed calls over the whole window.
    pub fn errors(&self) -> u64 {
        self.minutes.iter().map(|m| m.errors).sum()
    }

    /// The worst minute's p99, ns.
    pub fn worst_p99_ns(&self) -> Option<i64> {
        self.minutes.iter().filter_map(|m| m.p99_ns).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_totals_add_the_minutes() {
        let minute = |calls, errors, p99_ns| Minute {
            start_ns: 0,
            calls,
            errors,
            p99_ns,
        };
        let edge = EdgeReport {
            minutes: vec![
                minute(10, 1, Some(5)),
                minute(7, 0, None),
                minute(3, 2, Some(9)),
            ],
            ..EdgeReport::default()
        };
        assert_eq!(edge.calls(), 20);
        assert_eq!(edge.errors(), 3);
        assert_eq!(edge.worst_p99_ns(), Some(9));
        assert_eq!(EdgeReport::default().worst_p99_ns(), None);
    }
}
