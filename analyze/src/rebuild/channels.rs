//! Channel handoffs: pairing each receive with the send that put its value in the channel, so
//! that a worker that received a job from a handler works for the handler's request.
//!
//! Go channels are FIFO, so per (process, channel) receives pair with sends in order. The
//! element's first bytes, when recorded on both sides, pick the send out directly and survive
//! lost events. Values already buffered when the recording began have no recorded send: the
//! queue length at the first event on a channel says how many receives to leave unpaired.
//! A receive that pairs with nothing (a ticker's, whose runtime send is never recorded) hands
//! its goroutine nothing.
//!
//! Two probe effects are corrected. A `select` send is recorded at `selectgo`'s return, after
//! the value moved, so its receiver may be recorded first: a receive that found no send waits
//! [`PROBE_SKEW_NS`] for a late `select` send to claim it. And an address reused for a new
//! channel after the garbage collector freed the old one (a per-request result channel that
//! timed out with a value still in it) would feed the new channel stale sends: whenever the
//! queue state shows an empty buffer, sends older than the skew are taken out of the FIFO
//! order. They stay matchable by value for a while, because the probe that read the empty
//! buffer may have run after another receiver took its value but before that receiver's own
//! probe: that receiver must still find its send.

use std::collections::hash_map::Entry;

use crate::model::events::{ChanOp, IdMap, ProcId, ProcKey};
use crate::rebuild::evidence::Carried;
use crate::rebuild::goroutines::GoIdx;
use crate::rebuild::handoff::Handoff;
use queues::{expire_awaiting, Await, Queues, Send, Slab, NO_QUEUES};

mod queues;

/// Confidence factor when the received bytes equal the paired send's: FIFO order and the value
/// agree (or the value alone, when order was upset by a lost event).
pub const CHANNEL_VALUE_MATCH: f64 = 0.9;
/// Confidence factor when the runtime itself named the receiver: a send that found a goroutine
/// blocked on the channel hands it the value directly (its `recvq`), so no pairing is needed.
pub const CHANNEL_DIRECT: f64 = 0.95;
/// Confidence factor when order alone pairs them (`chan struct{}`, a discarded receive): right
/// as long as no operation on the channel went unrecorded.
pub const CHANNEL_FIFO: f64 = 0.7;
/// Confidence factor when both values are known and no waiting send has the received one:
/// order alone pairs them and the bytes disagree. Either an event was lost and the order is off
/// by one, or the receive's bytes were read from a stale address (a goroutine's stack moves
/// while it is blocked in a receive, and the recorder reads the element where it was at
/// entry); the second is common, so the disagreement weighs only a little.
pub const CHANNEL_VALUE_MISMATCH: f64 = 0.6;

/// How long a send may wait for its receive. A value queued longer most likely had its receive
/// lost (ring-buffer overflow) or taken by an unrecorded non-blocking receive; letting it pair
/// would shift every later pairing on the channel by one.
pub const MAX_QUEUED_NS: i64 = 60 * 1_000_000_000;

/// How far a probe's timestamp may trail the operation it records: a `select` send is stamped
/// at `selectgo`'s return, after its receiver may already have run; a send is stamped at
/// `chansend1`'s entry, before its value is in the buffer. Preemption can stretch the gap from
/// microseconds to a scheduler tick.
pub const PROBE_SKEW_NS: i64 = 1_000_000;

/// How many waiting sends a received value is compared with. A match deeper than this would
/// mean the channel's order is badly off; the bound keeps a backlog from making each receive
/// cost a scan of it.
pub const VALUE_SCAN_LIMIT: usize = 64;

/// How much earlier than a received send another send may have started and still be waiting:
/// concurrent senders reach the channel's lock in an order that may differ from their probe
/// timestamps by scheduling noise (well under this), never by this much.
pub const OVERTAKEN_NS: i64 = 10_000_000;

/// A late `select` send claimed an earlier receive: the receiver works for `handoff`, if it
/// has not received anything since (its receive count is still `seq`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Claim {
    /// The receiving goroutine.
    pub receiver: GoIdx,
    /// Its receive count right after that receive.
    pub seq: u32,
    /// What it works for.
    pub handoff: Option<Handoff>,
}

/// One channel that has something in flight, values from before the recording, or a buffer
/// not known to be empty (others are forgotten: [`ChanState::idle_after`]). Its queues live
/// out of line, in a [`Slab`] slot given back whenever they are all empty, so that a state is
/// 12 bytes.
#[derive(Debug, Clone, Copy)]
struct ChanState {
    /// Buffer size at the first event (0 when unbuffered or not recorded).
    dataqsiz: i32,
    /// Receives still to come whose value was sent before the recording began.
    orphans: u32,
    /// Its queues' slot in the [`Slab`]; [`NO_QUEUES`] while nothing is in flight.
    queues: u32,
}

impl ChanState {
    /// The state at a channel's first event `op` (a send when `send`).
    fn first(op: &ChanOp, send: bool) -> Self {
        ChanState {
            dataqsiz: op.dataqsiz.unwrap_or(0),
            orphans: orphans_at_first(op, send),
            queues: NO_QUEUES,
        }
    }

    /// Runs `f` on the queues, given a slot for it if there are none, and gives the slot back
    /// if it leaves them all empty.
    fn with_queues<T>(&mut self, slab: &mut Slab, f: impl FnOnce(&mut Queues) -> T) -> T {
        if self.queues == NO_QUEUES {
            self.queues = slab.alloc();
        }
        // The slot is always in range; an empty stand-in (allocation-free) keeps this total.
        let mut stand_in = Queues::default();
        let queues = slab
            .all
            .get_mut(self.queues as usize)
            .unwrap_or(&mut stand_in);
        let result = f(queues);
        if queues.is_empty() {
            slab.release(self.queues);
            self.queues = NO_QUEUES;
        }
        result
    }

    /// The earliest waiting send with the received value, else one taken out of the order
    /// with that value, else the earliest waiting send.
    fn take(&mut self, slab: &mut Slab, value: Option<i64>, ts_ns: i64) -> Option<(Send, f64)> {
        if self.queues == NO_QUEUES {
            return None;
        }
        self.with_queues(slab, |q| q.take(value, ts_ns))
    }

    /// Forgets receives too old for a late `select` send to claim (a ticker's channel has
    /// only those), then adds `a`.
    fn wait(&mut self, slab: &mut Slab, a: Await) {
        self.with_queues(slab, |q| {
            expire_awaiting(&mut q.awaiting, a.ts_ns);
            q.awaiting.push_back(a);
        });
    }

    /// A `select` send at `ts_ns` that may have been recorded after its receive.
    fn claim(
        &mut self,
        slab: &mut Slab,
        value: Option<i64>,
        ts_ns: i64,
        source: Option<Carried>,
    ) -> Option<Claim> {
        if self.queues == NO_QUEUES {
            return None;
        }
        self.with_queues(slab, |q| q.claim(value, ts_ns, source))
    }

    /// The queue state shows an empty buffer (or a drained, closed channel): sends recorded
    /// more than [`PROBE_SKEW_NS`] ago are no longer in it, nor is anything from before the
    /// recording. Such sends leave the FIFO order for the stale list, which keeps the newest
    /// [`VALUE_SCAN_LIMIT`].
    fn drained(&mut self, slab: &mut Slab, ts_ns: i64) {
        if self.queues != NO_QUEUES {
            self.with_queues(slab, |q| q.drained(ts_ns));
        }
        self.orphans = 0;
    }

    /// A send waits for its receive.
    fn push(&mut self, slab: &mut Slab, send: Send) {
        self.with_queues(slab, |q| q.pending.push_back(send));
    }

    fn resync(&mut self, op: &ChanOp) -> bool {
        // Only a buffered channel's count says anything: an unbuffered one always reads 0.
        op.dataqsiz.unwrap_or(0) > 0 && op.qcount == Some(0)
    }

    /// Whether the channel can be forgotten after `op`: nothing in flight on it and its
    /// buffer empty. Most channels carry one value and are never used again; kept, they would
    /// fill the table with millions of states, each lookup a cache miss. A later event on a
    /// forgotten channel starts it afresh, which pairs exactly as the kept state would have:
    /// no sends waiting, no receives awaiting a late `select`, no values from before the
    /// recording (an unbuffered channel never has any; a buffered one's count said empty).
    /// Only values sent unrecorded in between are taken differently: as buffered before the
    /// recording, rather than paired with a later recorded send (which they are not).
    fn idle_after(&self, op: &ChanOp) -> bool {
        self.queues == NO_QUEUES
            && self.orphans == 0
            && (self.dataqsiz == 0 || op.qcount == Some(0))
    }

    /// See [`Channels::send`].
    fn send(
        &mut self,
        slab: &mut Slab,
        op: &ChanOp,
        ts_ns: i64,
        source: Option<Carried>,
    ) -> Option<Claim> {
        let claim = if op.in_select {
            self.claim(slab, op.value, ts_ns, source)
        } else {
            None
        };
        if self.resync(op) {
            self.drained(slab, ts_ns);
        }
        if claim.is_none() {
            self.push(
                slab,
                Send {
                    ts_ns,
                    value: op.value,
                    source,
                },
            );
        }
        claim
    }

    /// See [`Channels::recv`]; `fresh`: the first event on the channel.
    fn recv(
        &mut self,
        slab: &mut Slab,
        fresh: bool,
        op: &ChanOp,
        ts_ns: i64,
        receiver: GoIdx,
        seq: u32,
    ) -> Option<Handoff> {
        if !op.completed {
            // Closed and drained: nothing was waiting, and nothing was received.
            self.drained(slab, ts_ns);
            return None;
        }
        let paired = if fresh {
            Pairing::Unpaired
        } else if self.orphans > 0 {
            self.orphans -= 1;
            Pairing::Orphan
        } else {
            self.take(slab, op.value, ts_ns)
                .map_or(Pairing::Unpaired, |(send, factor)| {
                    Pairing::Send(send, factor)
                })
        };
        if self.resync(op) {
            self.drained(slab, ts_ns);
        }
        match paired {
            Pairing::Send(send, factor) => send.source.map(|s| Handoff::new(s, factor, ts_ns)),
            Pairing::Orphan => None,
            Pairing::Unpaired => {
                self.wait(
                    slab,
                    Await {
                        ts_ns,
                        value: op.value,
                        receiver,
                        seq,
                    },
                );
                None
            }
        }
    }
}

/// The channels of every process, by (process, channel address). States are kept in the map
/// itself: one lookup per operation, no second array to miss in.
#[derive(Debug, Default)]
pub struct Channels {
    states: IdMap<ProcKey, ChanState>,
    slab: Slab,
}

/// Values buffered before the recording began, from the queue state at a channel's first
/// event: `qcount` is taken before a `chansend1`, after a receive, and after a `select` send
/// (whose own value it then includes when buffered).
fn orphans_at_first(op: &ChanOp, send: bool) -> u32 {
    let q = u32::try_from(op.qcount.unwrap_or(0)).unwrap_or(0);
    if send && op.in_select {
        q.saturating_sub(1)
    } else {
        q
    }
}

impl Channels {
    /// No channels yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `n` channels in flight at once without growing.
    pub fn with_capacity(n: usize) -> Self {
        Channels {
            states: IdMap::with_capacity_and_hasher(n, Default::default()),
            slab: Slab::default(),
        }
    }

    /// Runs `f` on the channel's state, with whether this is the first event on it (or on a
    /// new channel at a reused address, when the buffer size changed), and keeps the state
    /// only if `op` leaves something to remember: most channels carry one value at a time, so
    /// a state is mostly made and dropped again, and one lookup serves both.
    fn with_state<T>(
        &mut self,
        key: ProcKey,
        op: &ChanOp,
        send: bool,
        f: impl FnOnce(&mut ChanState, &mut Slab, bool) -> T,
    ) -> T {
        let slab = &mut self.slab;
        match self.states.entry(key) {
            Entry::Vacant(v) => {
                let mut st = ChanState::first(op, send);
                let out = f(&mut st, slab, true);
                if !st.idle_after(op) {
                    v.insert(st);
                }
                out
            }
            Entry::Occupied(mut o) => {
                let st = o.get_mut();
                let fresh = op.dataqsiz.is_some_and(|now| now != st.dataqsiz);
                if fresh {
                    if st.queues != NO_QUEUES {
                        slab.release(st.queues);
                    }
                    *st = ChanState::first(op, send);
                }
                let out = f(st, slab, fresh);
                if st.idle_after(op) {
                    o.remove();
                }
                out
            }
        }
    }

    /// A send at `ts_ns` by a goroutine carrying `source`. A late `select` send may instead
    /// complete an earlier receive, returned for the caller to apply.
    pub fn send(
        &mut self,
        proc: ProcId,
        op: &ChanOp,
        ts_ns: i64,
        source: Option<Carried>,
    ) -> Option<Claim> {
        if op.chan == 0 {
            return None;
        }
        let key = ProcKey::new(proc, op.chan);
        self.with_state(key, op, true, |st, slab, _| {
            st.send(slab, op, ts_ns, source)
        })
    }

    /// A receive at `ts_ns` by `receiver`, whose receive count after it is `seq`: what the
    /// receiver now works for (`None`: nothing).
    pub fn recv(
        &mut self,
        proc: ProcId,
        op: &ChanOp,
        ts_ns: i64,
        receiver: GoIdx,
        seq: u32,
    ) -> Option<Handoff> {
        if op.chan == 0 {
            return None;
        }
        let key = ProcKey::new(proc, op.chan);
        self.with_state(key, op, false, |st, slab, fresh| {
            st.recv(slab, fresh, op, ts_ns, receiver, seq)
        })
    }
}

/// What a receive paired with.
enum Pairing {
    /// A recorded send, with the pairing's confidence factor.
    Send(Send, f64),
    /// A value buffered before the recording began.
    Orphan,
    /// Nothing recorded: a runtime send (a ticker), an unrecorded one, or a late `select`.
    Unpaired,
}

#[cfg(test)]
mod tests;
