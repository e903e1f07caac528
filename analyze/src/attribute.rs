//! Attribution: which server request each client call was made for.
//!
//! One pass over the time-ordered events keeps the requests open on every goroutine, what each
//! goroutine inherited at its spawn or was handed by its latest receive, the sends waiting on
//! every channel, requests by context, and timers armed. Each `client_start` is judged the
//! moment it happens, from the strongest evidence to the weakest (DESIGN.md): same goroutine,
//! spawned, context, channel, none. Everything is a hash lookup per event, so the pass is
//! linear in the events.

use crate::channels::Channels;
use crate::contexts::Contexts;
use crate::events::{ChanOp, Detail, Event, EventLog, ProcId, Sym};
use crate::evidence::{Carried, Evidence, SAME_GOROUTINE};
use crate::goroutines::Goroutines;
use crate::lineage::Inherited;
use crate::requests::{Request, Requests};
use crate::timers::Timers;

pub use crate::evidence::Attribution;

/// One client call (`client_start`, with its `client_end` when seen) and its attribution.
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
    /// HTTP method.
    pub method: Option<Sym>,
    /// The URL's `host[:port]`.
    pub host: Option<Sym>,
    /// The URL's path.
    pub path: Option<Sym>,
    /// When the round trip returned, ns; `None` when the recording stopped first.
    pub end_ns: Option<i64>,
    /// Status received; `None` on a transport error or without an end.
    pub status: Option<i32>,
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
    let mut pass = Pass::default();
    for e in log.events() {
        pass.event(e);
    }
    Reconstruction {
        requests: pass.requests,
        calls: pass.calls,
    }
}

/// The state of the pass.
#[derive(Default)]
struct Pass {
    requests: Requests,
    goroutines: Goroutines,
    contexts: Contexts,
    channels: Channels,
    timers: Timers,
    calls: Vec<ClientCall>,
}

impl Pass {
    fn event(&mut self, e: &Event) {
        match e.detail {
            Detail::ServerStart {
                path,
                listen_addr,
                ctx,
                ..
            } => {
                let id = self.requests.start(Request {
                    proc: e.proc,
                    service: e.service,
                    goid: e.goid,
                    path,
                    listen_addr,
                    start_ns: e.ts_ns,
                    end_ns: None,
                });
                self.contexts.request_started(e.proc, ctx, id);
            }
            Detail::ServerEnd { .. } => {
                self.requests.end(e.proc, e.goid, e.ts_ns);
            }
            Detail::ClientStart {
                method,
                host,
                path,
                ctx,
            } => self.client_start(e, method, host, path, &ctx),
            Detail::ClientEnd { status } => self.client_end(e, status),
            Detail::Spawn { parent, value } => self.spawn(e, parent, value),
            Detail::ChanSend(op) => self.send(e, &op),
            Detail::ChanRecv(op) => self.recv(e, &op),
            Detail::TimerArm { value } => {
                if let Some(funcval) = value.filter(|v| *v != 0) {
                    let source = self.carried(e.proc, e.goid, e.ts_ns);
                    self.timers.arm(e.proc, funcval, e.ts_ns, source);
                }
            }
        }
    }

    /// What goroutine `goid` works for at `ts_ns`, as passed on to what it starts.
    fn carried(&self, proc: ProcId, goid: i64, ts_ns: i64) -> Option<Carried> {
        let open = self.requests.innermost(proc, goid);
        match self.goroutines.find(proc, goid) {
            Some(g) => self.goroutines.get(g).carried(open, ts_ns),
            None => open.map(Carried::same_goroutine),
        }
    }

    fn client_start(
        &mut self,
        e: &Event,
        method: Option<Sym>,
        host: Option<Sym>,
        path: Option<Sym>,
        ctx: &[i64; 4],
    ) {
        let g = self.goroutines.id(e.proc, e.goid);
        let st = self.goroutines.get(g);
        let spawned = || st.inherited.and_then(|i| i.at(e.ts_ns));
        let handoff = || st.handoff.and_then(|h| h.at(e.ts_ns));
        let attribution = if let Some(r) = self.requests.innermost(e.proc, e.goid) {
            Attribution::to(r, Evidence::SameGoroutine, SAME_GOROUTINE)
        } else if let Some(c) = spawned().filter(|_| !st.worker) {
            c.attribution()
        } else if let Some(a) = self.contexts.find(e.proc, ctx, e.ts_ns, &self.requests) {
            a
        } else if let Some(c) = handoff().filter(|_| st.worker) {
            c.attribution()
        } else {
            Attribution::NONE
        };
        let index = self.calls.len();
        self.calls.push(ClientCall {
            proc: e.proc,
            service: e.service,
            goid: e.goid,
            ts_ns: e.ts_ns,
            method,
            host,
            path,
            end_ns: None,
            status: None,
            attribution,
        });
        if let Some(st) = self.goroutines.get_mut(g) {
            st.open_calls.push(index);
        }
    }

    /// The end pairs with the latest call in flight on its goroutine; an end whose start came
    /// before the recording has none and is ignored.
    fn client_end(&mut self, e: &Event, status: Option<i32>) {
        let Some(g) = self.goroutines.find(e.proc, e.goid) else {
            return;
        };
        let Some(index) = self
            .goroutines
            .get_mut(g)
            .and_then(|st| st.open_calls.pop())
        else {
            return;
        };
        if let Some(call) = self.calls.get_mut(index) {
            call.end_ns = Some(e.ts_ns);
            call.status = status;
        }
    }

    /// A new goroutine inherits from its parent's open request; else, when it runs a timer
    /// callback, from the goroutine that armed it (its parent only ran the timer); else from
    /// whatever its parent carried.
    fn spawn(&mut self, e: &Event, parent: Option<i64>, value: Option<i64>) {
        let child = self.goroutines.id(e.proc, e.goid);
        if self.goroutines.get(child).spawn_seen {
            // Reported twice (entry and return of newproc1): goids are never reused, so the
            // first report says it all, and a second must not consume another timer.
            return;
        }
        let ts = e.ts_ns;
        let open = parent.and_then(|p| self.requests.innermost(e.proc, p));
        let source = if let Some(r) = open {
            Some(Carried::same_goroutine(r))
        } else if let Some(fired) = value
            .filter(|v| *v != 0)
            .and_then(|funcval| self.timers.fire(e.proc, funcval, ts))
        {
            fired.source.map(|s| s.scaled(fired.factor))
        } else {
            parent.and_then(|p| self.carried(e.proc, p, ts))
        };
        let inherited = source.and_then(|s| Inherited::from_parent(s, ts));
        if let Some(st) = self.goroutines.get_mut(child) {
            st.spawn_seen = true;
            st.inherited = inherited;
        }
    }

    fn send(&mut self, e: &Event, op: &ChanOp) {
        let source = self.carried(e.proc, e.goid, e.ts_ns);
        let Some(claim) = self.channels.send(e.proc, op, e.ts_ns, source) else {
            return;
        };
        if let Some(st) = self.goroutines.get_mut(claim.receiver) {
            // Only if the receiver has not moved on to another receive since.
            if st.recv_seq == claim.seq {
                st.handoff = claim.handoff;
            }
        }
    }

    fn recv(&mut self, e: &Event, op: &ChanOp) {
        let g = self.goroutines.id(e.proc, e.goid);
        let seq = self.goroutines.get(g).recv_seq.wrapping_add(1);
        let handoff = self.channels.recv(e.proc, op, e.ts_ns, g, seq);
        if let Some(st) = self.goroutines.get_mut(g) {
            st.received(op.completed, handoff);
        }
    }
}

#[cfg(test)]
mod tests;
