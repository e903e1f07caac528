//! Parquet key-value metadata keys written by `record`.
//!
//! Values are strings; the ones documented as JSON hold a JSON document.

/// Schema version ([`crate::SCHEMA_VERSION`]) as a decimal string. Its presence marks a file as
/// a quadtrace recording.
pub const SCHEMA_VERSION: &str = "quadtrace.schema_version";
/// Version of the `record` binary that wrote the file.
pub const RECORDER_VERSION: &str = "quadtrace.recorder_version";
/// Host name of the recording machine.
pub const HOSTNAME: &str = "quadtrace.hostname";
/// Kernel release (`uname -r`).
pub const KERNEL: &str = "quadtrace.kernel";
/// Wall-clock time, ns since the Unix epoch, of `ts_ns = 0`.
pub const BOOT_WALL_NS: &str = "quadtrace.boot_wall_ns";
/// `ts_ns` when recording started and stopped, as "START STOP".
pub const TIME_RANGE_NS: &str = "quadtrace.time_range_ns";
/// JSON array of the recorded targets, one object per binary, with the fields in [`target`].
pub const TARGETS: &str = "quadtrace.targets";
/// JSON array of the recorded processes, one object per process with the fields in
/// [`process`], ordered by pid: every process of the targets' `pids` (one that exec'd from one
/// recorded binary into another is there once for each), each read from `/proc` when `record`
/// first saw it (at the start, or at its first event).
///
/// Its `service` is the one in the `service` column of the process's events, the first of
/// these that gives a name: `record --service` (`PID=NAME`, then `EXE=NAME`, then `NAME`),
/// `OTEL_SERVICE_NAME` in its environment, `service.name` in its `OTEL_RESOURCE_ATTRIBUTES`,
/// the Kubernetes workload of a pod-shaped hostname in its own UTS namespace, the executable's
/// file name. Absent from files written before it existed.
pub const PROCESSES: &str = "quadtrace.processes";
/// Target binary path(s), comma-separated (also in [`TARGETS`]).
pub const TARGET_BINARY: &str = "quadtrace.target_binary";
/// Build id(s) of the target binaries, comma-separated.
pub const BUILD_ID: &str = "quadtrace.build_id";
/// Go version(s) of the target binaries, comma-separated.
pub const GO_VERSION: &str = "quadtrace.go_version";
/// The targets' default service name(s), comma-separated; processes may be named otherwise
/// (see [`PROCESSES`]).
pub const SERVICE: &str = "quadtrace.service";
/// Probes attached, comma-separated `function` names (with `+ret` for return sites).
pub const PROBES: &str = "quadtrace.probes";
/// Where struct offsets came from, per binary: `dwarf` or `table`, comma-separated.
pub const OFFSETS_SOURCE: &str = "quadtrace.offsets_source";
/// Events lost in BPF because the ring buffer was full: JSON object, event kind → count.
pub const LOST_EVENTS: &str = "quadtrace.lost_events";
/// Total of [`LOST_EVENTS`], decimal.
pub const LOST_TOTAL: &str = "quadtrace.lost_total";
/// Ring-buffer records that could not be decoded and were skipped, decimal.
pub const MALFORMED: &str = "quadtrace.malformed_records";

/// With rotation (`record --rotate-size`/`--rotate-secs`), the file's segment number, from 1;
/// absent when the recording is one file. Lost and malformed counts are this segment's.
pub const SEGMENT: &str = "quadtrace.segment";

/// Field names of each object in the [`TARGETS`] JSON array.
pub mod target {
    /// The binary's default service name: `--service NAME` or `--service EXE=NAME` for it,
    /// else the executable's file name. Each process's own is in [`super::PROCESSES`].
    pub const SERVICE: &str = "service";
    /// Absolute path of the executable.
    pub const EXE: &str = "exe";
    /// Go version read from the binary.
    pub const GO_VERSION: &str = "go_version";
    /// Build id.
    pub const BUILD_ID: &str = "build_id";
    /// `dwarf` or `table`.
    pub const OFFSETS_SOURCE: &str = "offsets_source";
    /// Process ids seen running it (JSON array of numbers).
    pub const PIDS: &str = "pids";
    /// TCP addresses each process listened on, read from `/proc` when recording started and
    /// stopped: a JSON object from pid (as a string) to an array of `host:port` strings. It
    /// names callees of servers whose `http.Server.Addr` is empty (`Serve(listener)`).
    pub const LISTENERS: &str = "listeners";
}

/// Field names of each object in the [`PROCESSES`] JSON array.
pub mod process {
    /// Process id in the host's pid namespace, as in the `pid` column.
    pub const PID: &str = "pid";
    /// Process id in the process's own pid namespace (the innermost of `NSpid` in
    /// `/proc/PID/status`): a container's view of it; null when unreadable.
    pub const NS_PID: &str = "ns_pid";
    /// Service name of its events (the `service` column).
    pub const SERVICE: &str = "service";
    /// Where [`SERVICE`] came from: `flag` (`--service NAME`), `flag_pid` (`PID=NAME`),
    /// `flag_exe` (`EXE=NAME`), `otel_service_name`, `otel_resource_attributes`, `k8s_pod` (the
    /// workload of its pod's name) or `exe` (the executable's file name).
    pub const SERVICE_SOURCE: &str = "service_source";
    /// Path of its executable.
    pub const EXE: &str = "exe";
    /// Build id of its binary (as in the targets).
    pub const BUILD_ID: &str = "build_id";
    /// Go version of its binary (as in the targets).
    pub const GO_VERSION: &str = "go_version";
    /// Hostname of its UTS namespace when that is not the recorder's (a container's; in
    /// Kubernetes the pod's name); null otherwise.
    pub const POD_HOSTNAME: &str = "pod_hostname";
    /// The 64-hex id of its container, from its cgroup path; null outside a container.
    pub const CONTAINER_ID: &str = "container_id";
    /// Inode number of its network namespace: processes with equal values share addresses,
    /// loopback included; null when unreadable.
    pub const NETNS: &str = "netns";
    /// IP addresses of its network namespace (array of strings, IPv4 first), so that a call to
    /// one of them reaches the process's wildcard listeners (`0.0.0.0:PORT`, `[::]:PORT`).
    pub const ADDRS: &str = "addrs";
}
