//! The Parquet key-value metadata of a recording (keys in `quadtrace_schema::meta`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use quadtrace_schema::meta;

use crate::gobin::{GoBinary, OffsetsSource};
use crate::process::{uts, ProcessInfo};
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
    /// Every process seen, with its target's index, by pid.
    pub processes: &'a [(usize, &'a ProcessInfo)],
    /// Events written to and lost during this file.
    pub counts: &'a Counts,
    pub time_range: (u64, u64),
    /// The segment's number when the recording rotates.
    pub segment: Option<u32>,
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
        OffsetsSource::TypeDescriptors => "descriptors",
        OffsetsSource::Table => "table",
    }
}

/// Builds every metadata key of a finished file.
pub fn build(targets: &[TargetMeta], seg: &SegmentMeta<'_>) -> Vec<(String, String)> {
    let (hostname, kernel) = uts::uname()
        .map(|u| (u.nodename, u.release))
        .unwrap_or_default();
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
    let processes: Vec<serde_json::Value> = seg
        .processes
        .iter()
        .map(|(t, p)| process_json(p, targets.get(*t)))
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
        (
            meta::PROCESSES,
            serde_json::Value::Array(processes).to_string(),
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

/// One object of [`meta::PROCESSES`]: the process, and the facts of its binary that analyze
/// would otherwise have to join from the targets.
fn process_json(p: &ProcessInfo, target: Option<&TargetMeta>) -> serde_json::Value {
    use meta::process as f;
    serde_json::json!({
        f::PID: p.pid,
        f::NS_PID: p.ns_pid,
        f::SERVICE: p.service,
        f::SERVICE_SOURCE: p.service_source.as_str(),
        f::EXE: p.exe.display().to_string(),
        f::BUILD_ID: target.map(|t| t.build_id.as_str()),
        f::GO_VERSION: target.map(|t| t.go_version.as_str()),
        f::POD_HOSTNAME: p.pod_hostname,
        f::CONTAINER_ID: p.container_id,
        f::NETNS: p.netns,
        f::ADDRS: p.addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::ServiceSource;

    #[test]
    fn processes_key_has_one_object_per_process() {
        let target = TargetMeta {
            service: "app".into(),
            exe: "/srv/app".into(),
            go_version: "go1.22.5".into(),
            build_id: "abc".into(),
            offsets_source: "dwarf",
            probes: vec!["runtime.newproc1".into()],
        };
        let pod = ProcessInfo {
            pid: 4242,
            ns_pid: Some(1),
            service: "backend".into(),
            service_source: ServiceSource::K8sPod,
            exe: "/srv/app".into(),
            pod_hostname: Some("backend-5d9c7b8f4-x2x7q".into()),
            container_id: Some("ab".repeat(32)),
            netns: Some(4026532100),
            addrs: vec![
                "10.244.1.7".parse().expect("ip"),
                "::1".parse().expect("ip"),
            ],
        };
        let host = ProcessInfo {
            pid: 17,
            ns_pid: None,
            service: "app".into(),
            service_source: ServiceSource::Exe,
            pod_hostname: None,
            container_id: None,
            netns: None,
            addrs: Vec::new(),
            ..pod.clone()
        };
        let counts = Counts::default();
        let keys = build(
            std::slice::from_ref(&target),
            &SegmentMeta {
                pids_seen: &[BTreeSet::from([17, 4242])],
                listeners: &[BTreeMap::new()],
                processes: &[(0, &host), (0, &pod), (5, &host)],
                counts: &counts,
                time_range: (1, 2),
                segment: None,
            },
        );
        let value = keys
            .iter()
            .find(|(k, _)| k == meta::PROCESSES)
            .map(|(_, v)| v.as_str())
            .expect("processes key");
        let got: serde_json::Value = serde_json::from_str(value).expect("json");
        assert_eq!(
            got,
            serde_json::json!([
                {"pid": 17, "ns_pid": null, "service": "app", "service_source": "exe",
                 "exe": "/srv/app", "build_id": "abc", "go_version": "go1.22.5",
                 "pod_hostname": null, "container_id": null, "netns": null, "addrs": []},
                {"pid": 4242, "ns_pid": 1, "service": "backend", "service_source": "k8s_pod",
                 "exe": "/srv/app", "build_id": "abc", "go_version": "go1.22.5",
                 "pod_hostname": "backend-5d9c7b8f4-x2x7q", "container_id": "ab".repeat(32),
                 "netns": 4026532100u64, "addrs": ["10.244.1.7", "::1"]},
                {"pid": 17, "ns_pid": null, "service": "app", "service_source": "exe",
                 "exe": "/srv/app", "build_id": null, "go_version": null,
                 "pod_hostname": null, "container_id": null, "netns": null, "addrs": []},
            ])
        );
    }
}
