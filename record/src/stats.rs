//! Event counters, the live status line on stderr and the summary printed at exit.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use quadtrace_schema::EventKind;

use crate::raw_event::KIND_SLOTS;

/// Counts of what was recorded and what was lost.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    /// Events written, indexed by raw kind value.
    pub by_kind: [u64; KIND_SLOTS],
    /// Ring-buffer reserve failures counted in BPF, indexed by raw kind value.
    pub lost_by_kind: [u64; KIND_SLOTS],
    /// Records that could not be decoded.
    pub malformed: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.by_kind.iter().sum()
    }

    pub fn lost(&self) -> u64 {
        self.lost_by_kind.iter().sum()
    }

    /// What was counted after `base`, an earlier copy of these counts.
    pub fn since(&self, base: &Counts) -> Counts {
        let mut d = Counts::default();
        for i in 0..KIND_SLOTS {
            d.by_kind[i] = self.by_kind[i].saturating_sub(base.by_kind[i]);
            d.lost_by_kind[i] = self.lost_by_kind[i].saturating_sub(base.lost_by_kind[i]);
        }
        d.malformed = self.malformed.saturating_sub(base.malformed);
        d
    }

    pub fn count(&mut self, kind: EventKind) {
        self.by_kind[kind as usize] += 1;
    }

    /// `{"server_start": 3, ...}` for the metadata.
    pub fn lost_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = EventKind::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str().to_string(),
                    self.lost_by_kind[*k as usize].into(),
                )
            })
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    /// The exit summary, one line per kind.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for k in EventKind::ALL {
            let lost = self.lost_by_kind[k as usize];
            let lost = if lost > 0 {
                format!("  (lost {lost})")
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {:<13} {:>10}{lost}\n",
                k.as_str(),
                self.by_kind[k as usize]
            ));
        }
        out.push_str(&format!("  {:<13} {:>10}\n", "total", self.total()));
        out.push_str(&format!("  {:<13} {:>10}\n", "lost", self.lost()));
        if self.malformed > 0 {
            out.push_str(&format!("  {:<13} {:>10}\n", "malformed", self.malformed));
        }
        out
    }
}

/// The live line: events/s, total, lost. Drawn only when stderr is a terminal.
pub struct LiveLine {
    bar: ProgressBar,
    last: Instant,
    last_total: u64,
}

impl LiveLine {
    pub fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(4));
        bar.set_style(
            ProgressStyle::with_template("{spinner} recording {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        LiveLine {
            bar,
            last: Instant::now(),
            last_total: 0,
        }
    }

    /// Refreshes the line at most once a second; `processes`: how many are being recorded.
    pub fn update(&mut self, counts: &Counts, processes: usize) {
        let elapsed = self.last.elapsed();
        if elapsed < Duration::from_secs(1) {
            self.bar.tick();
            return;
        }
        let total = counts.total();
        let rate = (total - self.last_total) as f64 / elapsed.as_secs_f64();
        self.bar.set_message(format!(
            "{processes} processes  {rate:>8.0} events/s  total {total}  lost {}",
            counts.lost()
        ));
        self.last = Instant::now();
        self.last_total = total;
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_and_lost_json() {
        let mut c = Counts::default();
        c.count(EventKind::ServerStart);
        c.count(EventKind::ServerStart);
        c.lost_by_kind[EventKind::Spawn as usize] = 4;
        assert_eq!(c.total(), 2);
        assert_eq!(c.lost(), 4);
        let s = c.summary();
        assert!(s.contains("server_start") && s.contains("(lost 4)"), "{s}");
        let v: serde_json::Value = serde_json::from_str(&c.lost_json()).expect("json");
        assert_eq!(v["spawn"], 4);
        assert_eq!(v["server_start"], 0);
    }
}
