//! The quadtrace recording format: the contract between `record` and `analyze`.
//!
//! A recording is one standard Parquet file (zstd, dictionary-encoded strings) with one row per
//! raw event, in the columns listed by [`COLUMNS`], and key-value metadata under the keys in
//! [`meta`]. Any Parquet reader opens it; `analyze` checks [`meta::SCHEMA_VERSION`] first.
//!
//! Nothing here depends on Arrow, Parquet, libbpf or polars: both sides build their own typed
//! view from [`COLUMNS`], so the column list lives in exactly one place.
#![deny(missing_docs)]

pub mod export;
mod kind;
pub mod meta;
pub mod stream;

pub use kind::EventKind;

/// Version of the recording format written by this build.
///
/// Bump it when a column changes meaning or type, or a required column is added; readers refuse
/// files of a newer version rather than misreading them.
pub const SCHEMA_VERSION: u32 = 4;

/// Oldest schema version readers still accept. Older versions lack the columns whose
/// [`Column::since`] is newer than theirs; readers treat those as null.
pub const MIN_READABLE_SCHEMA_VERSION: u32 = 1;

/// The logical type of a column, mapped to Arrow/Parquet types by each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Signed 64-bit integer.
    Int64,
    /// Signed 32-bit integer.
    Int32,
    /// UTF-8 string (dictionary-encoded in Parquet).
    Utf8,
    /// Boolean.
    Bool,
}

/// One column of the event table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Column name in the Parquet file.
    pub name: &'static str,
    /// Logical type.
    pub ty: ColumnType,
    /// Whether the column may hold nulls (for kinds where it does not apply).
    pub nullable: bool,
    /// One-line description, rendered in `schema/README.md`.
    pub doc: &'static str,
    /// Schema version that added the column; files of older versions lack it.
    pub since: u32,
}

const fn col(name: &'static str, ty: ColumnType, nullable: bool, doc: &'static str) -> Column {
    Column {
        name,
        ty,
        nullable,
        doc,
        since: 1,
    }
}

/// A column added in schema version 2: always nullable, absent from version-1 files.
const fn col_v2(name: &'static str, ty: ColumnType, doc: &'static str) -> Column {
    Column {
        name,
        ty,
        nullable: true,
        doc,
        since: 2,
    }
}

/// A column added in schema version 3: always nullable, absent from older files.
const fn col_v3(name: &'static str, ty: ColumnType, doc: &'static str) -> Column {
    Column {
        name,
        ty,
        nullable: true,
        doc,
        since: 3,
    }
}

/// A column added in schema version 4: always nullable, absent from older files.
const fn col_v4(name: &'static str, ty: ColumnType, doc: &'static str) -> Column {
    Column {
        name,
        ty,
        nullable: true,
        doc,
        since: 4,
    }
}

/// Column names, so that code refers to columns by constant rather than by string literal.
pub mod columns {
    /// See [`super::COLUMNS`].
    pub const TS_NS: &str = "ts_ns";
    /// See [`super::COLUMNS`].
    pub const PID: &str = "pid";
    /// See [`super::COLUMNS`].
    pub const TID: &str = "tid";
    /// See [`super::COLUMNS`].
    pub const GOID: &str = "goid";
    /// See [`super::COLUMNS`].
    pub const KIND: &str = "kind";
    /// See [`super::COLUMNS`].
    pub const SERVICE: &str = "service";
    /// See [`super::COLUMNS`].
    pub const METHOD: &str = "method";
    /// See [`super::COLUMNS`].
    pub const HOST: &str = "host";
    /// See [`super::COLUMNS`].
    pub const PATH: &str = "path";
    /// See [`super::COLUMNS`].
    pub const LISTEN_ADDR: &str = "listen_addr";
    /// See [`super::COLUMNS`].
    pub const STATUS: &str = "status";
    /// See [`super::COLUMNS`].
    pub const ERROR: &str = "error";
    /// See [`super::COLUMNS`].
    pub const PARENT_GOID: &str = "parent_goid";
    /// See [`super::COLUMNS`].
    pub const CTX: &str = "ctx";
    /// See [`super::COLUMNS`].
    pub const TRUNCATED: &str = "truncated";
    /// See [`super::COLUMNS`].
    pub const CTX1: &str = "ctx1";
    /// See [`super::COLUMNS`].
    pub const CTX2: &str = "ctx2";
    /// See [`super::COLUMNS`].
    pub const CTX3: &str = "ctx3";
    /// See [`super::COLUMNS`].
    pub const CHAN: &str = "chan";
    /// See [`super::COLUMNS`].
    pub const VALUE: &str = "value";
    /// See [`super::COLUMNS`].
    pub const QCOUNT: &str = "qcount";
    /// See [`super::COLUMNS`].
    pub const DATAQSIZ: &str = "dataqsiz";
    /// See [`super::COLUMNS`].
    pub const SENDX: &str = "sendx";
    /// See [`super::COLUMNS`].
    pub const RECVX: &str = "recvx";
    /// See [`super::COLUMNS`].
    pub const IN_SELECT: &str = "in_select";
    /// See [`super::COLUMNS`].
    pub const COMPLETED: &str = "completed";
    /// See [`super::COLUMNS`].
    pub const ROUTE: &str = "route";
    /// See [`super::COLUMNS`].
    pub const REMOTE_ADDR: &str = "remote_addr";
    /// See [`super::COLUMNS`].
    pub const LOCAL_ADDR: &str = "local_addr";
    /// See [`super::COLUMNS`].
    pub const NETNS: &str = "netns";
    /// See [`super::COLUMNS`].
    pub const RECEIVER_GOID: &str = "receiver_goid";
}

use ColumnType::{Bool, Int32, Int64, Utf8};

/// Every column of a recording, in file order.
pub const COLUMNS: &[Column] = &[
    col(columns::TS_NS, Int64, false, "monotonic clock (CLOCK_MONOTONIC) in ns; wall time = `quadtrace.boot_wall_ns` + ts_ns"),
    col(columns::PID, Int32, false, "process id (host pid namespace; the in-container pid is in `quadtrace.processes`)"),
    col(columns::TID, Int32, false, "thread id"),
    col(columns::GOID, Int64, false, "goroutine id the event happened on; for `spawn`, the new goroutine; 0 for the socket kinds (`connect`, `listen`, `listen_end`)"),
    col(columns::KIND, Utf8, false, "event kind: `server_start`, `server_end`, `client_start`, `client_end`, `spawn`, `chan_send`, `chan_recv`, `timer_arm`, `connect`, `listen`, `listen_end`"),
    col(columns::SERVICE, Utf8, false, "service name of the process: `--service`, else its OpenTelemetry service name, else its Kubernetes workload, else the executable's file name (`quadtrace.processes` says which)"),
    col(columns::METHOD, Utf8, true, "HTTP method (`server_start`, `client_start`); `GRPC` for a gRPC request or call, whose `path` is the full method `/pkg.Service/Method`"),
    col(columns::HOST, Utf8, true, "`server_start`: the request's Host header; `client_start`: the URL's `host[:port]` called"),
    col(columns::PATH, Utf8, true, "URL path without query string (`server_start`, `client_start`)"),
    col(columns::LISTEN_ADDR, Utf8, true, "`server_start`: the serving `http.Server`'s `Addr` (may be empty)"),
    col(columns::STATUS, Int32, true, "HTTP status: written by the handler (`server_end`) or received (`client_end`, null on transport error); for gRPC (method `GRPC`) the gRPC status code, 0 for OK"),
    col(columns::ERROR, Bool, true, "`client_end`: the round trip returned an error (gRPC: a status other than OK); `server_end`: a gRPC request ended with a status other than OK (false for HTTP, which fails by its 5xx)"),
    col(columns::PARENT_GOID, Int64, true, "`spawn`: the goroutine that started `goid`"),
    col(columns::CTX, Int64, true, "address of the request's `context.Context` (`server_start`, `client_start`); an identity, not a value"),
    col(columns::TRUNCATED, Bool, false, "a string in this row was longer than its bound and was cut"),
    col_v2(columns::CTX1, Int64, "`client_start`: the parent of `ctx` (contexts from `WithCancel`/`WithTimeout`/`WithValue` keep their parent first); 0 when unreadable"),
    col_v2(columns::CTX2, Int64, "`client_start`: the parent of `ctx1`"),
    col_v2(columns::CTX3, Int64, "`client_start`: the parent of `ctx2`"),
    col_v2(columns::CHAN, Int64, "`chan_send`, `chan_recv`: address of the channel (`runtime.hchan`)"),
    col_v2(columns::VALUE, Int64, "`chan_send`/`chan_recv`: the element's first 8 bytes (fewer for smaller elements; null when a receive discards it); `timer_arm`: the callback's funcval; `spawn`: the funcval the new goroutine runs (for a `time.AfterFunc` callback, the callback)"),
    col_v2(columns::QCOUNT, Int32, "channel events: values buffered in the channel (before a `chansend1` send; after a receive or a `select` send, which are recorded as they return)"),
    col_v2(columns::DATAQSIZ, Int32, "channel events: the channel's buffer size (0: unbuffered)"),
    col_v2(columns::SENDX, Int32, "channel events: the buffer's send index (same moment as `qcount`)"),
    col_v2(columns::RECVX, Int32, "channel events: the buffer's receive index (same moment as `qcount`)"),
    col_v2(columns::IN_SELECT, Bool, "channel events: the operation was a chosen case of a `select`"),
    col_v2(columns::COMPLETED, Bool, "`chan_recv`: a value was received (false: the channel was closed); `chan_send`: null (sends are recorded as they start)"),
    col_v3(columns::ROUTE, Utf8, "`server_end`: the route template that served the request when the service has one (`net/http.ServeMux` pattern on Go ≥ 1.22, e.g. `GET /users/{id}`; gin route, e.g. `/users/:id`); null when unknown"),
    col_v4(columns::REMOTE_ADDR, Utf8, "`server_start`: the client's `ip:port` as the server's connection sees it (`Request.RemoteAddr`); `connect`: the `ip:port` connected to, as dialled (a virtual IP before any NAT)"),
    col_v4(columns::LOCAL_ADDR, Utf8, "`connect`: the connection's own `ip:port` (what the server sees as `remote_addr`); `listen`, `listen_end`: the listening `ip:port`"),
    col_v4(columns::NETNS, Int64, "`connect`, `listen`, `listen_end`: inode of the socket's network namespace (`/proc/PID/ns/net`)"),
    col_v4(columns::RECEIVER_GOID, Int64, "`chan_send` (a `chansend1`): the goroutine blocked receiving on the channel (in a receive or a `select`), which takes this value directly; null when none waited"),
];

/// Looks a column up by name.
pub fn column(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.name == name)
}

/// Renders the column table as Markdown (used to keep `schema/README.md` in sync).
pub fn columns_markdown() -> String {
    let mut out = String::from("| column | type | nullable | meaning |\n|---|---|---|---|\n");
    for c in COLUMNS {
        let ty = match c.ty {
            Int64 => "int64",
            Int32 => "int32",
            Utf8 => "string",
            Bool => "bool",
        };
        let nullable = if c.nullable { "yes" } else { "no" };
        let since = if c.since > 1 {
            format!(" (since schema {})", c.since)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "| `{}` | {ty} | {nullable} | {}{since} |\n",
            c.name, c.doc
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_unique_and_found() {
        for (i, c) in COLUMNS.iter().enumerate() {
            assert!(
                COLUMNS[i + 1..].iter().all(|d| d.name != c.name),
                "duplicate {}",
                c.name
            );
            assert_eq!(column(c.name).map(|d| d.name), Some(c.name));
        }
        assert!(column("nope").is_none());
    }

    #[test]
    fn readme_lists_every_column() {
        let readme = include_str!("../README.md");
        assert!(
            readme.contains(&columns_markdown()),
            "schema/README.md is out of date; paste columns_markdown() into it:\n{}",
            columns_markdown()
        );
    }
}
