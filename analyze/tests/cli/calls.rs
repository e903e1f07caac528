//! `analyze calls`, and `analyze quads --min-confidence`, on one recording whose calls have
//! different evidence.

use super::*;

/// A handler that calls itself, then hands a job to a worker over a channel; the worker calls
/// out after the handler has returned; a background loop calls a health check.
fn calls_rows() -> Vec<Row> {
    const S: &str = "http_demo";
    const JOBS: i64 = 0xc000_1000;
    vec![
        server_start(100, 42, S, 7, "0.0.0.0:9932", "/handle"),
        client_start(110, 42, S, 7, "0.0.0.0:9932", "/echo"),
        server_start(120, 42, S, 9, "0.0.0.0:9932", "/echo"),
        server_end(130, 42, S, 9),
        client_end(140, 42, S, 7, 200),
        chan(150, 42, S, 7, "chan_send", JOBS, 0xa1),
        chan(160, 42, S, 12, "chan_recv", JOBS, 0xa1),
        server_end(170, 42, S, 7),
        client_start(180, 42, S, 12, "api.example.com:443", "/v1/x"),
        client_end(190, 42, S, 12, 503),
        client_start(200, 42, S, 3, "localhost:9932", "/healthz"),
    ]
}

mod formats {
    //! `analyze calls` in the three formats, exactly.
    use super::*;

    fn run(format: &str) -> String {
        let fx = Fixture::new();
        let rec = fx.recording("calls.parquet", &calls_rows(), metadata("h1", &[]));
        let out = analyze(&["calls", &rec, "--format", format]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stderr(&out), "");
        stdout(&out).to_owned()
    }

    #[test]
    fn table() {
        assert_eq!(
            run("table"),
            "\
TS_NS  PID  GOID  CALLER     CALLER_PATH  CALLER_FUNC  METHOD  CALLEE               CALLEE_ADDR          CALLEE_PATH  CALLEE_FUNC  STATUS  DURATION_NS  ATTRIBUTION     CONFIDENCE  REQUEST_GOID  REQUEST_TS_NS  LINK  LINKED_PID  LINKED_GOID  LINKED_TS_NS  LINKED_PATH
  110   42     7  http_demo  /handle      /handle      GET     http_demo            0.0.0.0:9932         /echo        /echo           200           30  same_goroutine        1.00             7            100  -              -            -             -  -
  180   42    12  http_demo  /handle      /handle      GET     api.example.com:443  api.example.com:443  /v1/x        /v1/x           503           10  channel               0.90             7            100  -              -            -             -  -
  200   42     3  http_demo  none         none         GET     http_demo            localhost:9932       /healthz     /healthz          -            -  none                  0.00             -              -  -              -            -             -  -
"
        );
    }

    #[test]
    fn csv() {
        assert_eq!(
            run("csv"),
            "\
ts_ns,pid,goid,caller,caller_path,caller_func,method,callee,callee_addr,callee_path,callee_func,status,duration_ns,attribution,confidence,request_goid,request_ts_ns,link,linked_pid,linked_goid,linked_ts_ns,linked_path
110,42,7,http_demo,/handle,/handle,GET,http_demo,0.0.0.0:9932,/echo,/echo,200,30,same_goroutine,1.00,7,100,,,,,
180,42,12,http_demo,/handle,/handle,GET,api.example.com:443,api.example.com:443,/v1/x,/v1/x,503,10,channel,0.90,7,100,,,,,
200,42,3,http_demo,none,none,GET,http_demo,localhost:9932,/healthz,/healthz,,,none,0.00,,,,,,,
"
        );
    }

    #[test]
    fn json() {
        assert_eq!(
            run("json"),
            r#"[
  {
    "ts_ns": 110,
    "pid": 42,
    "goid": 7,
    "caller": "http_demo",
    "caller_path": "/handle",
    "caller_func": "/handle",
    "method": "GET",
    "callee": "http_demo",
    "callee_addr": "0.0.0.0:9932",
    "callee_path": "/echo",
    "callee_func": "/echo",
    "status": 200,
    "duration_ns": 30,
    "attribution": "same_goroutine",
    "confidence": 1.0,
    "request_goid": 7,
    "request_ts_ns": 100,
    "link": null,
    "linked_pid": null,
    "linked_goid": null,
    "linked_ts_ns": null,
    "linked_path": null
  },
  {
    "ts_ns": 180,
    "pid": 42,
    "goid": 12,
    "caller": "http_demo",
    "caller_path": "/handle",
    "caller_func": "/handle",
    "method": "GET",
    "callee": "api.example.com:443",
    "callee_addr": "api.example.com:443",
    "callee_path": "/v1/x",
    "callee_func": "/v1/x",
    "status": 503,
    "duration_ns": 10,
    "attribution": "channel",
    "confidence": 0.9,
    "request_goid": 7,
    "request_ts_ns": 100,
    "link": null,
    "linked_pid": null,
    "linked_goid": null,
    "linked_ts_ns": null,
    "linked_path": null
  },
  {
    "ts_ns": 200,
    "pid": 42,
    "goid": 3,
    "caller": "http_demo",
    "caller_path": null,
    "caller_func": null,
    "method": "GET",
    "callee": "http_demo",
    "callee_addr": "localhost:9932",
    "callee_path": "/healthz",
    "callee_func": "/healthz",
    "status": null,
    "duration_ns": null,
    "attribution": "none",
    "confidence": 0.0,
    "request_goid": null,
    "request_ts_ns": null,
    "link": null,
    "linked_pid": null,
    "linked_goid": null,
    "linked_ts_ns": null,
    "linked_path": null
  }
]
"#
        );
    }

    #[test]
    fn help_has_examples() {
        let out = analyze(&["calls", "--help"]);
        assert!(out.status.success());
        assert!(stdout(&out).contains("EXAMPLES:"), "{}", stdout(&out));
        assert!(stdout(&out).contains("same_goroutine"), "{}", stdout(&out));
    }
}

mod min_confidence {
    //! `analyze quads --min-confidence`: calls attributed less surely count as unattributed.
    use super::*;

    fn quads(extra: &[&str]) -> String {
        let fx = Fixture::new();
        let rec = fx.recording("calls.parquet", &calls_rows(), metadata("h1", &[]));
        let mut args = vec!["quads", rec.as_str(), "-f", "csv"];
        args.extend_from_slice(extra);
        let out = analyze(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out).to_owned()
    }

    #[test]
    fn the_channel_call_counts_for_its_request_by_default() {
        assert_eq!(
            quads(&[]),
            "\
caller,caller_func,callee,callee_func,count,errors,p50_ms,p99_ms
http_demo,none,http_demo,/healthz,1,0,,
http_demo,/echo,none,none,1,0,0.00001,0.00001
http_demo,/handle,api.example.com:443,/v1/x,1,1,0.00001,0.00001
http_demo,/handle,http_demo,/echo,1,0,0.00003,0.00003
"
        );
        assert_eq!(quads(&["--min-confidence", "0.9"]), quads(&[]));
    }

    #[test]
    fn above_its_confidence_it_is_a_call_from_nowhere() {
        assert_eq!(
            quads(&["--min-confidence", "0.95"]),
            "\
caller,caller_func,callee,callee_func,count,errors,p50_ms,p99_ms
http_demo,none,api.example.com:443,/v1/x,1,1,0.00001,0.00001
http_demo,none,http_demo,/healthz,1,0,,
http_demo,/echo,none,none,1,0,0.00001,0.00001
http_demo,/handle,http_demo,/echo,1,0,0.00003,0.00003
"
        );
    }

    #[test]
    fn the_bound_is_checked() {
        let out = analyze(&["quads", "x.parquet", "--min-confidence", "1.5"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("1.5 is not between 0 and 1"),
            "{}",
            stderr(&out)
        );
    }
}

/// A worker blocked in its receive before the recording began: its receive was never seen to
/// start, so only the send, which names it (`receiver_goid`), says whose job it runs.
#[test]
fn a_send_names_the_worker_that_takes_it() {
    let fx = Fixture::new();
    let file = fx.recording_v(
        "handoff.parquet",
        &[
            server_start(100, 1, "svc", 7, ":80", "/job/1"),
            chan(200, 1, "svc", 7, "chan_send", 0xc000, 0xa1).handed_to(20),
            server_end(300, 1, "svc", 7),
            client_start(400, 1, "svc", 20, "db:5432", "/q"),
            client_end(500, 1, "svc", 20, 200),
        ],
        4,
    );
    let out = analyze(&["calls", &file, "--format", "json"]);
    let calls: serde_json::Value = serde_json::from_str(stdout(&out)).expect("json");
    assert_eq!(calls[0]["caller_path"], "/job/1", "{calls}");
    assert_eq!(calls[0]["attribution"], "channel", "{calls}");
}
