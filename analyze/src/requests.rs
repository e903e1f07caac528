//! Server requests: pairing `server_start` with `server_end` on each goroutine.
//!
//! A start and its end happen on the same goroutine and nest (a handler may serve another
//! handler in-process), so each goroutine keeps a stack of open requests and an end closes the
//! latest open one. An end with nothing open is a request that started before the recording
//! did; it is counted and otherwise ignored. A start that never ends (the recording stopped
//! first) is still a request: whatever it called was observed.

use crate::events::{IdMap, ProcId, Sym};

/// Index of a request in [`Requests::all`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub usize);

/// One server request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The serving process.
    pub proc: ProcId,
    /// Its service name.
    pub service: Sym,
    /// The goroutine that served it.
    pub goid: i64,
    /// Request path, if recorded.
    pub path: Option<Sym>,
    /// The address the serving `http.Server` listened on, if recorded.
    pub listen_addr: Option<Sym>,
    /// When it started, ns.
    pub start_ns: i64,
    /// When it ended, ns; `None` when the recording stopped first.
    pub end_ns: Option<i64>,
}

/// Every request seen so far and the ones open on each goroutine.
#[derive(Debug, Default)]
pub struct Requests {
    all: Vec<Request>,
    /// Open requests per goroutine. Emptied stacks stay, so that a keep-alive connection's
    /// goroutine serving request after request reuses one allocation.
    open: IdMap<(ProcId, i64), Vec<RequestId>>,
    unmatched_ends: u64,
}

impl Requests {
    /// No requests yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A `server_start`: opens a request on its goroutine.
    pub fn start(&mut self, request: Request) -> RequestId {
        let id = RequestId(self.all.len());
        self.open
            .entry((request.proc, request.goid))
            .or_default()
            .push(id);
        self.all.push(request);
        id
    }

    /// A `server_end`: closes the latest open request on the goroutine, if there is one.
    pub fn end(&mut self, proc: ProcId, goid: i64, ts_ns: i64) -> Option<RequestId> {
        let stack = self.open.get_mut(&(proc, goid));
        let Some(id) = stack.and_then(|s| s.pop()) else {
            self.unmatched_ends += 1;
            return None;
        };
        if let Some(r) = self.all.get_mut(id.0) {
            r.end_ns = Some(ts_ns);
        }
        Some(id)
    }

    /// The innermost request open on the goroutine right now.
    pub fn innermost(&self, proc: ProcId, goid: i64) -> Option<RequestId> {
        self.open.get(&(proc, goid)).and_then(|s| s.last()).copied()
    }

    /// The request behind `id`.
    pub fn get(&self, id: RequestId) -> Option<&Request> {
        self.all.get(id.0)
    }

    /// Every request, in start order.
    pub fn all(&self) -> &[Request] {
        &self.all
    }

    /// Ends that had no open start on their goroutine (requests begun before the recording).
    pub fn unmatched_ends(&self) -> u64 {
        self.unmatched_ends
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventLog;

    fn request(log: &mut EventLog, goid: i64, path: &str, ts: i64) -> Request {
        Request {
            proc: log.process("h", 1),
            service: log.intern("svc"),
            goid,
            path: Some(log.intern(path)),
            listen_addr: None,
            start_ns: ts,
            end_ns: None,
        }
    }

    #[test]
    fn ends_pair_with_the_latest_open_start_per_goroutine() {
        let mut log = EventLog::new();
        let p = log.process("h", 1);
        let mut reqs = Requests::new();
        let outer = reqs.start(request(&mut log, 10, "/outer", 1));
        let other = reqs.start(request(&mut log, 11, "/other", 2));
        let inner = reqs.start(request(&mut log, 10, "/inner", 3));
        assert_eq!(reqs.innermost(p, 10), Some(inner));
        assert_eq!(reqs.end(p, 10, 4), Some(inner));
        assert_eq!(reqs.innermost(p, 10), Some(outer));
        assert_eq!(reqs.end(p, 10, 5), Some(outer));
        assert_eq!(reqs.innermost(p, 10), None);
        assert_eq!(reqs.innermost(p, 11), Some(other));
        assert_eq!(reqs.get(inner).and_then(|r| r.end_ns), Some(4));
        assert_eq!(reqs.get(other).and_then(|r| r.end_ns), None);
    }

    #[test]
    fn an_end_before_any_start_is_counted_and_ignored() {
        let mut log = EventLog::new();
        let p = log.process("h", 1);
        let mut reqs = Requests::new();
        assert_eq!(reqs.end(p, 10, 1), None);
        let r = reqs.start(request(&mut log, 10, "/a", 2));
        assert_eq!(reqs.unmatched_ends(), 1);
        assert_eq!(reqs.innermost(p, 10), Some(r));
        assert_eq!(reqs.all().len(), 1);
    }
}
