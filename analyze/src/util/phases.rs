//! Timing of the pipeline's phases, for performance work: with `QUADTRACE_PHASES` set in the
//! environment, each phase's wall time and the process's peak resident memory so far are printed
//! to stderr. Off, it costs one environment lookup per analysis.

use std::time::Instant;

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
        eprintln!(
            "phase {name:<12} {:8.3} s   peak RSS {} MiB",
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
