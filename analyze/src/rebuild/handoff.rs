//! What a channel receive hands its goroutine: the request the value's sender worked for, as
//! sure as the sender was times as sure as the pairing of the send with the receive (see
//! [`crate::rebuild::channels`]), for a while after the receive. Goroutine state keeps it
//! ([`crate::rebuild::goroutines`]), channel pairing makes it.

use crate::rebuild::evidence::{Carried, Evidence};
use crate::rebuild::requests::RequestId;

/// How long after a receive its goroutine still works for the sender's request. A job's work
/// follows its receive closely; a goroutine woken much later by something the recorder does
/// not see (a mutex, a condition variable) has likely moved on.
pub const MAX_HANDOFF_AGE_NS: i64 = 60 * 1_000_000_000;

/// What a goroutine works for after a receive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Handoff {
    /// The sender's request.
    pub request: RequestId,
    /// The sender's confidence times the pairing's.
    pub confidence: f64,
    /// When the value was received, ns.
    pub received_ns: i64,
}

impl Handoff {
    /// What a receive at `received_ns` of a value from `source` hands its goroutine, with the
    /// pairing's confidence `factor`.
    pub(crate) fn new(source: Carried, factor: f64, received_ns: i64) -> Self {
        Handoff {
            request: source.request,
            confidence: source.confidence() * factor,
            received_ns,
        }
    }

    /// What the receiver carries at `ts_ns`; nothing past [`MAX_HANDOFF_AGE_NS`].
    pub fn at(&self, ts_ns: i64) -> Option<Carried> {
        if ts_ns.saturating_sub(self.received_ns) > MAX_HANDOFF_AGE_NS {
            return None;
        }
        Some(Carried {
            request: self.request,
            evidence: Evidence::Channel,
            root: self.confidence,
            depth: 0,
        })
    }
}
