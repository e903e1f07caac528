//! Context evidence: a call made with the request's `context.Context`, or with a context derived
//! from it (`WithTimeout`, `WithValue`, …, which keep their parent first, so the recorder can
//! read up to three ancestors), belongs to that request whatever goroutine makes it.
//!
//! A context is an address, not a value: once its request is over and the garbage collector has
//! freed it, the same address may name an unrelated context. The most recent request with the
//! address is the only candidate, and only for a while after it ended.

use crate::model::events::{ProcId, ProcKey};
use crate::rebuild::evidence::{Attribution, Evidence};
use crate::rebuild::requests::{Request, RequestId, Requests};
use table::AddrTable;

mod table;

/// How long after its request ended a context address still names that request. Work a handler
/// started and did not wait for (a fire-and-forget call with the request's context) runs on
/// briefly; a GC cycle that could hand the address to another context takes longer than a few
/// seconds to come round only on an idle heap, so the bound trades missed late calls for
/// misattributed ones.
pub const CONTEXT_AFTER_END_NS: i64 = 60 * 1_000_000_000;

/// Confidence when the call's own context is the request's: an exact identity, short of
/// certainty only because addresses are reused.
pub const CONTEXT_DIRECT: f64 = 0.9;

/// Less per ancestor level: a derived context can be handed to code that outlives the request
/// (a cache fill shared by later requests), and each level is one more chance of that.
pub const CONTEXT_ANCESTOR_STEP: f64 = 0.05;

/// The requests of every process, by context address.
#[derive(Debug, Default)]
pub struct Contexts {
    latest: AddrTable,
    /// Entries after the last [`Contexts::forget_stale`].
    kept: usize,
    /// Which requests an address may still name, as of the last look-over.
    current: Current,
}

impl Contexts {
    /// No requests yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `n` request contexts without growing.
    pub fn with_capacity(n: usize) -> Self {
        Contexts {
            latest: AddrTable::with_capacity(n),
            ..Self::default()
        }
    }

    /// A `server_start` with context `ctx` (0: not recorded).
    pub fn request_started(&mut self, proc: ProcId, ctx: i64, request: RequestId) {
        if ctx != 0 {
            self.latest.insert(ProcKey::new(proc, ctx), request.0);
        }
    }

    /// Forgets the addresses whose request can no longer be found by them at `now` or later
    /// (retired, or ended over [`CONTEXT_AFTER_END_NS`] ago), once the table is half full and
    /// has taken an eighth of its slots in entries since it was last looked over (so a walk
    /// through the slots costs at most eight slots read per entry put in): the table then
    /// stays at the size of a minute or two of requests, and lookups stay short. (Measured at
    /// 50 M events: a walk through 4 M slots takes ~40 ms, six of them in all; with a quarter,
    /// the table grew to 8 M slots, 64 MB more, to save 0.2 s.)
    ///
    /// Which requests are still current is known without looking each entry's request up
    /// (millions of lookups anywhere in the requests, a fifth of the pass's time when they were
    /// asked): see `Current`.
    pub fn forget_stale(&mut self, requests: &Requests, now: i64) {
        let (len, slots) = (self.latest.len(), self.latest.slots());
        if len * 2 < slots || len < self.kept + slots / 8 {
            return;
        }
        self.current.advance(requests, now);
        let current = &self.current;
        self.latest.retain(|id| current.holds(id));
        self.kept = self.latest.len();
    }

    /// How many addresses are kept.
    pub fn addresses(&self) -> usize {
        self.latest.len()
    }

    /// Readies the table for a `server_start` or a call a few events ahead (see
    /// `AddrTable::prefetch`), with context `chain` (0 where not recorded).
    #[inline]
    pub fn prefetch(&self, proc: ProcId, chain: &[i64]) {
        for &ctx in chain.iter().filter(|&&c| c != 0) {
            self.latest.prefetch(&ProcKey::new(proc, ctx));
        }
    }

    /// The request a call at `ts_ns` with contexts `chain` (its own, then its ancestors; 0
    /// where not recorded) was made for: the most recently started request whose context is
    /// one of them and which is open, or ended at most [`CONTEXT_AFTER_END_NS`] ago.
    pub fn find(
        &self,
        proc: ProcId,
        chain: &[i64; 4],
        ts_ns: i64,
        requests: &Requests,
    ) -> Option<Attribution> {
        let mut best: Option<(RequestId, usize)> = None;
        for (level, &ctx) in chain.iter().enumerate() {
            if ctx == 0 {
                continue;
            }
            let Some(id) = self.latest.get(&ProcKey::new(proc, ctx)).map(RequestId) else {
                continue;
            };
            let current = requests.get(id).is_some_and(|r| names_at(r, ts_ns));
            if current && !matches!(best, Some((b, _)) if b >= id) {
                best = Some((id, level));
            }
        }
        let (request, level) = best?;
        let confidence = CONTEXT_DIRECT - CONTEXT_ANCESTOR_STEP * level as f64;
        Some(Attribution::to(request, Evidence::Context, confidence))
    }
}

/// Whether request `r`'s context address still names it at `ts_ns`: it is open, or ended at
/// most [`CONTEXT_AFTER_END_NS`] before. Once false, false for good (time only goes on).
fn names_at(r: &Request, ts_ns: i64) -> bool {
    r.end_ns()
        .is_none_or(|end| ts_ns.saturating_sub(end) <= CONTEXT_AFTER_END_NS)
}

/// The requests an address may still name, kept as a bound on ids instead of an answer per
/// request: every request from `from` on, and before it only those in `long_lived`.
///
/// Requests are numbered in the order they started, and nearly all end within moments, so the
/// ones before the first request of the last minute that is still current are stale but for a
/// few long ones. Moving `from` forward reads the requests once each, in id order (memory read
/// forward, which the processor fetches ahead); the long ones it passes are remembered by id and
/// asked about again at each look-over until they are stale. Requests from `from` on that are
/// already stale stay named a little longer: that costs memory, never a result, since
/// [`Contexts::find`] asks the request itself.
#[derive(Debug, Default)]
struct Current {
    from: u32,
    /// Ids before `from` of requests still current when last asked, in increasing order.
    long_lived: Vec<u32>,
}

impl Current {
    /// Brings the bound up to `now`.
    fn advance(&mut self, requests: &Requests, now: i64) {
        let named = |id: u32| {
            requests
                .get(RequestId(id))
                .is_some_and(|r| names_at(r, now))
        };
        self.long_lived.retain(|&id| named(id));
        let started = u32::try_from(requests.started()).unwrap_or(u32::MAX);
        while self.from < started {
            match requests.get(RequestId(self.from)) {
                Some(r) if names_at(r, now) => {
                    // Started in the last minute: from here on, the requests are recent.
                    if now.saturating_sub(r.start_ns) <= CONTEXT_AFTER_END_NS {
                        break;
                    }
                    self.long_lived.push(self.from);
                }
                // Retired, or stale: no address names it any more.
                _ => {}
            }
            self.from += 1;
        }
    }

    /// Whether request `id` may still be named.
    fn holds(&self, id: u32) -> bool {
        id >= self.from || self.long_lived.binary_search(&id).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::EventLog;
    use crate::model::packed::{OptI32, OptI64};
    use crate::rebuild::requests::{End, Request};
    use crate::rebuild::stack::Stack;

    const S: i64 = 1_000_000_000;

    fn setup() -> (EventLog, ProcId, Requests, Contexts) {
        let mut log = EventLog::new();
        let p = log.process("h", 1);
        (log, p, Requests::new(), Contexts::new())
    }

    fn start(log: &mut EventLog, reqs: &mut Requests, goid: i64, ts: i64) -> RequestId {
        reqs.start(
            &mut Stack::default(),
            Request {
                proc: log.process("h", 1),
                service: log.intern("svc"),
                goid,
                method: None,
                path: None,
                listen_addr: None,
                remote: None,
                start_ns: ts,
                end: OptI64::NONE,
                status_code: OptI32::NONE,
                route: None,
                failed: false,
                grpc: false,
                carrier: false,
                called: false,
                awaits_cause: false,
                pending: 0,
            },
        )
    }

    fn end(reqs: &mut Requests, r: RequestId, ts: i64) {
        let mut open = Stack::default();
        open.push(r);
        reqs.end(Some(&mut open), End::at(ts));
    }

    #[test]
    fn the_call_context_or_an_ancestor_matches() {
        let (mut log, p, mut reqs, mut ctxs) = setup();
        let r = start(&mut log, &mut reqs, 7, 0);
        ctxs.request_started(p, 0xc0, r);
        let direct = ctxs.find(p, &[0xc0, 0, 0, 0], 1, &reqs);
        assert_eq!(direct, Some(Attribution::to(r, Evidence::Context, 0.9)));
        let ancestor = ctxs.find(p, &[0xd0, 0xd1, 0xc0, 0], 1, &reqs);
        assert_eq!(ancestor.map(|a| a.confidence), Some(0.8));
        assert_eq!(ctxs.find(p, &[0xd0, 0, 0, 0], 1, &reqs), None);
        let other = log.process("h", 2);
        assert_eq!(ctxs.find(other, &[0xc0, 0, 0, 0], 1, &reqs), None);
    }

    #[test]
    fn a_reused_address_names_the_latest_request() {
        let (mut log, p, mut reqs, mut ctxs) = setup();
        let old = start(&mut log, &mut reqs, 7, 0);
        ctxs.request_started(p, 0xc0, old);
        end(&mut reqs, old, 1);
        let new = start(&mut log, &mut reqs, 8, 2);
        ctxs.request_started(p, 0xc0, new);
        let found = ctxs.find(p, &[0xc0, 0, 0, 0], 3, &reqs);
        assert_eq!(found.and_then(|a| a.request), Some(new));
        // Of two matching ancestors, the most recent request wins.
        let other = start(&mut log, &mut reqs, 9, 4);
        ctxs.request_started(p, 0xe0, other);
        let found = ctxs.find(p, &[0xc0, 0xe0, 0, 0], 5, &reqs);
        assert_eq!(found.and_then(|a| a.request), Some(other));
    }

    #[test]
    fn an_ended_request_matches_only_for_a_while() {
        let (mut log, p, mut reqs, mut ctxs) = setup();
        let r = start(&mut log, &mut reqs, 7, 0);
        ctxs.request_started(p, 0xc0, r);
        end(&mut reqs, r, S);
        let chain = [0xc0, 0, 0, 0];
        assert!(ctxs
            .find(p, &chain, S + CONTEXT_AFTER_END_NS, &reqs)
            .is_some());
        assert_eq!(
            ctxs.find(p, &chain, S + CONTEXT_AFTER_END_NS + 1, &reqs),
            None
        );
    }
    #[test]
    fn a_look_over_forgets_the_stale_and_keeps_the_long_and_the_recent() {
        let (mut log, p, mut reqs, mut ctxs) = setup();
        let long = start(&mut log, &mut reqs, 1, 0);
        ctxs.request_started(p, 0x100, long);
        for i in 0..20 {
            let r = start(&mut log, &mut reqs, 2, (i + 1) * S);
            ctxs.request_started(p, 0x200 + 16 * i, r);
            end(&mut reqs, r, (i + 1) * S + 1_000);
        }
        let recent = start(&mut log, &mut reqs, 3, 150 * S);
        ctxs.request_started(p, 0x900, recent);
        end(&mut reqs, recent, 151 * S);
        assert_eq!(ctxs.addresses(), 22);
        ctxs.forget_stale(&reqs, 200 * S);
        assert_eq!(
            ctxs.addresses(),
            2,
            "only the open request and the recent one"
        );
        let find = |ctxs: &Contexts, reqs: &Requests, ctx: i64, at: i64| {
            ctxs.find(p, &[ctx, 0, 0, 0], at, reqs)
                .and_then(|a| a.request)
        };
        assert_eq!(find(&ctxs, &reqs, 0x100, 200 * S), Some(long));
        assert_eq!(find(&ctxs, &reqs, 0x900, 200 * S), Some(recent));
        // The long one ends; a minute later, with enough new entries, it goes too.
        let mut open = Stack::default();
        open.push(long);
        reqs.end(Some(&mut open), End::at(210 * S));
        for i in 0..20 {
            let r = start(&mut log, &mut reqs, 4, 280 * S + i);
            ctxs.request_started(p, 0x2000 + 16 * i, r);
        }
        ctxs.forget_stale(&reqs, 280 * S + 20);
        assert_eq!(find(&ctxs, &reqs, 0x100, 280 * S + 20), None);
        assert_eq!(ctxs.addresses(), 20, "the twenty open ones");
    }
}
