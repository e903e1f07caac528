//! Goroutine lineage: which goroutine spawned which, and what request the parent was serving.
//!
//! Go never reuses a goroutine id within a process lifetime, so (process, goid) names one
//! goroutine for the whole recording. Each `spawn` event records the child's parent and the
//! request open on the parent *at spawn time*; a client call on a goroutine outside any request
//! walks up this chain to find the request that (transitively) started it.

use std::collections::HashMap;

use crate::events::ProcId;
use crate::requests::RequestId;

/// How many spawn links a call may walk up. Real handlers fan out through a few layers (an
/// errgroup, a worker inside it); a deeper chain is more likely a long-lived pool whose root
/// happened to start inside some request, and attributing its work to that request would be
/// a guess dressed up as evidence.
pub const MAX_SPAWN_DEPTH: u8 = 8;

/// How long after its spawn a goroutine still works for the request that spawned it. A worker
/// started lazily by the first request that needed it (a connection pool, a cache refresher)
/// otherwise inherits that one request forever; request-scoped goroutines finish far sooner.
pub const MAX_SPAWN_AGE_NS: i64 = 60 * 1_000_000_000;

/// A request reached through spawn links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inherited {
    /// The request the ancestor was serving when it spawned.
    pub request: RequestId,
    /// Spawn links walked: 1 when the calling goroutine's own parent was in the request.
    pub depth: u8,
    /// Time from the calling goroutine's spawn to the call, ns.
    pub age_ns: i64,
}

#[derive(Debug, Clone, Copy)]
struct Spawn {
    parent: i64,
    ts_ns: i64,
    /// The innermost request open on the parent when it spawned the child.
    parent_request: Option<RequestId>,
}

/// The spawn tree of every recorded process.
#[derive(Debug, Default)]
pub struct Lineage {
    spawns: HashMap<(ProcId, i64), Spawn>,
}

impl Lineage {
    /// No spawns yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A `spawn` event. `parent_request` is the request open on the parent right now.
    ///
    /// The first event for a child wins: the recorder may report one spawn at both the entry
    /// and a return of `newproc1`, and a goid is never reused, so a repeat adds nothing.
    pub fn spawn(
        &mut self,
        proc: ProcId,
        parent: i64,
        child: i64,
        ts_ns: i64,
        parent_request: Option<RequestId>,
    ) {
        self.spawns.entry((proc, child)).or_insert(Spawn {
            parent,
            ts_ns,
            parent_request,
        });
    }

    /// The request that goroutine `goid` works for by descent, as seen by an event at `ts_ns`.
    ///
    /// Each link must be younger than [`MAX_SPAWN_AGE_NS`] when it is used (the call for the
    /// first link, the child's spawn for the next), and at most [`MAX_SPAWN_DEPTH`] links are
    /// walked. A link whose parent was serving a request ends the walk even past the age bound
    /// of an older ancestor, because the nearest request is the one the work belongs to.
    pub fn inherited(&self, proc: ProcId, goid: i64, ts_ns: i64) -> Option<Inherited> {
        let mut goid = goid;
        let mut now = ts_ns;
        let mut age_ns = None;
        for depth in 1..=MAX_SPAWN_DEPTH {
            let spawn = self.spawns.get(&(proc, goid))?;
            let age = now.saturating_sub(spawn.ts_ns);
            if age > MAX_SPAWN_AGE_NS {
                return None;
            }
            let first_age = *age_ns.get_or_insert(age);
            if let Some(request) = spawn.parent_request {
                return Some(Inherited {
                    request,
                    depth,
                    age_ns: first_age,
                });
            }
            goid = spawn.parent;
            now = spawn.ts_ns;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventLog;

    const S: i64 = 1_000_000_000;

    fn proc() -> ProcId {
        EventLog::new().process("h", 1)
    }

    #[test]
    fn direct_child_inherits() {
        let p = proc();
        let mut l = Lineage::new();
        l.spawn(p, 1, 2, 10, Some(RequestId(0)));
        let got = l.inherited(p, 2, 15);
        assert_eq!(
            got,
            Some(Inherited {
                request: RequestId(0),
                depth: 1,
                age_ns: 5
            })
        );
        assert_eq!(l.inherited(p, 3, 15), None, "unknown goroutine");
    }

    #[test]
    fn grandchild_inherits_through_a_request_free_middle() {
        let p = proc();
        let mut l = Lineage::new();
        l.spawn(p, 1, 2, 10, Some(RequestId(3)));
        l.spawn(p, 2, 3, 20, None);
        assert_eq!(
            l.inherited(p, 3, 30).map(|i| (i.request, i.depth)),
            Some((RequestId(3), 2))
        );
    }

    #[test]
    fn old_spawns_do_not_inherit() {
        let p = proc();
        let mut l = Lineage::new();
        l.spawn(p, 1, 2, 0, Some(RequestId(0)));
        assert!(l.inherited(p, 2, MAX_SPAWN_AGE_NS).is_some());
        assert_eq!(l.inherited(p, 2, MAX_SPAWN_AGE_NS + 1), None);
        // The age bound applies per link: a young child of an old, request-free worker.
        l.spawn(p, 2, 3, 100 * S, None);
        assert_eq!(l.inherited(p, 3, 100 * S + 1), None);
    }

    #[test]
    fn depth_is_bounded() {
        let p = proc();
        let mut l = Lineage::new();
        l.spawn(p, 0, 1, 0, Some(RequestId(0)));
        for g in 1..=i64::from(MAX_SPAWN_DEPTH) {
            l.spawn(p, g, g + 1, g, None);
        }
        let deepest_allowed = i64::from(MAX_SPAWN_DEPTH);
        assert_eq!(
            l.inherited(p, deepest_allowed, 100).map(|i| i.depth),
            Some(MAX_SPAWN_DEPTH)
        );
        assert_eq!(l.inherited(p, deepest_allowed + 1, 100), None);
    }

    #[test]
    fn a_repeated_spawn_keeps_the_first() {
        let p = proc();
        let mut l = Lineage::new();
        l.spawn(p, 1, 2, 10, Some(RequestId(0)));
        l.spawn(p, 1, 2, 11, None);
        assert_eq!(l.inherited(p, 2, 12).map(|i| i.request), Some(RequestId(0)));
    }
}
