//! Links and naming by socket events (schema 4): a call to a virtual IP linked to the request it
//! caused, a call named by the address of the pod it dialled, the link columns of
//! `analyze calls`, and the summary line on stderr; the same events in a schema-3 file.

use super::*;

/// Node `h1`: `frontend` (pid 10) serves /a and, for it, calls a virtual IP that NAT sends to
/// `backend` (pid 20), then `orders` (pid 30) by its pod IP over a connection opened before
/// the recording, then a service nobody recorded. `backend` and `orders` both listen on
/// `[::]:8080`, each in its own network namespace.
pub(crate) fn linked_rows() -> Vec<Row> {
    vec![
        socket(10, 20, "backend", "listen", "[::]:8080", None, 200),
        socket(20, 30, "orders", "listen", "[::]:8080", None, 300),
        server_start(1_000, 10, "frontend", 5, ":8000", "/a"),
        client_start(1_100, 10, "frontend", 5, "198.19.0.10:80", "/b/1"),
        socket(
            1_150,
            10,
            "frontend",
            "connect",
            "10.1.0.10:40000",
            Some("198.19.0.10:80"),
            100,
        ),
        server_start(1_200, 20, "backend", 7, ":8080", "/b/1").from("10.1.0.10:40000"),
        server_end(1_300, 20, "backend", 7).with_route("GET /b/{id}"),
        client_end(1_400, 10, "frontend", 5, 200),
        client_start(1_500, 10, "frontend", 5, "10.1.0.30:8080", "/o"),
        client_end(1_600, 10, "frontend", 5, 200),
        client_start(1_700, 10, "frontend", 5, "api.example.com:443", "/x"),
        client_end(1_800, 10, "frontend", 5, 200),
        server_end(2_000, 10, "frontend", 5),
    ]
}

pub(crate) const PROCESSES: &str = r#"[
    {"pid": 10, "service": "frontend", "netns": 100, "addrs": ["10.1.0.10/24"]},
    {"pid": 20, "service": "backend", "netns": 200, "addrs": ["10.1.0.20/24"]},
    {"pid": 30, "service": "orders", "netns": 300, "addrs": ["10.1.0.30/24"]}
]"#;

fn recording(fx: &Fixture) -> String {
    let kv = metadata(
        "h1",
        &[
            ("quadtrace.processes", PROCESSES),
            (meta::TIME_RANGE_NS, "0 3000"),
        ],
    );
    fx.recording("linked.parquet", &linked_rows(), kv)
}

const SUMMARY: &str = "analyze: 1 of 3 calls linked to the requests they caused (1 to \
                       unrecorded callees, 1 named by the address they called)\n";

#[test]
fn calls_show_the_request_each_call_caused() {
    let fx = Fixture::new();
    let rec = recording(&fx);
    let out = analyze(&["calls", &rec, "-f", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), SUMMARY);
    assert_eq!(
        stdout(&out),
        "\
ts_ns,pid,goid,caller,caller_path,caller_func,method,callee,callee_addr,callee_path,callee_func,status,duration_ns,attribution,confidence,request_goid,request_ts_ns,link,linked_pid,linked_goid,linked_ts_ns,linked_path
1100,10,5,frontend,/a,/a,GET,backend,198.19.0.10:80,/b/1,GET /b/{id},200,300,same_goroutine,1.00,5,1000,connection,20,7,1200,/b/1
1500,10,5,frontend,/a,/a,GET,orders,10.1.0.30:8080,/o,/o,200,100,same_goroutine,1.00,5,1000,,,,,
1700,10,5,frontend,/a,/a,GET,api.example.com:443,api.example.com:443,/x,/x,200,100,same_goroutine,1.00,5,1000,,,,,
"
    );
    let json = analyze(&["calls", &rec, "-f", "json"]);
    let calls: serde_json::Value = serde_json::from_str(stdout(&json)).expect("json");
    assert_eq!(calls[0]["link"], "connection");
    assert_eq!(calls[0]["linked_pid"], 20);
    assert_eq!(calls[1]["link"], serde_json::Value::Null);
}

#[test]
fn quads_name_the_callee_from_the_linked_request() {
    let fx = Fixture::new();
    let rec = recording(&fx);
    let out = analyze(&["quads", &rec, "-f", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), SUMMARY);
    assert_eq!(
        stdout(&out),
        "\
caller,caller_func,callee,callee_func,count,errors,p50_ms,p99_ms
backend,GET /b/{id},none,none,1,0,0.0001,0.0001
frontend,/a,api.example.com:443,/x,1,0,0.0001,0.0001
frontend,/a,backend,GET /b/{id},1,0,0.0003,0.0003
frontend,/a,orders,/o,1,0,0.0001,0.0001
"
    );
}

/// The same requests and calls recorded by a schema-3 `record`: no socket events, no client
/// addresses, nothing to link; callees are named by address as before, and nothing is said
/// about links.
#[test]
fn a_schema_3_file_names_callees_by_address_alone() {
    let fx = Fixture::new();
    let rows: Vec<Row> = linked_rows()
        .into_iter()
        .filter(|r| r.local_addr.is_none())
        .collect();
    let rec = fx.recording_v("v3.parquet", &rows, 3);
    let out = analyze(&["calls", &rec, "-f", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let callees: Vec<&str> = stdout(&out)
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(7).unwrap_or_default())
        .collect();
    // The pod IP reaches backend's `:8080`, the only server seen on that port.
    assert_eq!(
        callees,
        ["198.19.0.10:80", "backend", "api.example.com:443"]
    );
    assert!(stdout(&out).lines().skip(1).all(|l| l.ends_with(",,,,,")));
}

/// The tree of frontend's request follows its call to the virtual IP into backend's request.
#[test]
fn a_tree_crosses_into_the_request_a_call_caused() {
    let fx = Fixture::new();
    let rec = recording(&fx);
    let out = analyze(&["tree", &rec, "--request", "10:5:1000", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let trees: serde_json::Value = serde_json::from_str(stdout(&out)).expect("json");
    let root = &trees[0];
    assert_eq!(root["service"], "frontend");
    assert_eq!(root["calls"].as_array().map(Vec::len), Some(3));
    let caused = &root["calls"][0]["caused"];
    assert_eq!(caused["service"], "backend");
    assert_eq!(caused["func"], "GET /b/{id}");
    assert_eq!(caused["id"], "20:7:1200");
    assert!(root["calls"][1]["caused"].is_null());
    let text = analyze(&["tree", &rec, "--request", "10:5:1000"]);
    let text = stdout(&text);
    assert!(text.contains("└─ backend GET /b/{id}"), "{text}");
}

/// The node split in two hosts that booted an hour apart: `h2`'s monotonic clock reads an hour
/// more than `h1`'s at the same moment (its `boot_wall_ns` an hour earlier). On one timeline,
/// frontend's call on `h1` still caused backend's request on `h2`; each host alone cannot say.
#[test]
fn hosts_that_booted_apart_are_linked_on_one_timeline() {
    const HOUR: i64 = 3_600_000_000_000;
    let boot = 1_796_306_520_000_000_000_i64;
    let fx = Fixture::new();
    let rows = linked_rows();
    let (on_h2, on_h1): (Vec<Row>, Vec<Row>) = rows.into_iter().partition(|r| r.pid != 10);
    let on_h2: Vec<Row> = on_h2
        .into_iter()
        .map(|r| Row {
            ts_ns: r.ts_ns + HOUR,
            ..r
        })
        .collect();
    let boot_h1 = boot.to_string();
    let boot_h2 = (boot - HOUR).to_string();
    let range_h2 = format!("{HOUR} {}", HOUR + 3000);
    let h1 = fx.recording(
        "h1.parquet",
        &on_h1,
        metadata(
            "h1",
            &[
                ("quadtrace.processes", PROCESSES),
                (meta::TIME_RANGE_NS, "0 3000"),
                (meta::BOOT_WALL_NS, &boot_h1),
            ],
        ),
    );
    let h2 = fx.recording(
        "h2.parquet",
        &on_h2,
        metadata(
            "h2",
            &[
                ("quadtrace.processes", PROCESSES),
                (meta::TIME_RANGE_NS, &range_h2),
                (meta::BOOT_WALL_NS, &boot_h2),
            ],
        ),
    );
    for files in [[&h1, &h2], [&h2, &h1]] {
        let out = analyze(&["quads", files[0], files[1], "-f", "csv"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("frontend,/a,backend,GET /b/{id},1,0,"),
            "{files:?}:\n{}",
            stdout(&out)
        );
    }
    // Each host alone: the call is named by the virtual IP it dialled.
    let out = analyze(&["quads", &h1, "-f", "csv"]);
    assert!(
        stdout(&out).contains("frontend,/a,198.19.0.10:80,/b/1,1,0,"),
        "{}",
        stdout(&out)
    );
}

/// A call whose end was never recorded, linked to the request it caused, is counted only when
/// the recording ends; the request it caused ended long before (minutes of other traffic
/// later): it must still be there to name the callee.
#[test]
fn a_call_counted_late_keeps_the_request_it_caused() {
    let fx = Fixture::new();
    let late = 400_000_000_000; // 400 s on: past how long an ended request is kept.
    let rows: Vec<Row> = linked_rows()
        .into_iter()
        .filter(|r| !(r.kind == "client_end" && r.ts_ns == 1_400))
        .chain([
            server_start(late, 20, "backend", 9, ":8080", "/later"),
            server_end(late + 100, 20, "backend", 9),
        ])
        .collect();
    let kv = metadata(
        "h1",
        &[
            ("quadtrace.processes", PROCESSES),
            (meta::TIME_RANGE_NS, &format!("0 {}", late + 1_000)),
        ],
    );
    let rec = fx.recording("late.parquet", &rows, kv);
    let out = analyze(&["quads", &rec, "-f", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("frontend,/a,backend,GET /b/{id},1,0,,"),
        "{}",
        stdout(&out)
    );
}
