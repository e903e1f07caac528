//! `--since` and `--until`: a call or request counts when it starts inside the span, placed by
//! each recording's own clock (`quadtrace.boot_wall_ns`), so that hosts whose monotonic clocks
//! differ line up; offsets count from the earliest start of the recordings.

use super::*;

const MS: i64 = 1_000_000;
/// 2026-12-03T14:00:00Z, in ns.
const T0: i64 = 1_796_306_400_000_000_000;

/// `front` serves /a and calls `users` for it at 10 ms, then serves /b and calls `orders` for
/// it at 100 ms (monotonic, from `start`).
fn two_phases(start: i64) -> Vec<Row> {
    vec![
        server_start(start + 10 * MS, 1, "front", 5, ":80", "/a"),
        client_start(start + 11 * MS, 1, "front", 5, "users:8080", "/u"),
        client_end(start + 12 * MS, 1, "front", 5, 200),
        server_end(start + 13 * MS, 1, "front", 5),
        server_start(start + 100 * MS, 1, "front", 6, ":80", "/b"),
        client_start(start + 101 * MS, 1, "front", 6, "orders:8080", "/o"),
        client_end(start + 102 * MS, 1, "front", 6, 500),
        server_end(start + 103 * MS, 1, "front", 6),
    ]
}

/// A recording of host `host` whose monotonic clock read `start` at T0.
fn recording(fx: &Fixture, name: &str, host: &str, start: i64) -> String {
    let boot = (T0 - start).to_string();
    let range = format!("{start} {}", start + 200 * MS);
    let kv = metadata(
        host,
        &[(meta::BOOT_WALL_NS, &boot), (meta::TIME_RANGE_NS, &range)],
    );
    fx.recording(name, &two_phases(start), kv)
}

fn fails_with(args: &[&str], message: &str) {
    let out = analyze(args);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert_eq!(stderr(&out), format!("error: {message}\n"));
}

fn quads(args: &[&str]) -> String {
    let out = analyze(args);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).to_owned()
}

#[test]
fn offsets_and_wall_times_pick_a_phase() {
    let fx = Fixture::new();
    let p = recording(&fx, "r.parquet", "h1", 5_000 * MS);
    let first = quads(&["quads", &p, "--until", "+50ms", "-f", "csv"]);
    assert!(first.contains("front,/a,users:8080,/u,1,0"), "{first}");
    assert!(!first.contains("orders"), "{first}");
    let second = quads(&[
        "quads",
        &p,
        "--since",
        "2026-12-03T14:00:00.050Z",
        "-f",
        "csv",
    ]);
    assert!(second.contains("front,/b,orders:8080,/o,1,1"), "{second}");
    assert!(!second.contains("users"), "{second}");
    // The same instant with another offset.
    let same = quads(&[
        "quads",
        &p,
        "--since",
        "2026-12-03T15:00:00.050+01:00",
        "-f",
        "csv",
    ]);
    assert_eq!(same, second);
    let both = quads(&[
        "quads", &p, "--since", "+5ms", "--until", "+1s", "-f", "csv",
    ]);
    assert_eq!(both, quads(&["quads", &p, "-f", "csv"]));
    let calls = quads(&["calls", &p, "--since", "+50ms", "-f", "csv"]);
    assert_eq!(calls.lines().count(), 2, "{calls}");
    assert!(calls.contains(",orders:8080,/o,"), "{calls}");
}

/// Two hosts whose monotonic clocks differ by an hour: by their own clocks their phases
/// happen at the same wall-clock times, and a span picks the same phase on both.
#[test]
fn each_host_is_placed_by_its_own_clock() {
    let fx = Fixture::new();
    let a = recording(&fx, "a.parquet", "h1", 5_000 * MS);
    let b = recording(&fx, "b.parquet", "h2", 3_600_000 * MS);
    let second = quads(&["quads", &a, &b, "--since", "+50ms", "-f", "csv"]);
    assert!(second.contains("front,/b,orders:8080,/o,2,2"), "{second}");
    assert!(!second.contains("users"), "{second}");
}

#[test]
fn a_span_needs_every_recording_s_clock() {
    let fx = Fixture::new();
    let p = fx.recording("old.parquet", &two_phases(0), metadata("h1", &[]));
    fails_with(
        &["quads", &p, "--since", "+1s"],
        &format!(
            "{p} does not say when its clock began (no quadtrace.boot_wall_ns), so \
             --since/--until cannot place its events"
        ),
    );
    let q = recording(&fx, "r.parquet", "h1", 0);
    fails_with(
        &["quads", &q, "--since", "+1s", "--until", "+1s"],
        "--since (2026-12-03T14:00:01.000000Z) is not before --until (2026-12-03T14:00:01.000000Z)",
    );
}
