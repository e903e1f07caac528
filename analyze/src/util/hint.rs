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

#[cfg(target_os = "linux")]
mod linux {
    pub(super) fn huge_pages(start: usize, len: usize) {
        // SAFETY: the caller passes a range inside an allocation it owns and has not touched;
        // the advice only changes how the kernel backs it.
        unsafe {
            libc::madvise(start as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
        }
    }
}

/// Where the kernel takes no such advice (macOS, Windows): small pages, same results.
#[cfg_attr(target_os = "linux", allow(dead_code))]
mod portable {
    pub(super) fn huge_pages(_start: usize, _len: usize) {}
}
