//! The topology the renderers draw, and how an edge's figures are written in all of them.

/// What talks to what: a node per service (and per callee address no recording saw serve),
/// an edge per caller -> callee with its figures.
///
/// The renderers skip an edge whose caller or callee is not an index into `nodes`, rather than
/// fail: a picture with one edge missing still helps during an incident.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Topology {
    /// The services and addresses, in the order the renderers number them.
    pub nodes: Vec<Node>,
    /// Who called whom.
    pub edges: Vec<Edge>,
}

/// A service, or an address that was called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The service's name, or the `host:port` called.
    pub name: String,
    /// A recorded service (false: an address no recording saw serve, e.g. "10.0.0.7:5432").
    pub recorded: bool,
}

/// The calls of one caller to one callee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Indices into `nodes`; caller == callee happens (a service calling itself).
    pub caller: usize,
    /// As `caller`.
    pub callee: usize,
    /// How many calls.
    pub calls: u64,
    /// How many of them failed.
    pub errors: u64,
    /// 99th percentile duration of the calls, ns; none when no call's end was seen.
    pub p99_ns: Option<i64>,
}

impl Topology {
    /// The edges whose two ends are nodes, with their indices.
    pub fn drawable_edges(&self) -> impl Iterator<Item = (usize, &Edge)> {
        let nodes = self.nodes.len();
        self.edges
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.caller < nodes && e.callee < nodes)
    }
}

impl Edge {
    /// The figures in one line: `120 calls, 3 err, p99 12.5 ms`; errors only when some
    /// failed, p99 only when known.
    pub fn label(&self) -> String {
        let mut label = self.volume();
        if let Some(p99) = self.latency() {
            label.push_str(", ");
            label.push_str(&p99);
        }
        label
    }

    /// The calls and errors: `120 calls, 3 err`, or `1 call`.
    pub fn volume(&self) -> String {
        match self.failures() {
            Some(errors) => format!("{}, {errors}", self.count()),
            None => self.count(),
        }
    }

    /// The calls: `120 calls`, `1 call`.
    pub fn count(&self) -> String {
        match self.calls {
            1 => "1 call".to_owned(),
            n => format!("{n} calls"),
        }
    }

    /// The errors, when some calls failed: `3 err`.
    pub fn failures(&self) -> Option<String> {
        self.failing().then(|| format!("{} err", self.errors))
    }

    /// The p99: `p99 12.5 ms`.
    pub fn latency(&self) -> Option<String> {
        self.p99_ns.map(|ns| format!("p99 {}", duration(ns)))
    }

    /// Whether some calls failed: the renderers draw these in red.
    pub fn failing(&self) -> bool {
        self.errors > 0
    }
}

/// A duration to three significant digits, in the unit that keeps it between 1 and 1000
/// (ns, µs, ms, s), trailing zeros dropped: `850 µs`, `12.5 ms`, `3 s`.
pub fn duration(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let ns = ns.unsigned_abs() as f64;
    // A value that rounds to 1000 is written in the next unit up.
    let (value, unit) = if ns < 999.5 {
        (ns, "ns")
    } else if ns < 999.5e3 {
        (ns / 1e3, "µs")
    } else if ns < 999.5e6 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    let decimals = match value {
        v if v >= 99.95 => 0,
        v if v >= 9.995 => 1,
        _ => 2,
    };
    let digits = format!("{value:.decimals$}");
    let digits = if digits.contains('.') {
        digits.trim_end_matches('0').trim_end_matches('.')
    } else {
        &digits
    };
    format!("{sign}{digits} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(calls: u64, errors: u64, p99_ns: Option<i64>) -> Edge {
        Edge {
            caller: 0,
            callee: 1,
            calls,
            errors,
            p99_ns,
        }
    }

    #[test]
    fn labels_say_calls_errors_and_p99() {
        assert_eq!(
            edge(120, 3, Some(12_500_000)).label(),
            "120 calls, 3 err, p99 12.5 ms"
        );
        assert_eq!(edge(1, 0, None).label(), "1 call");
        assert_eq!(edge(0, 0, Some(850_000)).label(), "0 calls, p99 850 µs");
        assert!(edge(2, 1, None).failing());
        assert!(!edge(2, 0, None).failing());
    }

    #[test]
    fn durations_keep_three_digits() {
        let cases = [
            (0, "0 ns"),
            (999, "999 ns"),
            (1_000, "1 µs"),
            (12_345, "12.3 µs"),
            (1_000_000, "1 ms"),
            (1_250_000, "1.25 ms"),
            (12_500_000, "12.5 ms"),
            (99_960_000, "100 ms"),
            (999_999_999, "1 s"),
            (999_499, "999 µs"),
            (30_000_000_000, "30 s"),
            (-2_000_000, "-2 ms"),
            (i64::MIN, "-9223372037 s"),
        ];
        for (ns, text) in cases {
            assert_eq!(duration(ns), text, "{ns}");
        }
    }

    #[test]
    fn edges_with_an_end_out_of_range_are_not_drawn() {
        let node = Node {
            name: "a".into(),
            recorded: true,
        };
        let t = Topology {
            nodes: vec![node.clone(), node],
            edges: vec![
                edge(1, 0, None),
                Edge {
                    callee: 2,
                    ..edge(1, 0, None)
                },
            ],
        };
        let drawable: Vec<usize> = t.drawable_edges().map(|(i, _)| i).collect();
        assert_eq!(drawable, vec![0]);
    }
}
