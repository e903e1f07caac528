//! The queues of channels with something in flight, and the pairing rules that run on them
//! (see the parent module for why each rule exists).

use std::collections::VecDeque;

use super::{
    Claim, Handoff, CHANNEL_FIFO, CHANNEL_VALUE_MATCH, CHANNEL_VALUE_MISMATCH, MAX_QUEUED_NS,
    OVERTAKEN_NS, PROBE_SKEW_NS, VALUE_SCAN_LIMIT,
};
use crate::rebuild::evidence::Carried;
use crate::rebuild::goroutines::GoIdx;

/// A recorded send waiting for its receive: when, the element's first bytes, and what the
/// sender worked for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Send {
    pub(super) ts_ns: i64,
    pub(super) value: Option<i64>,
    pub(super) source: Option<Carried>,
}

/// A receive that found no send, open to a late `select` send.
#[derive(Debug, Clone, Copy)]
pub(super) struct Await {
    pub(super) ts_ns: i64,
    pub(super) value: Option<i64>,
    pub(super) receiver: GoIdx,
    pub(super) seq: u32,
}

/// The queues slot of a channel with nothing in flight.
pub(super) const NO_QUEUES: u32 = u32::MAX;

/// The queues of the channels with something in flight. Slots are reused rather than freed:
/// only a few channels are busy at once, and a reused slot keeps its queues' buffers, so a
/// busy recording does not allocate per value sent.
#[derive(Debug, Default)]
pub(super) struct Slab {
    pub(super) all: Vec<Queues>,
    pub(super) free: Vec<u32>,
}

impl Slab {
    /// A slot with empty queues.
    pub(super) fn alloc(&mut self) -> u32 {
        if let Some(i) = self.free.pop() {
            return i;
        }
        self.all.push(Queues::default());
        // Four billion busy channels would not fit in memory; saturating only guards a wrap.
        u32::try_from(self.all.len() - 1).unwrap_or(NO_QUEUES)
    }

    /// Gives slot `i` back, emptied.
    pub(super) fn release(&mut self, i: u32) {
        if let Some(q) = self.all.get_mut(i as usize) {
            q.pending.clear();
            q.stale.clear();
            q.awaiting.clear();
            self.free.push(i);
        }
    }
}

/// What is in flight on one channel.
#[derive(Debug, Default)]
pub(super) struct Queues {
    /// Recorded sends not yet received, oldest first.
    pub(super) pending: VecDeque<Send>,
    /// Sends the queue state says are no longer buffered: matched by value only.
    pub(super) stale: VecDeque<Send>,
    /// Receives that found no send, open to a late `select` send.
    pub(super) awaiting: VecDeque<Await>,
}

/// Values compare when both are known; `None` when either is not.
fn same_value(a: Option<i64>, b: Option<i64>) -> Option<bool> {
    Some(a? == b?)
}

/// Adds `send` to the stale list, which keeps the newest [`VALUE_SCAN_LIMIT`].
fn push_stale(stale: &mut VecDeque<Send>, send: Send) {
    if stale.len() >= VALUE_SCAN_LIMIT {
        stale.pop_front();
    }
    stale.push_back(send);
}

impl Queues {
    pub(super) fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.stale.is_empty() && self.awaiting.is_empty()
    }

    /// See [`ChanState::take`].
    pub(super) fn take(&mut self, value: Option<i64>, ts_ns: i64) -> Option<(Send, f64)> {
        let cutoff = ts_ns.saturating_sub(MAX_QUEUED_NS);
        for queue in [&mut self.pending, &mut self.stale] {
            while queue.front().is_some_and(|s| s.ts_ns < cutoff) {
                queue.pop_front();
            }
        }
        if value.is_some() {
            let scan = self.pending.iter().take(VALUE_SCAN_LIMIT);
            if let Some(i) = scan.into_iter().position(|s| s.value == value) {
                let matched = self.pending.remove(i)?;
                self.retire_overtaken(i, matched.ts_ns);
                return Some((matched, CHANNEL_VALUE_MATCH));
            }
            let scan = self.stale.iter().take(VALUE_SCAN_LIMIT);
            if let Some(i) = scan.into_iter().position(|s| s.value == value) {
                return self.stale.remove(i).map(|s| (s, CHANNEL_VALUE_MATCH));
            }
        }
        let send = self.pending.pop_front()?;
        let factor = match same_value(send.value, value) {
            Some(_) => CHANNEL_VALUE_MISMATCH,
            None => CHANNEL_FIFO,
        };
        Some((send, factor))
    }

    /// A receive took the send at `matched_index`, sent at `matched_ns`. Channels are FIFO, so
    /// the sends queued before it that started well before it ([`OVERTAKEN_NS`]) were received
    /// already, unseen (a receiver blocked before the probes were attached): they leave the
    /// FIFO order for the stale list, where a later receive of their value still finds them.
    /// Left in the order, a freed job's address reused by a later job would pair the later
    /// job's receive with the old send.
    pub(super) fn retire_overtaken(&mut self, matched_index: usize, matched_ns: i64) {
        let cutoff = matched_ns.saturating_sub(OVERTAKEN_NS);
        let mut kept = 0;
        for _ in 0..matched_index {
            let Some(send) = self.pending.get(kept).copied() else {
                break;
            };
            if send.ts_ns >= cutoff {
                kept += 1;
                continue;
            }
            self.pending.remove(kept);
            push_stale(&mut self.stale, send);
        }
    }

    /// See [`ChanState::claim`].
    pub(super) fn claim(
        &mut self,
        value: Option<i64>,
        ts_ns: i64,
        source: Option<Carried>,
    ) -> Option<Claim> {
        expire_awaiting(&mut self.awaiting, ts_ns);
        let i = self
            .awaiting
            .iter()
            .position(|a| same_value(a.value, value) != Some(false))?;
        let a = self.awaiting.remove(i)?;
        let factor = match same_value(a.value, value) {
            Some(true) => CHANNEL_VALUE_MATCH,
            _ => CHANNEL_FIFO,
        };
        Some(Claim {
            receiver: a.receiver,
            seq: a.seq,
            handoff: source.map(|s| Handoff::new(s, factor, a.ts_ns)),
        })
    }

    /// See [`ChanState::drained`].
    pub(super) fn drained(&mut self, ts_ns: i64) {
        let cutoff = ts_ns.saturating_sub(PROBE_SKEW_NS);
        while self.pending.front().is_some_and(|s| s.ts_ns < cutoff) {
            if let Some(send) = self.pending.pop_front() {
                push_stale(&mut self.stale, send);
            }
        }
    }
}

pub(super) fn expire_awaiting(awaiting: &mut VecDeque<Await>, ts_ns: i64) {
    let cutoff = ts_ns.saturating_sub(PROBE_SKEW_NS);
    while awaiting.front().is_some_and(|a| a.ts_ns < cutoff) {
        awaiting.pop_front();
    }
}
