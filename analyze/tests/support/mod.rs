//! The fixture writer: small recordings written with arrow-rs, and running the built `analyze`.
//!
//! It builds every column of `quadtrace_schema::COLUMNS`, in order and with its schema type,
//! and the key-value metadata `record` writes; so these files are what `record` produces, minus
//! the events a real program would add. An older schema version leaves out the columns it
//! predates, as that version of `record` did.

#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use quadtrace_schema::{meta, ColumnType, COLUMNS, SCHEMA_VERSION};

/// One event row; columns it does not name are null (or false for `truncated`).
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub ts_ns: i64,
    pub pid: i32,
    pub goid: i64,
    pub kind: &'static str,
    pub service: &'static str,
    pub host: Option<&'static str>,
    pub path: Option<&'static str>,
    pub listen_addr: Option<&'static str>,
    pub status: Option<i32>,
    pub parent_goid: Option<i64>,
    /// `ctx`, `ctx1`, `ctx2`, `ctx3`.
    pub ctx: [Option<i64>; 4],
    pub chan: Option<i64>,
    pub value: Option<i64>,
    pub qcount: Option<i32>,
    pub dataqsiz: Option<i32>,
    pub in_select: Option<bool>,
    pub completed: Option<bool>,
    /// `client_end`: the round trip returned an error.
    pub error: bool,
    /// `server_end`: the route template (schema 3).
    pub route: Option<&'static str>,
    /// `server_start`: the client's address; `connect`: the address dialled (schema 4).
    pub remote_addr: Option<&'static str>,
    /// Socket kinds: the socket's own address (schema 4).
    pub local_addr: Option<&'static str>,
    /// Socket kinds: the network namespace (schema 4).
    pub netns: Option<i64>,
    /// `chan_send`: the receiver blocked on the channel (schema 4).
    pub receiver_goid: Option<i64>,
}

pub fn server_start(
    ts_ns: i64,
    pid: i32,
    svc: &'static str,
    goid: i64,
    listen: &'static str,
    path: &'static str,
) -> Row {
    Row {
        ts_ns,
        pid,
        goid,
        kind: "server_start",
        service: svc,
        host: Some("example"),
        path: Some(path),
        listen_addr: Some(listen),
        ..Row::default()
    }
}

pub fn server_end(ts_ns: i64, pid: i32, svc: &'static str, goid: i64) -> Row {
    Row {
        ts_ns,
        pid,
        goid,
        kind: "server_end",
        service: svc,
        status: Some(200),
        ..Row::default()
    }
}

pub fn client_start(
    ts_ns: i64,
    pid: i32,
    svc: &'static str,
    goid: i64,
    host: &'static str,
    path: &'static str,
) -> Row {
    Row {
        ts_ns,
        pid,
        goid,
        kind: "client_start",
        service: svc,
        host: Some(host),
        path: Some(path),
        ..Row::default()
    }
}

pub fn client_end(ts_ns: i64, pid: i32, svc: &'static str, goid: i64, status: i32) -> Row {
    Row {
        ts_ns,
        pid,
        goid,
        kind: "client_end",
        service: svc,
        status: Some(status),
        ..Row::default()
    }
}

pub fn spawn(ts_ns: i64, pid: i32, svc: &'static str, parent: i64, child: i64) -> Row {
    Row {
        ts_ns,
        pid,
        goid: child,
        kind: "spawn",
        service: svc,
        parent_goid: Some(parent),
        ..Row::default()
    }
}

/// A channel operation on an unbuffered channel (`kind` is `chan_send` or `chan_recv`).
pub fn chan(
    ts_ns: i64,
    pid: i32,
    svc: &'static str,
    goid: i64,
    kind: &'static str,
    chan: i64,
    value: i64,
) -> Row {
    Row {
        ts_ns,
        pid,
        goid,
        kind,
        service: svc,
        chan: Some(chan),
        value: Some(value),
        qcount: Some(0),
        dataqsiz: Some(0),
        in_select: Some(false),
        completed: (kind == "chan_recv").then_some(true),
        ..Row::default()
    }
}

/// A socket event (`connect`, `listen` or `listen_end`) of process `pid`: its own address,
/// and for `connect` the address dialled.
pub fn socket(
    ts_ns: i64,
    pid: i32,
    svc: &'static str,
    kind: &'static str,
    local: &'static str,
    remote: Option<&'static str>,
    netns: i64,
) -> Row {
    Row {
        ts_ns,
        pid,
        kind,
        service: svc,
        local_addr: Some(local),
        remote_addr: remote,
        netns: Some(netns),
        ..Row::default()
    }
}

/// A `client_end` of a round trip that failed without a response.
pub fn client_error(ts_ns: i64, pid: i32, svc: &'static str, goid: i64) -> Row {
    Row {
        ts_ns,
        pid,
        goid,
        kind: "client_end",
        service: svc,
        error: true,
        ..Row::default()
    }
}

impl Row {
    /// The same row with the request's or call's context set.
    pub fn with_ctx(mut self, ctx: [Option<i64>; 4]) -> Self {
        self.ctx = ctx;
        self
    }

    /// The same `server_end` with the route that served the request.
    pub fn with_route(mut self, route: &'static str) -> Self {
        self.route = Some(route);
        self
    }

    /// The same end with another status.
    pub fn with_status(mut self, status: i32) -> Self {
        self.status = Some(status);
        self
    }

    /// The same `chan_send`, handed directly to goroutine `receiver` blocked on the channel.
    pub fn handed_to(mut self, receiver: i64) -> Self {
        self.receiver_goid = Some(receiver);
        self
    }

    /// The same `server_start`, over a connection from `remote`.
    pub fn from(mut self, remote: &'static str) -> Self {
        self.remote_addr = Some(remote);
        self
    }
}

/// Named columns, in order, to be written as one Parquet file.
#[derive(Clone)]
pub struct Frame(Vec<(String, ArrayRef)>);

impl Frame {
    /// Columns from `(name, values)` pairs.
    pub fn new(columns: Vec<(&str, ArrayRef)>) -> Self {
        Frame(
            columns
                .into_iter()
                .map(|(n, a)| (n.to_owned(), a))
                .collect(),
        )
    }

    /// The frame with column `name` replaced by `values` (added at the end if absent).
    pub fn with_column(mut self, name: &str, values: ArrayRef) -> Self {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = values,
            None => self.0.push((name.to_owned(), values)),
        }
        self
    }

    /// The frame without column `name`.
    pub fn drop(mut self, name: &str) -> Self {
        self.0.retain(|(n, _)| n != name);
        self
    }

    fn batch(&self) -> RecordBatch {
        let fields: Vec<Field> = self
            .0
            .iter()
            .map(|(n, a)| Field::new(n, a.data_type().clone(), true))
            .collect();
        let arrays = self.0.iter().map(|(_, a)| a.clone()).collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("fixture batch")
    }
}

/// The schema's columns built from `rows`, each with its declared type, as `record` of schema
/// `version` wrote them.
pub fn frame(rows: &[Row], version: u32) -> Frame {
    let columns = COLUMNS
        .iter()
        .filter(|c| c.since <= version)
        .map(|c| {
            let str_col = |f: &dyn Fn(&Row) -> Option<&'static str>| -> ArrayRef {
                Arc::new(rows.iter().map(f).collect::<StringArray>())
            };
            let i64_col = |f: &dyn Fn(&Row) -> Option<i64>| -> ArrayRef {
                Arc::new(rows.iter().map(f).collect::<Int64Array>())
            };
            let i32_col = |f: &dyn Fn(&Row) -> Option<i32>| -> ArrayRef {
                Arc::new(rows.iter().map(f).collect::<Int32Array>())
            };
            let bool_col = |f: &dyn Fn(&Row) -> Option<bool>| -> ArrayRef {
                Arc::new(rows.iter().map(f).collect::<BooleanArray>())
            };
            let col = match c.name {
                "ts_ns" => i64_col(&|r| Some(r.ts_ns)),
                "pid" => i32_col(&|r| Some(r.pid)),
                "tid" => i32_col(&|r| Some(r.pid)),
                "goid" => i64_col(&|r| Some(r.goid)),
                "kind" => str_col(&|r| Some(r.kind)),
                "service" => str_col(&|r| Some(r.service)),
                "method" => str_col(&|r| r.path.map(|_| "GET")),
                "host" => str_col(&|r| r.host),
                "path" => str_col(&|r| r.path),
                "listen_addr" => str_col(&|r| r.listen_addr),
                "status" => i32_col(&|r| r.status),
                "error" => bool_col(&|r| (r.kind == "client_end").then_some(r.error)),
                "parent_goid" => i64_col(&|r| r.parent_goid),
                "ctx" => i64_col(&|r| r.ctx[0]),
                "truncated" => bool_col(&|_| Some(false)),
                "ctx1" => i64_col(&|r| r.ctx[1]),
                "ctx2" => i64_col(&|r| r.ctx[2]),
                "ctx3" => i64_col(&|r| r.ctx[3]),
                "chan" => i64_col(&|r| r.chan),
                "value" => i64_col(&|r| r.value),
                "qcount" => i32_col(&|r| r.qcount),
                "dataqsiz" => i32_col(&|r| r.dataqsiz),
                "sendx" => i32_col(&|r| r.qcount.map(|_| 0)),
                "recvx" => i32_col(&|r| r.qcount.map(|_| 0)),
                "in_select" => bool_col(&|r| r.in_select),
                "completed" => bool_col(&|r| r.completed),
                "route" => str_col(&|r| r.route),
                "remote_addr" => str_col(&|r| r.remote_addr),
                "local_addr" => str_col(&|r| r.local_addr),
                "netns" => i64_col(&|r| r.netns),
                "receiver_goid" => i64_col(&|r| r.receiver_goid),
                other => panic!("fixture writer does not know column {other}; add it"),
            };
            let want = match c.ty {
                ColumnType::Int64 => DataType::Int64,
                ColumnType::Int32 => DataType::Int32,
                ColumnType::Utf8 => DataType::Utf8,
                ColumnType::Bool => DataType::Boolean,
            };
            assert_eq!(col.data_type(), &want, "column {}", c.name);
            (c.name, col)
        })
        .collect();
    Frame::new(columns)
}

/// The metadata `record` writes, with overrides.
pub fn metadata(hostname: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut kv: Vec<(String, String)> = vec![
        (meta::SCHEMA_VERSION.into(), SCHEMA_VERSION.to_string()),
        (meta::RECORDER_VERSION.into(), "test".into()),
        (meta::HOSTNAME.into(), hostname.into()),
        (meta::LOST_TOTAL.into(), "0".into()),
    ];
    for (k, v) in extra {
        kv.retain(|(key, _)| key != k);
        kv.push(((*k).into(), (*v).into()));
    }
    kv
}

/// Writes `frame` with key-value metadata `kv` (none: a foreign Parquet file), compressed and
/// dictionary-encoded as `record` writes.
pub fn write_frame(path: &Path, frame: &Frame, kv: Option<Vec<(String, String)>>) {
    let file = File::create(path).expect("create fixture");
    let kv = kv.map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| KeyValue::new(k, v))
            .collect()
    });
    let props = WriterProperties::builder()
        .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
        .set_key_value_metadata(kv)
        .build();
    let batch = frame.batch();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props)).expect("writer");
    writer.write(&batch).expect("write fixture");
    writer.close().expect("close fixture");
}

/// Writes `rows` in the current schema.
pub fn write(path: &Path, rows: &[Row], kv: Option<Vec<(String, String)>>) {
    write_frame(path, &frame(rows, SCHEMA_VERSION), kv);
}

pub fn analyze(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_analyze"))
        .args(args)
        .output()
        .expect("run analyze")
}

pub fn stdout(out: &Output) -> &str {
    std::str::from_utf8(&out.stdout).expect("utf-8 stdout")
}

pub fn stderr(out: &Output) -> &str {
    std::str::from_utf8(&out.stderr).expect("utf-8 stderr")
}

/// A temporary directory of recordings.
pub struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A recording in the current schema; returns its path.
    pub fn recording(&self, name: &str, rows: &[Row], kv: Vec<(String, String)>) -> String {
        let path = self.path(name);
        write(&path, rows, Some(kv));
        path.to_string_lossy().into_owned()
    }

    /// A recording as `record` of schema `version` wrote it.
    pub fn recording_v(&self, name: &str, rows: &[Row], version: u32) -> String {
        let path = self.path(name);
        let v = version.to_string();
        let kv = metadata("h1", &[(meta::SCHEMA_VERSION, &v)]);
        write_frame(&path, &frame(rows, version), Some(kv));
        path.to_string_lossy().into_owned()
    }
}

/// `out` equals the golden file at `golden`; with `UPDATE_GOLDEN=1`, `out` becomes it.
pub fn matches_golden(out: &str, golden: &Path) {
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::write(golden, out).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(golden)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_GOLDEN=1", golden.display()));
    assert_eq!(out, want, "differs from {}", golden.display());
}
