//! Server requests: pairing `server_start` with `server_end` on each goroutine.
//!
//! A start and its end happen on the same goroutine and nest (a handler may serve another
//! handler in-process), so each goroutine keeps a stack of open requests and an end closes the
//! latest open one. An end with nothing open is a request that started before the recording
//! did; it is counted and otherwise ignored. A start that never ends (the recording stopped
//! first) is still a request: whatever it called was observed.

use crate::model::events::{ProcId, Sym};
use crate::model::packed::{OptI32, OptI64};
use crate::rebuild::stack::Stack;
use crate::rebuild::window::{Verdict, Window};

/// Index of a request in [`Requests::all`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u32);

/// One server request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The serving process.
    pub proc: ProcId,
    /// Its service name.
    pub service: Sym,
    /// The goroutine that served it.
    pub goid: i64,
    /// HTTP method, if recorded.
    pub method: Option<Sym>,
    /// Request path, if recorded.
    pub path: Option<Sym>,
    /// The address the serving `http.Server` listened on, if recorded.
    pub listen_addr: Option<Sym>,
    /// The client's `ip:port` as the server's connection saw it, if recorded (schema 4).
    pub remote: Option<Sym>,
    /// When it started, ns.
    pub start_ns: i64,
    /// When it ended, ns; none when the recording stopped first (see [`Request::end_ns`]).
    pub end: OptI64,
    /// Status written, known at the end (see [`Request::status`]).
    pub status_code: OptI32,
    /// The route template that served it, known at the end (schema 3 recordings of services
    /// that have routes).
    pub route: Option<Sym>,
    /// It ended with a gRPC status other than OK (an HTTP request fails by its 5xx).
    pub failed: bool,
    /// A gRPC request.
    pub grpc: bool,
    /// It only carried a gRPC request of the same path (gRPC served through net/http's
    /// `ServeHTTP`: the HTTP/2 request is the RPC, whose handler grpc-go runs on a goroutine of
    /// its own), which is the one counted.
    pub carrier: bool,
    /// Some call counted for it already (while counting in bounded memory).
    pub called: bool,
    /// A call linked to it as its cause is not yet counted (while counting in bounded memory):
    /// that call is named by it, so it stays until then.
    pub awaits_cause: bool,
    /// Its calls not yet counted (while counting in bounded memory): it stays until they are.
    pub pending: u16,
}

impl Request {
    /// When it ended, ns; `None` when the recording stopped first.
    #[inline]
    pub fn end_ns(&self) -> Option<i64> {
        self.end.get()
    }

    /// Status written, known at the end.
    #[inline]
    pub fn status(&self) -> Option<i32> {
        self.status_code.get()
    }
}

/// What a `server_end` says about its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct End {
    /// When, ns.
    pub ts_ns: i64,
    /// Status written.
    pub status: Option<i32>,
    /// The route template that served the request.
    pub route: Option<Sym>,
    /// A gRPC request ended with a status other than OK.
    pub failed: bool,
}

impl End {
    /// An end at `ts_ns` that says nothing else.
    pub fn at(ts_ns: i64) -> Self {
        End {
            ts_ns,
            status: None,
            route: None,
            failed: false,
        }
    }
}

/// Every request seen so far, or the recent ones when old ones are retired (see
/// [`crate::rebuild::window`]). The requests open on a goroutine are kept with the goroutine's
/// state (a [`Stack`] passed in), so that one lookup finds everything about a goroutine.
#[derive(Debug, Default)]
pub struct Requests {
    all: Window<Request>,
    unmatched_ends: u64,
}

impl Requests {
    /// No requests yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `n` requests without growing.
    pub fn with_capacity(n: usize) -> Self {
        Requests {
            all: Window::with_capacity(n),
            unmatched_ends: 0,
        }
    }

    /// A `server_start`: opens a request on its goroutine, whose open requests are `open`.
    pub fn start(&mut self, open: &mut Stack<RequestId>, request: Request) -> RequestId {
        let id = RequestId(self.all.push(request));
        open.push(id);
        id
    }

    /// A gRPC request `rpc` started: the latest open HTTP request of the same process and path
    /// that began shortly before carries it (grpc-go's `ServeHTTP`). Only the newest requests
    /// are looked at: the carrier began microseconds before.
    pub fn carried_by_http(&mut self, rpc: &Request) {
        const LOOK_BACK: usize = 64;
        const WITHIN_NS: i64 = 1_000_000_000;
        let carrier = self.all.newest_mut(LOOK_BACK).rev().find(|r| {
            !r.grpc
                && !r.carrier
                && r.end_ns().is_none()
                && r.proc == rpc.proc
                && r.path.is_some()
                && r.path == rpc.path
                && rpc.start_ns.saturating_sub(r.start_ns) <= WITHIN_NS
        });
        if let Some(r) = carrier {
            r.carrier = true;
        }
    }

    /// A `server_end`: closes the latest of the goroutine's `open` requests, if it has one.
    pub fn end(&mut self, open: Option<&mut Stack<RequestId>>, end: End) -> Option<RequestId> {
        let Some(id) = open.and_then(Stack::pop) else {
            self.unmatched_ends += 1;
            return None;
        };
        if let Some(r) = self.all.get_mut(id.0) {
            r.end = OptI64::new(Some(end.ts_ns));
            r.status_code = OptI32::new(end.status);
            r.route = end.route;
            r.failed = end.failed;
        }
        Some(id)
    }

    /// The request behind `id`, unless it was retired.
    #[inline]
    pub fn get(&self, id: RequestId) -> Option<&Request> {
        self.all.get(id.0)
    }

    /// The request behind `id` to change, unless it was retired.
    pub fn get_mut(&mut self, id: RequestId) -> Option<&mut Request> {
        self.all.get_mut(id.0)
    }

    /// Every request kept, in start order.
    pub fn all(&self) -> impl Iterator<Item = &Request> {
        self.all.iter().map(|(_, r)| r)
    }

    /// Every request kept, in start order, with its id.
    pub fn all_with_ids(&self) -> impl Iterator<Item = (RequestId, &Request)> {
        self.all.iter().map(|(id, r)| (RequestId(id), r))
    }

    /// How many requests were ever started.
    pub fn started(&self) -> usize {
        self.all.issued()
    }

    /// How many requests are kept (counting them takes a moment: for checks).
    pub fn kept(&self) -> usize {
        self.all.kept()
    }

    /// Retires requests from the front while `judge` allows (see [`Window::retire_front`]),
    /// then those set aside that it allows.
    pub fn retire(
        &mut self,
        mut judge: impl FnMut(RequestId, &Request) -> Verdict,
        mut done: impl FnMut(RequestId, Request),
    ) {
        self.all.retire_aside(
            |id, r| judge(RequestId(id), r),
            |id, r| done(RequestId(id), r),
        );
        self.all.retire_front(
            |id, r| judge(RequestId(id), r),
            |id, r| done(RequestId(id), r),
        );
    }

    /// Hands every request kept to `each`, in start order, leaving none.
    pub fn drain_each(&mut self, mut each: impl FnMut(RequestId, Request)) {
        self.all.drain_each(|id, r| each(RequestId(id), r));
    }

    /// Ends that had no open start on their goroutine (requests begun before the recording).
    pub fn unmatched_ends(&self) -> u64 {
        self.unmatched_ends
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::EventLog;

    fn request(log: &mut EventLog, goid: i64, path: &str, ts: i64) -> Request {
        Request {
            proc: log.process("h", 1),
            service: log.intern("svc"),
            goid,
            method: None,
            path: Some(log.intern(path)),
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
        }
    }

    /// gRPC served through `ServeHTTP`: the HTTP/2 request POST /cart.v1.Cart/AddItem and the RPC
    /// of the same path, on another goroutine. The HTTP one only carries the RPC.
    #[test]
    fn an_http_request_carrying_an_rpc_of_its_path_is_a_carrier() {
        let mut log = EventLog::new();
        let mut reqs = Requests::new();
        let (mut g10, mut g11, mut g12) = (Stack::default(), Stack::default(), Stack::default());
        let other = reqs.start(&mut g12, request(&mut log, 12, "/cart.v1.Cart/List", 1));
        let http = reqs.start(&mut g10, request(&mut log, 10, "/cart.v1.Cart/AddItem", 2));
        let rpc = Request {
            grpc: true,
            ..request(&mut log, 11, "/cart.v1.Cart/AddItem", 3)
        };
        reqs.carried_by_http(&rpc);
        let rpc = reqs.start(&mut g11, rpc);
        let carrier = |id| reqs.get(id).map(|r| r.carrier);
        assert_eq!(carrier(http), Some(true));
        assert_eq!(carrier(rpc), Some(false));
        assert_eq!(carrier(other), Some(false), "another path carries nothing");
    }

    #[test]
    fn ends_pair_with_the_latest_open_start_per_goroutine() {
        let mut log = EventLog::new();
        let mut reqs = Requests::new();
        let (mut g10, mut g11) = (Stack::default(), Stack::default());
        let outer = reqs.start(&mut g10, request(&mut log, 10, "/outer", 1));
        let other = reqs.start(&mut g11, request(&mut log, 11, "/other", 2));
        let inner = reqs.start(&mut g10, request(&mut log, 10, "/inner", 3));
        assert_eq!(g10.last(), Some(inner));
        assert_eq!(reqs.end(Some(&mut g10), End::at(4)), Some(inner));
        assert_eq!(g10.last(), Some(outer));
        assert_eq!(reqs.end(Some(&mut g10), End::at(5)), Some(outer));
        assert_eq!(g10.last(), None);
        assert_eq!(g11.last(), Some(other));
        assert_eq!(reqs.get(inner).and_then(|r| r.end_ns()), Some(4));
        assert_eq!(reqs.get(other).and_then(|r| r.end_ns()), None);
    }

    #[test]
    fn the_end_brings_status_and_route() {
        let mut log = EventLog::new();
        let mut reqs = Requests::new();
        let mut g = Stack::default();
        let route = log.intern("GET /users/{id}");
        let r = reqs.start(&mut g, request(&mut log, 10, "/users/1", 1));
        assert_eq!(reqs.get(r).and_then(|r| r.route), None);
        let end = End {
            ts_ns: 2,
            status: Some(503),
            route: Some(route),
            failed: false,
        };
        assert_eq!(reqs.end(Some(&mut g), end), Some(r));
        let got = reqs.get(r);
        assert_eq!(got.and_then(|r| r.status()), Some(503));
        assert_eq!(got.and_then(|r| r.route), Some(route));
        assert_eq!(got.and_then(|r| r.end_ns()), Some(2));
    }

    #[test]
    fn a_request_stays_small() {
        // Kept for minutes at tens of thousands a second (7 M at once at 40 k requests/s):
        // one cache line, the end time and status packed (see `model::packed`).
        assert!(
            std::mem::size_of::<Request>() <= 64,
            "{}",
            std::mem::size_of::<Request>()
        );
    }

    #[test]
    fn an_end_before_any_start_is_counted_and_ignored() {
        let mut log = EventLog::new();
        let mut reqs = Requests::new();
        let mut g = Stack::default();
        assert_eq!(reqs.end(None, End::at(1)), None);
        assert_eq!(reqs.end(Some(&mut g), End::at(1)), None);
        let r = reqs.start(&mut g, request(&mut log, 10, "/a", 2));
        assert_eq!(reqs.unmatched_ends(), 2);
        assert_eq!(g.last(), Some(r));
        assert_eq!(reqs.all().count(), 1);
    }
}
