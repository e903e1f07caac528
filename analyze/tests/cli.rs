//! Integration tests: write small recordings with polars, run the built `analyze` binary on them.
//!
//! The fixture writer builds every column of `quadtrace_schema::COLUMNS`, in order and with its
//! schema type, and the key-value metadata `record` writes; so these files are what `record`
//! produces, minus the events a real program would add.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use polars::prelude::*;
use quadtrace_schema::{meta, ColumnType, COLUMNS, SCHEMA_VERSION};

/// One event row; columns it does not name are null (or false for `truncated`).
#[derive(Clone, Default)]
struct Row {
    ts_ns: i64,
    pid: i32,
    goid: i64,
    kind: &'static str,
    service: &'static str,
    host: Option<&'static str>,
    path: Option<&'static str>,
    listen_addr: Option<&'static str>,
    status: Option<i32>,
    parent_goid: Option<i64>,
}

fn server_start(
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

fn server_end(ts_ns: i64, pid: i32, svc: &'static str, goid: i64) -> Row {
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

fn client_start(
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

fn spawn(ts_ns: i64, pid: i32, svc: &'static str, parent: i64, child: i64) -> Row {
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

/// The schema's columns built from `rows`, each with its declared type.
fn frame(rows: &[Row]) -> DataFrame {
    let columns = COLUMNS
        .iter()
        .map(|c| {
            let name = PlSmallStr::from_static(c.name);
            let str_col = |f: fn(&Row) -> Option<&'static str>| {
                Column::new(name.clone(), rows.iter().map(f).collect::<Vec<_>>())
            };
            let i64_col = |f: fn(&Row) -> Option<i64>| {
                Column::new(name.clone(), rows.iter().map(f).collect::<Vec<_>>())
            };
            let i32_col = |f: fn(&Row) -> Option<i32>| {
                Column::new(name.clone(), rows.iter().map(f).collect::<Vec<_>>())
            };
            let bool_col = |f: fn(&Row) -> Option<bool>| {
                Column::new(name.clone(), rows.iter().map(f).collect::<Vec<_>>())
            };
            let col = match c.name {
                "ts_ns" => i64_col(|r| Some(r.ts_ns)),
                "pid" => i32_col(|r| Some(r.pid)),
                "tid" => i32_col(|r| Some(r.pid)),
                "goid" => i64_col(|r| Some(r.goid)),
                "kind" => str_col(|r| Some(r.kind)),
                "service" => str_col(|r| Some(r.service)),
                "method" => str_col(|r| r.path.map(|_| "GET")),
                "host" => str_col(|r| r.host),
                "path" => str_col(|r| r.path),
                "listen_addr" => str_col(|r| r.listen_addr),
                "status" => i32_col(|r| r.status),
                "error" => bool_col(|r| (r.kind == "client_end").then_some(false)),
                "parent_goid" => i64_col(|r| r.parent_goid),
                "ctx" => i64_col(|r| r.path.map(|_| 0xc000_0100)),
                "truncated" => bool_col(|_| Some(false)),
                other => panic!("fixture writer does not know column {other}; add it"),
            };
            let want = match c.ty {
                ColumnType::Int64 => DataType::Int64,
                ColumnType::Int32 => DataType::Int32,
                ColumnType::Utf8 => DataType::String,
                ColumnType::Bool => DataType::Boolean,
            };
            assert_eq!(col.dtype(), &want, "column {}", c.name);
            col
        })
        .collect();
    DataFrame::new(rows.len(), columns).expect("fixture frame")
}

/// The metadata `record` writes, with overrides.
fn metadata(hostname: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
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

fn write(path: &Path, rows: &[Row], kv: Option<Vec<(String, String)>>) {
    let file = File::create(path).expect("create fixture");
    ParquetWriter::new(file)
        .with_key_value_metadata(kv.map(KeyValueMetadata::from_static))
        .finish(&mut frame(rows))
        .expect("write fixture");
}

/// `curl /handle` on the demo: /handle calls GET http://0.0.0.0:9932/echo on itself, plus
/// a goroutine spawned by /handle that calls an outside service, and a background ticker.
fn demo_rows() -> Vec<Row> {
    const S: &str = "http_demo";
    vec![
        server_start(100, 42, S, 7, "0.0.0.0:9932", "/handle"),
        client_start(110, 42, S, 7, "0.0.0.0:9932", "/echo"),
        server_start(120, 42, S, 9, "0.0.0.0:9932", "/echo"),
        server_end(130, 42, S, 9),
        spawn(135, 42, S, 7, 11),
        server_end(140, 42, S, 7),
        client_start(150, 42, S, 11, "api.example.com:443", "/v1/x"),
        client_start(160, 42, S, 3, "localhost:9932", "/healthz"),
    ]
}

fn analyze(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_analyze"))
        .args(args)
        .output()
        .expect("run analyze")
}

fn stdout(out: &Output) -> &str {
    std::str::from_utf8(&out.stdout).expect("utf-8 stdout")
}

fn stderr(out: &Output) -> &str {
    std::str::from_utf8(&out.stderr).expect("utf-8 stderr")
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn recording(&self, name: &str, rows: &[Row], kv: Vec<(String, String)>) -> String {
        let path = self.path(name);
        write(&path, rows, Some(kv));
        path.to_string_lossy().into_owned()
    }
}

mod outputs {
    //! The three formats, exactly.
    use super::*;

    #[test]
    fn table() {
        let fx = Fixture::new();
        let rec = fx.recording("demo.parquet", &demo_rows(), metadata("h1", &[]));
        let out = analyze(&["quads", &rec]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stderr(&out), "");
        assert_eq!(
            stdout(&out),
            "\
CALLER     CALLER_FUNC  CALLEE               CALLEE_FUNC  COUNT
http_demo  none         http_demo            /healthz         1
http_demo  /echo        none                 none             1
http_demo  /handle      api.example.com:443  /v1/x            1
http_demo  /handle      http_demo            /echo            1
"
        );
    }

    #[test]
    fn json() {
        let fx = Fixture::new();
        let rec = fx.recording("demo.parquet", &demo_rows(), metadata("h1", &[]));
        let out = analyze(&["quads", &rec, "--format", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            stdout(&out),
            r#"[
  {
    "caller": "http_demo",
    "caller_func": null,
    "callee": "http_demo",
    "callee_func": "/healthz",
    "count": 1
  },
  {
    "caller": "http_demo",
    "caller_func": "/echo",
    "callee": null,
    "callee_func": null,
    "count": 1
  },
  {
    "caller": "http_demo",
    "caller_func": "/handle",
    "callee": "api.example.com:443",
    "callee_func": "/v1/x",
    "count": 1
  },
  {
    "caller": "http_demo",
    "caller_func": "/handle",
    "callee": "http_demo",
    "callee_func": "/echo",
    "count": 1
  }
]
"#
        );
    }

    #[test]
    fn csv() {
        let fx = Fixture::new();
        let rec = fx.recording("demo.parquet", &demo_rows(), metadata("h1", &[]));
        let out = analyze(&["quads", &rec, "-f", "csv"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "\
caller,caller_func,callee,callee_func,count
http_demo,none,http_demo,/healthz,1
http_demo,/echo,none,none,1
http_demo,/handle,api.example.com:443,/v1/x,1
http_demo,/handle,http_demo,/echo,1
"
        );
    }

    #[test]
    fn help_has_examples() {
        let out = analyze(&["quads", "--help"]);
        assert!(out.status.success());
        assert!(stdout(&out).contains("EXAMPLES:"), "{}", stdout(&out));
        assert!(stdout(&out).contains("- json:"), "{}", stdout(&out));
    }
}

mod pipes {
    //! `analyze quads … | head` must not turn into an error.
    use super::*;

    #[test]
    fn a_reader_closing_the_pipe_early_is_success() {
        let fx = Fixture::new();
        // Far more output than a pipe buffers, so analyze is still writing when the pipe closes.
        let rows: Vec<Row> = (0..5_000)
            .flat_map(|i| {
                let path: &'static str =
                    Box::leak(format!("/a/fairly/long/path/number/{i:05}").into_boxed_str());
                [
                    server_start(i * 10, 1, "svc", i, ":80", path),
                    server_end(i * 10 + 5, 1, "svc", i),
                ]
            })
            .collect();
        let rec = fx.recording("big.parquet", &rows, metadata("h1", &[]));
        let mut child = Command::new(env!("CARGO_BIN_EXE_analyze"))
            .args(["quads", &rec])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn analyze");
        let mut head = [0u8; 6];
        let mut stdout = child.stdout.take().expect("stdout");
        stdout.read_exact(&mut head).expect("read the first bytes");
        assert_eq!(&head, b"CALLER");
        drop(stdout);
        let out = child.wait_with_output().expect("wait");
        assert_eq!(stderr(&out), "");
        assert!(out.status.success(), "{:?}", out.status);
    }
}

mod inputs {
    //! Several files, hosts and metadata warnings.
    use super::*;

    /// Two hosts: `front` on h1 calls `back` on h2 by name; `back` listens on `:8080`.
    #[test]
    fn files_from_two_hosts_combine() {
        let fx = Fixture::new();
        let front = fx.recording(
            "front.parquet",
            &[
                server_start(1_000, 10, "front", 5, ":80", "/page"),
                client_start(1_100, 10, "front", 5, "back.svc:8080", "/data"),
                server_end(1_300, 10, "front", 5),
            ],
            metadata("h1", &[]),
        );
        let back = fx.recording(
            "back.parquet",
            &[
                // Same pid and goid as front's, on another host: another goroutine.
                server_start(1_150, 10, "back", 5, ":8080", "/data"),
                server_end(1_200, 10, "back", 5),
            ],
            metadata("h2", &[]),
        );
        let out = analyze(&["quads", &front, &back, "-f", "csv"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            stdout(&out),
            "\
caller,caller_func,callee,callee_func,count
back,/data,none,none,1
front,/page,back,/data,1
"
        );
    }

    #[test]
    fn lost_events_warn() {
        let fx = Fixture::new();
        let rec = fx.recording(
            "lossy.parquet",
            &demo_rows(),
            metadata("h1", &[(meta::LOST_TOTAL, "17")]),
        );
        let out = analyze(&["quads", &rec, "-f", "csv"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            stderr(&out),
            format!("warning: {rec}: 17 events were lost while recording; counts may be low\n")
        );
    }

    #[test]
    fn an_empty_recording_has_no_quads() {
        let fx = Fixture::new();
        let rec = fx.recording("empty.parquet", &[], metadata("h1", &[]));
        let out = analyze(&["quads", &rec, "-f", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), "[]\n");
    }
}

mod errors {
    //! Files that are not recordings this build can read: one line, naming the file, exit 1.
    use super::*;

    fn fails_with(args: &[&str], message: &str) {
        let out = analyze(args);
        assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
        assert_eq!(stdout(&out), "");
        assert_eq!(stderr(&out), format!("error: {message}\n"));
    }

    #[test]
    fn not_parquet() {
        let fx = Fixture::new();
        let path = fx.path("notes.txt");
        std::fs::write(&path, b"these are not the bytes you are looking for\n").expect("write");
        let p = path.to_string_lossy();
        let out = analyze(&["quads", &p]);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("error: {p} is not a Parquet file (")),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }

    #[test]
    fn foreign_parquet() {
        let fx = Fixture::new();
        let path = fx.path("foreign.parquet");
        write(&path, &demo_rows(), None);
        let p = path.to_string_lossy();
        fails_with(
            &["quads", &p],
            &format!("{p} is not a quadtrace recording (no quadtrace.schema_version metadata)"),
        );
    }

    #[test]
    fn newer_schema() {
        let fx = Fixture::new();
        let newer = (SCHEMA_VERSION + 1).to_string();
        let p = fx.recording(
            "new.parquet",
            &demo_rows(),
            metadata("h1", &[(meta::SCHEMA_VERSION, &newer)]),
        );
        fails_with(
            &["quads", &p],
            &format!(
                "{p} was written by a newer quadtrace (schema {newer}, this analyze reads ≤ {SCHEMA_VERSION}); upgrade analyze"
            ),
        );
    }

    #[test]
    fn missing_column() {
        let fx = Fixture::new();
        let path = fx.path("narrow.parquet");
        let mut df = frame(&demo_rows()).drop("listen_addr").expect("drop");
        ParquetWriter::new(File::create(&path).expect("create"))
            .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata("h1", &[]))))
            .finish(&mut df)
            .expect("write");
        let p = path.to_string_lossy();
        fails_with(
            &["quads", &p],
            &format!("{p}: column `listen_addr` is missing"),
        );
    }

    #[test]
    fn wrong_column_type() {
        let fx = Fixture::new();
        let path = fx.path("wide-pid.parquet");
        let rows = demo_rows();
        let mut df = frame(&rows);
        let pids: Vec<i64> = rows.iter().map(|r| i64::from(r.pid)).collect();
        df.with_column(Column::new("pid".into(), pids))
            .expect("replace pid");
        ParquetWriter::new(File::create(&path).expect("create"))
            .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata("h1", &[]))))
            .finish(&mut df)
            .expect("write");
        let p = path.to_string_lossy();
        fails_with(
            &["quads", &p],
            &format!("{p}: column `pid` is int64, expected int32"),
        );
    }

    #[test]
    fn missing_file() {
        let fx = Fixture::new();
        let p = fx.path("nope.parquet");
        let p = p.to_string_lossy();
        fails_with(
            &["quads", &p],
            &format!("cannot open {p}: No such file or directory (os error 2)"),
        );
    }
}

/// `analyze quads` on real recordings from `testdata/recordings/` (see its README), compared
/// with the golden outputs beside them. `UPDATE_GOLDEN=1` rewrites the golden files instead.
mod golden {
    use super::*;

    fn recordings() -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/recordings");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("testdata/recordings")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no recordings in {}", dir.display());
        files
    }

    #[test]
    fn golden_quads_in_every_format() {
        let update = std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1");
        for file in recordings() {
            for (format, ext) in [("table", "txt"), ("json", "json"), ("csv", "csv")] {
                let out = analyze(&[
                    "quads",
                    "--format",
                    format,
                    file.to_str().expect("utf-8 path"),
                ]);
                assert!(out.status.success(), "{}: {}", file.display(), stderr(&out));
                let golden = file.with_extension(format!("quads.{ext}"));
                if update {
                    std::fs::write(&golden, stdout(&out)).expect("write golden");
                    continue;
                }
                let want = std::fs::read_to_string(&golden).unwrap_or_else(|e| {
                    panic!("{}: {e}; run with UPDATE_GOLDEN=1", golden.display())
                });
                assert_eq!(
                    stdout(&out),
                    want,
                    "{} differs from {}",
                    file.display(),
                    golden.display()
                );
            }
        }
    }

    #[test]
    fn golden_demo_recordings_have_the_two_demo_quadruples() {
        // Independent of the golden files: what the demo must give, whatever the format.
        for file in recordings() {
            let out = analyze(&[
                "quads",
                "--format",
                "json",
                file.to_str().expect("utf-8 path"),
            ]);
            let quads: serde_json::Value = serde_json::from_str(stdout(&out)).expect("json");
            let service = if file.to_string_lossy().contains("gin_demo") {
                "gin_demo"
            } else {
                "http_demo"
            };
            let quads = quads.as_array().expect("array");
            assert_eq!(quads.len(), 2, "{quads:?}");
            assert!(quads.iter().all(|q| q["caller"] == service), "{quads:?}");
            assert!(quads.iter().any(|q| q["caller_func"] == "/handle"
                && q["callee"] == service
                && q["callee_func"] == "/echo"));
            assert!(quads
                .iter()
                .any(|q| q["caller_func"] == "/echo" && q["callee"].is_null()));
        }
    }
}
