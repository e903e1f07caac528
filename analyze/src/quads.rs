//! Service quadruples `[caller, caller_func, callee, callee_func]`, counted.
//!
//! Every server request yields one quadruple per client call attributed to it, or
//! `[service, path, none, none]` when it called nothing. A call attributed to no request, or
//! attributed less surely than the caller asked for, yields `[service, none, callee, callee_path]`.

use std::collections::HashMap;

use serde::Serialize;

use crate::attribute::Reconstruction;
use crate::callee::CalleeNames;
use crate::events::{EventLog, Sym};

/// One quadruple and how many times it was seen. `None` is "none": no request (caller_func),
/// or no downstream call (callee, callee_func).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Quad {
    /// Service of the calling process.
    pub caller: String,
    /// Path of the request the call was made for.
    pub caller_func: Option<String>,
    /// The service called, or the `host:port` called when no recorded server served it.
    pub callee: Option<String>,
    /// Path called.
    pub callee_func: Option<String>,
    /// How many times.
    pub count: u64,
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

/// A quadruple by reference into the log, while counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    caller: Sym,
    caller_func: Option<Sym>,
    /// Index into the callee names.
    callee: Option<usize>,
    callee_func: Option<Sym>,
}

/// Counts the quadruples of a reconstruction, sorted by count (highest first), then by name
/// with "none" first.
pub fn count_quads(log: &EventLog, rec: &Reconstruction) -> Vec<Quad> {
    count_quads_above(log, rec, 0.0)
}

/// Like [`count_quads`], counting a call as attributed only when its confidence is at least
/// `min_confidence`.
pub fn count_quads_above(log: &EventLog, rec: &Reconstruction, min_confidence: f64) -> Vec<Quad> {
    let mut callees = CalleeNames::new(log, rec);
    let mut counts: HashMap<Key, u64> = HashMap::new();
    let mut called = vec![false; rec.requests.all().len()];
    for call in &rec.calls {
        let callee = Some(callees.id(call.proc, call.host));
        let sure = call.attribution.confidence >= min_confidence;
        let key = match call.attribution.request().filter(|_| sure) {
            Some(id) => {
                let Some(request) = rec.requests.get(id) else {
                    continue;
                };
                if let Some(c) = called.get_mut(id.0 as usize) {
                    *c = true;
                }
                Key {
                    caller: request.service,
                    caller_func: request.path,
                    callee,
                    callee_func: call.path,
                }
            }
            None => Key {
                caller: call.service,
                caller_func: None,
                callee,
                callee_func: call.path,
            },
        };
        *counts.entry(key).or_default() += 1;
    }
    for (request, called) in rec.requests.all().iter().zip(&called) {
        if !called {
            let key = Key {
                caller: request.service,
                caller_func: request.path,
                callee: None,
                callee_func: None,
            };
            *counts.entry(key).or_default() += 1;
        }
    }
    let string = |s: Sym| log.str(s).to_owned();
    let mut quads: Vec<Quad> = counts
        .into_iter()
        .map(|(k, count)| Quad {
            caller: string(k.caller),
            caller_func: k.caller_func.map(string),
            callee: k.callee.map(|id| callees.name(id).to_owned()),
            callee_func: k.callee_func.map(string),
            count,
        })
        .collect();
    sort_quads(&mut quads);
    quads
}

/// Count descending, then the four names ascending ("none" before any name).
pub fn sort_quads(quads: &mut [Quad]) {
    quads.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key().cmp(&b.key())));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::reconstruct;
    use crate::test_support::LogBuilder;

    fn q(caller: &str, cf: Option<&str>, callee: Option<&str>, ef: Option<&str>, n: u64) -> Quad {
        Quad {
            caller: caller.into(),
            caller_func: cf.map(Into::into),
            callee: callee.map(Into::into),
            callee_func: ef.map(Into::into),
            count: n,
        }
    }

    fn quads(mut b: LogBuilder) -> Vec<Quad> {
        let log = b.build();
        count_quads(&log, &reconstruct(&log))
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
                .client_start(10 * i + 3, 10, "a", g, "b.example:81", "/b")
                .server_end(10 * i + 4, 10, "a", g);
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
            count_quads_above(&log, &rec, 0.95),
            vec![
                q("a", None, Some("b:81"), Some("/deep"), 2),
                q("a", Some("/a"), Some("b:81"), Some("/direct"), 1),
                q("a", Some("/only-deep"), None, None, 1),
            ]
        );
    }

    #[test]
    fn no_events_no_quads() {
        assert!(quads(LogBuilder::new()).is_empty());
    }
}
