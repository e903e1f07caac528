//! The Parquet key-value metadata of a recording (keys in `quadtrace_schema::meta`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use quadtrace_schema::meta;

use crate::gobin::{GoBinary, OffsetsSource};
use crate::stats::Counts;
use crate::targets::Target;

/// What the metadata says of one recorded binary: fixed for the whole recording.
pub struct TargetMeta {
    pub service: String,
    pub exe: String,
    pub go_version: String,
    pub build_id: String,
    pub offsets_source: &'static str,
    pub probes: Vec<String>,
}

impl TargetMeta {
    pub fn new(target: &Target, binary: &GoBinary, probes: &[String]) -> TargetMeta {
        TargetMeta {
            service: target.service.clone(),
            exe: target.exe.display().to_string(),
            go_version: binary.version.raw.clone(),
            build_id: binary.build_id.clone().unwrap_or_default(),
            offsets_source: offsets_source(binary.offsets_source),
            probes: probes.to_vec(),
        }
    }
}

/// What the metadata says of one file (the whole recording, or one segment of it): indexed
/// like the targets.
pub struct SegmentMeta<'a> {
    pub pids_seen: &'a [BTreeSet<u32>],
    /// Listening addresses per process.
    pub listeners: &'a [BTreeMap<u32, BTreeSet<String>>],
    /// Events written to and lost during this file.
    pub counts: &'a Counts,
    pub time_range: (u64, u64),
    /// The segment's number when the recording rotates.
    pub segment: Option<u32>,
}

fn uname() -> (String, String) {
    // SAFETY: utsname is plain old data; uname fills it with NUL-terminated strings.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return (String::new(), String::new());
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    (field(&u.nodename), field(&u.release))
}

/// Nanoseconds since boot on CLOCK_MONOTONIC, the clock of `bpf_ktime_get_ns`.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Wall-clock ns of monotonic time zero, so `ts_ns` can be shown as a date.
fn boot_wall_ns() -> u64 {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    wall.saturating_sub(monotonic_ns())
}

fn offsets_source(s: OffsetsSource) -> &'static str {
    match s {
        OffsetsSource::Dwarf => "dwarf",
        OffsetsSource::Table => "table",
    }
}

/// Builds every metadata key of a finished file.
pub fn build(targets: &[TargetMeta], seg: &SegmentMeta<'_>) -> Vec<(String, String)> {
    let (hostname, kernel) = uname();
    let joined =
        |f: &dyn Fn(&TargetMeta) -> &str| targets.iter().map(f).collect::<Vec<_>>().join(",");
    let no_pids = BTreeSet::new();
    let no_listeners = BTreeMap::new();
    let targets_json: Vec<serde_json::Value> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            serde_json::json!({
                meta::target::SERVICE: t.service,
                meta::target::EXE: t.exe,
                meta::target::GO_VERSION: t.go_version,
                meta::target::BUILD_ID: t.build_id,
                meta::target::OFFSETS_SOURCE: t.offsets_source,
                meta::target::PIDS: seg.pids_seen.get(i).unwrap_or(&no_pids).iter().collect::<Vec<_>>(),
                meta::target::LISTENERS: seg.listeners.get(i).unwrap_or(&no_listeners),
            })
        })
        .collect();
    let probes: BTreeSet<&str> = targets
        .iter()
        .flat_map(|t| t.probes.iter().map(String::as_str))
        .collect();
    let counts = seg.counts;
    let time_range = seg.time_range;
    let mut keys = vec![
        (
            meta::SCHEMA_VERSION,
            quadtrace_schema::SCHEMA_VERSION.to_string(),
        ),
        (
            meta::RECORDER_VERSION,
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        (meta::HOSTNAME, hostname),
        (meta::KERNEL, kernel),
        (meta::BOOT_WALL_NS, boot_wall_ns().to_string()),
        (
            meta::TIME_RANGE_NS,
            format!("{} {}", time_range.0, time_range.1),
        ),
        (
            meta::TARGETS,
            serde_json::Value::Array(targets_json).to_string(),
        ),
        (meta::TARGET_BINARY, joined(&|t| &t.exe)),
        (meta::BUILD_ID, joined(&|t| &t.build_id)),
        (meta::GO_VERSION, joined(&|t| &t.go_version)),
        (meta::SERVICE, joined(&|t| &t.service)),
        (
            meta::PROBES,
            probes.into_iter().collect::<Vec<_>>().join(","),
        ),
        (meta::OFFSETS_SOURCE, joined(&|t| t.offsets_source)),
        (meta::LOST_EVENTS, counts.lost_json()),
        (meta::LOST_TOTAL, counts.lost().to_string()),
        (meta::MALFORMED, counts.malformed.to_string()),
    ];
    if let Some(n) = seg.segment {
        keys.push((meta::SEGMENT, n.to_string()));
    }
    keys.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}
