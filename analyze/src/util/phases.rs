//! Timing of the pipeline's phases, for performance work: with `QUADTRACE_PHASES` set in the
//! environment, each phase's wall time and the process's peak resident memory so far are printed
//! to stderr, with the processor time the reading threads took in it, by role (see
//! [`Role`]): on two cores, whether the wall time is one thread's or both cores' full. Off, it
//! costs one environment lookup per analysis, and the roles' clock readings all the same: two
//! per slice on the decoding thread (a slice is 65,536 rows), one per file on the pass's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// What a reading thread does; its processor time is added up by role (one thread may have
/// two roles in turn).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Role {
    /// Decoding Parquet pages into columns (arrow-rs).
    Decode,
    /// Turning columns into events.
    Convert,
    /// Reconstruction: the pass over the events, in time order.
    Pass,
}

const ROLES: [(Role, &str); 3] = [
    (Role::Decode, "decode"),
    (Role::Convert, "convert"),
    (Role::Pass, "pass"),
];

/// Processor time by role, ns, since the last phase ended.
static CPU_NS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// Processor time the calling thread has taken so far, ns (0 where the platform does not say).
pub(crate) fn thread_cpu_ns() -> u64 {
    #[cfg(target_os = "linux")]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes the one timespec it is given.
        let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0;
        if ok {
            let secs = u64::try_from(t.tv_sec).unwrap_or(0);
            let nanos = u64::try_from(t.tv_nsec).unwrap_or(0);
            return secs.saturating_mul(1_000_000_000).saturating_add(nanos);
        }
    }
    0
}

/// Adds the processor time the calling thread took since `since` (a [`thread_cpu_ns`]
/// reading) to `role`'s; returns the reading it took, from which the next role's time counts.
pub(crate) fn add_cpu(role: Role, since: u64) -> u64 {
    let now = thread_cpu_ns();
    CPU_NS[role as usize].fetch_add(now.saturating_sub(since), Ordering::Relaxed);
    now
}

/// Moves the processor time the calling thread took since `since` from `from`'s to `to`'s: a
/// thread that takes on another role's work for a moment, whose own time is added up whole.
pub(crate) fn move_cpu(from: Role, to: Role, since: u64) {
    let took = thread_cpu_ns().saturating_sub(since);
    CPU_NS[to as usize].fetch_add(took, Ordering::Relaxed);
    // Wraps below zero until `from`'s whole time is added; only the sum is read.
    CPU_NS[from as usize].fetch_sub(took, Ordering::Relaxed);
}

/// A stopwatch over the phases of one analysis.
pub(crate) struct Phases {
    last: Option<Instant>,
}

impl Phases {
    /// Starts timing when `QUADTRACE_PHASES` is set.
    pub(crate) fn start() -> Self {
        let on = std::env::var_os("QUADTRACE_PHASES").is_some();
        Phases {
            last: on.then(Instant::now),
        }
    }

    /// Ends phase `name`: prints its time and the peak memory so far.
    pub(crate) fn done(&mut self, name: &str) {
        let Some(last) = self.last else {
            return;
        };
        let now = Instant::now();
        let mut cpu = String::new();
        for (role, label) in ROLES {
            let ns = CPU_NS[role as usize].swap(0, Ordering::Relaxed);
            if ns > 0 {
                cpu.push_str(&format!("   {label} {:.3} s", ns as f64 / 1e9));
            }
        }
        eprintln!(
            "phase {name:<12} {:8.3} s   peak RSS {} MiB{cpu}",
            (now - last).as_secs_f64(),
            peak_rss_kib() / 1024
        );
        self.last = Some(now);
    }
}

/// The process's peak resident set (`VmHWM`), KiB; 0 where `/proc` does not say.
fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// The process's resident set now (`VmRSS`), KiB; 0 where `/proc` does not say.
pub(crate) fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
