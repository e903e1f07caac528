//! `analyze diff` on a recording with two phases, one minute each, compared with itself in two
//! spans and as two files: a call whose rate doubles, one that stops, one that starts, one
//! whose errors jump, one that stays.

use super::*;

const S: i64 = 1_000_000_000;
/// 2026-12-03T14:00:00Z, in ns.
const T0: i64 = 1_796_306_400_000_000_000;

/// `front` serves /a every `every` ns from `from` for a minute, calling `callees` for each
/// (host, status) on goroutine `g0 + i`.
fn phase(rows: &mut Vec<Row>, from: i64, every: i64, g0: i64, callees: &[(&'static str, i32)]) {
    let mut t = from;
    let mut g = g0;
    while t < from + 60 * S {
        rows.push(server_start(t, 1, "front", g, ":80", "/a"));
        for (i, &(host, status)) in callees.iter().enumerate() {
            let at = t + 1_000 + 10_000 * i as i64;
            rows.push(client_start(at, 1, "front", g, host, "/x"));
            rows.push(client_end(at + 5_000, 1, "front", g, status));
        }
        rows.push(server_end(t + 100_000, 1, "front", g));
        t += every;
        g += 1;
    }
}

fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    // Before: 1/s to users, audit and pay (all fine), stable.
    phase(
        &mut rows,
        0,
        S,
        1_000,
        &[
            ("users:1", 200),
            ("audit:1", 200),
            ("pay:1", 200),
            ("stable:1", 200),
        ],
    );
    // After: users twice as often, audit gone, cache new, pay failing; stable as before.
    phase(
        &mut rows,
        60 * S,
        S / 2,
        10_000,
        &[("users:1", 200), ("cache:1", 200), ("pay:1", 503)],
    );
    phase(&mut rows, 60 * S + S / 4, S, 20_000, &[("stable:1", 200)]);
    rows.sort_by_key(|r| r.ts_ns);
    rows
}

fn recording(fx: &Fixture, name: &str, rows: &[Row]) -> String {
    let kv = metadata(
        "h1",
        &[
            (meta::BOOT_WALL_NS, &T0.to_string()),
            (meta::TIME_RANGE_NS, &format!("0 {}", 120 * S)),
        ],
    );
    fx.recording(name, rows, kv)
}

fn statuses(json: &str) -> Vec<(String, String)> {
    let rows: serde_json::Value = serde_json::from_str(json).expect("json");
    let mut out: Vec<(String, String)> = rows
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["callee"].as_str().unwrap_or("none").to_owned(),
                r["status"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn one_recording_in_two_spans() {
    let fx = Fixture::new();
    let rec = recording(&fx, "two.parquet", &rows());
    let two_spans = |format: &str| {
        let args = [
            "diff",
            "--before",
            &rec,
            "--after",
            &rec,
            "--before-until",
            "+60s",
            "--after-since",
            "+60s",
            "--format",
            format,
        ];
        analyze(&args)
    };
    let out = two_spans("json");
    assert!(out.status.success(), "{}", stderr(&out));
    let want: Vec<(String, String)> = [
        ("audit:1", "removed"),
        ("cache:1", "added"),
        ("pay:1", "changed"),
        ("stable:1", "unchanged"),
        ("users:1", "changed"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    let got = statuses(stdout(&out));
    // The [front, /a, none, none] quadruple never appears: every request called something.
    assert_eq!(got, want, "{}", stdout(&out));
    let rows: serde_json::Value = serde_json::from_str(stdout(&out)).expect("json");
    let users = rows
        .as_array()
        .and_then(|r| r.iter().find(|r| r["callee"] == "users:1"))
        .expect("users");
    assert_eq!(users["before"]["count"], 60);
    assert_eq!(users["after"]["count"], 120);
    let added = rows
        .as_array()
        .and_then(|r| r.iter().find(|r| r["callee"] == "cache:1"))
        .expect("cache");
    assert!(added["before"].is_null());
    let table = two_spans("table");
    let table = stdout(&table);
    let first = table.lines().nth(1).unwrap_or_default();
    assert!(first.starts_with("changed"), "{table}");
    assert!(
        table
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with("unchanged"),
        "{table}"
    );
}

/// The same phases as two files of equal length: the same statuses.
#[test]
fn two_files_compare_like_two_spans() {
    let fx = Fixture::new();
    let all = rows();
    let (first, second): (Vec<Row>, Vec<Row>) = all.into_iter().partition(|r| r.ts_ns < 60 * S);
    let before = recording(&fx, "before.parquet", &first);
    let after = recording(&fx, "after.parquet", &second);
    let out = analyze(&["diff", "--before", &before, "--after", &after, "-f", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got = statuses(stdout(&out));
    assert!(
        got.contains(&("users:1".to_owned(), "changed".to_owned())),
        "{got:?}"
    );
    assert!(
        got.contains(&("audit:1".to_owned(), "removed".to_owned())),
        "{got:?}"
    );
    let csv = analyze(&["diff", "--before", &before, "--after", &after, "-f", "csv"]);
    assert!(
        stdout(&csv).starts_with("caller,caller_func,callee,callee_func,status"),
        "{}",
        stdout(&csv)
    );
}
