//! Counting quadruples as calls and requests are done with, so that a recording's calls and
//! requests need not all be held until the end ([`crate::report::quads`] says what is
//! counted): the reconstruction's pass hands them over through its `Counter` trait. A
//! reconstruction kept whole is counted at once the same way ([`count_quads`]).
//!
//! What is known when a call is counted is kept as it is; what only the whole recording says
//! is worked out once, at the end: routes learned from every request (a call's `callee_func`,
//! an unended request's func) and listeners (a call's callee, named by the address it dialled
//! at its time). Calls to one address are counted apart per *epoch*, a span of time in which
//! no listener began or stopped, so that each such group is named by one of its times exactly
//! as each of its calls would be. Counted values stay small: symbols and numbers.

use crate::model::events::{EventLog, IdMap, IdSet, ProcId, Sym};
use crate::rebuild::attribute::Counter;
use crate::rebuild::attribute::Reconstruction;
use crate::rebuild::client::ClientCall;
use crate::rebuild::requests::{Request, RequestId, Requests};
use crate::rebuild::sockets::Sockets;
use crate::report::callee::{CalleeNames, LinkSummary};
use crate::report::quads::{sort_quads, Quad, QuadOptions};
use crate::report::routes::{Funcs, RouteVotes};
use crate::report::stats::{Summary, Tally};

/// The status `record` gives an HTTP/1 request an h2c server took over: its stream 1 serves
/// the same request again, and counting both would count it twice.
const SWITCHING_PROTOCOLS: i32 = 101;

/// A func as far as it is known when counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Func {
    /// Known: a route or raw path, or none.
    Known(Option<Sym>),
    /// A request whose end was not recorded: the route its service served the path under
    /// (see [`crate::report::routes::Funcs::unended`]).
    Unended(Sym, Option<Sym>, Option<Sym>),
}

/// The callee of a counted call, as far as it is known when counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Callee {
    /// Linked to the request it caused: that request's service and func.
    Linked(Sym, Func),
    /// Named at the end by the address dialled from `proc` during epoch `epoch`, and by the
    /// route the callee served `path` under.
    Dialled {
        proc: ProcId,
        host: Option<Sym>,
        method: Option<Sym>,
        path: Option<Sym>,
        epoch: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CallKey {
    caller: Sym,
    /// `None`: made for no request.
    caller_func: Option<Func>,
    callee: Callee,
}

/// A group of calls: their figures, and the first one's time (which names a dialled callee).
#[derive(Debug, Default)]
struct Calls {
    tally: Tally,
    first_ns: i64,
    count: u64,
}

/// A quadruple named: caller, caller_func, callee, callee_func.
type Named = (Sym, Option<Sym>, Option<String>, Option<Sym>);

/// The figures of every call from one service to one callee, whatever the funcs: an edge of
/// the topology.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EdgeFigures {
    pub caller: String,
    pub callee: String,
    pub count: u64,
    pub errors: u64,
    /// Exact as a quadruple's (the edge's durations merged, not its quadruples' p99s).
    pub p99_ns: Option<i64>,
}

/// What counting gives at the end.
pub(crate) struct Finished {
    pub(crate) quads: Vec<Quad>,
    pub(crate) edges: Vec<EdgeFigures>,
    pub(crate) links: Option<LinkSummary>,
    /// The routes servers served their paths under, learned from every request.
    pub(crate) funcs: Funcs,
    /// The servers' addresses (for [`CalleeNames::from_parts`]).
    pub(crate) servers: IdSet<(ProcId, Sym, Sym)>,
}

/// Quadruples counted so far.
#[derive(Debug, Default)]
pub struct QuadCounter {
    options: QuadOptions,
    calls: IdMap<CallKey, Calls>,
    requests: IdMap<(Sym, Func), Tally>,
    votes: RouteVotes,
    /// Every server address requests named, with their process and service.
    servers: IdSet<(ProcId, Sym, Sym)>,
    /// The last one added: a process's requests nearly all name the same.
    last_server: Option<(ProcId, Sym, Sym)>,
    linked: u64,
}

impl QuadCounter {
    /// Counting as `options` say.
    pub fn new(options: QuadOptions) -> Self {
        QuadCounter {
            options,
            ..Self::default()
        }
    }

    /// Every server address requests named so far, with their process and service.
    pub(crate) fn servers(&self) -> &IdSet<(ProcId, Sym, Sym)> {
        &self.servers
    }

    /// The func of request `r` as far as it is known.
    fn func(&self, r: &Request) -> Func {
        if self.options.raw_paths {
            Func::Known(r.path)
        } else if r.route.is_some() || r.end_ns().is_some() {
            Func::Known(r.route.or(r.path))
        } else {
            Func::Unended(r.service, r.method, r.path)
        }
    }

    /// Whether `call` counts as made for a request, and which: attributed surely enough.
    pub fn request_of(&self, call: &ClientCall) -> Option<RequestId> {
        self.options.request_of(call)
    }

    /// One call, done with: its own request and the request it caused (when linked) are in
    /// `requests` if they are still kept, and ended unless the recording stopped first.
    /// `epoch` is its start's (see the module's doc). A call made for a request no longer
    /// kept counts as made for none (see `attribute::retire`). Returns the request it was
    /// made for, which the caller must remember as called (see [`QuadCounter::request`]),
    /// also when it is not counted (`counted` false: it started outside the span looked at).
    pub fn call(
        &mut self,
        call: &ClientCall,
        requests: &Requests,
        epoch: i64,
        counted: bool,
    ) -> Option<RequestId> {
        let request = self
            .request_of(call)
            .and_then(|r| Some((r, requests.get(r)?)));
        if !counted {
            return request.map(|(r, _)| r);
        }
        let (caller, caller_func) = match request {
            Some((_, request)) => (request.service, Some(self.func(request))),
            None => (call.service, None),
        };
        let callee = match call.link.and_then(|r| requests.get(r)) {
            Some(linked) => {
                self.linked += 1;
                Callee::Linked(linked.service, self.func(linked))
            }
            None => Callee::Dialled {
                proc: call.proc,
                host: call.host,
                method: call.method,
                path: call.path,
                epoch,
            },
        };
        let key = CallKey {
            caller,
            caller_func,
            callee,
        };
        let calls = self.calls.entry(key).or_insert_with(|| Calls {
            first_ns: call.ts_ns,
            ..Calls::default()
        });
        calls.first_ns = calls.first_ns.min(call.ts_ns);
        calls.count += 1;
        calls.tally.call(call);
        request.map(|(r, _)| r)
    }

    /// One request, done with: every call made for it was given before, and `called` says
    /// whether one was. What it says of routes and servers is learned even when it is not
    /// `counted` (it started outside the span looked at).
    pub fn request(&mut self, r: &Request, called: bool, counted: bool) {
        self.learn(r);
        self.count_request(r, called, counted);
    }

    /// What request `r` says of routes and servers, which needs nothing later than its end
    /// (see [`QuadCounter::request_ended`]).
    fn learn(&mut self, r: &Request) {
        if !self.options.raw_paths {
            self.votes.learn(r);
        }
        if let Some(addr) = r.listen_addr {
            let server = (r.proc, addr, r.service);
            if self.last_server != Some(server) {
                self.servers.insert(server);
                self.last_server = Some(server);
            }
        }
    }

    /// Request `r` as a quadruple of its own when it called nothing.
    fn count_request(&mut self, r: &Request, called: bool, counted: bool) {
        if counted && !called && !r.carrier && r.status() != Some(SWITCHING_PROTOCOLS) {
            let key = (r.service, self.func(r));
            self.requests.entry(key).or_default().request(r);
        }
    }

    /// The quadruples, sorted (see [`sort_quads`]), and how the calls' callees were named
    /// (for the names of the dialled callees, `sockets` and `log` say who listened where and
    /// when).
    pub fn finish(self, log: &EventLog, sockets: &Sockets) -> (Vec<Quad>, Option<LinkSummary>) {
        let done = self.finish_keeping_names(log, sockets);
        (done.quads, done.links)
    }

    /// Like [`QuadCounter::finish`], also giving the figures of each caller and callee, and
    /// what names calls (see [`Finished`]).
    pub(crate) fn finish_keeping_names(self, log: &EventLog, sockets: &Sockets) -> Finished {
        let QuadCounter {
            options,
            calls,
            requests: served,
            votes,
            servers,
            linked,
            ..
        } = self;
        let funcs = votes.into_funcs(log, options.raw_paths);
        let mut names = CalleeNames::from_parts(log, sockets, &servers);
        let func = |f: Func| match f {
            Func::Known(s) => s,
            Func::Unended(service, method, path) => funcs.unended(service, method, path),
        };
        let string = |s: Sym| log.str(s).to_owned();
        let mut quads: IdMap<Named, Tally> = IdMap::default();
        // Caller and callee: every quadruple between them, their durations merged exactly.
        let mut edges: IdMap<(Sym, String), Tally> = IdMap::default();
        let mut summary = LinkSummary {
            linked,
            ..LinkSummary::default()
        };
        // In time order, as names are handed out (a name first seen as an address may later
        // turn out to be a recorded server's).
        let mut calls: Vec<(CallKey, Calls)> = calls.into_iter().collect();
        calls.sort_by_key(|(_, c)| c.first_ns);
        for (key, group) in calls {
            summary.calls += group.count;
            let (callee, callee_func) = match key.callee {
                Callee::Linked(service, f) => {
                    names.note_served(log.str(service));
                    (log.str(service).to_owned(), func(f))
                }
                Callee::Dialled {
                    proc,
                    host,
                    method,
                    path,
                    ..
                } => {
                    let id = names.id(proc, host, group.first_ns);
                    let service = names.service(id);
                    if service.is_none() {
                        summary.unrecorded += group.count;
                    }
                    let f = funcs.callee(service, method, path);
                    (names.name(id).to_owned(), f)
                }
            };
            edges
                .entry((key.caller, callee.clone()))
                .or_default()
                .merge(group.tally.clone());
            let quad = (
                key.caller,
                key.caller_func.and_then(func),
                Some(callee),
                callee_func,
            );
            quads.entry(quad).or_default().merge(group.tally);
        }
        for ((service, f), tally) in served {
            quads
                .entry((service, func(f), None, None))
                .or_default()
                .merge(tally);
        }
        let mut quads: Vec<Quad> = quads
            .into_iter()
            .map(|((caller, caller_func, callee, callee_func), tally)| {
                let Summary {
                    count,
                    errors,
                    p50_ns,
                    p99_ns,
                } = tally.summary();
                Quad {
                    caller: string(caller),
                    caller_func: caller_func.map(string),
                    callee,
                    callee_func: callee_func.map(string),
                    count,
                    errors,
                    p50_ns,
                    p99_ns,
                }
            })
            .collect();
        sort_quads(&mut quads);
        let mut edges: Vec<EdgeFigures> = edges
            .into_iter()
            .map(|((caller, callee), tally)| {
                let s = tally.summary();
                EdgeFigures {
                    caller: string(caller),
                    callee,
                    count: s.count,
                    errors: s.errors,
                    p99_ns: s.p99_ns,
                }
            })
            .collect();
        edges.sort_by(|a, b| (&a.caller, &a.callee).cmp(&(&b.caller, &b.callee)));
        Finished {
            quads,
            edges,
            links: sockets.seen().then_some(summary),
            funcs,
            servers,
        }
    }
}

/// Counts the quadruples of a reconstruction, sorted by count (highest first), then by name
/// with "none" first.
pub fn count_quads(log: &EventLog, rec: &Reconstruction) -> Vec<Quad> {
    count_quads_with(log, rec, QuadOptions::default())
}

/// Like [`count_quads`], counting a call as attributed only when its confidence is at least
/// `min_confidence`.
pub fn count_quads_above(log: &EventLog, rec: &Reconstruction, min_confidence: f64) -> Vec<Quad> {
    let options = QuadOptions {
        min_confidence,
        ..QuadOptions::default()
    };
    count_quads_with(log, rec, options)
}

/// Counts the quadruples of a reconstruction as `options` say.
pub fn count_quads_with(log: &EventLog, rec: &Reconstruction, options: QuadOptions) -> Vec<Quad> {
    count_quads_linked(log, rec, options).0
}

/// Like [`count_quads_with`], with how the calls' callees were named when the recordings had
/// socket events.
pub fn count_quads_linked(
    log: &EventLog,
    rec: &Reconstruction,
    options: QuadOptions,
) -> (Vec<Quad>, Option<LinkSummary>) {
    let epochs = CalleeNames::new(log, rec);
    let mut counter = QuadCounter::new(options);
    // Every request is kept: ids are positions.
    let mut called = vec![false; rec.requests.started()];
    for call in &rec.calls {
        if let Some(r) = counter.call(call, &rec.requests, epochs.epoch(call.ts_ns), true) {
            if let Some(c) = called.get_mut(r.0 as usize) {
                *c = true;
            }
        }
    }
    for (id, request) in rec.requests.all_with_ids() {
        let called = called.get(id.0 as usize).copied().unwrap_or(false);
        counter.request(request, called, true);
    }
    counter.finish(log, &rec.sockets)
}

/// The pass counts with it while it lets calls and requests go (see `rebuild::attribute`).
impl Counter for QuadCounter {
    fn request_of(&self, call: &ClientCall) -> Option<RequestId> {
        QuadCounter::request_of(self, call)
    }

    fn call(
        &mut self,
        call: &ClientCall,
        requests: &Requests,
        epoch: i64,
        counted: bool,
    ) -> Option<RequestId> {
        QuadCounter::call(self, call, requests, epoch, counted)
    }

    /// Learned at its end rather than when it is let go (three minutes on): at the end of a
    /// recording every request still kept is let go at once, on the pass's thread, while the
    /// other thread has nothing left to decode.
    fn request_ended(&mut self, r: &Request) {
        self.learn(r);
    }

    fn request(&mut self, r: &Request, called: bool, counted: bool) {
        // One whose end was recorded was learned then.
        if r.end_ns().is_none() {
            self.learn(r);
        }
        self.count_request(r, called, counted);
    }
}
