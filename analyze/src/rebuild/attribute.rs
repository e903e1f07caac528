//! Attribution: which server request each client call was made for.
//!
//! One pass over the time-ordered events keeps the requests open on every goroutine, what each
//! goroutine inherited at its spawn or was handed by its latest receive, the sends waiting on
//! every channel, requests by context, and timers armed. Each `client_start` is judged the
//! moment it happens, from the strongest evidence to the weakest (DESIGN.md): same goroutine,
//! spawned, context, channel, none. Everything is a hash lookup per event, so the pass is
//! linear in the events.
//!
//! The same pass gathers what the socket events say ([`crate::rebuild::sockets`]) and links each
//! call to the server request it caused, when that request's client address is a connection the
//! calling process owns ([`crate::rebuild::links`]): a request comes while its call is in flight.

use quadtrace_schema::EventKind;

use crate::model::events::{ChanOp, Detail, Event, EventLog, IdSet, ProcId, RecordingStart, Sym};
use crate::model::packed::{OptI32, OptI64};
use crate::model::span::Period;
use crate::rebuild::channels::{Channels, CHANNEL_DIRECT};
use crate::rebuild::contexts::Contexts;
use crate::rebuild::evidence::{Carried, Evidence, SAME_GOROUTINE};
use crate::rebuild::goroutines::{GoState, Goroutines, Source, NO_CLAIM};
use crate::rebuild::handoff::Handoff;
use crate::rebuild::lineage::Inherited;
use crate::rebuild::links::{Arrival, Links};
use crate::rebuild::requests::{End, Request, Requests};
use crate::rebuild::sockets::Sockets;
use crate::rebuild::timers::Timers;
use crate::rebuild::window::Window;

mod retire;
mod rows;

pub(crate) use retire::{Counted, Counter, NoCount, Retire};
pub(crate) use rows::{CallSink, DoneCall};

pub use crate::rebuild::client::{ClientCall, MAX_CALL_NS};
pub use crate::rebuild::evidence::Attribution;

/// How soon after a call starts an inner transport takes it over (the hand-over is immediate,
/// or after dialling): a later identical start on the goroutine is a call of its own, whose
/// predecessor's end was lost, not the same call handed on.
pub const INNER_TRANSPORT_NS: i64 = 1_000_000_000;

/// The most rows [`Pass::sized_for_rows`] sizes the tables for up front.
const MAX_PRESIZED_ROWS: usize = 1 << 27;

/// The requests and calls rebuilt from an event log.
#[derive(Debug, Default)]
pub struct Reconstruction {
    /// Every server request.
    pub requests: Requests,
    /// Every client call, in time order.
    pub calls: Vec<ClientCall>,
    /// What the socket events said: who listened where and when, network namespaces.
    pub sockets: Sockets,
}

/// How many events ahead the pass readies the tables an event will touch (see
/// [`Reconstructor::prefetch`]): far enough for memory to answer while the events in between
/// are handled, near enough that what was fetched is still cached.
pub(crate) const PREFETCH_AHEAD: usize = 8;

/// Rebuilds requests, attributes every client call and links calls to the requests they
/// caused, in one pass over `log`.
pub fn reconstruct(log: &EventLog) -> Reconstruction {
    let mut pass = Pass::<NoCount>::sized_for(log);
    pass.sockets = Sockets::of_log(log);
    let events = log.events();
    for (i, e) in events.iter().enumerate() {
        if let Some(ahead) = events.get(i + PREFETCH_AHEAD) {
            pass.prefetch(ahead);
        }
        pass.event(e);
    }
    pass.finish()
}

/// [`reconstruct`] fed one event at a time, in time order, for callers that never hold every
/// event at once (reading a large recording streams its events through). When it counts in
/// bounded memory, `C` counts what the pass is done with ([`Reconstructor::counting_within`]).
#[derive(Default)]
pub(crate) struct Reconstructor<C = NoCount>(Pass<C>);

impl Reconstructor {
    /// Ready for about `rows` events.
    pub(crate) fn for_rows(rows: usize) -> Self {
        Reconstructor(Pass::sized_for_rows(rows))
    }

    /// Ready for about `rows` events, handing every call out to `sink` as it is done with,
    /// in time order, and letting calls and requests go (see `retire`, `rows`).
    pub(crate) fn emitting(rows: usize, sink: CallSink, starts: Vec<i64>, window: Period) -> Self {
        let mut pass = Pass::sized_for_rows(rows.min(retire::MAX_PRESIZED * 9));
        pass.retire = Some(Retire::emitting(sink, starts).within(window));
        Reconstructor(pass)
    }
}

impl<C: Counter> Reconstructor<C> {
    /// The next event; events must come in the order [`EventLog::sort`] gives.
    pub(crate) fn event(&mut self, e: &Event) {
        self.0.event(e);
    }

    /// `e` will come [`PREFETCH_AHEAD`] events from now: a hint, which changes no result.
    pub(crate) fn prefetch(&self, e: &Event) {
        self.0.prefetch(e);
    }

    /// Ready for about `rows` events, counting with `counter` calls and requests that start
    /// inside `window`, and letting them go once done with (see `retire`); `starts`: when
    /// each recording began.
    pub(crate) fn counting_within(
        rows: usize,
        counter: C,
        starts: Vec<i64>,
        window: Period,
    ) -> Self {
        let mut pass = Pass::sized_for_rows(rows.min(retire::MAX_PRESIZED * 9));
        pass.retire = Some(Retire::new(counter, starts).within(window));
        Reconstructor(pass)
    }

    /// What counting left, once every event was given.
    pub(crate) fn finish_counting(self) -> Counted<C> {
        self.0.finish_counting()
    }

    /// A recording's events will follow (see [`RecordingStart`]).
    pub(crate) fn recording(&mut self, start: &RecordingStart) {
        self.0.sockets.started(start);
        if let Some(retire) = &mut self.0.retire {
            retire.recording(start);
        }
    }

    /// The requests and calls of every event given.
    pub(crate) fn finish(self) -> Reconstruction {
        self.0.finish()
    }
}

/// The state of the pass.
#[derive(Default)]
struct Pass<C = NoCount> {
    requests: Requests,
    goroutines: Goroutines,
    contexts: Contexts,
    channels: Channels,
    timers: Timers,
    calls: Window<ClientCall>,
    sockets: Sockets,
    links: Links,
    /// Sends the runtime handed straight to a named receiver, by (process, receiver, channel):
    /// that receiver's next receive on the channel, when recorded, is this one.
    direct: IdSet<(ProcId, i64, i64)>,
    /// Counting as calls and requests are done with, and letting them go (bounded memory);
    /// `None`: everything is kept for the [`Reconstruction`].
    retire: Option<Retire<C>>,
}

impl<C: Counter> Pass<C> {
    fn finish(mut self) -> Reconstruction {
        Reconstruction {
            requests: self.requests,
            calls: {
                let mut calls = Vec::with_capacity(self.calls.issued());
                self.calls.drain_each(|_, c| calls.push(c));
                calls
            },
            sockets: self.sockets,
        }
    }

    /// Tables sized from the events' kinds, so that none of them grows (and copies itself)
    /// while millions of events go by.
    fn sized_for(log: &EventLog) -> Self {
        let mut counts = [0usize; 8];
        for e in log.events() {
            if let Some(n) = counts.get_mut(e.detail.kind() as usize - 1) {
                *n += 1;
            }
        }
        Self::with_counts(|k| counts.get(k as usize - 1).copied().unwrap_or(0))
    }

    /// Tables sized for about `rows` events whose kinds are not yet known (a streamed
    /// recording), from the shares of a busy service's recording: a sixth spawns, a ninth
    /// requests, a twelfth client calls, nearly half channel operations. Growing a table of
    /// millions mid-pass copies all of it and faults in fresh pages; room never used is only
    /// address space.
    fn sized_for_rows(rows: usize) -> Self {
        // Only a hint: a count beyond this (a crafted file can hold billions of rows in a few
        // bytes of run-length encoding) sizes nothing larger, and the tables grow if need be.
        let rows = rows.min(MAX_PRESIZED_ROWS);
        Self::with_counts(|k| match k {
            EventKind::Spawn => rows / 6,
            EventKind::ServerStart => rows / 9,
            EventKind::ClientStart => rows / 12,
            EventKind::ChanSend | EventKind::ChanRecv => rows / 4,
            _ => 0,
        })
    }

    /// Tables sized for `count` events of each kind.
    fn with_counts(count: impl Fn(EventKind) -> usize) -> Self {
        let channel_ops = count(EventKind::ChanSend) + count(EventKind::ChanRecv);
        // Goroutines: every spawned one, and those that served or called without a recorded
        // spawn (started before the recording). Channels: only those with something in flight
        // are kept; too few slots only costs a regrowth.
        Pass {
            requests: Requests::with_capacity(count(EventKind::ServerStart)),
            goroutines: Goroutines::with_capacity(count(EventKind::Spawn) + 1024),
            contexts: Contexts::with_capacity(count(EventKind::ServerStart)),
            channels: Channels::with_capacity(channel_ops.min(256)),
            timers: Timers::with_capacity(count(EventKind::TimerArm).min(1 << 20)),
            calls: Window::with_capacity(count(EventKind::ClientStart)),
            sockets: Sockets::default(),
            links: Links::default(),
            direct: IdSet::default(),
            retire: None,
        }
    }

    /// Asks for the memory an event's context lookups will touch: the context table is the
    /// one table whose every access lands far from the last (see [`crate::rebuild::contexts`]).
    #[inline]
    fn prefetch(&self, e: &Event) {
        self.goroutines.prefetch(e.proc, e.goid);
        match &e.detail {
            Detail::ServerStart { ctx, .. } => self.contexts.prefetch(e.proc, &[*ctx]),
            Detail::ClientStart { ctx, .. } => self.contexts.prefetch(e.proc, ctx),
            _ => {}
        }
    }

    fn event(&mut self, e: &Event) {
        self.goroutines.tick(e.ts_ns);
        if self.retire.is_some() {
            self.retire_tick(e);
        }
        match e.detail {
            Detail::ServerStart {
                method,
                path,
                listen_addr,
                remote,
                ctx,
                grpc,
                ..
            } => {
                let g = self.goroutines.id(e.proc, e.goid);
                let Some(st) = self.goroutines.get_mut(g) else {
                    return;
                };
                let request = Request {
                    proc: e.proc,
                    service: e.service,
                    goid: e.goid,
                    method,
                    path,
                    listen_addr,
                    remote,
                    start_ns: e.ts_ns,
                    end: OptI64::NONE,
                    status_code: OptI32::NONE,
                    route: None,
                    failed: false,
                    grpc,
                    carrier: false,
                    called: false,
                    awaits_cause: false,
                    pending: 0,
                };
                if grpc {
                    self.requests.carried_by_http(&request);
                }
                let id = self.requests.start(&mut st.open_requests, request);
                self.contexts.request_started(e.proc, ctx, id);
                if let Some(remote) = remote {
                    let arrival = Arrival {
                        proc: e.proc,
                        ts_ns: e.ts_ns,
                        remote,
                        method,
                        path,
                    };
                    let (calls, sockets) = (&mut self.calls, &self.sockets);
                    if self.links.request_started(&arrival, id, calls, sockets) {
                        // The call that caused it names its callee by it when counted, which
                        // may be long after the request ended (a call whose end or whose own
                        // request's end is never recorded): it stays until then.
                        if let Some(r) = self.requests.get_mut(id) {
                            r.awaits_cause = true;
                        }
                    }
                }
            }
            Detail::ServerEnd {
                status,
                route,
                failed,
            } => {
                let g = self.goroutines.find(e.proc, e.goid);
                let open = g
                    .and_then(|g| self.goroutines.get_mut(g))
                    .map(|st| &mut st.open_requests);
                let end = End {
                    ts_ns: e.ts_ns,
                    status,
                    route,
                    failed,
                };
                if let Some(id) = self.requests.end(open, end) {
                    self.request_ended(id);
                }
            }
            Detail::ClientStart {
                method,
                host,
                path,
                ctx,
            } => self.client_start(e, method, host, path, &ctx),
            Detail::ClientEnd { status, error } => self.client_end(e, status, error),
            Detail::Spawn { parent, value } => self.spawn(e, parent, value),
            Detail::ChanSend(op) => self.send(e, &op),
            Detail::ChanHandoff { chan, receiver } => self.direct_handoff(e, chan, receiver),
            Detail::ChanRecv(op) => self.recv(e, &op),
            Detail::TimerArm { value } => {
                if let Some(funcval) = value.filter(|v| *v != 0) {
                    let source = self.carried(e.proc, e.goid, e.ts_ns);
                    self.timers.arm(e.proc, funcval, e.ts_ns, source);
                }
            }
            Detail::Connect(s) => {
                self.sockets.socket(e, &s);
                self.links.connect(e, &s, &self.sockets);
                if let Some(retire) = self.retire.as_mut() {
                    retire.connect(e, &s);
                }
            }
            Detail::Listen(s) => {
                self.sockets.listen(e, &s);
                if let Some(retire) = self.retire.as_mut() {
                    retire.listeners_changed();
                }
            }
            Detail::ListenEnd(s) => {
                self.sockets.listen_end(e, &s);
                if let Some(retire) = self.retire.as_mut() {
                    retire.listeners_changed();
                }
            }
        }
    }

    /// What goroutine `goid` works for at `ts_ns`, as passed on to what it starts.
    fn carried(&self, proc: ProcId, goid: i64, ts_ns: i64) -> Option<Carried> {
        let g = self.goroutines.find(proc, goid)?;
        self.goroutines.get(g).carried(ts_ns)
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
        // The same request started again inside a call in flight on this goroutine is that
        // call handed to an inner transport (net/http's Transport passing an HTTP/2 request
        // to golang.org/x/net/http2's, set up by http2.ConfigureTransport): one call, whose
        // inner end the stack pairs with the same entry.
        if let Some(outer) = st.open_calls.last() {
            let same = self.calls.get(outer).is_some_and(|c| {
                c.method == method
                    && c.host == host
                    && c.path == path
                    && e.ts_ns.saturating_sub(c.ts_ns) <= INNER_TRANSPORT_NS
            });
            if same {
                if let Some(st) = self.goroutines.get_mut(g) {
                    st.open_calls.push(outer);
                }
                return;
            }
        }

        let attribution = if let Some(r) = st.open_requests.last() {
            Attribution::to(r, Evidence::SameGoroutine, SAME_GOROUTINE)
        } else if let Some(c) = st.spawned_at(e.ts_ns) {
            c.attribution()
        } else if let Some(a) = self.contexts.find(e.proc, ctx, e.ts_ns, &self.requests) {
            a
        } else if let Some(c) = st.handoff_at(e.ts_ns) {
            c.attribution()
        } else {
            Attribution::NONE
        };
        let call = ClientCall {
            proc: e.proc,
            service: e.service,
            goid: e.goid,
            ts_ns: e.ts_ns,
            method,
            host,
            path,
            end_ns: None,
            status: None,
            error: false,
            attribution,
            link: None,
            epoch: self.retire.as_ref().map_or(0, Retire::epoch),
        };
        if let Some(retire) = self.retire.as_ref() {
            retire.started(&call, &mut self.requests);
        }
        let index = self.calls.push(call);
        if let Some(st) = self.goroutines.get_mut(g) {
            st.open_calls.push(index);
        }
        self.links.call_started(e.proc, index, &self.calls);
    }

    /// The end pairs with the latest call in flight on its goroutine; an end whose start came
    /// before the recording has none and is ignored.
    fn client_end(&mut self, e: &Event, status: Option<i32>, error: bool) {
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
            call.error = error;
        }
    }

    /// A new goroutine inherits what its parent carried; one spawned by goroutine 0 (the
    /// scheduler) to run a timer callback inherits from the goroutine that armed the timer.
    /// Only goroutine 0's spawns are matched with timers: the closure of an ordinary `go`
    /// statement may sit at the address of a stopped timer's callback.
    fn spawn(&mut self, e: &Event, parent: Option<i64>, value: Option<i64>) {
        let child = self.goroutines.id(e.proc, e.goid);
        if self.goroutines.get(child).spawn_seen {
            // Reported twice (by recorders that hooked newproc1's entry and return): goids are
            // never reused, so the first report says it all, and a second must not consume
            // another timer.
            return;
        }
        let ts = e.ts_ns;
        let by_scheduler = matches!(parent, None | Some(0));
        let fired = value
            .filter(|v| *v != 0 && by_scheduler)
            .and_then(|funcval| self.timers.fire(e.proc, funcval, ts));
        let source = match fired {
            Some(fired) => fired.source.map(|s| s.scaled(fired.factor)),
            None => parent.and_then(|p| self.carried(e.proc, p, ts)),
        };
        let inherited = source.and_then(|s| Inherited::from_parent(s, ts));
        if let Some(st) = self.goroutines.get_mut(child) {
            st.spawn_seen = true;
            st.source = Source::Spawned(inherited);
        }
    }

    fn send(&mut self, e: &Event, op: &ChanOp) {
        let source = self.carried(e.proc, e.goid, e.ts_ns);
        let Some(claim) = self.channels.send(e.proc, op, e.ts_ns, source) else {
            return;
        };
        if let Some(st) = self.goroutines.get_mut(claim.receiver) {
            // Only if the receiver has not moved on to another receive since.
            if claim.seq != NO_CLAIM && st.recv_seq == claim.seq {
                st.source = Source::Worker(claim.handoff);
            }
        }
    }

    /// The runtime named the goroutine blocked on the channel, which takes this very value:
    /// it works for the sender's request from now on, whether or not its receive is recorded
    /// (one that blocked before the recording began was never seen to start). Its receive, when
    /// recorded, is this hand-off again and is skipped (see [`Pass::recv`]).
    /// The value never queues: the send and its receive are out of the channel's FIFO order.
    fn direct_handoff(&mut self, e: &Event, chan: i64, receiver: i64) {
        self.direct.insert((e.proc, receiver, chan));
        let source = self.carried(e.proc, e.goid, e.ts_ns);
        let g = self.goroutines.id(e.proc, receiver);
        if self.in_call(self.goroutines.get(g), e.ts_ns) {
            return;
        }
        let handoff = source.map(|s| Handoff::new(s, CHANNEL_DIRECT, e.ts_ns));
        if let Some(st) = self.goroutines.get_mut(g) {
            st.received(true, handoff);
        }
    }

    /// Whether `st` has a client call in flight at `ts_ns` (see [`MAX_CALL_NS`]).
    fn in_call(&self, st: &GoState, ts_ns: i64) -> bool {
        let call = st.open_calls.last().and_then(|i| self.calls.get(i));
        call.is_some_and(|c| ts_ns.saturating_sub(c.ts_ns) <= MAX_CALL_NS)
    }

    /// A receive pairs with its send whoever makes it, so that the channel's order stays
    /// right; but one made inside a client call leaves the goroutine's state alone (see
    /// [`MAX_CALL_NS`]): a worker keeps its job, a spawned goroutine its lineage.
    fn recv(&mut self, e: &Event, op: &ChanOp) {
        // Most receives follow no hand-off: an empty set is not hashed into.
        if !self.direct.is_empty() && self.direct.remove(&(e.proc, e.goid, op.chan)) {
            return;
        }
        let g = self.goroutines.id(e.proc, e.goid);
        let st = self.goroutines.get(g);
        let in_call = self.in_call(st, e.ts_ns);
        let seq = if in_call { NO_CLAIM } else { st.next_seq() };
        let handoff = self.channels.recv(e.proc, op, e.ts_ns, g, seq);
        if let Some(st) = self.goroutines.get_mut(g).filter(|_| !in_call) {
            st.received(op.completed, handoff);
        }
    }
}

#[cfg(test)]
mod tests;
