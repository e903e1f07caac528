//! Goroutine lineage: what a goroutine inherits from the one that spawned it.
//!
//! Go never reuses a goroutine id within a process lifetime, so (process, goid) names one
//! goroutine for the whole recording. At each `spawn`, the child inherits what its parent
//! worked for *at that moment* (its open request, or what the parent itself inherited or
//! received), one link deeper. Computing this when the spawn happens, rather than walking the
//! tree at each call, keeps every event O(1) and lets a parent that later serves another
//! request, or becomes a channel worker, leave its earlier children alone.

use crate::rebuild::evidence::{Carried, Evidence};
use crate::rebuild::requests::RequestId;

/// How many spawn links a call may walk up. Real handlers fan out through a few layers (an
/// errgroup, a worker inside it); a deeper chain is more likely a long-lived pool whose root
/// happened to start inside some request, and attributing its work to that request would be
/// a guess dressed up as evidence.
pub const MAX_SPAWN_DEPTH: u8 = 8;

/// How long after its spawn a goroutine still works for the request that spawned it. A worker
/// started lazily by the first request that needed it (a connection pool, a cache refresher)
/// otherwise inherits that one request forever; request-scoped goroutines finish far sooner.
/// The bound holds per link: a parent must still be within it when it spawns the child.
pub const MAX_SPAWN_AGE_NS: i64 = 60 * 1_000_000_000;

/// What a goroutine inherited from the goroutine, or the timer, that started it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inherited {
    /// The request the parent worked for.
    pub request: RequestId,
    /// Confidence at the root of the chain (see [`Carried::root`]).
    pub root: f64,
    /// Spawn links to that root: 1 when the parent was the root.
    pub depth: u8,
    /// When this goroutine was spawned, ns.
    pub spawned_ns: i64,
}

impl Inherited {
    /// What a goroutine spawned at `ts_ns` by a parent carrying `parent` inherits; nothing past
    /// [`MAX_SPAWN_DEPTH`].
    pub fn from_parent(parent: Carried, ts_ns: i64) -> Option<Self> {
        let depth = parent.depth.checked_add(1)?;
        if depth > MAX_SPAWN_DEPTH {
            return None;
        }
        Some(Inherited {
            request: parent.request,
            root: parent.root,
            depth,
            spawned_ns: ts_ns,
        })
    }

    /// What the goroutine carries at `ts_ns` by descent; nothing once it is older than
    /// [`MAX_SPAWN_AGE_NS`].
    pub fn at(&self, ts_ns: i64) -> Option<Carried> {
        if ts_ns.saturating_sub(self.spawned_ns) > MAX_SPAWN_AGE_NS {
            return None;
        }
        Some(Carried {
            request: self.request,
            evidence: Evidence::Spawned,
            root: self.root,
            depth: self.depth,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebuild::evidence::SPAWN_FIRST_LINK;

    const S: i64 = 1_000_000_000;

    fn handler(r: u32) -> Carried {
        Carried::same_goroutine(RequestId(r))
    }

    #[test]
    fn a_direct_child_inherits_one_link_deep() {
        let child = Inherited::from_parent(handler(3), 10);
        let carried = child.and_then(|c| c.at(15));
        assert_eq!(
            carried.map(|c| (c.request, c.depth)),
            Some((RequestId(3), 1))
        );
        assert_eq!(carried.map(|c| c.evidence), Some(Evidence::Spawned));
        assert_eq!(carried.map(|c| c.confidence()), Some(SPAWN_FIRST_LINK));
    }

    #[test]
    fn a_grandchild_is_one_link_deeper_and_less_sure() {
        let child = Inherited::from_parent(handler(0), 10).and_then(|c| c.at(20));
        let grandchild = child
            .and_then(|c| Inherited::from_parent(c, 20))
            .and_then(|g| g.at(30));
        assert_eq!(grandchild.map(|g| g.depth), Some(2));
        let (c, g) = (
            child.map(|c| c.confidence()),
            grandchild.map(|g| g.confidence()),
        );
        assert!(c > g, "{c:?} {g:?}");
    }

    #[test]
    fn old_spawns_do_not_inherit() {
        let child = Inherited::from_parent(handler(0), 0);
        assert!(child.and_then(|c| c.at(MAX_SPAWN_AGE_NS)).is_some());
        assert_eq!(child.and_then(|c| c.at(MAX_SPAWN_AGE_NS + 1)), None);
        // The bound holds per link: the old parent passes nothing on to a young child.
        assert_eq!(child.and_then(|c| c.at(100 * S)), None);
    }

    #[test]
    fn depth_is_bounded() {
        let mut carried = handler(0);
        for depth in 1..=MAX_SPAWN_DEPTH {
            let child = Inherited::from_parent(carried, 1).and_then(|c| c.at(1));
            assert_eq!(child.map(|c| c.depth), Some(depth));
            carried = child.unwrap_or(carried);
        }
        assert_eq!(Inherited::from_parent(carried, 1), None);
    }
}
