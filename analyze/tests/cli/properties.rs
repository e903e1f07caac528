//! Property tests over the reader and the reconstruction, run in-process through the library
//! (`quadtrace_analyze`), with a bounded number of cases so that they fit in an ordinary
//! `cargo test` (a few seconds). `QUADTRACE_PROPTEST_CASES=N` runs N cases of each instead, for
//! a longer search; a failure prints the smallest input proptest could shrink it to.
//!
//! - damaged bytes: any mutation of a real recording reads, or fails with an error that names
//!   the file; never a panic, nor an abort (page headers are checked before the decoder sizes
//!   buffers from them: `analyze/src/read/pages.rs`);
//! - any events: random sequences of every kind (unmatched ends, unknown kinds, nested and
//!   interleaved goroutines, connections and listeners that links and naming read)
//!   reconstruct without a panic, and their answer (quadruples and calls) does not depend on
//!   the order of the rows in the file, nor on how the rows are split over several files.

use std::path::PathBuf;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use quadtrace_analyze::{analyze_files, calls_for_files, render, render_calls, Format};

use super::bad_input::real_recording;
use super::*;

fn config(default_cases: u32) -> Config {
    let cases = std::env::var("QUADTRACE_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default_cases);
    let mut config = Config {
        cases,
        // Regressions worth keeping become named tests; no files appear in the source tree.
        failure_persistence: None,
        ..Config::default()
    };
    // The same cases on every run, so that CI is reproducible; `PROPTEST_RNG_SEED=N` searches
    // elsewhere.
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0x9e37_79b9_7f4a_7c15);
    }
    config
}

/// How to damage a file: bytes overwritten, then maybe cut short.
#[derive(Debug, Clone)]
struct Damage {
    /// (position as a fraction of the length, in 1/65536, byte written).
    writes: Vec<(u16, u8)>,
    /// Keep this fraction of the file (in 1/65536), or all of it.
    keep: Option<u16>,
}

fn damage() -> impl Strategy<Value = Damage> {
    (
        prop::collection::vec((any::<u16>(), any::<u8>()), 1..6),
        prop::option::weighted(0.2, any::<u16>()),
    )
        .prop_map(|(writes, keep)| Damage { writes, keep })
}

fn apply(real: &[u8], d: &Damage) -> Vec<u8> {
    let at = |frac: u16| real.len() * usize::from(frac) / 65_536;
    let mut bytes = real.to_vec();
    for &(pos, byte) in &d.writes {
        bytes[at(pos)] = byte;
    }
    if let Some(keep) = d.keep {
        bytes.truncate(at(keep));
    }
    bytes
}

/// One random event; `i` makes its time unique (ties would keep file order, which a shuffle
/// changes on purpose).
fn event(i: usize) -> impl Strategy<Value = Row> {
    const KINDS: [&str; 12] = [
        "server_start",
        "server_end",
        "client_start",
        "client_end",
        "spawn",
        "chan_send",
        "chan_recv",
        "timer_arm",
        "connect",
        "listen",
        "listen_end",
        "not_a_kind",
    ];
    // Few enough that connections, requests and listeners meet.
    let sockets = || prop::sample::select(vec!["10.0.0.1:4000", "127.0.0.1:4001", "0.0.0.0:80"]);
    (
        0..KINDS.len(),
        1..3i32,
        1..6i64,
        prop::sample::select(vec!["a", "b"]),
        prop::sample::select(vec!["a:80", "b:80", "x.example:443"]),
        prop::sample::select(vec!["/p", "/q/1", "/q/2"]),
        prop::option::of(prop::sample::select(vec![200, 404, 503])),
        prop::array::uniform4(prop::option::of(1..4i64)),
        (1..3i64, 1..4i64, 1..6i64),
        prop::option::of(prop::sample::select(vec!["/p", "/q/{id}"])),
        (sockets(), prop::option::of(sockets()), 1..3i64),
    )
        .prop_map(
            move |(
                k,
                pid,
                goid,
                svc,
                host,
                path,
                status,
                ctx,
                (ch, value, parent),
                route,
                sock,
            )| {
                let ts = i as i64 * 10;
                let (local, remote, netns) = sock;
                let row = match KINDS[k] {
                    "server_start" => Row {
                        remote_addr: remote,
                        ..server_start(ts, pid, svc, goid, host, path)
                    },
                    "server_end" => Row {
                        status,
                        route,
                        ..server_end(ts, pid, svc, goid)
                    },
                    "client_start" => client_start(ts, pid, svc, goid, host, path),
                    "client_end" => match status {
                        Some(s) => client_end(ts, pid, svc, goid, s),
                        None => client_error(ts, pid, svc, goid),
                    },
                    "spawn" => Row {
                        value: Some(value),
                        ..spawn(ts, pid, svc, parent, goid)
                    },
                    kind @ ("chan_send" | "chan_recv") => chan(ts, pid, svc, goid, kind, ch, value),
                    kind @ ("connect" | "listen" | "listen_end") => {
                        socket(ts, pid, svc, kind, local, Some(host), netns)
                    }
                    kind => Row {
                        ts_ns: ts,
                        pid,
                        goid,
                        kind,
                        service: svc,
                        value: Some(value),
                        ..Row::default()
                    },
                };
                row.with_ctx(ctx)
            },
        )
}

/// Up to `max` events in time order.
fn events(max: usize) -> impl Strategy<Value = Vec<Row>> {
    (0..=max).prop_flat_map(|n| (0..n).map(event).collect::<Vec<_>>())
}

/// Everything `analyze` would print for `paths`, or the error.
fn answer(paths: &[PathBuf]) -> String {
    let quads = analyze_files(paths).map(|a| render(&a.quads, Format::Json));
    let calls = calls_for_files(paths).map(|(c, _)| render_calls(&c, Format::Json));
    match (quads, calls) {
        (Ok(q), Ok(c)) => format!("{q}{c}"),
        (Err(e), _) | (_, Err(e)) => format!("error: {e}"),
    }
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn damaged_recordings_read_or_fail_naming_the_file(d in damage()) {
        let fx = Fixture::new();
        let path = fx.path("damaged.parquet");
        std::fs::write(&path, apply(&real_recording(), &d)).expect("write");
        // A panic here fails the case; an error must say which file.
        if let Err(e) = analyze_files(std::slice::from_ref(&path)) {
            let msg = e.to_string();
            prop_assert!(msg.contains(&*path.to_string_lossy()), "{}", msg);
            prop_assert!(!msg.contains('\n'), "{}", msg);
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn any_events_give_one_answer_whatever_the_row_order_and_files(
        (rows, order, split) in events(40).prop_flat_map(|rows| {
            let n = rows.len();
            (
                Just(rows),
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
                prop::collection::vec(0..3usize, n),
            )
        })
    ) {
        let fx = Fixture::new();
        let sorted = fx.path("sorted.parquet");
        write(&sorted, &rows, Some(metadata("h1", &[])));
        let want = answer(std::slice::from_ref(&sorted));
        prop_assert!(!want.starts_with("error"), "{}", want);

        let shuffled: Vec<Row> = order.iter().map(|&i| rows[i].clone()).collect();
        let path = fx.path("shuffled.parquet");
        write(&path, &shuffled, Some(metadata("h1", &[])));
        prop_assert_eq!(&answer(&[path]), &want, "rows shuffled");

        // Rows dealt to three files (segments whose time ranges interleave), in shuffled order.
        let parts: Vec<PathBuf> = (0..3)
            .map(|f| {
                let mine: Vec<Row> = order
                    .iter()
                    .filter(|&&i| split[i] == f)
                    .map(|&i| rows[i].clone())
                    .collect();
                let path = fx.path(&format!("part-{f}.parquet"));
                write(&path, &mine, Some(metadata("h1", &[])));
                path
            })
            .collect();
        prop_assert_eq!(&answer(&parts), &want, "rows split over files");
    }
}
