//! Service quadruples `[caller, caller_func, callee, callee_func]`: what is counted, and in
//! what order quadruples are listed (the counting is [`crate::report::counter`]'s).
//!
//! Every server request yields one quadruple per client call attributed to it, or
//! `[service, func, none, none]` when it called nothing. A call attributed to no request, or
//! attributed less surely than the caller asked for, yields `[service, none, callee, func]`.
//! Funcs are routes when known, else raw paths ([`crate::report::routes`]); each quadruple
//! carries its error count and latency percentiles ([`crate::report::stats`]).

use serde::{Serialize, Serializer};

use crate::rebuild::client::ClientCall;
use crate::rebuild::requests::RequestId;

/// One quadruple, how many times it was seen, how many of those failed and how long they took
/// (see [`crate::report::stats`]). `None` is "none": no request (caller_func), or no downstream
/// call (callee, callee_func). Durations are kept in ns and written in ms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Quad {
    /// Service of the calling process.
    pub caller: String,
    /// Route (else raw path) of the request the call was made for.
    pub caller_func: Option<String>,
    /// The service called, or the `host:port` called when no recorded server served it.
    pub callee: Option<String>,
    /// Route the callee served the call under, else the raw path called.
    pub callee_func: Option<String>,
    /// How many times.
    pub count: u64,
    /// How many failed: calls with a 5xx or a transport error; for a none-callee quadruple,
    /// requests that answered 5xx.
    pub errors: u64,
    /// Median duration of the calls (of the requests, for a none-callee quadruple), ns.
    #[serde(rename = "p50_ms", serialize_with = "ms")]
    pub p50_ns: Option<i64>,
    /// 99th percentile duration, ns.
    #[serde(rename = "p99_ms", serialize_with = "ms")]
    pub p99_ns: Option<i64>,
}

impl Quad {
    /// The four names, for sorting and display.
    pub fn key(&self) -> [Option<&str>; 4] {
        [
            Some(self.caller.as_str()),
            self.caller_func.as_deref(),
            self.callee.as_deref(),
            self.callee_func.as_deref(),
        ]
    }
}

/// Nanoseconds as milliseconds.
pub fn ns_to_ms(ns: i64) -> f64 {
    // Durations of a recording are far below 2^53 ns (104 days), where f64 is exact.
    ns as f64 / 1e6
}

fn ms<S: Serializer>(ns: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match ns {
        Some(ns) => s.serialize_some(&ns_to_ms(*ns)),
        None => s.serialize_none(),
    }
}

/// How to count quadruples.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QuadOptions {
    /// Count a call as attributed only when its confidence is at least this.
    pub min_confidence: f64,
    /// Name caller_func and callee_func by raw path, not by route.
    pub raw_paths: bool,
}

impl QuadOptions {
    /// Whether `call` counts as made for a request, and which: attributed surely enough.
    pub fn request_of(&self, call: &ClientCall) -> Option<RequestId> {
        let sure = call.attribution.confidence >= self.min_confidence;
        call.attribution.request().filter(|_| sure)
    }
}

/// Count descending, then the four names ascending ("none" before any name).
pub fn sort_quads(quads: &mut [Quad]) {
    quads.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key().cmp(&b.key())));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebuild::attribute::reconstruct;
    use crate::report::counter::{count_quads, count_quads_above, count_quads_with};
    use crate::test_support::LogBuilder;

    fn q(caller: &str, cf: Option<&str>, callee: Option<&str>, ef: Option<&str>, n: u64) -> Quad {
        Quad {
            caller: caller.into(),
            caller_func: cf.map(Into::into),
            callee: callee.map(Into::into),
            callee_func: ef.map(Into::into),
            count: n,
            errors: 0,
            p50_ns: None,
            p99_ns: None,
        }
    }

    /// The names and counts only; the tests of figures set them.
    fn counted(quads: Vec<Quad>) -> Vec<Quad> {
        let strip = |q: Quad| Quad {
            errors: 0,
            p50_ns: None,
            p99_ns: None,
            ..q
        };
        quads.into_iter().map(strip).collect()
    }

    fn quads(mut b: LogBuilder) -> Vec<Quad> {
        let log = b.build();
        counted(count_quads(&log, &reconstruct(&log)))
    }

    #[test]
    fn the_demo_calling_itself() {
        let mut b = LogBuilder::new();
        b.server_start(1, 10, "http_demo", 1, "0.0.0.0:9932", "/handle")
            .client_start(2, 10, "http_demo", 1, "0.0.0.0:9932", "/echo")
            .server_start(3, 10, "http_demo", 2, "0.0.0.0:9932", "/echo")
            .server_end(4, 10, "http_demo", 2)
            .server_end(5, 10, "http_demo", 1);
        assert_eq!(
            quads(b),
            vec![
                q("http_demo", Some("/echo"), None, None, 1),
                q(
                    "http_demo",
                    Some("/handle"),
                    Some("http_demo"),
                    Some("/echo"),
                    1
                ),
            ]
        );
    }

    #[test]
    fn counts_sort_and_background_calls() {
        let mut b = LogBuilder::new();
        for i in 0..2 {
            let g = 100 + i;
            b.server_start(10 * i + 1, 10, "a", g, ":80", "/a")
                .client_start(10 * i + 2, 10, "a", g, "b.example:81", "/b")
                .client_end(10 * i + 3, 10, "a", g, Some(200))
                .client_start(10 * i + 4, 10, "a", g, "b.example:81", "/b")
                .client_end(10 * i + 5, 10, "a", g, Some(200))
                .server_end(10 * i + 6, 10, "a", g);
        }
        b.client_start(50, 10, "a", 999, "localhost:80", "/tick");
        b.server_start(60, 10, "a", 200, ":80", "/idle");
        assert_eq!(
            quads(b),
            vec![
                q("a", Some("/a"), Some("b.example:81"), Some("/b"), 4),
                q("a", None, Some("a"), Some("/tick"), 1),
                q("a", Some("/idle"), None, None, 1),
            ]
        );
    }

    #[test]
    fn calls_below_the_minimum_confidence_count_as_unattributed() {
        let mut b = LogBuilder::new();
        b.server_start(1, 10, "a", 7, ":80", "/a")
            .client_start(2, 10, "a", 7, "b:81", "/direct")
            .spawn(3, 10, "a", 7, 20)
            .spawn(4, 10, "a", 20, 21)
            .client_start(5, 10, "a", 21, "b:81", "/deep")
            .server_end(6, 10, "a", 7)
            .server_start(7, 10, "a", 8, ":80", "/only-deep")
            .spawn(8, 10, "a", 8, 30)
            .spawn(9, 10, "a", 30, 31)
            .client_start(10, 10, "a", 31, "b:81", "/deep")
            .server_end(11, 10, "a", 8);
        let log = b.build();
        let rec = reconstruct(&log);
        // The grandchildren's calls are 0.9 sure.
        assert_eq!(count_quads_above(&log, &rec, 0.9), count_quads(&log, &rec));
        assert_eq!(
            counted(count_quads_above(&log, &rec, 0.95)),
            vec![
                q("a", None, Some("b:81"), Some("/deep"), 2),
                q("a", Some("/a"), Some("b:81"), Some("/direct"), 1),
                q("a", Some("/only-deep"), None, None, 1),
            ]
        );
    }

    /// `front` serves /page twice and calls `users` for /users/1, /users/2 and /users/3 under
    /// one route; the last call fails; `users` answers one request nobody recorded calling.
    fn routed() -> LogBuilder {
        let mut b = LogBuilder::new();
        let route = Some("GET /users/{id}");
        for (i, user) in ["/users/1", "/users/2", "/users/3"].into_iter().enumerate() {
            let (t, g) = (100 * i as i64, 10 + i as i64);
            let status = if i == 2 { 502 } else { 200 };
            b.server_start(t + 1, 1, "front", g, ":80", "/page")
                .client_start(t + 2, 1, "front", g, "localhost:8080", user)
                .server_start(t + 3, 2, "users", g + 10, ":8080", user)
                .server_end_with(
                    t + 3 + 2 * (i as i64 + 1),
                    2,
                    "users",
                    g + 10,
                    Some(status),
                    route,
                )
                .client_end(t + 20 + i as i64, 1, "front", g, Some(status))
                .server_end_with(t + 30, 1, "front", g, Some(200), Some("/page"));
        }
        b.server_start(400, 2, "users", 40, ":8080", "/users/4")
            .server_end_with(407, 2, "users", 40, Some(500), route);
        b
    }

    #[test]
    fn routes_make_one_quadruple_with_its_figures() {
        let log = routed().build();
        let ms: i64 = 1_000_000;
        let quad = |cf: &str, callee: Option<&str>, ef: Option<&str>, n, errors, p50, p99| Quad {
            errors,
            p50_ns: Some(p50 * ms),
            p99_ns: Some(p99 * ms),
            ..q("x", Some(cf), callee, ef, n)
        };
        let quads = count_quads(&log, &reconstruct(&log));
        let route = "GET /users/{id}";
        assert_eq!(
            quads,
            vec![
                Quad {
                    caller: "users".into(),
                    ..quad(route, None, None, 4, 2, 4, 7)
                },
                Quad {
                    caller: "front".into(),
                    ..quad("/page", Some("users"), Some(route), 3, 1, 19, 20)
                },
            ]
        );
    }

    #[test]
    fn raw_paths_split_what_routes_join() {
        let log = routed().build();
        let rec = reconstruct(&log);
        let options = QuadOptions {
            raw_paths: true,
            ..QuadOptions::default()
        };
        let quads = counted(count_quads_with(&log, &rec, options));
        let front = |p| q("front", Some("/page"), Some("users"), Some(p), 1);
        let users = |p| q("users", Some(p), None, None, 1);
        assert_eq!(
            quads,
            vec![
                front("/users/1"),
                front("/users/2"),
                front("/users/3"),
                users("/users/1"),
                users("/users/2"),
                users("/users/3"),
                users("/users/4"),
            ]
        );
    }

    #[test]
    fn listeners_name_the_callee_of_a_server_without_an_addr() {
        let mut b = LogBuilder::new();
        // The front's server and the exporter's both have an empty http.Server.Addr.
        b.server_start(1, 10, "front", 1, "", "/a")
            .client_start(2, 10, "front", 1, "127.0.0.1:19100", "/metrics")
            .server_start(3, 20, "exporter", 5, "", "/metrics")
            .server_end(4, 20, "exporter", 5)
            .server_end(5, 10, "front", 1);
        let mut log = b.build();
        let before = count_quads(&log, &reconstruct(&log));
        assert!(before
            .iter()
            .any(|q| q.callee.as_deref() == Some("127.0.0.1:19100")));
        log.add_listener("host", 20, "exporter", "127.0.0.1:19100");
        let rec = reconstruct(&log);
        let names: Vec<_> = count_quads(&log, &rec)
            .into_iter()
            .map(|q| (q.caller_func, q.callee))
            .collect();
        assert!(
            names.contains(&(Some("/a".into()), Some("exporter".into()))),
            "{names:?}"
        );
    }

    #[test]
    fn no_events_no_quads() {
        assert!(quads(LogBuilder::new()).is_empty());
    }
}
