//! One timeline for recordings of several hosts. Each host records its own monotonic clock,
//! counted from its boot, so the `ts_ns` of two hosts that booted an hour apart are an hour
//! apart for the same moment: ordered as they are, a call on one host and the request it caused
//! on the other would be an hour apart, and never linked. Each recording's metadata says the
//! wall-clock time of its `ts_ns = 0` (`quadtrace.boot_wall_ns`), so every host's times are
//! moved onto the timeline of the host that booted first: by the difference of their boot
//! times. One host alone (or hosts that booted together) is not moved at all, and a recording
//! that does not say its clock (schema < 4) stays as recorded.

use std::path::PathBuf;

use quadtrace_schema::meta;

use super::{boot_wall_ns, read_footer_metadata};

/// How far each host's times move.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    /// (host name, ns to add to its `ts_ns`), for hosts whose clock moves.
    moves: Vec<(String, i64)>,
}

impl Timeline {
    /// The timeline of the recordings at `paths`, from their footers; a host's clock is its
    /// first recording's (in the order given) that says it. Files that cannot be read move
    /// nothing (reading them fails later, naming them).
    pub fn of(paths: &[PathBuf]) -> Timeline {
        let mut boots: Vec<(String, i64)> = Vec::new();
        for path in paths {
            let Some(metadata) = read_footer_metadata(path) else {
                continue;
            };
            let host = metadata.get(meta::HOSTNAME).unwrap_or_default();
            if let Some(boot) = boot_wall_ns(&metadata) {
                if !boots.iter().any(|(h, _)| h == host) {
                    boots.push((host.to_owned(), boot));
                }
            }
        }
        let Some(first) = boots.iter().map(|(_, b)| *b).min() else {
            return Timeline::default();
        };
        Timeline {
            moves: boots
                .into_iter()
                .map(|(h, boot)| (h, boot.saturating_sub(first)))
                .filter(|(_, by)| *by != 0)
                .collect(),
        }
    }

    /// What to add to the `ts_ns` of host `hostname`'s recordings.
    pub fn offset(&self, hostname: &str) -> i64 {
        self.moves
            .iter()
            .find(|(h, _)| h == hostname)
            .map_or(0, |(_, by)| *by)
    }
}
