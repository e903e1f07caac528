//! The table behind [`super::Contexts`]: (process, context address) to request.
//!
//! It holds an entry per request of the last minute or so (millions), keyed by heap addresses
//! that land anywhere in it, so nearly every insert and lookup is a cache and TLB miss. A general
//! hash map touches two places per operation (its control bytes, then its slot); here a slot
//! holds its key and value in 16 bytes, linear probing stays within the slot's cache line but
//! rarely, and the pass asks for a slot's line a few events ahead ([`AddrTable::prefetch`]),
//! so that the miss is paid while other events are handled.

use std::hash::BuildHasher;

use crate::model::events::{IdHasher, ProcKey};
use crate::util::hint::{huge_pages, prefetch};

/// What an empty slot holds as its value.
const EMPTY: u32 = u32::MAX;

/// One slot; 16-byte aligned so that four share a cache line and none straddles two.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(16))]
struct Slot {
    key: ProcKey,
    value: u32,
}

const FREE: Slot = Slot {
    key: ProcKey::ZERO,
    value: EMPTY,
};

/// An insert-and-look-up table from [`ProcKey`] to `u32` values below `u32::MAX`.
#[derive(Debug)]
pub(crate) struct AddrTable {
    slots: Vec<Slot>,
    len: usize,
}

impl Default for AddrTable {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl AddrTable {
    /// Room for `n` entries without growing.
    pub(crate) fn with_capacity(n: usize) -> Self {
        AddrTable {
            slots: free_slots(slots_for(n)),
            len: 0,
        }
    }

    /// The slot a key's probe starts at.
    #[inline]
    fn home(&self, key: &ProcKey) -> usize {
        let hash = std::hash::BuildHasherDefault::<IdHasher>::default().hash_one(key);
        // The length is a power of two.
        hash as usize & (self.slots.len() - 1)
    }

    /// Sets `key`'s value (replacing the one it had). `value` must not be `u32::MAX`, which
    /// marks an empty slot; such a value is not stored.
    pub(crate) fn insert(&mut self, key: ProcKey, value: u32) {
        if value == EMPTY {
            return;
        }
        // Linear probing stays short while at most three quarters of the slots are taken.
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(&key);
        loop {
            let slot = &mut self.slots[i];
            if slot.value == EMPTY {
                *slot = Slot { key, value };
                self.len += 1;
                return;
            }
            if slot.key == key {
                slot.value = value;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// `key`'s value.
    #[inline]
    pub(crate) fn get(&self, key: &ProcKey) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let slot = &self.slots[i];
            if slot.value == EMPTY {
                return None;
            }
            if slot.key == *key {
                return Some(slot.value);
            }
            i = (i + 1) & mask;
        }
    }

    /// Asks the processor to bring in the cache line where `key`'s probe starts, so that an
    /// insert or lookup of it a little later does not wait for memory.
    #[inline]
    pub(crate) fn prefetch(&self, key: &ProcKey) {
        prefetch(&self.slots[self.home(key)]);
    }

    /// How many entries it holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// How many slots it has (it grows when three quarters are taken).
    pub(crate) fn slots(&self) -> usize {
        self.slots.len()
    }

    /// Keeps only the entries whose value `keep` accepts, in place: one walk through the
    /// slots, front to back, that allocates nothing (the table is hundreds of MB, and a fresh
    /// one costs the kernel's zeroing of every page).
    ///
    /// A key is found by probing from its home slot to the first empty one, so emptying a slot
    /// would hide the entries after it in its run of taken slots. Those entries, from a run's
    /// first lost one on, are taken out and inserted again in slot order: each then lands at or
    /// before where it was (a run holds the home of every entry in it), so within the run. The
    /// entries before the first lost one are found as before.
    pub(crate) fn retain(&mut self, keep: impl Fn(u32) -> bool) {
        let n = self.slots.len();
        // Walk from just after an empty slot, so that no run is cut by the walk's start (there
        // is one: at most three quarters are taken).
        let Some(empty) = self.slots.iter().position(|s| s.value == EMPTY) else {
            return;
        };
        let mask = n - 1;
        // The entries of the current run from its first lost one on, and where that was.
        let mut moved: Vec<Slot> = Vec::new();
        let mut first_lost: Option<usize> = None;
        for step in 1..=n {
            let i = (empty + step) & mask;
            let slot = self.slots[i];
            if slot.value != EMPTY {
                let kept = keep(slot.value);
                if !kept {
                    self.len -= 1;
                    first_lost.get_or_insert(i);
                }
                if first_lost.is_some() {
                    self.slots[i] = FREE;
                    if kept {
                        moved.push(slot);
                    }
                }
                continue;
            }
            // `i` ends a run.
            if first_lost.take().is_some() {
                for s in moved.drain(..) {
                    self.place(s);
                }
            }
        }
    }

    /// Puts `slot`, whose key is in no slot, at the first empty slot from its home.
    fn place(&mut self, slot: Slot) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(&slot.key);
        while self.slots[i].value != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    fn grow(&mut self) {
        let doubled = free_slots(self.slots.len() * 2);
        let old = std::mem::replace(&mut self.slots, doubled);
        self.len = 0;
        for slot in old.into_iter().filter(|s| s.value != EMPTY) {
            self.insert(slot.key, slot.value);
        }
    }
}

/// `n` empty slots, in huge pages where the kernel has them to give.
fn free_slots(n: usize) -> Vec<Slot> {
    let mut slots = Vec::with_capacity(n);
    let bytes = n * std::mem::size_of::<Slot>();
    if bytes >= HUGE_PAGE * 4 {
        let start = slots.as_ptr() as usize;
        let aligned = start.next_multiple_of(HUGE_PAGE);
        let len = (start + bytes).saturating_sub(aligned) / HUGE_PAGE * HUGE_PAGE;
        // The range lies inside the vector's own allocation, not yet touched.
        huge_pages(aligned, len);
    }
    slots.resize(n, FREE);
    slots
}

const HUGE_PAGE: usize = 2 << 20;

/// A power of two of at least 16 slots with `n` entries filling at most three quarters.
fn slots_for(n: usize) -> usize {
    n.saturating_mul(4).div_ceil(3).next_power_of_two().max(16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::EventLog;

    #[test]
    fn inserts_replace_and_survive_growth() {
        let mut log = EventLog::new();
        let (p, q) = (log.process("h", 1), log.process("h", 2));
        let mut table = AddrTable::with_capacity(0);
        for i in 0..1000u32 {
            table.insert(ProcKey::new(p, i64::from(i) * 16), i);
        }
        table.insert(ProcKey::new(p, 32), 7);
        table.insert(ProcKey::new(q, 32), 9);
        assert_eq!(table.get(&ProcKey::new(p, 32)), Some(7));
        assert_eq!(table.get(&ProcKey::new(q, 32)), Some(9));
        assert_eq!(table.get(&ProcKey::new(p, 999 * 16)), Some(999));
        assert_eq!(table.get(&ProcKey::new(q, 48)), None);
        assert_eq!(table.len, 1001);
        table.insert(ProcKey::new(q, 64), u32::MAX);
        assert_eq!(table.get(&ProcKey::new(q, 64)), None);
        assert_eq!(slots_for(0), 16);
        assert_eq!(slots_for(12), 16);
        assert_eq!(slots_for(13), 32);
    }

    #[test]
    fn retain_keeps_exactly_what_keep_accepts_and_every_kept_key_is_found() {
        let mut log = EventLog::new();
        let p = log.process("h", 1);
        // Tables from nearly empty to nearly full (runs then reach across the end of the
        // slots), and several look-overs of one table with inserts between them.
        for fill in [10u32, 500, 1_400, 3_000] {
            let mut table = AddrTable::with_capacity(0);
            let mut expected: std::collections::BTreeMap<i64, u32> = Default::default();
            let mut next = 0u32;
            for round in 0..4u32 {
                for _ in 0..fill {
                    // Addresses 16 apart, as heap objects are; some given again (later wins).
                    let key = i64::from(next.wrapping_mul(2_654_435_761) % (fill * 2)) * 16;
                    table.insert(ProcKey::new(p, key), next);
                    expected.insert(key, next);
                    next += 1;
                }
                let keep = |v: u32| (v.wrapping_mul(40_503) >> 7) % 3 != round % 3;
                table.retain(keep);
                expected.retain(|_, v| keep(*v));
                assert_eq!(table.len(), expected.len(), "fill {fill}, round {round}");
                for k in 0..i64::from(fill * 2) {
                    let found = table.get(&ProcKey::new(p, k * 16));
                    assert_eq!(found, expected.get(&(k * 16)).copied(), "key {k}");
                }
            }
        }
        let mut table = AddrTable::with_capacity(0);
        table.insert(ProcKey::new(p, 16), 1);
        table.retain(|_| false);
        assert_eq!((table.len(), table.get(&ProcKey::new(p, 16))), (0, None));
    }
}
