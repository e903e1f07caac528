//! Hints to the processor and the kernel that change no result. Platform-specific ones sit
//! behind `cfg` with a portable fallback, which is compiled on every platform (so building on
//! Linux checks the path macOS and Windows take).

/// Asks the processor to bring the cache line holding `at` in, so that a read of it a little
/// later does not wait for memory.
#[inline]
pub(crate) fn prefetch<T>(at: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint to the cache: it reads nothing the program sees and
    // cannot fault, and `at` is a live reference anyway.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((at as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// Asks the kernel to back the `len` bytes at address `start` (huge-page aligned, inside an
/// allocation not yet touched) with huge pages where it has them: a table looked up at random
/// then costs one TLB miss per 2 MiB instead of one per 4 KiB. A refusal leaves small pages.
pub(crate) fn huge_pages(start: usize, len: usize) {
    #[cfg(target_os = "linux")]
    linux::huge_pages(start, len);
    #[cfg(not(target_os = "linux"))]
    portable::huge_pages(start, len);
}

/// Asks the allocator to keep memory it is given back for the next allocation rather than
/// return it to the kernel at once. Decoding allocates and frees a slice's columns, megabytes,
/// dozens of times a second; glibc hands blocks that size back to the kernel and asks for them
/// again, and each page then costs a fault and the kernel's zeroing (142 k faults and a fifth
/// of the decoder's time per 10 M events here; 11 k with this). Blocks up to 64 MiB now come
/// from the heap and go back to it, and its top is trimmed only past 64 MiB free (measured:
/// peak memory 1-3 % higher, when it does not fall for fewer fresh pages).
pub fn reuse_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    linux::reuse_freed_memory();
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    portable::reuse_freed_memory();
}

#[cfg(target_os = "linux")]
mod linux {
    #[cfg(target_env = "gnu")]
    pub(super) fn reuse_freed_memory() {
        // SAFETY: mallopt only sets the allocator's tuning; it is called before any thread is
        // started, and a refusal (a return of 0) leaves the defaults.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
        }
    }

    pub(super) fn huge_pages(start: usize, len: usize) {
        // SAFETY: the caller passes a range inside an allocation it owns and has not touched;
        // the advice only changes how the kernel backs it.
        unsafe {
            libc::madvise(start as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
        }
    }
}

/// Where the kernel takes no such advice (macOS, Windows; musl's allocator has no tuning):
/// small pages and the allocator's defaults, same results.
#[allow(dead_code)]
mod portable {
    pub(super) fn huge_pages(_start: usize, _len: usize) {}

    pub(super) fn reuse_freed_memory() {}
}
