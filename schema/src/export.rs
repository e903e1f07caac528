//! The derived datasets `analyze export` writes for fleet roll-ups (`schema/EXPORT.md`): what
//! one host's recordings reduce to, flat and typed so that Spark, Trino and DuckDB read them
//! alike — ids and nanosecond times as signed 64-bit integers (Spark reads unsigned ones as
//! decimals and has no nanosecond timestamp), plus a minute bucket as a timestamp.
//!
//! Each dataset is a folder of Parquet files partitioned Hive-style by the UTC date of its rows
//! (`DIR/calls/date=2026-12-03/…parquet`). The SQL of `schema/sql/` computes the quadruples of
//! `analyze quads` from them; the columns are defined here once, and a test keeps
//! `schema/EXPORT.md` in sync.

/// Version of the export's columns and meaning; `quadtrace.export.version` in every file.
pub const EXPORT_VERSION: u32 = 1;

/// Parquet key-value metadata of an exported file.
pub mod meta {
    /// [`super::EXPORT_VERSION`] as a decimal string.
    pub const VERSION: &str = "quadtrace.export.version";
    /// Which dataset the file belongs to (`calls`, `requests`, ...).
    pub const DATASET: &str = "quadtrace.export.dataset";
}

/// The Hive partition column of every dataset: `date=YYYY-MM-DD` (UTC), or
/// [`UNKNOWN_DATE`] for rows of a recording without a wall clock.
pub const PARTITION: &str = "date";

/// Partition value of rows whose recording does not say its wall clock.
pub const UNKNOWN_DATE: &str = "unknown";

/// The logical type of an exported column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportType {
    /// Signed 64-bit integer (ids, nanosecond times and durations, statuses).
    Int64,
    /// 64-bit float.
    Float64,
    /// UTF-8 string.
    Utf8,
    /// Boolean.
    Bool,
    /// The UTC minute a row's time falls in: a Parquet timestamp in microseconds without a
    /// time zone (Spark's `TIMESTAMP_NTZ`, DuckDB's `TIMESTAMP`), in UTC.
    Minute,
}

/// One column of an exported dataset.
#[derive(Debug, Clone, Copy)]
pub struct ExportColumn {
    /// Column name in the Parquet file.
    pub name: &'static str,
    /// Logical type.
    pub ty: ExportType,
    /// Whether it may hold nulls.
    pub nullable: bool,
    /// One line, rendered in `schema/EXPORT.md`.
    pub doc: &'static str,
}

/// One exported dataset.
#[derive(Debug, Clone, Copy)]
pub struct Dataset {
    /// Its folder under the export's directory.
    pub name: &'static str,
    /// What one row is.
    pub row: &'static str,
    /// Its columns, in file order (the partition column is not one of them).
    pub columns: &'static [ExportColumn],
}

use ExportType::{Bool, Float64, Int64, Minute, Utf8};

const fn c(name: &'static str, ty: ExportType, nullable: bool, doc: &'static str) -> ExportColumn {
    ExportColumn {
        name,
        ty,
        nullable,
        doc,
    }
}

const HOST: ExportColumn = c(
    "host",
    Utf8,
    false,
    "`quadtrace.hostname` of the recording that saw it",
);
const WALL_NS: ExportColumn = c(
    "wall_ns",
    Int64,
    true,
    "wall-clock time of `ts_ns`, ns since the Unix epoch (null: the recording has no clock)",
);
const MINUTE: ExportColumn = c("minute", Minute, true, "the UTC minute `wall_ns` falls in");
const NETNS: ExportColumn = c(
    "netns",
    Int64,
    true,
    "inode of the process's network namespace, when known",
);

/// Client calls: what `analyze calls` lists, with what the SQL needs to name their callees
/// across hosts.
pub const CALLS: Dataset = Dataset {
    name: "calls",
    row: "one client call (`client_start`, with its `client_end` when recorded)",
    columns: &[
        HOST,
        c(
            "ts_ns",
            Int64,
            false,
            "when the call started (the host's monotonic clock, ns)",
        ),
        WALL_NS,
        MINUTE,
        c("pid", Int64, false, "the calling process"),
        c("goid", Int64, false, "the calling goroutine"),
        NETNS,
        c(
            "caller",
            Utf8,
            false,
            "the service counted as calling: the request's service when the call counts as \
             made for one, else the calling process's",
        ),
        c(
            "req_goid",
            Int64,
            true,
            "the request (of the same process) the call counts as made for (attributed with \
             at least `analyze quads`' default confidence): its goroutine; null: made for none",
        ),
        c(
            "req_ts_ns",
            Int64,
            true,
            "that request's start (`ts_ns` in `requests`)",
        ),
        c("req_method", Utf8, true, "that request's method"),
        c("req_path", Utf8, true, "that request's raw path"),
        c(
            "req_route",
            Utf8,
            true,
            "that request's route template, when known",
        ),
        c("req_ended", Bool, true, "that request's end was recorded"),
        c(
            "method",
            Utf8,
            true,
            "method called (`GRPC` for a gRPC call)",
        ),
        c(
            "path",
            Utf8,
            true,
            "raw path called (a gRPC call's full method)",
        ),
        c("dialled", Utf8, true, "the URL's `host[:port]` as called"),
        c(
            "dial_kind",
            Utf8,
            true,
            "what `dialled` names: `loopback` (127/8, ::1, localhost, 0.0.0.0, ::, empty), \
             `named` (any other name or address) or `unix` (a unix-domain socket)",
        ),
        c(
            "dial_host",
            Utf8,
            true,
            "the host dialled, lowercase, without a trailing dot; the socket for `unix`",
        ),
        c(
            "dial_ip",
            Utf8,
            true,
            "the host dialled as a canonical IP address, when it is one",
        ),
        c(
            "dial_port",
            Utf8,
            true,
            "the port dialled (`80` when none, `443` for `https`)",
        ),
        c(
            "status",
            Int64,
            true,
            "status received (gRPC: the status code)",
        ),
        c(
            "failed",
            Bool,
            false,
            "a 5xx or a transport error (what `analyze quads` counts in `errors`)",
        ),
        c(
            "duration_ns",
            Int64,
            true,
            "from start to end; null when the end was not recorded",
        ),
        c(
            "evidence",
            Utf8,
            false,
            "how the call was tied to its request: `same_goroutine`, `spawned`, `context`, \
             `channel` or `none`",
        ),
        c("confidence", Float64, false, "how sure that tie is, 0 to 1"),
        c(
            "link_pid",
            Int64,
            true,
            "the request this call caused, when its server was recorded on the same host \
             and the connection ties them: its process",
        ),
        c("link_goid", Int64, true, "its goroutine"),
        c(
            "link_ts_ns",
            Int64,
            true,
            "its start (`ts_ns` in `requests`)",
        ),
    ],
};

/// Server requests.
pub const REQUESTS: Dataset = Dataset {
    name: "requests",
    row: "one server request (`server_start`, with its `server_end` when recorded)",
    columns: &[
        HOST,
        c(
            "ts_ns",
            Int64,
            false,
            "when it started (the host's monotonic clock, ns)",
        ),
        WALL_NS,
        MINUTE,
        c("pid", Int64, false, "the serving process"),
        c("goid", Int64, false, "the goroutine that served it"),
        NETNS,
        c("service", Utf8, false, "the serving process's service name"),
        c("method", Utf8, true, "method (`GRPC` for a gRPC request)"),
        c("path", Utf8, true, "raw path"),
        c(
            "route",
            Utf8,
            true,
            "route template that served it, when known",
        ),
        c("ended", Bool, false, "its end was recorded"),
        c(
            "duration_ns",
            Int64,
            true,
            "from start to end; null when the end was not recorded",
        ),
        c(
            "status",
            Int64,
            true,
            "status written (gRPC: the status code)",
        ),
        c(
            "failed",
            Bool,
            false,
            "answered 5xx, or a gRPC status other than OK",
        ),
        c(
            "called",
            Bool,
            false,
            "some call counts as made for it (else it is a `[service, func, none, none]` \
             quadruple, unless `carrier` or status 101)",
        ),
        c(
            "carrier",
            Bool,
            false,
            "it only carried a gRPC request of the same path, which is counted instead",
        ),
        c(
            "remote_addr",
            Utf8,
            true,
            "the client's `ip:port` as the server's connection saw it",
        ),
        c(
            "listen_addr",
            Utf8,
            true,
            "the serving `http.Server`'s `Addr`",
        ),
    ],
};

/// Listening addresses over time: who a dialled address reached.
pub const LISTENERS: Dataset = Dataset {
    name: "listeners",
    row: "one listening address of one process over the time it was held",
    columns: &[
        HOST,
        NETNS,
        c("pid", Int64, true, "the listening process, when known"),
        c("service", Utf8, false, "its service name"),
        c("addr", Utf8, false, "the address as recorded"),
        c(
            "kind",
            Utf8,
            false,
            "`any` (every interface: `:port`, 0.0.0.0, ::), `loopback`, `named` (one host or \
             address) or `unix`",
        ),
        c(
            "listen_host",
            Utf8,
            true,
            "`named`: the host, lowercase; `unix`: the socket (`/path` or `@name`)",
        ),
        c(
            "listen_ip",
            Utf8,
            true,
            "`named`: the host as a canonical IP address, when it is one",
        ),
        c(
            "port",
            Utf8,
            true,
            "the port (`80` when none); null for `unix`",
        ),
        c(
            "from_ns",
            Int64,
            true,
            "when it began listening (host monotonic ns); null: before anything was recorded",
        ),
        c(
            "to_ns",
            Int64,
            true,
            "when it stopped; null: it did not while recorded",
        ),
        c(
            "from_wall_ns",
            Int64,
            true,
            "`from_ns` on the wall clock (null: `from_ns` is, or no clock)",
        ),
        c(
            "to_wall_ns",
            Int64,
            true,
            "`to_ns` on the wall clock (null: `to_ns` is, or no clock)",
        ),
    ],
};

/// The addresses of each network namespace `record` saw.
pub const ADDRESSES: Dataset = Dataset {
    name: "addresses",
    row: "one IP address of one network namespace of one host",
    columns: &[
        HOST,
        c("netns", Int64, false, "inode of the network namespace"),
        c("ip", Utf8, false, "the address, canonical"),
    ],
};

/// Connections made by recorded processes: what ties a call to a request on another host.
pub const CONNECTS: Dataset = Dataset {
    name: "connects",
    row: "one connection a recorded process made (`connect`)",
    columns: &[
        HOST,
        c(
            "ts_ns",
            Int64,
            false,
            "when (the host's monotonic clock, ns)",
        ),
        WALL_NS,
        MINUTE,
        c("pid", Int64, false, "the process that owns it"),
        NETNS,
        c(
            "local_addr",
            Utf8,
            false,
            "its own `ip:port`: what the server sees as `remote_addr`",
        ),
        c(
            "remote_addr",
            Utf8,
            true,
            "the `ip:port` dialled, before any NAT",
        ),
        c(
            "loopback",
            Bool,
            false,
            "`local_addr` is a loopback address",
        ),
    ],
};

/// Every dataset, in the order `schema/EXPORT.md` lists them.
pub const DATASETS: [&Dataset; 5] = [&CALLS, &REQUESTS, &LISTENERS, &ADDRESSES, &CONNECTS];

/// Renders a dataset's column table as Markdown (kept in `schema/EXPORT.md` by a test).
pub fn dataset_markdown(d: &Dataset) -> String {
    let mut out = format!(
        "### `{}`\n\nOne row: {}.\n\n| column | type | nullable | meaning |\n|---|---|---|---|\n",
        d.name, d.row
    );
    for col in d.columns {
        let ty = match col.ty {
            Int64 => "int64",
            Float64 => "double",
            Utf8 => "string",
            Bool => "bool",
            Minute => "timestamp (µs, UTC, no zone)",
        };
        let nullable = if col.nullable { "yes" } else { "no" };
        out.push_str(&format!(
            "| `{}` | {ty} | {nullable} | {} |\n",
            col.name, col.doc
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_md_lists_every_dataset() {
        let doc = include_str!("../EXPORT.md");
        for d in DATASETS {
            let table = dataset_markdown(d);
            assert!(
                doc.contains(&table),
                "schema/EXPORT.md is out of date; paste dataset_markdown({}) into it:\n{table}",
                d.name
            );
        }
    }

    #[test]
    fn column_names_are_unique_within_a_dataset() {
        for d in DATASETS {
            for (i, col) in d.columns.iter().enumerate() {
                assert!(
                    d.columns[i + 1..].iter().all(|o| o.name != col.name),
                    "{}: duplicate {}",
                    d.name,
                    col.name
                );
                assert_ne!(
                    col.name, PARTITION,
                    "{}: the partition is not a column",
                    d.name
                );
            }
        }
    }
}
