//! Client calls: one `client_start`, with its `client_end` when seen, and what reconstruction
//! concluded about it (the request it was made for, the request it caused). A type of its own so
//! that the parts of the pass that judge calls ([`crate::rebuild::attribute`],
//! [`crate::rebuild::links`]) share it without importing each other.

use crate::model::events::{ProcId, Sym};
use crate::rebuild::evidence::Attribution;
use crate::rebuild::requests::RequestId;

/// How long a client call without a recorded end still counts as in flight. While a call is in
/// flight, its goroutine's channel operations are the HTTP transport's own (handing the request
/// to the connection's goroutines and taking the response back) and say nothing about whom the
/// goroutine works for. An end lost to a full ring buffer, or a `roundTrip` whose returns the
/// recorder could not probe, must not leave a goroutine deaf to its jobs for ever; calls
/// longer than a minute are rare.
pub const MAX_CALL_NS: i64 = 60 * 1_000_000_000;

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
    /// The round trip returned an error (a transport error: no response).
    pub error: bool,
    /// The request it was made for.
    pub attribution: Attribution,
    /// The server request it caused, when the server was recorded too and the connection's
    /// address pair ties them ([`crate::rebuild::links`]).
    pub link: Option<RequestId>,
    /// How many times a listener began or stopped before it started (while analyzing in
    /// bounded memory; see [`crate::report::counter`]); 0 otherwise.
    pub epoch: u32,
}

impl ClientCall {
    /// Whether the call was in flight at `ts_ns` (started, and not yet returned; one without
    /// a recorded end for at most [`MAX_CALL_NS`]).
    pub fn in_flight_at(&self, ts_ns: i64) -> bool {
        self.ts_ns <= ts_ns
            && match self.end_ns {
                Some(end) => end >= ts_ns,
                None => ts_ns.saturating_sub(self.ts_ns) <= MAX_CALL_NS,
            }
    }
}
