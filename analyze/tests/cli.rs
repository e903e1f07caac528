//! Integration tests: write small recordings with arrow-rs (`support`), run the built `analyze`
//! binary on them.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::sync::Arc;

use arrow_array::Int64Array;
use quadtrace_schema::{meta, SCHEMA_VERSION};
use support::*;

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
CALLER     CALLER_FUNC  CALLEE               CALLEE_FUNC  COUNT  ERRORS  P50_MS  P99_MS
http_demo  none         http_demo            /healthz         1       0       -       -
http_demo  /echo        none                 none             1       0   0.000   0.000
http_demo  /handle      api.example.com:443  /v1/x            1       0       -       -
http_demo  /handle      http_demo            /echo            1       0       -       -
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
    "count": 1,
    "errors": 0,
    "p50_ms": null,
    "p99_ms": null
  },
  {
    "caller": "http_demo",
    "caller_func": "/echo",
    "callee": null,
    "callee_func": null,
    "count": 1,
    "errors": 0,
    "p50_ms": 0.00001,
    "p99_ms": 0.00001
  },
  {
    "caller": "http_demo",
    "caller_func": "/handle",
    "callee": "api.example.com:443",
    "callee_func": "/v1/x",
    "count": 1,
    "errors": 0,
    "p50_ms": null,
    "p99_ms": null
  },
  {
    "caller": "http_demo",
    "caller_func": "/handle",
    "callee": "http_demo",
    "callee_func": "/echo",
    "count": 1,
    "errors": 0,
    "p50_ms": null,
    "p99_ms": null
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
caller,caller_func,callee,callee_func,count,errors,p50_ms,p99_ms
http_demo,none,http_demo,/healthz,1,0,,
http_demo,/echo,none,none,1,0,0.00001,0.00001
http_demo,/handle,api.example.com:443,/v1/x,1,0,,
http_demo,/handle,http_demo,/echo,1,0,,
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
caller,caller_func,callee,callee_func,count,errors,p50_ms,p99_ms
back,/data,none,none,1,0,0.00005,0.00005
front,/page,back,/data,1,0,,
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
        let df = frame(&demo_rows(), SCHEMA_VERSION).drop("listen_addr");
        write_frame(&path, &df, Some(metadata("h1", &[])));
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
        let pids: Int64Array = rows.iter().map(|r| Some(i64::from(r.pid))).collect();
        let df = frame(&rows, SCHEMA_VERSION).with_column("pid", Arc::new(pids));
        write_frame(&path, &df, Some(metadata("h1", &[])));
        let p = path.to_string_lossy();
        fails_with(
            &["quads", &p],
            &format!("{p}: column `pid` is int64, expected int32"),
        );
    }

    #[test]
    fn older_schema() {
        let fx = Fixture::new();
        let p = fx.recording(
            "old.parquet",
            &demo_rows(),
            metadata("h1", &[(meta::SCHEMA_VERSION, "0")]),
        );
        fails_with(
            &["quads", &p],
            &format!(
                "{p} was written by an old quadtrace (schema 0, this analyze reads 1..={SCHEMA_VERSION}); re-record it"
            ),
        );
    }

    /// A column of the file's own schema version must be there, even one added lately.
    #[test]
    fn missing_new_column_in_a_new_file() {
        let fx = Fixture::new();
        let path = fx.path("no-chan.parquet");
        let df = frame(&demo_rows(), SCHEMA_VERSION).drop("chan");
        write_frame(&path, &df, Some(metadata("h1", &[])));
        let p = path.to_string_lossy();
        fails_with(&["quads", &p], &format!("{p}: column `chan` is missing"));
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

mod versions {
    //! Files of every schema version this build reads.
    use super::*;

    /// A version-1 file lacks the channel, timer and context-ancestor columns: they read as
    /// null, and the quadruples are those of the same events in the current schema.
    #[test]
    fn a_version_1_file_reads_like_the_current_one() {
        let fx = Fixture::new();
        let v1 = fx.recording_v("v1.parquet", &demo_rows(), 1);
        let now = fx.recording_v("v2.parquet", &demo_rows(), SCHEMA_VERSION);
        let (old, new) = (analyze(&["quads", &v1]), analyze(&["quads", &now]));
        assert!(old.status.success(), "{}", stderr(&old));
        assert_eq!(stderr(&old), "");
        assert_eq!(stdout(&old), stdout(&new));
        let calls = analyze(&["calls", &v1, "-f", "csv"]);
        assert!(calls.status.success(), "{}", stderr(&calls));
        assert_eq!(stdout(&calls).lines().count(), 4, "{}", stdout(&calls));
    }
}

#[path = "cli/calls.rs"]
mod calls;

#[path = "cli/routes.rs"]
mod routes;

#[path = "cli/links.rs"]
mod links;

#[path = "cli/bad_input.rs"]
mod bad_input;

#[path = "cli/properties.rs"]
mod properties;

#[path = "cli/span.rs"]
mod span;

#[path = "cli/diff.rs"]
mod diff;

#[path = "cli/export.rs"]
mod export;

#[path = "cli/hostile.rs"]
mod hostile;

#[path = "cli/commands.rs"]
mod commands;

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

    /// `analyze ARGS... FILE` for every recording, run in the recordings' folder with the
    /// file's name (so that outputs naming the file are the same on every machine), against
    /// `FILE.NAME` beside it.
    fn golden(args: &[&str], name: &str) {
        for file in recordings() {
            let dir = file.parent().expect("a folder");
            let file_name = file
                .file_name()
                .and_then(|n| n.to_str())
                .expect("utf-8 name");
            let out = Command::new(env!("CARGO_BIN_EXE_analyze"))
                .args(args)
                .arg(file_name)
                .current_dir(dir)
                .output()
                .expect("run analyze");
            assert!(out.status.success(), "{}: {}", file.display(), stderr(&out));
            matches_golden(stdout(&out), &file.with_extension(name));
        }
    }

    /// `command` in every format.
    fn golden_formats(command: &str) {
        for (format, ext) in [("table", "txt"), ("json", "json"), ("csv", "csv")] {
            golden(&[command, "--format", format], &format!("{command}.{ext}"));
        }
    }

    #[test]
    fn golden_quads_in_every_format() {
        golden_formats("quads");
    }

    #[test]
    fn golden_calls_in_every_format() {
        golden_formats("calls");
    }

    #[test]
    fn golden_info_in_every_format() {
        golden_formats("info");
    }

    #[test]
    fn golden_tree() {
        golden(&["tree", "--slowest", "2", "--format", "table"], "tree.txt");
        golden(&["tree", "--slowest", "2", "--format", "json"], "tree.json");
    }

    #[test]
    fn golden_graph() {
        for format in ["dot", "mermaid", "svg"] {
            golden(&["graph", "--format", format], &format!("graph.{format}"));
        }
    }

    #[test]
    fn golden_replay() {
        golden(&["replay"], "replay.txt");
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
