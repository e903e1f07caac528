//! Context evidence: a call made with the request's `context.Context`, or with a context derived
//! from it (`WithTimeout`, `WithValue`, …, which keep their parent first, so the recorder can
//! read up to three ancestors), belongs to that request whatever goroutine makes it.
//!
//! A context is an address, not a value: once its request is over and the garbage collector has
//! freed it, the same address may name an unrelated context. The most recent request with the
//! address is the only candidate, and only for a while after it ended.

use crate::model::events::{ProcId, ProcKey};
use crate::rebuild::evidence::{Attribution, Evidence};
use crate::rebuild::requests::{RequestId, Requests};
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
            kept: 0,
        }
    }

    /// A `server_start` with context `ctx` (0: not recorded).
    pub fn request_started(&mut self, proc: ProcId, ctx: i64, request: RequestId) {
        if ctx != 0 {
            self.latest.insert(ProcKey::new(proc, ctx), request.0);
        }
    }

    /// Forgets the addresses whose request can no longer be found by them at `now` or later
    /// (retired, or ended over [`CONTEXT_AFTER_END_NS`] ago), once the table has doubled
    /// since it was last looked over (so each entry is looked at a bounded number of times).
    pub fn forget_stale(&mut self, requests: &Requests, now: i64) {
        if self.latest.len() < (2 * self.kept).max(1 << 16) {
            return;
        }
        self.latest.retain(|id| {
            requests.get(RequestId(id)).is_some_and(|r| {
                r.end_ns
                    .is_none_or(|end| now.saturating_sub(end) <= CONTEXT_AFTER_END_NS)
            })
        });
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
            let current = requests.get(id).is_some_and(|r| {
                !matches!(r.end_ns, Some(end) if ts_ns.saturating_sub(end) > CONTEXT_AFTER_END_NS)
            });
            if current && !matches!(best, Some((b, _)) if b >= id) {
                best = Some((id, level));
            }
        }
        let (request, level) = best?;
        let confidence = CONTEXT_DIRECT - CONTEXT_ANCESTOR_STEP * level as f64;
        Some(Attribution::to(request, Evidence::Context, confidence))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::EventLog;
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
                end_ns: None,
                status: None,
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
}
