//! The table behind [`super::Contexts`]: (process, context address) to request.
//!
//! It holds one entry per request of the recording (millions), keyed by heap addresses that
//! land anywhere in it, so nearly every insert and lookup is a cache and TLB miss. A general
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

    /// Keeps only the entries whose value `keep` accepts, in a table sized for them.
    ///
    /// The table holds millions of entries, and `keep` looks each value up in a table of its
    /// own (requests by id), so asked in slot order every question lands anywhere in that
    /// table and waits for memory: a quarter of the whole pass's time at 50 M events. Asked in
    /// the order of the values ([`in_value_order`]), it walks that table forward. The entries
    /// kept go back in slot order, into the same slots when the size stays.
    pub(crate) fn retain(&mut self, keep: impl FnMut(u32) -> bool) {
        let live: Vec<Slot> = self
            .slots
            .iter()
            .filter(|s| s.value != EMPTY)
            .copied()
            .collect();
        let keeps = in_value_order(&live, keep);
        let kept = live
            .into_iter()
            .zip(keeps)
            .filter_map(|(s, k)| k.then_some(s));
        let kept: Vec<Slot> = kept.collect();
        let n = slots_for(kept.len() * 2);
        if n == self.slots.len() {
            self.slots.fill(FREE);
        } else {
            // The old slots go before the new ones are taken.
            self.slots = Vec::new();
            self.slots = free_slots(n);
        }
        self.len = 0;
        for slot in kept {
            self.insert(slot.key, slot.value);
        }
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

/// Which of `slots` `keep` accepts, asking it about their values in increasing order: a
/// counting sort into blocks of 2^[`VALUE_BLOCK_BITS`] values (two passes, whatever the number
/// of entries), then each block sorted on its own, in cache.
fn in_value_order(slots: &[Slot], mut keep: impl FnMut(u32) -> bool) -> Vec<bool> {
    let (Some(low), Some(high)) = (
        slots.iter().map(|s| s.value).min(),
        slots.iter().map(|s| s.value).max(),
    ) else {
        return Vec::new();
    };
    let block = |value: u32| ((value - low) >> VALUE_BLOCK_BITS) as usize;
    // starts[b]: where block b's entries begin in `order`.
    let mut starts = vec![0usize; block(high) + 2];
    for s in slots {
        starts[block(s.value) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    // (value, index in `slots`), by block.
    let mut order = vec![(0u32, 0u32); slots.len()];
    for (i, s) in slots.iter().enumerate() {
        let at = &mut starts[block(s.value)];
        order[*at] = (s.value, i as u32);
        *at += 1;
    }
    // Within a block, in value order too: the lookups then stream through memory, which
    // the processor reads ahead of them.
    let mut from = 0;
    for &end in &starts[..starts.len() - 1] {
        order[from..end].sort_unstable();
        from = end;
    }
    let mut keeps = vec![false; slots.len()];
    for (value, i) in order {
        keeps[i as usize] = keep(value);
    }
    keeps
}

/// Values looked up together by [`in_value_order`]: 4,096 requests, a few hundred KB of them.
const VALUE_BLOCK_BITS: u32 = 12;

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
    fn retain_keeps_what_keep_accepts_asking_in_value_order() {
        let mut log = EventLog::new();
        let p = log.process("h", 1);
        let mut table = AddrTable::with_capacity(0);
        // Values far apart and out of order, some keys given twice (the later value wins).
        let values = |i: u32| i.wrapping_mul(2_654_435_761) % 100_000;
        for i in 0..20_000u32 {
            table.insert(ProcKey::new(p, i64::from(i % 15_000) * 16), values(i));
        }
        let before: Vec<(i64, u32)> = (0..15_000)
            .filter_map(|k| Some((k, table.get(&ProcKey::new(p, k * 16))?)))
            .collect();
        let mut asked = Vec::new();
        table.retain(|v| {
            asked.push(v);
            v % 3 != 0
        });
        let blocks: Vec<u32> = asked.iter().map(|v| v >> VALUE_BLOCK_BITS).collect();
        assert!(
            blocks.windows(2).all(|w| w[0] <= w[1]),
            "asked out of order"
        );
        assert_eq!(asked.len(), before.len());
        for (k, v) in before {
            let now = table.get(&ProcKey::new(p, k * 16));
            assert_eq!(now, (v % 3 != 0).then_some(v), "key {k}");
        }
        assert_eq!(table.len, asked.iter().filter(|v| *v % 3 != 0).count());
        table.retain(|_| false);
        assert_eq!(table.len, 0);
        table.retain(|_| true);
        assert_eq!(table.get(&ProcKey::new(p, 16)), None);
    }
}
