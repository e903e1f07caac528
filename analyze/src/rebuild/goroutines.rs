//! Per-goroutine state: what each goroutine works for, by descent or by handoff, and its client
//! calls still in flight.
//!
//! A goroutine starts out as its spawner left it ([`Inherited`]). Its first completed channel
//! receive makes it a *worker*: from then on only what it last received ([`Handoff`]) says whom
//! it works for, so a long-lived worker spawned lazily by one request does not keep working for
//! that request while it serves others from a queue.

use crate::model::events::{IdMap, ProcId, ProcKey};
use crate::rebuild::evidence::Carried;
use crate::rebuild::handoff::Handoff;
use crate::rebuild::lineage::Inherited;
use crate::rebuild::requests::RequestId;
use crate::rebuild::stack::Stack;

/// Index of a goroutine in [`Goroutines`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GoIdx(pub(crate) u32);

/// How a goroutine came to work for a request, apart from requests open on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    /// It has not completed a channel receive: what it inherited at its spawn, if anything.
    Spawned(Option<Inherited>),
    /// It has: what its latest receive handed it, if anything. Lineage no longer speaks.
    Worker(Option<Handoff>),
}

/// What is known about one goroutine.
#[derive(Debug)]
pub struct GoState {
    /// Server requests open on it, innermost on top.
    pub open_requests: Stack<RequestId>,
    /// Its client calls in flight (indexes into the calls), innermost on top.
    pub open_calls: Stack<u32>,
    /// Lineage or handoff.
    pub source: Source,
    /// A spawn event for it was seen (the first one counts).
    pub spawn_seen: bool,
    /// How many receives it has done (to tell whether a late claim is still current).
    pub recv_seq: u32,
}

impl GoState {
    const NEW: GoState = GoState {
        open_requests: Stack::new(),
        open_calls: Stack::new(),
        source: Source::Spawned(None),
        spawn_seen: false,
        recv_seq: 0,
    };

    /// What it inherited, at `ts_ns`, while it is not a worker.
    pub fn spawned_at(&self, ts_ns: i64) -> Option<Carried> {
        match self.source {
            Source::Spawned(inherited) => inherited.and_then(|i| i.at(ts_ns)),
            Source::Worker(_) => None,
        }
    }

    /// What its latest receive handed it, at `ts_ns`, once it is a worker.
    pub fn handoff_at(&self, ts_ns: i64) -> Option<Carried> {
        match self.source {
            Source::Worker(handoff) => handoff.and_then(|h| h.at(ts_ns)),
            Source::Spawned(_) => None,
        }
    }

    /// What the goroutine works for at `ts_ns`, to pass on to what it starts. Context
    /// evidence belongs to single calls and is not here.
    pub fn carried(&self, ts_ns: i64) -> Option<Carried> {
        if let Some(request) = self.open_requests.last() {
            return Some(Carried::same_goroutine(request));
        }
        self.spawned_at(ts_ns).or_else(|| self.handoff_at(ts_ns))
    }

    /// The receive count its next receive will have; never [`NO_CLAIM`].
    pub fn next_seq(&self) -> u32 {
        match self.recv_seq.wrapping_add(1) {
            NO_CLAIM => 1,
            n => n,
        }
    }

    /// A receive: a completed one makes the goroutine a worker for what it was handed; one from
    /// a closed channel ends a worker's current job without handing it a new one. Returns the
    /// receive count after it.
    pub fn received(&mut self, completed: bool, handoff: Option<Handoff>) -> u32 {
        if completed || matches!(self.source, Source::Worker(_)) {
            self.source = Source::Worker(handoff);
        }
        self.recv_seq = self.next_seq();
        self.recv_seq
    }
}

/// The receive count of a receive that no late `select` send may claim (one made inside a
/// client call). No goroutine's count is ever this.
pub const NO_CLAIM: u32 = 0;

impl Default for GoState {
    fn default() -> Self {
        Self::NEW
    }
}

/// Every goroutine seen, by (process, goid), while it may still matter.
///
/// Go never says when a goroutine exits, and a busy service spawns millions, so a goroutine's
/// state is let go once it can no longer change anything: nothing open on it, and nothing it
/// carries still in date (what it inherited or was handed ages out; see [`GoState::carried`]).
/// Should it show up again, a fresh state is exactly as good. Its slot goes to the next new
/// goroutine with its receive count carried on, so that a claim still naming the old one
/// (a slot and a count) never matches the new one.
#[derive(Debug, Default)]
pub struct Goroutines {
    /// Per process, indexed by goid from the table's base: the Go runtime numbers goroutines
    /// from 1 upwards, so a process's goids are dense, and recent ones sit next to each other.
    /// A lookup here is one access to a slot near the last one, where a hash map misses the
    /// cache on nearly every lookup among millions. [`NO_GO`] where none is kept.
    dense: Vec<Dense>,
    /// Goids too far beyond a process's dense table, below its base, or negative.
    ids: IdMap<ProcKey, GoIdx>,
    states: Vec<GoState>,
    /// Whose each state is, to find its slot when it is let go; [`FREE`] for a free one.
    keys: Vec<ProcKey>,
    /// States let go, to be reused.
    free: Vec<GoIdx>,
    /// When states are next looked over.
    next_sweep_ns: i64,
}

/// One process's dense table: slot `i` is goid `base + i`.
#[derive(Debug, Default)]
struct Dense {
    base: usize,
    slots: Vec<GoIdx>,
    /// Slots not [`NO_GO`].
    live: usize,
}

impl Dense {
    /// Drops its first `n` slots, the goroutines kept there moving to `ids` (the map), which
    /// finds them below the table.
    fn move_front(&mut self, n: usize, proc: ProcId, ids: &mut IdMap<ProcKey, GoIdx>) {
        for (j, g) in self.slots.drain(..n).enumerate() {
            if g != NO_GO {
                ids.insert(ProcKey::new(proc, (self.base + j) as i64), g);
                self.live -= 1;
            }
        }
        self.base += n;
    }
}

/// An empty slot of a dense table. Never a real index: that many goroutines would not fit.
const NO_GO: GoIdx = GoIdx(u32::MAX);

/// The key of a free state.
const FREE: ProcKey = ProcKey::FREE;

/// How far past a process's dense table a goid may be and still grow the table to take it
/// (the table at least doubles): a few stray huge goids must not make it huge.
const DENSE_SLACK: usize = 1 << 16;

/// How far below the first goid seen of a process its dense table starts: the goroutines
/// spawned just before it, on the runtime's other processors (each takes goids in batches),
/// show up soon after.
const FIRST_SLACK: usize = 1 << 12;

/// At most this many goroutines kept in a dense table let it start afresh at a goid far past
/// its end, the few moved to the map: a recording of a service up for days starts at goids in
/// the millions, maybe after a long-lived low one, and every goroutine after would otherwise
/// go to the map, a lookup that misses the cache every time, and slower still as goroutines
/// come and go (measured: a fifth of the pass's time reading a recording's later segments).
const REBASE_LIVE: usize = 1 << 10;

/// How often states are looked over, in the events' time.
pub const SWEEP_NS: i64 = 10 * 1_000_000_000;

impl Goroutines {
    /// None yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `n` goroutines without growing.
    pub fn with_capacity(n: usize) -> Self {
        Goroutines {
            states: Vec::with_capacity(n),
            keys: Vec::with_capacity(n),
            ..Self::default()
        }
    }

    /// How many states are kept (live ones, and free ones not yet reused).
    pub fn kept(&self) -> usize {
        self.states.len() - self.free.len()
    }

    /// The time is now `now` (events come in time order): states that can no longer matter are
    /// let go every [`SWEEP_NS`].
    #[inline]
    pub fn tick(&mut self, now: i64) {
        if now >= self.next_sweep_ns {
            if self.next_sweep_ns != 0 {
                self.sweep(now);
            }
            self.next_sweep_ns = now.saturating_add(SWEEP_NS);
        }
    }

    /// Lets go of every state that can no longer change anything, and of dense prefixes that
    /// hold nearly nothing.
    fn sweep(&mut self, now: i64) {
        for (i, st) in self.states.iter_mut().enumerate() {
            let key = self.keys[i];
            let idle = st.open_requests.last().is_none()
                && st.open_calls.last().is_none()
                && st.carried(now).is_none();
            if key == FREE || !idle {
                continue;
            }
            let (proc, goid) = key.parts();
            let dense = dense_slot(goid).and_then(|g| {
                let table = self.dense.get_mut(proc.index())?;
                let slot = table.slots.get_mut(g.checked_sub(table.base)?)?;
                Some((slot, &mut table.live))
            });
            match dense {
                Some((slot, live)) if slot.0 as usize == i => {
                    *slot = NO_GO;
                    *live -= 1;
                }
                _ => {
                    self.ids.remove(&key);
                }
            }
            *st = GoState {
                recv_seq: st.recv_seq,
                ..GoState::NEW
            };
            self.keys[i] = FREE;
            self.free.push(GoIdx(i as u32));
        }
        for (p, table) in self.dense.iter_mut().enumerate() {
            // Halve a table whose first half keeps next to nothing: the long-lived goroutines
            // there (main, servers, workers) move to the map.
            let half = table.slots.len() / 2;
            if half < DENSE_SLACK {
                continue;
            }
            let kept = table.slots[..half].iter().filter(|g| **g != NO_GO).count();
            if kept * 16 > half {
                continue;
            }
            table.move_front(half, ProcId::from_index(p), &mut self.ids);
        }
    }

    /// The goroutine's index, creating its state on first sight.
    pub fn id(&mut self, proc: ProcId, goid: i64) -> GoIdx {
        if let Some(id) = self.find(proc, goid) {
            return id;
        }
        let key = ProcKey::new(proc, goid);
        let next = match self.free.pop() {
            Some(g) => {
                self.keys[g.0 as usize] = key;
                g
            }
            None => {
                let g = GoIdx(u32::try_from(self.states.len()).unwrap_or(u32::MAX));
                self.states.push(GoState::default());
                self.keys.push(key);
                g
            }
        };
        // A goid first kept in the map stays there: `find` looks there when its dense slot
        // is empty, so it is still found after the dense table grows past it.
        if !self.place_dense(proc, goid, next) {
            self.ids.insert(key, next);
        }
        next
    }

    /// Puts new goroutine `id` in its process's dense table, growing the table when the goid
    /// is near enough its end, or starting it afresh there (see [`REBASE_LIVE`]); false for a
    /// goid to keep in the map (below the table, or far past it).
    fn place_dense(&mut self, proc: ProcId, goid: i64, id: GoIdx) -> bool {
        let Some(g) = dense_slot(goid) else {
            return false;
        };
        if self.dense.len() <= proc.index() {
            self.dense.resize_with(proc.index() + 1, Dense::default);
        }
        let Some(table) = self.dense.get_mut(proc.index()) else {
            return false;
        };
        let len = table.slots.len();
        let past_end = g
            .checked_sub(table.base)
            .is_some_and(|i| i >= len.saturating_mul(2).max(DENSE_SLACK));
        // A table that keeps nothing yet, or few, starts just below the goid.
        if len == 0 || past_end && table.live <= REBASE_LIVE {
            table.move_front(len, proc, &mut self.ids);
            table.base = g.saturating_sub(FIRST_SLACK);
        } else if past_end {
            return false;
        }
        let Some(i) = g.checked_sub(table.base) else {
            return false;
        };
        if i >= table.slots.len() {
            let len = table.slots.len();
            table.slots.resize((i + 1).max(len * 2), NO_GO);
        }
        match table.slots.get_mut(i) {
            Some(slot) => {
                *slot = id;
                table.live += 1;
                true
            }
            None => false,
        }
    }

    /// The goroutine's index, if it is kept.
    #[inline]
    pub fn find(&self, proc: ProcId, goid: i64) -> Option<GoIdx> {
        let dense = dense_slot(goid)
            .and_then(|g| {
                let table = self.dense.get(proc.index())?;
                table.slots.get(g.checked_sub(table.base)?).copied()
            })
            .filter(|id| *id != NO_GO);
        dense.or_else(|| self.ids.get(&ProcKey::new(proc, goid)).copied())
    }

    /// Asks the processor for the state of goroutine `goid` of `proc`, an event or so ahead:
    /// its own if it is kept, else the one a new goroutine will take. States are reused as
    /// goroutines come and go, so the next one's is anywhere among millions.
    #[inline]
    pub fn prefetch(&self, proc: ProcId, goid: i64) {
        let next = self.find(proc, goid).or_else(|| self.free.last().copied());
        if let Some(st) = next.and_then(|g| self.states.get(g.0 as usize)) {
            crate::util::hint::prefetch(st);
        }
    }

    /// Its state. Indexes come only from [`Goroutines::id`], so they are always in range; the
    /// fallback is for the type system.
    pub fn get(&self, id: GoIdx) -> &GoState {
        static EMPTY: GoState = GoState::NEW;
        self.states.get(id.0 as usize).unwrap_or(&EMPTY)
    }

    /// Its state, to change.
    pub fn get_mut(&mut self, id: GoIdx) -> Option<&mut GoState> {
        self.states.get_mut(id.0 as usize)
    }
}

/// The dense slot for `goid`, when it is in range.
#[inline]
fn dense_slot(goid: i64) -> Option<usize> {
    usize::try_from(goid).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::EventLog;
    use crate::rebuild::evidence::Evidence;

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
    fn far_and_negative_goids_stay_found_as_the_dense_table_grows() {
        let mut log = EventLog::new();
        let p = log.process("h", 1);
        let mut g = Goroutines::new();
        let far = 3 * DENSE_SLACK as i64;
        let (a, b, c) = (g.id(p, far), g.id(p, -5), g.id(p, 1));
        // Grow the dense table past `far`, which was kept in the map.
        for goid in (2..=far + 10).step_by(1000) {
            g.id(p, goid);
        }
        assert_eq!((g.id(p, far), g.id(p, -5), g.id(p, 1)), (a, b, c));
        assert_eq!(g.find(p, far + 1), None);
        assert_eq!(g.find(p, i64::MAX), None);
    }

    /// A recording of a service up for days starts at goids in the millions, maybe after a
    /// long-lived low one (main, a server loop): the goroutines after it are still kept in the
    /// dense table, and the low one stays found.
    #[test]
    fn a_recording_that_starts_at_high_goids_keeps_them_dense() {
        let mut log = EventLog::new();
        let (p, q) = (log.process("h", 1), log.process("h", 2));
        let mut g = Goroutines::new();
        let high = 40_000_000;
        for goid in high..high + 10_000 {
            g.id(p, goid);
        }
        // Seen first: a low one, then the goroutines of now.
        let main = g.id(q, 1);
        for goid in high..high + 10_000 {
            g.id(q, goid);
        }
        assert_eq!(g.ids.len(), 1, "only the low one is in the map");
        assert_eq!(g.find(q, 1), Some(main));
        assert_eq!(g.find(p, high - 1), None);
        // Goroutines spawned just before the first one seen are dense too.
        g.id(p, high - 100);
        assert_eq!(g.ids.len(), 1);
        assert_eq!(g.kept(), 20_002);
    }

    #[test]
    fn an_open_request_beats_everything_and_a_receive_replaces_lineage() {
        let r = RequestId;
        let inherited = Inherited::from_parent(Carried::same_goroutine(r(1)), 0);
        let mut st = GoState {
            source: Source::Spawned(inherited),
            ..GoState::default()
        };
        let carried = |st: &GoState| st.carried(S).map(|c| (c.request, c.evidence));
        assert_eq!(carried(&st), Some((r(1), Evidence::Spawned)));
        st.open_requests.push(r(9));
        assert_eq!(carried(&st), Some((r(9), Evidence::SameGoroutine)));
        st.open_requests.pop();
        // A closed channel says nothing to a goroutine that never received.
        st.received(false, None);
        assert_eq!(carried(&st), Some((r(1), Evidence::Spawned)));
        let handoff = Handoff {
            request: r(2),
            confidence: 0.9,
            received_ns: S,
        };
        assert_eq!(st.received(true, Some(handoff)), 2);
        assert_eq!(carried(&st), Some((r(2), Evidence::Channel)));
        // A receive that pairs with nothing leaves a worker working for nothing, not for the
        // request that spawned it.
        st.received(true, None);
        assert_eq!(carried(&st), None);
        st.received(true, Some(handoff));
        st.received(false, None);
        assert_eq!(carried(&st), None, "a closed channel ends the job");
    }

    #[test]
    fn states_that_can_no_longer_matter_are_let_go_and_reused_late() {
        let mut log = EventLog::new();
        let p = log.process("h", 1);
        let mut g = Goroutines::new();
        g.tick(1);
        let (busy, spawned, idle) = (g.id(p, 1), g.id(p, 2), g.id(p, 3));
        g.get_mut(busy)
            .expect("state")
            .open_requests
            .push(RequestId(1));
        let inherited = Inherited::from_parent(Carried::same_goroutine(RequestId(2)), S);
        g.get_mut(spawned).expect("state").source = Source::Spawned(inherited);
        for st in [idle, spawned] {
            let st = g.get_mut(st).expect("state");
            st.received(false, None);
            st.received(false, None);
        }
        // The first sweep, SWEEP_NS in: only the idle one goes.
        g.tick(SWEEP_NS + 2);
        assert_eq!(g.find(p, 3), None);
        assert_eq!((g.find(p, 1), g.find(p, 2)), (Some(busy), Some(spawned)));
        // Its inheritance ages out, and it goes too; the request open on the other keeps it.
        g.tick(S + crate::rebuild::lineage::MAX_SPAWN_AGE_NS + SWEEP_NS);
        assert_eq!(g.find(p, 2), None);
        assert_eq!(g.find(p, 1), Some(busy));
        assert_eq!(g.kept(), 1);
        // A goroutine seen again starts afresh, in a slot let go, whose receive count goes on.
        let again = g.id(p, 3);
        assert!(again == idle || again == spawned);
        assert_eq!(g.get(again).open_requests.last(), None);
        assert_eq!(
            g.get(again).next_seq(),
            3,
            "two receives were counted in the slot"
        );
    }

    #[test]
    fn dense_tables_drop_prefixes_and_keep_their_long_lived_goroutines() {
        let mut log = EventLog::new();
        let p = log.process("h", 1);
        let mut g = Goroutines::new();
        g.tick(1);
        let main = g.id(p, 1);
        g.get_mut(main)
            .expect("state")
            .open_requests
            .push(RequestId(1));
        let n = 4 * DENSE_SLACK as i64;
        for goid in 2..n {
            g.id(p, goid);
        }
        g.tick(SWEEP_NS + 2);
        assert!(g.dense[p.index()].base > 0, "the prefix was dropped");
        assert_eq!(g.find(p, 1), Some(main), "moved to the map");
        assert_eq!(g.find(p, 5), None);
        let late = g.id(p, n + 1);
        assert_eq!(g.find(p, n + 1), Some(late));
        assert_eq!(g.kept(), 2);
    }

    #[test]
    fn state_stays_small() {
        // One per goroutine ever seen: a busy service spawns millions.
        assert!(
            std::mem::size_of::<GoState>() <= 80,
            "{}",
            std::mem::size_of::<GoState>()
        );
    }
}
