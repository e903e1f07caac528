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
/// Target binary path(s), comma-separated (also in [`TARGETS`]).
pub const TARGET_BINARY: &str = "quadtrace.target_binary";
/// Build id(s) of the target binaries, comma-separated.
pub const BUILD_ID: &str = "quadtrace.build_id";
/// Go version(s) of the target binaries, comma-separated.
pub const GO_VERSION: &str = "quadtrace.go_version";
/// Service name(s), comma-separated.
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
    /// Service name.
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
