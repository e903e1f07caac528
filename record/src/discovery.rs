//! Deciding whether a process that record did not know is one to record: a program started
//! while recording (an exec the host object reported), or, with `-a`, any process on the host.
//!
//! A process is recorded when its binary is one being probed for every process that runs it
//! (`--exe`, `-a`: the same file), when it has the build id of an `--exe` binary (the same
//! build under another path, e.g. inside a container image), or, with `-a`, when it is a Go
//! program that serves or calls HTTP with net/http. Verdicts are kept per binary (device and
//! inode), so a program started a thousand times is looked at once.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use crate::gobin::{GoBinError, GoBinary};
use crate::process::ServiceFlags;
use crate::targets::Target;

/// What to do with a process. One per process that starts: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Found {
    /// It runs the binary of target `index`, already probed for every process of it.
    Known(usize),
    /// It runs a binary not probed yet that is to be recorded.
    New(Target, GoBinary),
    /// Not one to record (or gone before it could be looked at).
    Ignore,
}

/// A verdict on one binary.
#[derive(Clone, Copy)]
enum Verdict {
    Target(usize),
    Ignore,
}

/// The rules, and what they have said so far.
pub struct Discovery {
    /// `-a`.
    all: bool,
    /// Build ids of the `--exe` targets, with their index.
    exe_build_ids: Vec<(String, usize)>,
    /// `--service`, for a new binary's default name.
    service: ServiceFlags,
    verdicts: HashMap<(u64, u64), Verdict>,
}

/// Device and inode of the file `pid` runs.
fn binary_of(pid: u32) -> Option<(u64, u64)> {
    let meta = fs::metadata(format!("/proc/{pid}/exe")).ok()?;
    Some((meta.dev(), meta.ino()))
}

impl Discovery {
    /// Rules for `targets` as resolved at the start (each with its binary's build id).
    pub fn new(all: bool, service: ServiceFlags, targets: &[(Target, Option<String>)]) -> Self {
        let mut d = Discovery {
            all,
            exe_build_ids: Vec::new(),
            service,
            verdicts: HashMap::new(),
        };
        for (i, (t, build_id)) in targets.iter().enumerate() {
            d.note_target(i, t, build_id.as_deref());
        }
        d
    }

    /// Learns a target (at the start, or one found later).
    pub fn note_target(&mut self, index: usize, t: &Target, build_id: Option<&str>) {
        // `-p` targets record just their processes: another process of the same binary is not
        // one of them.
        if t.pids.is_some() {
            return;
        }
        if let Ok(meta) = fs::metadata(&t.open_path) {
            self.verdicts
                .insert((meta.dev(), meta.ino()), Verdict::Target(index));
        }
        if let Some(id) = build_id.filter(|id| !id.is_empty()) {
            self.exe_build_ids.push((id.to_string(), index));
        }
    }

    /// Whether anything but binaries already probed can be a target (then every exec on the
    /// host must be looked at).
    pub fn looks_beyond_known_binaries(&self) -> bool {
        self.all || !self.exe_build_ids.is_empty()
    }

    /// What to do with process `pid`.
    pub fn classify(&mut self, pid: u32) -> Found {
        let Some(key) = binary_of(pid) else {
            return Found::Ignore;
        };
        if let Some(v) = self.verdicts.get(&key) {
            return match *v {
                Verdict::Target(i) => Found::Known(i),
                Verdict::Ignore => Found::Ignore,
            };
        }
        let found = self.look_at(pid);
        // A new binary's index is only known once the caller has added it (note_target).
        if matches!(found, Found::Ignore) {
            self.verdicts.insert(key, Verdict::Ignore);
        }
        found
    }

    fn look_at(&self, pid: u32) -> Found {
        if !self.looks_beyond_known_binaries() {
            return Found::Ignore;
        }
        let open_path = PathBuf::from(format!("/proc/{pid}/exe"));
        let Some(peek) = GoBinary::peek(&open_path) else {
            return Found::Ignore;
        };
        let same_build = peek.build_id.as_deref().and_then(|id| {
            self.exe_build_ids
                .iter()
                .find(|(known, _)| known == id)
                .map(|(_, i)| *i)
        });
        if same_build.is_none() && !self.all {
            return Found::Ignore;
        }
        let Ok(exe) = fs::read_link(&open_path) else {
            return Found::Ignore;
        };
        let binary = match GoBinary::open(&open_path) {
            Ok(b) => b,
            // A Go program without net/http (or too old, or odd): not one to record; said
            // only when it was asked for by build id.
            Err(e) => {
                if same_build.is_some() || !matches!(e, GoBinError::NoNetHttp { .. }) {
                    eprintln!("record: not recording pid {pid} ({}): {e}", exe.display());
                }
                return Found::Ignore;
            }
        };
        let target = Target {
            service: self.service.binary_default(&exe),
            open_path,
            exe,
            pids: None,
        };
        Found::New(target, binary)
    }
}

/// Every process on the host now (for `-a` at the start).
pub fn all_pids() -> Vec<u32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .collect();
    pids.sort_unstable();
    pids
}
