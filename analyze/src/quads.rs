//! Service quadruples `[caller, caller_func, callee, callee_func]`, counted.
//!
//! Every server request yields one quadruple per client call attributed to it, or
//! `[service, path, none, none]` when it called nothing. A call attributed to no request yields
//! `[service, none, callee, callee_path]`.

use std::collections::HashMap;

use serde::Serialize;

use crate::attribute::Reconstruction;
use crate::callee::CalleeNamer;
use crate::events::{EventLog, ProcId, Sym};

/// Callee name for a client call whose host was not recorded.
pub const UNKNOWN_HOST: &str = "?";

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

/// Callee names, computed once per (calling process, host) pair.
struct Callees<'a> {
    log: &'a EventLog,
    namer: CalleeNamer,
    names: Vec<String>,
    ids: HashMap<(ProcId, Option<Sym>), usize>,
    by_name: HashMap<String, usize>,
}

impl<'a> Callees<'a> {
    fn new(log: &'a EventLog, rec: &Reconstruction) -> Self {
        let mut namer = CalleeNamer::new();
        for r in rec.requests.all() {
            if let Some(addr) = r.listen_addr {
                namer.add_server(machine(log, r.proc), log.str(addr), log.str(r.service));
            }
        }
        Callees {
            log,
            namer,
            names: Vec::new(),
            ids: HashMap::new(),
            by_name: HashMap::new(),
        }
    }

    fn id(&mut self, proc: ProcId, host: Option<Sym>) -> usize {
        if let Some(&id) = self.ids.get(&(proc, host)) {
            return id;
        }
        let name = match host {
            Some(h) => self.namer.name(machine(self.log, proc), self.log.str(h)),
            None => UNKNOWN_HOST.to_owned(),
        };
        let next = self.names.len();
        let id = *self.by_name.entry(name.clone()).or_insert(next);
        if id == next {
            self.names.push(name);
        }
        self.ids.insert((proc, host), id);
        id
    }

    fn name(&self, id: usize) -> Option<String> {
        self.names.get(id).cloned()
    }
}

fn machine(log: &EventLog, proc: ProcId) -> &str {
    log.process_info(proc).map_or("", |p| p.hostname.as_str())
}

/// Counts the quadruples of a reconstruction, sorted by count (highest first), then by name
/// with "none" first.
pub fn count_quads(log: &EventLog, rec: &Reconstruction) -> Vec<Quad> {
    let mut callees = Callees::new(log, rec);
    let mut counts: HashMap<Key, u64> = HashMap::new();
    let mut called = vec![false; rec.requests.all().len()];
    for call in &rec.calls {
        let callee = Some(callees.id(call.proc, call.host));
        let key = match call.attribution.request() {
            Some(id) => {
                let Some(request) = rec.requests.get(id) else {
                    continue;
                };
                if let Some(c) = called.get_mut(id.0) {
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
            callee: k.callee.and_then(|id| callees.name(id)),
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
    use crate::events::test_support::LogBuilder;

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
    fn no_events_no_quads() {
        assert!(quads(LogBuilder::new()).is_empty());
    }
}
