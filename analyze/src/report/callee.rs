//! Callee naming: the service each client call reached, and the func it reached.
//!
//! A call linked to the request it caused ([`crate::rebuild::links`]) takes that request's service
//! and func (its route, else its raw path): the address dialled, a virtual IP or a DNS name, does
//! not matter then. Any other call is named by the address it dialled: the recorded service
//! listening there when the call started ([`namer`]), else the address as written.
//!
//! Listeners come from the socket events (`listen`, `listen_end`: each process's listening
//! addresses over time, in its network namespace) and, for processes without those (older
//! recordings), from the servers' `Addr` and the addresses `record` read in `/proc`, for the
//! whole recording. A service name is its process's: the `service` of its events, which two
//! processes of one binary need not share.

use std::fmt;

use crate::model::addr::unix_socket;
use crate::model::events::{EventLog, IdMap, IdSet, ProcId, Sym};
use crate::rebuild::attribute::Reconstruction;
use crate::rebuild::client::ClientCall;
use crate::rebuild::requests::{Request, RequestId};
use crate::rebuild::sockets::Sockets;
use crate::report::routes::Funcs;

pub mod namer;

pub use namer::{dial_place, listen_place, CalleeNamer, Caller, Listener};

/// Callee name for a client call whose host was not recorded.
pub const UNKNOWN_HOST: &str = "?";

/// How long after a recording began a `listen` may be the report of a socket the process
/// already listened on when `record` first saw it (at its start, after attaching its probes),
/// rather than the moment it began to: such a listener names calls from the recording's start.
pub const FIRST_SIGHT_NS: i64 = 5_000_000_000;

/// What a call reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Callee {
    /// Its number among the callee names ([`CalleeNames::name`]).
    pub id: usize,
    /// `callee_func`: the route (else raw path) the callee served it under, when known, else
    /// the raw path called.
    pub func: Option<Sym>,
    /// The request it caused, when linked.
    pub link: Option<RequestId>,
}

/// How the calls of a set of recordings were named, for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkSummary {
    /// Calls named.
    pub calls: u64,
    /// Linked to the request they caused.
    pub linked: u64,
    /// Neither linked nor to a recorded server.
    pub unrecorded: u64,
}

impl fmt::Display for LinkSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let LinkSummary {
            calls,
            linked,
            unrecorded,
        } = *self;
        write!(
            f,
            "{linked} of {calls} calls linked to the requests they caused ({unrecorded} to \
             unrecorded callees"
        )?;
        let by_address = calls.saturating_sub(linked).saturating_sub(unrecorded);
        if by_address > 0 {
            write!(f, ", {by_address} named by the address they called")?;
        }
        f.write_str(")")
    }
}

/// Callee names of a reconstruction's calls, numbered, so that counting compares numbers
/// rather than strings. Names by address are worked out once per (calling process, host) for
/// as long as no listener begins or stops.
pub struct CalleeNames<'a> {
    log: &'a EventLog,
    sockets: &'a Sockets,
    namer: CalleeNamer,
    names: Vec<String>,
    /// Per number: whether the name is a recorded server's service.
    served: Vec<bool>,
    /// (process, host) → (number, the times between which it holds).
    ids: IdMap<(ProcId, Option<Sym>), (usize, i64, i64)>,
    /// The number of each linked request's service: most calls are linked, and a symbol is
    /// looked up for less than a name.
    by_service: IdMap<Sym, usize>,
    by_name: IdMap<String, usize>,
    summary: LinkSummary,
}

impl<'a> CalleeNames<'a> {
    /// Learns every server's listening addresses from `rec` and `log`.
    pub fn new(log: &'a EventLog, rec: &'a Reconstruction) -> Self {
        let mut servers = IdSet::default();
        for r in rec.requests.all() {
            if let Some(addr) = r.listen_addr {
                servers.insert((r.proc, addr, r.service));
            }
        }
        Self::from_parts(log, &rec.sockets, &servers)
    }

    /// Learns every server's listening addresses from `sockets`, `log` and `servers`: each
    /// process's server `Addr` (with its service), as requests gave them.
    pub(crate) fn from_parts(
        log: &'a EventLog,
        sockets: &'a Sockets,
        servers: &IdSet<(ProcId, Sym, Sym)>,
    ) -> Self {
        CalleeNames {
            log,
            sockets,
            namer: namer_of(log, sockets, servers),
            names: Vec::new(),
            served: Vec::new(),
            ids: IdMap::default(),
            by_service: IdMap::default(),
            by_name: IdMap::default(),
            summary: LinkSummary::default(),
        }
    }

    /// What `call` reached, with `funcs` naming funcs; `linked` is the request it caused
    /// (`call.link`), when still known.
    pub fn resolve(
        &mut self,
        call: &ClientCall,
        linked: Option<&Request>,
        funcs: &Funcs,
    ) -> Callee {
        self.summary.calls += 1;
        let log = self.log;
        if let Some(request) = linked {
            self.summary.linked += 1;
            let id = match self.by_service.get(&request.service) {
                Some(&id) => id,
                None => {
                    let id = self.number(log.str(request.service), true);
                    self.by_service.insert(request.service, id);
                    id
                }
            };
            return Callee {
                id,
                func: funcs.caller(request),
                link: call.link,
            };
        }
        let id = self.id(call.proc, call.host, call.ts_ns);
        if self.service(id).is_none() {
            self.summary.unrecorded += 1;
        }
        let service = self.service(id);
        Callee {
            id,
            func: funcs.callee(service, call.method, call.path),
            link: None,
        }
    }

    /// The number of the callee of a call from `proc` to `host` at `ts_ns`, named by the
    /// address; equal names, equal numbers.
    pub fn id(&mut self, proc: ProcId, host: Option<Sym>, ts_ns: i64) -> usize {
        if let Some(&(id, from, until)) = self.ids.get(&(proc, host)) {
            if from <= ts_ns && ts_ns < until {
                return id;
            }
        }
        let log = self.log;
        let caller = Caller {
            machine: machine(log, proc),
            netns: self.sockets.netns(proc),
        };
        let service = host.and_then(|h| self.namer.service_at(caller, log.str(h), ts_ns));
        let id = match (service, host) {
            (Some(service), _) => {
                let service = service.to_owned();
                self.number(&service, true)
            }
            (None, Some(h)) => self.number(log.str(h), false),
            (None, None) => self.number(UNKNOWN_HOST, false),
        };
        let (from, until) = self.namer.steady(ts_ns);
        self.ids.insert((proc, host), (id, from, until));
        id
    }

    /// `service` served a call that was linked to its request (so that an address of the
    /// same name, dialled later, counts as that recorded server).
    pub fn note_served(&mut self, service: &str) {
        self.number(service, true);
    }

    /// The epoch of `ts_ns`: when the span of time in which no listener begins or stops,
    /// around it, began.
    pub fn epoch(&self, ts_ns: i64) -> i64 {
        self.namer.steady(ts_ns).0
    }

    /// The number of `name`; `served`: a recorded server's service.
    fn number(&mut self, name: &str, served: bool) -> usize {
        if let Some(&id) = self.by_name.get(name) {
            if let Some(s) = self.served.get_mut(id) {
                *s |= served;
            }
            return id;
        }
        let id = self.names.len();
        self.names.push(name.to_owned());
        self.served.push(served);
        self.by_name.insert(name.to_owned(), id);
        id
    }

    /// The name behind a number from [`CalleeNames::id`].
    pub fn name(&self, id: usize) -> &str {
        self.names.get(id).map_or(UNKNOWN_HOST, String::as_str)
    }

    /// The service behind a number from [`CalleeNames::id`], when a recorded server served
    /// the calls (rather than the callee being an address no recording saw serve).
    pub fn service(&self, id: usize) -> Option<&str> {
        self.served
            .get(id)
            .filter(|served| **served)
            .and(self.names.get(id))
            .map(String::as_str)
    }

    /// How the calls resolved so far were named; `None` when the recordings had no socket
    /// events (nothing could be linked).
    pub fn summary(&self) -> Option<LinkSummary> {
        self.sockets.seen().then_some(self.summary)
    }
}

/// The listeners of `sockets`, `log` and `servers` (see the module's doc).
fn namer_of(log: &EventLog, sockets: &Sockets, servers: &IdSet<(ProcId, Sym, Sym)>) -> CalleeNamer {
    let mut namer = CalleeNamer::new();
    for row in listener_rows(log, sockets, servers) {
        namer.add(&row.addr, row.listener);
    }
    for (hostname, netns, addrs) in namespace_addrs(log) {
        namer.add_addrs(hostname, netns, addrs);
    }
    namer
}

/// One listening address as naming learns it: from whom, and over what time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListenerRow {
    /// The address as recorded.
    pub addr: String,
    pub listener: Listener,
    /// The listening process.
    pub proc: ProcId,
}

/// Every listening address of `sockets`, `log` and `servers`, as naming learns them (see the
/// module's doc), in that order.
pub(crate) fn listener_rows(
    log: &EventLog,
    sockets: &Sockets,
    servers: &IdSet<(ProcId, Sym, Sym)>,
) -> Vec<ListenerRow> {
    let mut rows = Vec::new();
    let with_spans: IdSet<ProcId> = sockets.spans().iter().map(|s| s.proc).collect();
    for s in sockets.spans() {
        let from_ns = match s.from_ns {
            None => i64::MIN,
            Some(ts) => first_sight(log, s.proc, ts),
        };
        let listener = Listener {
            from_ns,
            to_ns: s.to_ns.unwrap_or(i64::MAX),
            ..Listener::always(
                machine(log, s.proc),
                log.str(s.service),
                s.netns.or(sockets.netns(s.proc)),
            )
        };
        rows.push(ListenerRow {
            addr: log.str(s.addr).to_owned(),
            listener,
            proc: s.proc,
        });
    }
    // Processes the socket events say nothing of: their servers' `Addr`, and for servers
    // started with Serve(listener), which leave it empty, the sockets record saw them listen
    // on, for the whole recording. Millions of requests name a handful of servers: each is
    // parsed once. Sorted, so that the order does not depend on hashing.
    let mut servers: Vec<&(ProcId, Sym, Sym)> = servers.iter().collect();
    servers.sort_by_key(|(proc, addr, service)| (proc.index(), log.str(*addr), log.str(*service)));
    for &&(proc, addr, service) in &servers {
        if !with_spans.contains(&proc) {
            let l = Listener::always(machine(log, proc), log.str(service), sockets.netns(proc));
            rows.push(ListenerRow {
                addr: log.str(addr).to_owned(),
                listener: l,
                proc,
            });
        }
    }
    for l in log.listeners() {
        // Socket events cover TCP only: a process's unix-domain listeners are in the metadata.
        if with_spans.contains(&l.proc) && unix_socket(log.str(l.addr)).is_none() {
            continue;
        }
        let p = log.process_info(l.proc);
        let listed = p
            .and_then(|p| p.listed.as_ref())
            .and_then(|l| l.service.as_deref());
        let service = p
            .and_then(|p| p.service)
            .map(|s| log.str(s))
            .or(listed)
            .unwrap_or(log.str(l.service));
        let listener = Listener::always(machine(log, l.proc), service, sockets.netns(l.proc));
        rows.push(ListenerRow {
            addr: log.str(l.addr).to_owned(),
            listener,
            proc: l.proc,
        });
    }
    rows
}

/// The IP addresses of each network namespace the recordings list: (host, inode, addresses).
pub(crate) fn namespace_addrs(log: &EventLog) -> Vec<(&str, i64, &[std::net::IpAddr])> {
    log.processes()
        .iter()
        .filter_map(|p| {
            let listed = p.listed.as_ref()?;
            Some((p.hostname.as_str(), listed.netns?, listed.addrs.as_slice()))
        })
        .collect()
}

/// When a listener reported at `ts_ns` began: at the start of its recording when reported
/// within [`FIRST_SIGHT_NS`] of it (see there), else then.
fn first_sight(log: &EventLog, proc: ProcId, ts_ns: i64) -> i64 {
    let start = log
        .process_info(proc)
        .and_then(|p| log.started_before(p.machine, ts_ns));
    match start {
        Some(start) if ts_ns.saturating_sub(start) <= FIRST_SIGHT_NS => start,
        _ => ts_ns,
    }
}

/// The host name of the recording that saw `proc`.
pub fn machine(log: &EventLog, proc: ProcId) -> &str {
    log.process_info(proc).map_or("", |p| p.hostname.as_str())
}

#[cfg(test)]
mod tests;
