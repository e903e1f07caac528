//! Route templates, `--raw-paths`, and the error counts and latency percentiles of
//! `analyze quads`, on one recording of two services with routes (schema 3).

use super::*;

const MS: i64 = 1_000_000;
const USERS: &str = "GET /users/{id}";
const PAGE: &str = "GET /page";

/// `front` serves /page three times, each calling `users` for one user: /users/1 answers 200
/// after 4 ms, /users/2 answers 500 after 10 ms, and the call for /users/3 fails after 10 ms
/// without reaching `users` (a transport error). `users` serves both paths under one route.
fn routed_rows() -> Vec<Row> {
    vec![
        server_start(MS, 1, "front", 10, ":80", "/page"),
        client_start(2 * MS, 1, "front", 10, "localhost:8080", "/users/1"),
        server_start(3 * MS, 2, "users", 20, ":8080", "/users/1"),
        server_end(5 * MS, 2, "users", 20).with_route(USERS),
        client_end(6 * MS, 1, "front", 10, 200),
        server_end(7 * MS, 1, "front", 10).with_route(PAGE),
        server_start(10 * MS, 1, "front", 11, ":80", "/page"),
        client_start(11 * MS, 1, "front", 11, "localhost:8080", "/users/2"),
        server_start(12 * MS, 2, "users", 21, ":8080", "/users/2"),
        server_end(20 * MS, 2, "users", 21)
            .with_route(USERS)
            .with_status(500),
        client_end(21 * MS, 1, "front", 11, 500),
        server_end(22 * MS, 1, "front", 11)
            .with_route(PAGE)
            .with_status(502),
        server_start(30 * MS, 1, "front", 12, ":80", "/page"),
        client_start(31 * MS, 1, "front", 12, "localhost:8080", "/users/3"),
        client_error(41 * MS, 1, "front", 12),
        server_end(42 * MS, 1, "front", 12)
            .with_route(PAGE)
            .with_status(502),
    ]
}

fn run(rec: &str, extra: &[&str]) -> String {
    let mut args = vec!["quads", rec];
    args.extend_from_slice(extra);
    let out = analyze(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    stdout(&out).to_owned()
}

/// /users/1 and /users/2 are one quadruple under their route; /users/3, which `users` never
/// served, keeps its raw path.
#[test]
fn routes_join_paths_with_their_errors_and_latencies() {
    let fx = Fixture::new();
    let rec = fx.recording("routes.parquet", &routed_rows(), metadata("h1", &[]));
    assert_eq!(
        run(&rec, &[]),
        "\
CALLER  CALLER_FUNC      CALLEE  CALLEE_FUNC      COUNT  ERRORS  P50_MS  P99_MS
front   GET /page        users   GET /users/{id}      2       1   4.000  10.000
users   GET /users/{id}  none    none                 2       1   2.000   8.000
front   GET /page        users   /users/3             1       1  10.000  10.000
"
    );
    let json: serde_json::Value = serde_json::from_str(&run(&rec, &["-f", "json"])).expect("json");
    assert_eq!(
        json[0],
        serde_json::json!({
            "caller": "front", "caller_func": PAGE, "callee": "users", "callee_func": USERS,
            "count": 2, "errors": 1, "p50_ms": 4.0, "p99_ms": 10.0,
        })
    );
}

#[test]
fn raw_paths_group_by_path() {
    let fx = Fixture::new();
    let rec = fx.recording("routes.parquet", &routed_rows(), metadata("h1", &[]));
    assert_eq!(
        run(&rec, &["--raw-paths", "-f", "csv"]),
        "\
caller,caller_func,callee,callee_func,count,errors,p50_ms,p99_ms
front,/page,users,/users/1,1,0,4,4
front,/page,users,/users/2,1,1,10,10
front,/page,users,/users/3,1,1,10,10
users,/users/1,none,none,1,0,2,2
users,/users/2,none,none,1,1,8,8
"
    );
}

/// Schema 2 had no `route` column: its files read as if no request had a route.
#[test]
fn a_version_2_file_has_no_routes() {
    let fx = Fixture::new();
    let v2 = fx.recording_v("v2.parquet", &routed_rows(), 2);
    let v3 = fx.recording("v3.parquet", &routed_rows(), metadata("h1", &[]));
    assert_eq!(run(&v2, &[]), run(&v3, &["--raw-paths"]));
}

#[test]
fn calls_keep_raw_paths_beside_routes() {
    let fx = Fixture::new();
    let rec = fx.recording("routes.parquet", &routed_rows(), metadata("h1", &[]));
    let out = analyze(&["calls", &rec, "-f", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls: serde_json::Value = serde_json::from_str(stdout(&out)).expect("json");
    let pick = |i: usize, key: &str| calls[i][key].clone();
    assert_eq!(pick(0, "caller_path"), "/page");
    assert_eq!(pick(0, "caller_func"), PAGE);
    assert_eq!(pick(1, "callee_path"), "/users/2");
    assert_eq!(pick(1, "callee_func"), USERS);
    assert_eq!(pick(1, "status"), 500);
    assert_eq!(pick(2, "callee_func"), "/users/3");
    assert_eq!(pick(2, "status"), serde_json::Value::Null);
    assert_eq!(pick(2, "duration_ns"), 10 * MS);
}
