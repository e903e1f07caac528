//! The event log: every event of every input file, merged into one time-ordered list.
//!
//! Strings repeat a lot (service names, paths, hosts), so each distinct string is stored once
//! and events carry a [`Sym`]. Processes are keyed by (recording host name, pid), so that files
//! recorded on different machines never mix up two processes that happen to share a pid.
//!
//! Each event keeps only the columns its kind sets ([`Detail`]), so that an event stays small
//! however many kinds the schema grows.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::num::NonZeroU32;

use quadtrace_schema::EventKind;

mod processes;

pub use processes::{Listed, Listening, Machine, Process, RecordingStart};

/// An interned string; [`EventLog::str`] gives it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(NonZeroU32);

/// A process; [`EventLog::process_info`] describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcId(u32);

/// One recorded event, reduced to what reconstruction reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Monotonic time, ns.
    pub ts_ns: i64,
    /// The goroutine it happened on; for [`Detail::Spawn`], the new goroutine.
    pub goid: i64,
    /// The process it happened in.
    pub proc: ProcId,
    /// Service name of the process.
    pub service: Sym,
    /// What happened, with the columns that kind sets.
    pub detail: Detail,
}

/// What an event is, with the columns its kind sets. Context pointers use 0 for "not recorded"
/// (the recorder writes 0 when it cannot read one, and 0 is never a live context).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// `server_start`.
    ServerStart {
        /// HTTP method.
        method: Option<Sym>,
        /// Host header.
        host: Option<Sym>,
        /// URL path.
        path: Option<Sym>,
        /// The serving `http.Server`'s `Addr`.
        listen_addr: Option<Sym>,
        /// The client's `ip:port` as the server's connection saw it (since schema 4).
        remote: Option<Sym>,
        /// The request's context (0: not recorded).
        ctx: i64,
        /// A gRPC request (method `GRPC`).
        grpc: bool,
    },
    /// `server_end`.
    ServerEnd {
        /// Status written.
        status: Option<i32>,
        /// The route template that served the request (since schema 3).
        route: Option<Sym>,
        /// A gRPC request ended with a status other than OK (since schema 4).
        failed: bool,
    },
    /// `client_start`.
    ClientStart {
        /// HTTP method.
        method: Option<Sym>,
        /// The URL's `host[:port]`.
        host: Option<Sym>,
        /// The URL's path.
        path: Option<Sym>,
        /// The call's context and its first three ancestors: `ctx`, `ctx1`, `ctx2`, `ctx3`
        /// (0: not recorded).
        ctx: [i64; 4],
    },
    /// `client_end`.
    ClientEnd {
        /// Status received (none on a transport error).
        status: Option<i32>,
        /// The round trip returned an error.
        error: bool,
    },
    /// `spawn`.
    Spawn {
        /// The goroutine that started this one.
        parent: Option<i64>,
        /// The funcval the new goroutine runs (for a `time.AfterFunc` callback, the callback).
        value: Option<i64>,
    },
    /// `chan_send`.
    ChanSend(ChanOp),
    /// `chan_send` that found a goroutine blocked receiving on the channel, which the runtime
    /// hands the value to directly (since schema 4: `receiver_goid`).
    ChanHandoff {
        /// The channel's address.
        chan: i64,
        /// The receiving goroutine.
        receiver: i64,
    },
    /// `chan_recv`.
    ChanRecv(ChanOp),
    /// `timer_arm`.
    TimerArm {
        /// The callback's funcval.
        value: Option<i64>,
    },
    /// `connect`: the process owns an outgoing connection (since schema 4).
    Connect(Socket),
    /// `listen`: the process began listening (since schema 4).
    Listen(Socket),
    /// `listen_end`: the process stopped listening (since schema 4).
    ListenEnd(Socket),
}

/// The columns of a socket event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Socket {
    /// The socket's own `ip:port`: a connection's local address, a listening address.
    pub local: Option<Sym>,
    /// `connect`: the `ip:port` dialled.
    pub remote: Option<Sym>,
    /// Inode of the socket's network namespace.
    pub netns: Option<i64>,
    /// `local` is a loopback address (known when the event is read, where its text is).
    pub loopback: bool,
}

/// The columns of a channel operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChanOp {
    /// The channel's address (0: not recorded).
    pub chan: i64,
    /// The element's first bytes; none when not read (a discarded receive, an empty element).
    pub value: Option<i64>,
    /// Values buffered: before a `chansend1`, after a receive or a `select` case.
    pub qcount: Option<i32>,
    /// The channel's buffer size (0: unbuffered).
    pub dataqsiz: Option<i32>,
    /// A chosen case of a `select`.
    pub in_select: bool,
    /// A receive got a value (false: the channel was closed). Always false for sends.
    pub completed: bool,
}

impl Detail {
    /// The schema's kind for this event.
    pub fn kind(&self) -> EventKind {
        match self {
            Detail::ServerStart { .. } => EventKind::ServerStart,
            Detail::ServerEnd { .. } => EventKind::ServerEnd,
            Detail::ClientStart { .. } => EventKind::ClientStart,
            Detail::ClientEnd { .. } => EventKind::ClientEnd,
            Detail::Spawn { .. } => EventKind::Spawn,
            Detail::ChanSend(_) | Detail::ChanHandoff { .. } => EventKind::ChanSend,
            Detail::ChanRecv(_) => EventKind::ChanRecv,
            Detail::TimerArm { .. } => EventKind::TimerArm,
            Detail::Connect(_) => EventKind::Connect,
            Detail::Listen(_) => EventKind::Listen,
            Detail::ListenEnd(_) => EventKind::ListenEnd,
        }
    }
}

/// Every event of a set of recordings, with the strings and processes they refer to.
#[derive(Debug, Default)]
pub struct EventLog {
    events: Vec<Event>,
    strings: Vec<String>,
    string_ids: IdMap<String, Sym>,
    processes: Vec<Process>,
    process_ids: HashMap<(String, i32), ProcId>,
    machines: Vec<String>,
    /// When each recording began, by host (`quadtrace.time_range_ns`).
    starts: Vec<(Machine, i64)>,
    /// The wall-clock time of each host's `ts_ns = 0` (`quadtrace.boot_wall_ns`).
    clocks: Vec<(Machine, i64)>,
    listeners: Vec<Listening>,
    /// Goroutines seen receiving, by (process, goroutine, channel): see
    /// [`EventLog::note_receiving`].
    receiving: Receivers,
}

/// The (process, goroutine, channel) triples seen receiving lately, as a cache: a table of
/// fingerprints, each triple in the one slot its hash picks, a newer triple taking the slot of
/// an older. A quarter of a busy recording's events are receives, mostly on a channel made for
/// one reply, so a set of them all would be large and written at random; this stays in the
/// processor's cache. Forgetting a triple only makes a later send to that goroutine count as a
/// direct hand-off once more; a worker that receives from its queue again is remembered again.
#[derive(Debug)]
struct Receivers {
    slots: Vec<u64>,
}

/// Slots of [`Receivers`]: 512 KiB of fingerprints.
const RECEIVER_SLOTS_LOG2: u32 = 16;

impl Default for Receivers {
    fn default() -> Self {
        Receivers {
            slots: vec![0; 1 << RECEIVER_SLOTS_LOG2],
        }
    }
}

impl Receivers {
    /// The triple's slot and fingerprint (never 0, which marks an empty slot).
    #[inline]
    fn place(proc: ProcId, goid: i64, chan: i64) -> (usize, u64) {
        let mut h = IdHasher::default();
        h.write_u32(proc.0);
        h.write_u64(goid as u64);
        h.write_u64(chan as u64);
        let fp = h.finish() | 1;
        ((fp >> (64 - RECEIVER_SLOTS_LOG2)) as usize, fp)
    }

    fn note(&mut self, proc: ProcId, goid: i64, chan: i64) {
        let (slot, fp) = Self::place(proc, goid, chan);
        self.slots[slot] = fp;
    }

    fn seen(&self, proc: ProcId, goid: i64, chan: i64) -> bool {
        let (slot, fp) = Self::place(proc, goid, chan);
        self.slots[slot] == fp
    }
}

impl EventLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers that goroutine `goid` of `proc` was seen receiving from `chan`.
    pub fn note_receiving(&mut self, proc: ProcId, goid: i64, chan: i64) {
        self.receiving.note(proc, goid, chan);
    }

    /// Whether goroutine `goid` of `proc` was seen receiving from `chan` before. A send that
    /// names such a goroutine as the receiver blocked on the channel is paired in the
    /// channel's order like any other: the name is read before the send takes the channel's
    /// lock, and under contention another send may have woken that receiver first. Only a
    /// receiver never seen (blocked since before the recording, its receive never seen to
    /// start) needs the name.
    pub fn has_received(&self, proc: ProcId, goid: i64, chan: i64) -> bool {
        self.receiving.seen(proc, goid, chan)
    }

    /// The id of `s`, storing it on first sight.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&sym) = self.string_ids.get(s) {
            return sym;
        }
        // Ids start at 1 so that `Option<Sym>` costs no more than a `Sym`.
        let id = NonZeroU32::new(index_u32(self.strings.len() + 1)).unwrap_or(NonZeroU32::MAX);
        let sym = Sym(id);
        self.strings.push(s.to_owned());
        self.string_ids.insert(s.to_owned(), sym);
        sym
    }

    /// Whether `other` gave the same symbols to the same strings and the same numbers to the
    /// same processes: two reads of the same files do (see `write_calls_for_files`).
    pub(crate) fn same_names(&self, other: &EventLog) -> bool {
        self.strings == other.strings
            && self.processes.len() == other.processes.len()
            && self
                .processes
                .iter()
                .zip(&other.processes)
                .all(|(a, b)| a.pid == b.pid && a.machine == b.machine)
    }

    /// The string behind `sym`.
    pub fn str(&self, sym: Sym) -> &str {
        self.strings
            .get(sym.0.get() as usize - 1)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// Makes room for `n` more events.
    pub fn reserve(&mut self, n: usize) {
        self.events.reserve(n);
    }

    /// Appends an event; call [`EventLog::sort`] once all are in.
    pub fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Appends `events`, leaving it empty.
    pub(crate) fn append(&mut self, events: &mut Vec<Event>) {
        // The first file's events are taken whole rather than copied.
        if self.events.is_empty() {
            std::mem::swap(&mut self.events, events);
        }
        self.events.append(events);
    }

    /// Orders events by time. The sort is stable: events with equal timestamps keep file order,
    /// which is the order the recorder saw them in.
    pub fn sort(&mut self) {
        // Recordings are nearly sorted already; checking first skips the sort's allocation.
        if !self.events.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns) {
            self.events.sort_by_key(|e| e.ts_ns);
        }
    }

    /// The events, in the order [`EventLog::sort`] left them.
    pub fn events(&self) -> &[Event] {
        &self.events
    }
}

/// Ids are `u32` to keep events small; four billion distinct strings or processes would not fit
/// in memory anyway, so saturating is only a guard against a wrap-around.
fn index_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A hash map keyed by what the recordings hold (goroutine ids, pointers, strings).
///
/// Reading and reconstruction look these up once or more per event, so the hash must be
/// cheap; a multiply and a rotate per word suffice because the keys are not chosen by an
/// adversary who could make them collide (a hostile recording can only make analysis slower,
/// never wrong).
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A hash set with [`IdMap`]'s hasher.
pub(crate) type IdSet<K> = HashSet<K, BuildHasherDefault<IdHasher>>;

/// A (process, 64-bit word) key (a goroutine id, a channel or context address) in 12 bytes
/// aligned to 4, where the tuple takes 16: the maps keyed by it hold millions of entries, and
/// a smaller slot is both less memory and fewer cache misses per lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcKey([u32; 3]);

impl ProcId {
    /// Its position among the log's processes, for tables indexed by process.
    #[inline]
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }

    /// The process at position `i` (see [`ProcId::index`]).
    #[inline]
    pub(crate) fn from_index(i: usize) -> Self {
        ProcId(u32::try_from(i).unwrap_or(u32::MAX))
    }
}

impl ProcKey {
    /// Process 0, word 0: a placeholder for tables' empty slots.
    pub(crate) const ZERO: ProcKey = ProcKey([0; 3]);
    /// No process's: a placeholder for freed entries.
    pub(crate) const FREE: ProcKey = ProcKey([u32::MAX; 3]);

    #[inline]
    pub(crate) fn new(proc: ProcId, word: i64) -> Self {
        // Split into halves, bits kept as they are: only equality and hashing read the key.
        let w = word as u64;
        ProcKey([proc.0, w as u32, (w >> 32) as u32])
    }

    /// The process and word it was made of.
    #[inline]
    pub(crate) fn parts(self) -> (ProcId, i64) {
        let [proc, low, high] = self.0;
        (
            ProcId(proc),
            (u64::from(low) | u64::from(high) << 32) as i64,
        )
    }
}

impl std::hash::Hash for ProcKey {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Two words, not the array's length and bytes: the same cost as the tuple it replaces.
        state.write_u64(u64::from(self.0[1]) | (u64::from(self.0[2]) << 32));
        state.write_u32(self.0[0]);
    }
}

/// The hasher of [`IdMap`]: the multiply-rotate hash rustc uses, with the well-mixed high bits
/// rotated down because hashbrown picks buckets with the low bits.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

const SEED: u64 = 0xf135_7aea_2e62_a9c5;

impl IdHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for IdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_i64(&mut self, n: i64) {
        self.add(n as u64);
    }

    #[inline]
    fn write_u128(&mut self, n: u128) {
        self.add(n as u64);
        self.add((n >> 64) as u64);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_and_processes_are_stable() {
        let mut log = EventLog::new();
        let a = log.intern("a");
        let b = log.intern("b");
        assert_eq!(log.intern("a"), a);
        assert_ne!(a, b);
        assert_eq!(log.str(b), "b");
        assert_eq!(log.str(a), "a");
        let p = log.process("h1", 7);
        assert_eq!(log.process("h1", 7), p);
        assert_ne!(
            log.process("h2", 7),
            p,
            "same pid on another host is another process"
        );
        assert_eq!(log.process_info(p).map(|p| p.pid), Some(7));
        let (h1, h2) = (log.machine("h1"), log.machine("h2"));
        assert_ne!(h1, h2);
        assert_eq!(log.process_info(p).map(|p| p.machine), Some(h1));
        assert_eq!(log.machine_name(h2), "h2");
        let (s, t) = (log.intern("s"), log.intern("t"));
        log.note_service(p, s);
        log.note_service(p, t);
        assert_eq!(log.process_info(p).and_then(|p| p.service), Some(s));
    }

    #[test]
    fn events_stay_small() {
        // Millions of events are held at once; a field added carelessly doubles the memory.
        assert!(
            std::mem::size_of::<Event>() <= 80,
            "{}",
            std::mem::size_of::<Event>()
        );
        assert_eq!(std::mem::size_of::<Option<Sym>>(), 4);
    }

    #[test]
    fn sort_is_stable() {
        let mut log = EventLog::new();
        let proc = log.process("h", 1);
        let service = log.intern("s");
        for (ts, goid) in [(2, 1), (1, 2), (2, 3), (1, 4)] {
            log.push(Event {
                ts_ns: ts,
                goid,
                proc,
                service,
                detail: Detail::ServerEnd {
                    status: None,
                    route: None,
                    failed: false,
                },
            });
        }
        log.sort();
        let order: Vec<i64> = log.events().iter().map(|e| e.goid).collect();
        assert_eq!(order, vec![2, 4, 1, 3]);
    }

    #[test]
    fn id_maps_spread_sequential_keys() {
        let mut m: IdMap<(ProcId, i64), u32> = IdMap::default();
        for g in 0..10_000 {
            m.insert((ProcId(1), g), 0);
        }
        assert_eq!(m.len(), 10_000);
        let mut h = IdHasher::default();
        h.write(&[1, 2, 3]);
        assert_ne!(h.finish(), IdHasher::default().finish());
    }

    #[test]
    fn proc_keys_are_small_and_keep_every_bit() {
        assert_eq!(std::mem::size_of::<ProcKey>(), 12);
        let mut log = EventLog::new();
        let (p, q) = (log.process("h", 1), log.process("h", 2));
        let words = [0, 1, -1, i64::MIN, i64::MAX, 1 << 32, (1 << 32) + 1];
        for (i, &a) in words.iter().enumerate() {
            for &b in &words[i + 1..] {
                assert_ne!(ProcKey::new(p, a), ProcKey::new(p, b));
            }
            assert_eq!(ProcKey::new(p, a), ProcKey::new(p, a));
            assert_ne!(ProcKey::new(p, a), ProcKey::new(q, a));
        }
    }

    #[test]
    fn receivers_remember_recent_receives_only() {
        let mut log = EventLog::new();
        let (p, q) = (log.process("h", 1), log.process("h", 2));
        log.note_receiving(p, 7, 0xc000);
        assert!(log.has_received(p, 7, 0xc000));
        assert!(!log.has_received(p, 7, 0xc008), "another channel");
        assert!(!log.has_received(p, 8, 0xc000), "another goroutine");
        assert!(!log.has_received(q, 7, 0xc000), "another process");
        // A worker noted again after many one-off receives is still remembered.
        for i in 0..1_000_000 {
            log.note_receiving(q, 100 + i, 0xd000 + 8 * i);
            if i % 1000 == 0 {
                log.note_receiving(p, 7, 0xc000);
            }
        }
        log.note_receiving(p, 7, 0xc000);
        assert!(log.has_received(p, 7, 0xc000));
        let remembered = (0..1_000_000)
            .filter(|&i| log.has_received(q, 100 + i, 0xd000 + 8 * i))
            .count();
        assert!(remembered < 1 << RECEIVER_SLOTS_LOG2, "{remembered}");
    }
}
