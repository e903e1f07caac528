//! Attribution: which server request each client call was made for.
//!
//! One pass over the time-ordered events keeps the requests open on every goroutine and the
//! spawn tree, and judges each `client_start` the moment it happens, from the strongest
//! evidence to the weakest (see DESIGN.md). Context and channel evidence slot in as further
//! [`Attribution`] variants, tried between [`Attribution::Spawned`] and [`Attribution::None`].

use quadtrace_schema::EventKind;

use crate::events::{Event, EventLog, ProcId, Sym};
use crate::lineage::Lineage;
use crate::requests::{Request, RequestId, Requests};

/// Why a client call belongs to a request, or that nothing says it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribution {
    /// The call ran on the goroutine serving the request, while it was open.
    SameGoroutine {
        /// The innermost request open on that goroutine.
        request: RequestId,
    },
    /// The calling goroutine descends, through `depth` spawns, from a goroutine that was
    /// serving the request when it spawned.
    Spawned {
        /// The request the ancestor was serving.
        request: RequestId,
        /// Spawn links between the caller and that ancestor (1 = its parent).
        depth: u8,
        /// Time from the calling goroutine's spawn to the call, ns.
        age_ns: i64,
    },
    /// Nothing links the call to a request: a background job, a ticker, a scrape loop.
    None,
}

impl Attribution {
    /// The request the call is attributed to.
    pub fn request(&self) -> Option<RequestId> {
        match *self {
            Attribution::SameGoroutine { request } | Attribution::Spawned { request, .. } => {
                Some(request)
            }
            Attribution::None => None,
        }
    }

    /// How sure the attribution is, from 0 (no evidence) to 1 (certain).
    ///
    /// Same goroutine is certain. Each spawn link leaves room for a goroutine that outlived its
    /// request's purpose (a pool started on demand), so confidence drops with depth.
    pub fn confidence(&self) -> f32 {
        match *self {
            Attribution::SameGoroutine { .. } => 1.0,
            Attribution::Spawned { depth, .. } => {
                (0.95 - 0.05 * f32::from(depth.saturating_sub(1))).max(0.5)
            }
            Attribution::None => 0.0,
        }
    }

    /// A short name for the kind of evidence, for reports.
    pub fn evidence(&self) -> &'static str {
        match self {
            Attribution::SameGoroutine { .. } => "same_goroutine",
            Attribution::Spawned { .. } => "spawned",
            Attribution::None => "none",
        }
    }
}

/// One client call (`client_start`) and its attribution.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientCall {
    /// The calling process.
    pub proc: ProcId,
    /// Its service name.
    pub service: Sym,
    /// The calling goroutine.
    pub goid: i64,
    /// When the call started, ns.
    pub ts_ns: i64,
    /// The URL's `host[:port]`.
    pub host: Option<Sym>,
    /// The URL's path.
    pub path: Option<Sym>,
    /// The request it was made for.
    pub attribution: Attribution,
}

/// The requests and calls rebuilt from an event log.
#[derive(Debug, Default)]
pub struct Reconstruction {
    /// Every server request.
    pub requests: Requests,
    /// Every client call, in time order.
    pub calls: Vec<ClientCall>,
}

/// Rebuilds requests and attributes every client call, in one pass over `log`.
pub fn reconstruct(log: &EventLog) -> Reconstruction {
    let mut requests = Requests::new();
    let mut lineage = Lineage::new();
    let mut calls = Vec::new();
    for e in log.events() {
        match e.kind {
            EventKind::ServerStart => {
                requests.start(Request {
                    proc: e.proc,
                    service: e.service,
                    goid: e.goid,
                    path: e.path,
                    listen_addr: e.listen_addr,
                    start_ns: e.ts_ns,
                    end_ns: None,
                });
            }
            EventKind::ServerEnd => {
                requests.end(e.proc, e.goid, e.ts_ns);
            }
            EventKind::ClientStart => calls.push(ClientCall {
                proc: e.proc,
                service: e.service,
                goid: e.goid,
                ts_ns: e.ts_ns,
                host: e.host,
                path: e.path,
                attribution: attribute(e, &requests, &lineage),
            }),
            // The end of a round trip says nothing about whom it was for.
            EventKind::ClientEnd => {}
            EventKind::Spawn => {
                // A spawn without its parent cannot link anything; it is skipped.
                if let Some(parent) = e.parent_goid {
                    let open = requests.innermost(e.proc, parent);
                    lineage.spawn(e.proc, parent, e.goid, e.ts_ns, open);
                }
            }
        }
    }
    Reconstruction { requests, calls }
}

/// The strongest evidence for a `client_start`, given the state just before it.
fn attribute(call: &Event, requests: &Requests, lineage: &Lineage) -> Attribution {
    if let Some(request) = requests.innermost(call.proc, call.goid) {
        return Attribution::SameGoroutine { request };
    }
    if let Some(inherited) = lineage.inherited(call.proc, call.goid, call.ts_ns) {
        return Attribution::Spawned {
            request: inherited.request,
            depth: inherited.depth,
            age_ns: inherited.age_ns,
        };
    }
    Attribution::None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::test_support::LogBuilder;
    use crate::lineage::MAX_SPAWN_AGE_NS;

    const A: &str = "svc";

    /// (request path or "-", evidence, depth) for each call, in order.
    fn summary(log: &EventLog) -> Vec<(String, &'static str, u8)> {
        let rec = reconstruct(log);
        rec.calls
            .iter()
            .map(|c| {
                let path = c
                    .attribution
                    .request()
                    .and_then(|r| rec.requests.get(r))
                    .and_then(|r| r.path)
                    .map_or("-".to_string(), |p| log.str(p).to_string());
                let depth = match c.attribution {
                    Attribution::Spawned { depth, .. } => depth,
                    _ => 0,
                };
                (path, c.attribution.evidence(), depth)
            })
            .collect()
    }

    fn s(path: &str, ev: &'static str, depth: u8) -> (String, &'static str, u8) {
        (path.to_string(), ev, depth)
    }

    #[test]
    fn same_goroutine() {
        let log = LogBuilder::new()
            .server_start(1, 10, A, 7, ":80", "/a")
            .client_start(2, 10, A, 7, "b:80", "/b")
            .server_end(3, 10, A, 7)
            .client_start(4, 10, A, 7, "b:80", "/late")
            .build();
        assert_eq!(
            summary(&log),
            vec![s("/a", "same_goroutine", 0), s("-", "none", 0)]
        );
    }

    #[test]
    fn other_process_same_goid_is_not_the_same_goroutine() {
        let log = LogBuilder::new()
            .server_start(1, 10, A, 7, ":80", "/a")
            .client_start(2, 11, "other", 7, "b:80", "/b")
            .build();
        assert_eq!(summary(&log), vec![s("-", "none", 0)]);
    }

    #[test]
    fn spawned_two_levels_deep() {
        let log = LogBuilder::new()
            .server_start(1, 10, A, 7, ":80", "/a")
            .spawn(2, 10, A, 7, 20)
            .server_end(3, 10, A, 7)
            .spawn(4, 10, A, 20, 21)
            .client_start(5, 10, A, 21, "b:80", "/b")
            .client_start(6, 10, A, 20, "c:80", "/c")
            .build();
        assert_eq!(
            summary(&log),
            vec![s("/a", "spawned", 2), s("/a", "spawned", 1)]
        );
    }

    #[test]
    fn spawned_too_long_before_the_call_is_none() {
        let age_ms = MAX_SPAWN_AGE_NS / 1_000_000;
        let log = LogBuilder::new()
            .server_start(1, 10, A, 7, ":80", "/a")
            .spawn(2, 10, A, 7, 20)
            .server_end(3, 10, A, 7)
            .client_start(2 + age_ms, 10, A, 20, "b:80", "/in-time")
            .client_start(3 + age_ms, 10, A, 20, "b:80", "/too-late")
            .build();
        assert_eq!(
            summary(&log),
            vec![s("/a", "spawned", 1), s("-", "none", 0)]
        );
    }

    #[test]
    fn spawned_outside_any_request_is_none() {
        let log = LogBuilder::new()
            .spawn(1, 10, A, 1, 20)
            .server_start(2, 10, A, 1, ":80", "/a")
            .client_start(3, 10, A, 20, "b:80", "/b")
            .build();
        assert_eq!(summary(&log), vec![s("-", "none", 0)]);
    }

    #[test]
    fn nested_requests_on_one_goroutine_use_the_innermost() {
        let log = LogBuilder::new()
            .server_start(1, 10, A, 7, ":80", "/outer")
            .server_start(2, 10, A, 7, ":80", "/inner")
            .client_start(3, 10, A, 7, "b:80", "/x")
            .spawn(4, 10, A, 7, 30)
            .server_end(5, 10, A, 7)
            .client_start(6, 10, A, 7, "b:80", "/y")
            .client_start(7, 10, A, 30, "b:80", "/z")
            .server_end(8, 10, A, 7)
            .build();
        assert_eq!(
            summary(&log),
            vec![
                s("/inner", "same_goroutine", 0),
                s("/outer", "same_goroutine", 0),
                s("/inner", "spawned", 1),
            ]
        );
    }

    #[test]
    fn unmatched_end_at_file_start_is_ignored() {
        let log = LogBuilder::new()
            .server_end(1, 10, A, 7)
            .client_start(2, 10, A, 7, "b:80", "/b")
            .server_start(3, 10, A, 7, ":80", "/a")
            .client_start(4, 10, A, 7, "b:80", "/c")
            .build();
        let rec = reconstruct(&log);
        assert_eq!(rec.requests.unmatched_ends(), 1);
        assert_eq!(
            summary(&log),
            vec![s("-", "none", 0), s("/a", "same_goroutine", 0)]
        );
    }

    #[test]
    fn confidence_orders_the_evidence() {
        let same = Attribution::SameGoroutine {
            request: RequestId(0),
        };
        let spawned = |depth| Attribution::Spawned {
            request: RequestId(0),
            depth,
            age_ns: 0,
        };
        assert!(same.confidence() > spawned(1).confidence());
        assert!(spawned(1).confidence() > spawned(2).confidence());
        assert!(spawned(8).confidence() > Attribution::None.confidence());
    }
}
