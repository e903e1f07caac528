//! The two words record shares with each loaded BPF object through its mmapped `.bss`: the
//! `recording` flag it sets and the `lost` counters the programs bump.

use crate::raw_event::KIND_SLOTS;

/// Sets a `recording` flag, which the programs read concurrently.
pub fn set_flag(flag: &mut u32, on: bool) {
    // SAFETY: the flag lives in a BPF object's mmapped .bss; a volatile write of the aligned
    // u32 is what the programs observe.
    unsafe { std::ptr::write_volatile(flag, u32::from(on)) };
}

/// Reads per-kind `lost` counters, which the programs update concurrently.
pub fn read_counters(lost: &[u64; KIND_SLOTS]) -> [u64; KIND_SLOTS] {
    // SAFETY: the counters live in a BPF object's mmapped .bss; a volatile read of the aligned
    // u64 array observes the programs' writes.
    unsafe { std::ptr::read_volatile(lost) }
}
