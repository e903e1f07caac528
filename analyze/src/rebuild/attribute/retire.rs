//! Analysis in bounded memory: calls and requests are counted (by a [`Counter`]: the reports'
//! quadruple counter, which reconstruction knows only through that trait) and let go once
//! nothing later in the recording can change them, so that what is held follows what is
//! live at one moment (open requests, calls in flight, the last minutes of requests that late
//! work may still be attributed to), not the length of the recording.
//!
//! A call is done with once it ended, the request it was made for and the one it caused ended too,
//! and [`LAG_NS`] went by (listeners reported up to [`crate::report::callee::FIRST_SIGHT_NS`] late
//! name it). A request is done with [`RETAIN_NS`] after it ended, unless a call still to be counted
//! is made for it or a timer still armed may fire for it: every kind of evidence ages within a
//! minute of its last link (a context 60 s after its request ended; what a goroutine inherited or
//! was handed, 60 s after the spawn or the receive), so two links fit. Work that reaches further
//! from its request (a third goroutine spawned near the end of each link's minute) finds it gone
//! and counts as made for no request. Calls in flight, and requests still open, are set aside so
//! that they hold back nothing behind them.

use super::rows::{CallSink, DoneCall};
use super::Pass;
use crate::model::events::{Event, ProcId, RecordingStart, Socket};
use crate::model::span::{Clocks, Period};
use crate::rebuild::client::ClientCall;
use crate::rebuild::requests::{Request, RequestId, Requests};
use crate::rebuild::sockets::Sockets;
use crate::rebuild::window::Verdict;

/// How long after the last of its ends a call waits to be counted.
pub const LAG_NS: i64 = 10 * 1_000_000_000;

/// How long after it ended a request is kept: a context's minute, then two spawns' or hand-offs'.
pub const RETAIN_NS: i64 = 3 * crate::rebuild::lineage::MAX_SPAWN_AGE_NS;

/// How often calls and requests are looked over, in the events' time.
const SWEEP_NS: i64 = 1_000_000_000;

/// The most requests or calls the tables are sized for up front when counting: beyond, they
/// grow if need be (what is kept follows the traffic, not the file's size).
pub(super) const MAX_PRESIZED: usize = 1 << 20;

/// What the pass hands the calls and requests it is done with to, in bounded memory.
pub(crate) trait Counter: Default {
    /// Whether `call` counts as made for a request, and which: that request is kept until
    /// the call is counted.
    fn request_of(&self, call: &ClientCall) -> Option<RequestId>;

    /// One call, done with: its own request and the request it caused (when linked) are in
    /// `requests` if they are still kept. `epoch` is its start's (see [`Retire::epoch`]);
    /// `counted` is false when it started outside the span looked at. Returns the request it
    /// was made for, which is then remembered as called.
    fn call(
        &mut self,
        call: &ClientCall,
        requests: &Requests,
        epoch: i64,
        counted: bool,
    ) -> Option<RequestId>;

    /// Request `r` just ended (it is let go later, see [`Counter::request`]): what needs
    /// nothing later than its end can be taken now.
    fn request_ended(&mut self, _r: &Request) {}

    /// One request, done with, after every call made for it; `called`: one was.
    fn request(&mut self, r: &Request, called: bool, counted: bool);

    /// A `connect` event: `e`'s process made connection `s` (most counters need none).
    fn connect(&mut self, _e: &Event, _s: &Socket) {}
}

/// The counter of a pass that counts nothing: one that keeps everything for its
/// [`super::Reconstruction`], or hands calls out ([`Retire::emitting`]), for which a call
/// counts as made for the request it is attributed to, however surely.
#[derive(Debug, Default)]
pub(crate) struct NoCount;

impl Counter for NoCount {
    fn request_of(&self, call: &ClientCall) -> Option<RequestId> {
        call.attribution.request()
    }

    fn call(&mut self, call: &ClientCall, _: &Requests, _: i64, _: bool) -> Option<RequestId> {
        self.request_of(call)
    }

    fn request(&mut self, _: &Request, _: bool, _: bool) {}
}

/// What counting in bounded memory keeps besides the pass.
#[derive(Debug)]
pub(crate) struct Retire<C> {
    counter: C,
    /// Listener changes so far (see [`crate::report::counter`]).
    epoch: u32,
    /// When each recording began, latest first: a change for the listeners reported then.
    starts: Vec<i64>,
    next_sweep_ns: i64,
    /// Say what is kept, every minute of the events' time (`QUADTRACE_PHASES`).
    report: bool,
    /// Handing calls out instead of counting them (see [`super::rows`]): requests are let go
    /// uncounted.
    rows: Option<CallSink>,
    /// Only calls and requests that start inside count (or are handed out).
    window: Period,
    /// Which wall clock each process is on, for the window.
    clocks: Clocks,
}

/// What counting left at the end.
pub(crate) struct Counted<C> {
    pub counter: C,
    pub sockets: Sockets,
    pub requests: Requests,
}

impl<C: Counter> Retire<C> {
    pub(crate) fn new(counter: C, mut starts: Vec<i64>) -> Self {
        starts.sort_unstable_by(|a, b| b.cmp(a));
        Retire {
            counter,
            epoch: 0,
            starts,
            next_sweep_ns: i64::MIN,
            report: std::env::var_os("QUADTRACE_PHASES").is_some(),
            rows: None,
            window: Period::ALL,
            clocks: Clocks::default(),
        }
    }

    /// Counting only calls and requests that start inside `window`.
    pub(crate) fn within(self, window: Period) -> Self {
        Retire { window, ..self }
    }

    /// A recording's events will follow.
    pub(crate) fn recording(&mut self, start: &RecordingStart) {
        self.clocks.recording(start.first_proc, start.boot_wall_ns);
    }

    /// Whether something that started at `ts_ns` on `proc` is inside the window.
    fn inside(&self, proc: ProcId, ts_ns: i64) -> bool {
        self.window == Period::ALL
            || self
                .clocks
                .wall(proc.index(), ts_ns)
                .is_some_and(|wall| self.window.contains(wall))
    }

    /// The epoch now.
    pub(crate) fn epoch(&self) -> u32 {
        self.epoch
    }

    /// A connection was made (see [`Counter::connect`]).
    pub(crate) fn connect(&mut self, e: &Event, s: &Socket) {
        self.counter.connect(e, s);
    }

    /// A listener began or stopped.
    pub(crate) fn listeners_changed(&mut self) {
        self.epoch += 1;
    }

    /// A call started: the request it counts for must wait for it.
    pub(crate) fn started(&self, call: &ClientCall, requests: &mut Requests) {
        if let Some(r) = self
            .counter
            .request_of(call)
            .and_then(|r| requests.get_mut(r))
        {
            r.pending = r.pending.saturating_add(1);
        }
    }

    /// Counts call `id` (or hands it out): its request no longer waits for it, and was
    /// called.
    fn count(&mut self, id: u32, call: ClientCall, requests: &mut Requests) {
        let request = self.counter.request_of(&call);
        let caused = call.link;
        let inside = self.inside(call.proc, call.ts_ns);
        let counted = match &mut self.rows {
            Some(rows) => {
                let get = |r: Option<RequestId>| r.and_then(|r| requests.get(r)).cloned();
                let (made_for, linked) = (get(request), get(call.link));
                let counted = made_for.is_some();
                if inside {
                    rows.done(DoneCall {
                        id,
                        call,
                        request: made_for,
                        linked,
                    });
                }
                counted
            }
            None => self
                .counter
                .call(&call, requests, i64::from(call.epoch), inside)
                .is_some(),
        };
        if let Some(r) = request.and_then(|r| requests.get_mut(r)) {
            r.pending = r.pending.saturating_sub(1);
            r.called |= counted;
        }
        // The request it caused waited for it too (see `request_started` in `attribute`).
        if let Some(r) = caused.and_then(|r| requests.get_mut(r)) {
            r.awaits_cause = false;
        }
    }
}

impl Retire<NoCount> {
    /// Handing every call out to `rows` as it is done with, whatever its attribution's
    /// confidence, instead of counting.
    pub(crate) fn emitting(rows: CallSink, starts: Vec<i64>) -> Self {
        Retire {
            rows: Some(rows),
            ..Self::new(NoCount, starts)
        }
    }
}

/// When `call`, and the requests it depends on, last ended; `None` while one has not.
fn done_at<C: Counter>(call: &ClientCall, counter: &C, requests: &Requests) -> Option<i64> {
    let mut at = call.end_ns?;
    for r in [counter.request_of(call), call.link].into_iter().flatten() {
        if let Some(request) = requests.get(r) {
            at = at.max(request.end_ns()?);
        }
    }
    Some(at)
}

impl<C: Counter> Pass<C> {
    /// Request `id` just ended.
    pub(super) fn request_ended(&mut self, id: RequestId) {
        if let (Some(retire), Some(r)) = (self.retire.as_mut(), self.requests.get(id)) {
            retire.counter.request_ended(r);
        }
    }

    /// Before event `e`: a recording began, or it is time to let calls and requests go.
    pub(super) fn retire_tick(&mut self, e: &Event) {
        let Some(retire) = self.retire.as_mut() else {
            return;
        };
        while retire.starts.last().is_some_and(|&s| s <= e.ts_ns) {
            retire.starts.pop();
            retire.epoch += 1;
        }
        if e.ts_ns >= retire.next_sweep_ns {
            retire.next_sweep_ns = e.ts_ns.saturating_add(SWEEP_NS);
            self.sweep(e.ts_ns);
        }
    }

    /// Counts and lets go of every call and request done with at `now`.
    fn sweep(&mut self, now: i64) {
        let Some(retire) = self.retire.as_mut() else {
            return;
        };
        let requests = &self.requests;
        let judge_call = |c: &ClientCall, retire: &Retire<C>, front: bool| match done_at(
            c,
            &retire.counter,
            requests,
        ) {
            Some(at) if now.saturating_sub(at) >= LAG_NS => Verdict::Retire,
            // Recent calls wait in place (most end within moments, with their requests); only
            // a long one is set aside.
            _ if front && now.saturating_sub(c.ts_ns) < LAG_NS => Verdict::Stop,
            Some(_) if front => Verdict::Stop,
            _ => Verdict::Aside,
        };
        let mut done: Vec<(u32, ClientCall)> = Vec::new();
        self.calls.retire_aside(
            |_, c| judge_call(c, retire, false),
            |id, c| done.push((id, c)),
        );
        self.calls.retire_front(
            |_, c| judge_call(c, retire, true),
            |id, c| done.push((id, c)),
        );
        for (id, call) in done {
            retire.count(id, call, &mut self.requests);
        }
        if let Some(rows) = &mut retire.rows {
            rows.release(Some(self.calls.oldest_kept().unwrap_or(u32::MAX)));
        }
        let timers = &self.timers;
        let mut gone = Vec::new();
        self.requests.retire(
            |id, r| match r.end_ns() {
                _ if r.pending > 0 || timers.holds(id) => Verdict::Aside,
                // Old enough to go, but the call that caused it, still to be counted, is
                // named by it: it waits aside (rare: such a call is counted within
                // `LAG_NS` of its end, unless its end or its request's was not recorded).
                Some(end) if now.saturating_sub(end) > RETAIN_NS && r.awaits_cause => {
                    Verdict::Aside
                }
                Some(end) if now.saturating_sub(end) > RETAIN_NS => Verdict::Retire,
                Some(_) => Verdict::Stop,
                None => Verdict::Aside,
            },
            |id, r| gone.push((id, r)),
        );
        if retire.rows.is_none() {
            for (_, r) in &gone {
                let inside = retire.inside(r.proc, r.start_ns);
                retire.counter.request(r, r.called, inside);
            }
        }
        self.contexts.forget_stale(&self.requests, now);
        if retire.report && now / SWEEP_NS % 60 == 0 {
            eprintln!(
                "kept at {} s: {} requests, {} calls, {} goroutines, {} context addresses; RSS {} MiB",
                now / 1_000_000_000,
                self.requests.kept(),
                self.calls.kept(),
                self.goroutines.kept(),
                self.contexts.addresses(),
                crate::util::phases::rss_kib() / 1024
            );
        }
    }

    /// Counts everything still kept, once the events are over.
    pub(super) fn finish_counting(mut self) -> Counted<C> {
        let Some(mut retire) = self.retire.take() else {
            return Counted {
                counter: C::default(),
                sockets: self.sockets,
                requests: self.requests,
            };
        };
        let requests = &mut self.requests;
        self.calls
            .drain_each(|id, call| retire.count(id, call, requests));
        if let Some(rows) = &mut retire.rows {
            rows.release(None);
        } else {
            self.requests.drain_each(|_, r| {
                let inside = retire.inside(r.proc, r.start_ns);
                retire.counter.request(&r, r.called, inside);
            });
        }
        Counted {
            counter: retire.counter,
            sockets: self.sockets,
            requests: self.requests,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebuild::attribute::{reconstruct, Reconstructor};
    use crate::report::counter::{count_quads_linked, QuadCounter};
    use crate::report::quads::QuadOptions;
    use crate::test_support::LogBuilder;

    const MIN: i64 = 60_000; // ms

    impl Reconstructor<QuadCounter> {
        /// Ready for about `rows` events, counting quadruples as `options` say and letting calls
        /// and requests go once done with (see `retire`); `starts`: when each recording began.
        pub(crate) fn counting(rows: usize, options: QuadOptions, starts: Vec<i64>) -> Self {
            let counter = QuadCounter::new(options);
            Self::counting_within(rows, counter, starts, Period::ALL)
        }
    }

    /// Counting while letting go gives what counting everything at the end gives, over a log
    /// far longer than every horizon ([`long_log`]).
    #[test]
    fn bounded_counting_equals_counting_at_the_end() {
        let log = long_log();
        for options in [
            QuadOptions::default(),
            QuadOptions {
                min_confidence: 0.96,
                raw_paths: true,
            },
        ] {
            let (want, want_links) = count_quads_linked(&log, &reconstruct(&log), options);
            let mut rec = Reconstructor::counting(log.events().len(), options, Vec::new());
            for e in log.events() {
                rec.event(e);
            }
            let counted = rec.finish_counting();
            assert!(counted.requests.kept() == 0, "all counted at the end");
            let (got, got_links) = counted.counter.finish(&log, &counted.sockets);
            assert_eq!(got, want, "{options:?}");
            assert_eq!(got_links, want_links);
        }
    }

    /// Handing calls out as they are done with gives the rows of keeping them all, in the
    /// same order, over the same long log.
    #[test]
    fn calls_handed_out_equal_calls_kept() {
        let log = long_log();
        let rec = reconstruct(&log);
        let mut want = Vec::new();
        crate::report::calls::for_each_call_row(&log, &rec, |row| want.push(row));
        let (tx, rx) = std::sync::mpsc::sync_channel(1 << 10);
        let sink = crate::rebuild::attribute::CallSink::new(tx);
        let mut emitting =
            Reconstructor::emitting(log.events().len(), sink, Vec::new(), Period::ALL);
        for e in log.events() {
            emitting.event(e);
        }
        drop(emitting.finish_counting());
        let mut naming = crate::report::calls::Naming {
            log: &log,
            callees: crate::report::callee::CalleeNames::new(&log, &rec),
            funcs: crate::report::routes::Funcs::new(&log, &rec, false),
        };
        let got: Vec<_> = rx
            .into_iter()
            .flatten()
            .map(|d| naming.row(&d.call, d.request.as_ref(), d.linked.as_ref()))
            .collect();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g, w);
        }
    }

    /// Fifty minutes of traffic, far longer than every horizon: requests retired, a request
    /// open for 30 minutes (aside), a call in flight for 20 minutes, work spawned by a request
    /// long after it ended (within the spawn age), a timer firing 9 minutes after it was
    /// armed, a listener that moves from one service to another, and calls whose request the
    /// recording never saw.
    fn long_log() -> crate::model::events::EventLog {
        let mut b = LogBuilder::new();
        b.listen(0, 2, "users", "0.0.0.0:8080", None);
        for i in 0..200 {
            let t = i * MIN / 4; // every 15 s, for 50 minutes
            let g = 1000 + 10 * i;
            b.server_start(t, 1, "front", g, ":80", "/page")
                .client_start(t + 1, 1, "front", g, "localhost:8080", "/users/1");
            if i != 7 {
                b.client_end(t + 3, 1, "front", g, Some(200));
            }
            b.server_end(t + 4, 1, "front", g)
                .spawn(t + 2, 1, "front", g, g + 1)
                .client_start(t + 50_000, 1, "front", g + 1, "localhost:8080", "/late")
                .client_end(t + 50_010, 1, "front", g + 1, Some(200));
        }
        // Call 7's end comes 20 minutes later.
        b.client_end(7 * MIN / 4 + 20 * MIN, 1, "front", 1070, Some(200));
        // A request open for 30 minutes, calling at its start and end.
        b.server_start(MIN, 1, "front", 5, ":80", "/stream")
            .client_start(MIN + 1, 1, "front", 5, "localhost:8080", "/a")
            .client_end(MIN + 2, 1, "front", 5, Some(200))
            .client_start(31 * MIN, 1, "front", 5, "localhost:8080", "/b")
            .client_end(31 * MIN + 1, 1, "front", 5, Some(500))
            .server_end(31 * MIN + 2, 1, "front", 5);
        // A timer armed by a request, firing 9 minutes later.
        b.server_start(2 * MIN, 1, "front", 7, ":80", "/arm")
            .timer_arm(2 * MIN + 1, 1, "front", 7, 0xf00d)
            .server_end(2 * MIN + 2, 1, "front", 7)
            .spawn_value(11 * MIN, 1, "front", 0, 9, 0xf00d)
            .client_start(11 * MIN + 1, 1, "front", 9, "localhost:8080", "/timer")
            .client_end(11 * MIN + 2, 1, "front", 9, Some(200));
        // The listener moves to another service at 40 minutes.
        b.listen_end(40 * MIN, 2, "users", "0.0.0.0:8080", None)
            .listen(40 * MIN + 1, 3, "accounts", "0.0.0.0:8080", None);
        // Calls of a request the recording never saw start.
        b.client_start(45 * MIN, 1, "front", 77, "localhost:8080", "/orphan")
            .client_end(45 * MIN + 1, 1, "front", 77, Some(200))
            .server_end(45 * MIN + 2, 1, "front", 77);
        b.build()
    }

    #[test]
    fn requests_and_calls_are_let_go_while_counting() {
        let mut b = LogBuilder::new();
        for i in 0..2_000 {
            let t = i * 1_000; // one a second, for 33 minutes
            b.server_start(t, 1, "front", 10 + i, ":80", "/page")
                .client_start(t + 1, 1, "front", 10 + i, "10.0.0.1:80", "/x")
                .client_end(t + 2, 1, "front", 10 + i, Some(200))
                .server_end(t + 3, 1, "front", 10 + i);
        }
        let log = b.build();
        let mut rec = Reconstructor::counting(0, QuadOptions::default(), Vec::new());
        let mut most = (0, 0);
        for e in log.events() {
            rec.event(e);
            most.0 = most.0.max(rec.0.requests.kept());
            most.1 = most.1.max(rec.0.calls.kept());
        }
        // Requests: those of the last RETAIN_NS and a sweep; calls: LAG_NS and a sweep.
        let retained = (RETAIN_NS + 2 * SWEEP_NS) / 1_000_000_000 + 1;
        assert!(most.0 as i64 <= retained, "{most:?}");
        assert!(
            most.1 as i64 <= (LAG_NS + 2 * SWEEP_NS) / 1_000_000_000 + 1,
            "{most:?}"
        );
        let counted = rec.finish_counting();
        let (quads, _) = counted.counter.finish(&log, &counted.sockets);
        assert_eq!(quads.iter().map(|q| q.count).sum::<u64>(), 2_000);
    }
}
