//! Calls handed out one by one, in time order, as they are done with, for commands whose output
//! is a row per call (`analyze calls`): nothing holds every call of a recording.
//!
//! Calls are done with out of order (one waits for its request to end, a long one is set
//! aside), but their ids are their order in time, so a done call waits here until every call
//! before it is done too, and is then handed out. A call still open long after the calls
//! behind it would hold all of those here: past [`MAX_WAITING`] waiting calls the earliest is
//! handed out anyway, and the receiver sees a row out of time order (which it counts).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::mpsc::SyncSender;

use crate::rebuild::client::ClientCall;
use crate::rebuild::requests::Request;

/// The most calls that wait for an earlier one (a few hundred bytes each).
const MAX_WAITING: usize = 1 << 18;

/// Calls handed out at a time.
const BATCH: usize = 4096;

/// A call done with, with the request it was made for and the request it caused, as they
/// were then (either may be let go before the call is handed out).
#[derive(Debug)]
pub(crate) struct DoneCall {
    pub(crate) id: u32,
    pub(crate) call: ClientCall,
    pub(crate) request: Option<Request>,
    pub(crate) linked: Option<Request>,
}

impl PartialEq for DoneCall {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for DoneCall {}

impl PartialOrd for DoneCall {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DoneCall {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id.cmp(&other.id)
    }
}

/// Done calls waiting for earlier ones, and where they go.
#[derive(Debug)]
pub(crate) struct CallSink {
    waiting: BinaryHeap<Reverse<DoneCall>>,
    /// [`MAX_WAITING`] but in tests.
    max_waiting: usize,
    batch: Vec<DoneCall>,
    /// `None` once the receiver is gone (it stopped on an error of its own).
    out: Option<SyncSender<Vec<DoneCall>>>,
}

impl CallSink {
    pub(crate) fn new(out: SyncSender<Vec<DoneCall>>) -> Self {
        CallSink {
            waiting: BinaryHeap::new(),
            max_waiting: MAX_WAITING,
            batch: Vec::with_capacity(BATCH),
            out: Some(out),
        }
    }

    /// A call is done with.
    pub(crate) fn done(&mut self, call: DoneCall) {
        self.waiting.push(Reverse(call));
    }

    /// Hands out the waiting calls before `oldest`, the oldest call not yet done with (every
    /// one when `None`), in order; and the earliest ones beyond [`MAX_WAITING`].
    pub(crate) fn release(&mut self, oldest: Option<u32>) {
        while let Some(Reverse(first)) = self.waiting.peek() {
            let due = oldest.is_none_or(|o| first.id < o) || self.waiting.len() > self.max_waiting;
            if !due {
                break;
            }
            if let Some(Reverse(call)) = self.waiting.pop() {
                self.batch.push(call);
                if self.batch.len() >= BATCH {
                    self.send();
                }
            }
        }
        if oldest.is_none() {
            self.send();
        }
    }

    fn send(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        if let Some(out) = &self.out {
            if out.send(batch).is_err() {
                self.out = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::{EventLog, ProcId};
    use crate::rebuild::attribute::Attribution;

    fn done(id: u32) -> DoneCall {
        let service = EventLog::new().intern("front");
        DoneCall {
            id,
            call: ClientCall {
                proc: ProcId::from_index(0),
                service,
                goid: 1,
                ts_ns: i64::from(id),
                method: None,
                host: None,
                path: None,
                end_ns: None,
                status: None,
                error: false,
                attribution: Attribution::NONE,
                link: None,
                epoch: 0,
            },
            request: None,
            linked: None,
        }
    }

    /// The ids of the next batch sent.
    fn sent(rx: &std::sync::mpsc::Receiver<Vec<DoneCall>>) -> Vec<u32> {
        let batch = rx.try_recv().unwrap_or_default();
        batch.iter().map(|d| d.id).collect()
    }

    /// Calls go out in id order once every earlier one is done; past the limit, the earliest
    /// go out anyway.
    #[test]
    fn calls_wait_for_earlier_ones_up_to_a_limit() {
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let mut sink = CallSink::new(tx);
        sink.max_waiting = 3;
        for id in [4, 2, 3] {
            sink.done(done(id));
        }
        // Call 1 is still open: nothing may go.
        sink.release(Some(1));
        sink.send();
        assert!(rx.try_recv().is_err());
        sink.release(Some(4));
        sink.send();
        assert_eq!(sent(&rx), [2, 3]);
        for id in 5..10 {
            sink.done(done(id));
        }
        // 4..=9 wait behind call 1, three too many.
        sink.release(Some(1));
        sink.send();
        assert_eq!(sent(&rx), [4, 5, 6]);
        sink.release(None);
        assert_eq!(sent(&rx), [7, 8, 9]);
    }
}
