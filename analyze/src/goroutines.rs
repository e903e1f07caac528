//! Per-goroutine state: what each goroutine works for, by descent or by handoff, and its client
//! calls still in flight.
//!
//! A goroutine starts out as its spawner left it ([`Inherited`]). Its first completed channel
//! receive makes it a *worker*: from then on only what it last received ([`Handoff`]) says whom
//! it works for, so a long-lived worker spawned lazily by one request does not keep working for
//! that request while it serves others from a queue.

use crate::channels::Handoff;
use crate::events::{IdMap, ProcId};
use crate::evidence::Carried;
use crate::lineage::Inherited;
use crate::requests::RequestId;

/// Index of a goroutine in [`Goroutines`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GoIdx(pub(crate) u32);

/// What is known about one goroutine.
#[derive(Debug, Default)]
pub struct GoState {
    /// A spawn event for it was seen (the first one counts).
    pub spawn_seen: bool,
    /// What it inherited at its spawn.
    pub inherited: Option<Inherited>,
    /// It has completed a channel receive: lineage no longer speaks for it.
    pub worker: bool,
    /// What its latest receive handed it.
    pub handoff: Option<Handoff>,
    /// How many receives it has done (to tell whether a late claim is still current).
    pub recv_seq: u32,
    /// Its client calls in flight (indexes into the calls), innermost last.
    pub open_calls: Vec<usize>,
}

impl GoState {
    /// What the goroutine works for at `ts_ns`, to pass on to what it starts; `open` is the
    /// request open on it, if any. Context evidence belongs to single calls and is not here.
    pub fn carried(&self, open: Option<RequestId>, ts_ns: i64) -> Option<Carried> {
        if let Some(request) = open {
            return Some(Carried::same_goroutine(request));
        }
        if self.worker {
            self.handoff.and_then(|h| h.at(ts_ns))
        } else {
            self.inherited.and_then(|i| i.at(ts_ns))
        }
    }

    /// A receive: a completed one makes the goroutine a worker for what it was handed; one from
    /// a closed channel ends a worker's current job without handing it a new one. Returns the
    /// receive count after it.
    pub fn received(&mut self, completed: bool, handoff: Option<Handoff>) -> u32 {
        if completed {
            self.worker = true;
        }
        if self.worker {
            self.handoff = handoff;
        }
        self.recv_seq = self.recv_seq.wrapping_add(1);
        self.recv_seq
    }
}

/// Every goroutine seen, by (process, goid).
#[derive(Debug, Default)]
pub struct Goroutines {
    ids: IdMap<(ProcId, i64), GoIdx>,
    states: Vec<GoState>,
}

impl Goroutines {
    /// None yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The goroutine's index, creating its state on first sight.
    pub fn id(&mut self, proc: ProcId, goid: i64) -> GoIdx {
        let next = GoIdx(u32::try_from(self.states.len()).unwrap_or(u32::MAX));
        let id = *self.ids.entry((proc, goid)).or_insert(next);
        if id == next {
            self.states.push(GoState::default());
        }
        id
    }

    /// The goroutine's index, if it was ever seen.
    pub fn find(&self, proc: ProcId, goid: i64) -> Option<GoIdx> {
        self.ids.get(&(proc, goid)).copied()
    }

    /// Its state. Indexes come only from [`Goroutines::id`], so they are always in range; the
    /// fallback is for the type system.
    pub fn get(&self, id: GoIdx) -> &GoState {
        static EMPTY: GoState = GoState {
            spawn_seen: false,
            inherited: None,
            worker: false,
            handoff: None,
            recv_seq: 0,
            open_calls: Vec::new(),
        };
        self.states.get(id.0 as usize).unwrap_or(&EMPTY)
    }

    /// Its state, to change.
    pub fn get_mut(&mut self, id: GoIdx) -> Option<&mut GoState> {
        self.states.get_mut(id.0 as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventLog;
    use crate::evidence::Evidence;

    const S: i64 = 1_000_000_000;

    #[test]
    fn ids_are_per_process_and_stable() {
        let mut log = EventLog::new();
        let (p1, p2) = (log.process("h", 1), log.process("h", 2));
        let mut g = Goroutines::new();
        let a = g.id(p1, 7);
        assert_eq!(g.id(p1, 7), a);
        assert_ne!(g.id(p2, 7), a);
        assert_eq!(g.find(p1, 7), Some(a));
        assert_eq!(g.find(p1, 8), None);
    }

    #[test]
    fn an_open_request_beats_everything_and_a_receive_replaces_lineage() {
        let r = |n| RequestId(n);
        let mut st = GoState {
            inherited: Inherited::from_parent(Carried::same_goroutine(r(1)), 0),
            ..GoState::default()
        };
        let carried = |st: &GoState, open| st.carried(open, S).map(|c| (c.request, c.evidence));
        assert_eq!(carried(&st, None), Some((r(1), Evidence::Spawned)));
        assert_eq!(
            carried(&st, Some(r(9))),
            Some((r(9), Evidence::SameGoroutine))
        );
        // A closed channel says nothing to a goroutine that never received.
        st.received(false, None);
        assert_eq!(carried(&st, None), Some((r(1), Evidence::Spawned)));
        let handoff = Handoff {
            request: r(2),
            confidence: 0.9,
            received_ns: S,
        };
        assert_eq!(st.received(true, Some(handoff)), 2);
        assert_eq!(carried(&st, None), Some((r(2), Evidence::Channel)));
        // A receive that pairs with nothing leaves a worker working for nothing, not for the
        // request that spawned it.
        st.received(true, None);
        assert_eq!(carried(&st, None), None);
        st.received(true, Some(handoff));
        st.received(false, None);
        assert_eq!(carried(&st, None), None, "a closed channel ends the job");
    }
}
