//! Two windows built by hand for the tests of every part of the diff: one quadruple of each
//! kind of change, and hostile names.

use super::compare::{compare, Compared, Side};
use super::judge::Thresholds;
use crate::report::quads::Quad;

/// The before window: 5 minutes.
pub(super) const BEFORE_S: f64 = 300.0;
/// The after window: 2 minutes, so that equal rates are unequal counts.
pub(super) const AFTER_S: f64 = 120.0;

/// Names as they may come from the internet.
pub(super) const SCRIPT: &str = "<script>alert(1)</script>";
pub(super) const IMG: &str = "\"><img src=x onerror=alert(1)>";
pub(super) const RED: &str = "evil\x1b[31m, red";
pub(super) const LINES: &str = "/a\nb|{c}\\d";
/// `/%3Cscript%3E` as it arrives, decoded.
pub(super) const DECODED: &str = "/<script>";

/// A quadruple whose median is a quarter of its p99.
fn quad(names: [Option<&str>; 4], count: u64, errors: u64, p99_ms: Option<i64>) -> Quad {
    let [caller, caller_func, callee, callee_func] = names.map(|n| n.map(str::to_owned));
    Quad {
        caller: caller.unwrap_or_default(),
        caller_func,
        callee,
        callee_func,
        count,
        errors,
        p50_ns: p99_ms.map(|ms| ms * 250_000),
        p99_ns: p99_ms.map(|ms| ms * 1_000_000),
    }
}

const ADDED: [&str; 4] = ["front", "/checkout", "payments", "POST /charge"];
const REMOVED: [&str; 4] = ["front", "/checkout", "legacy-payments", "/charge"];
const RATE_DOUBLES: [&str; 4] = ["front", "/home", "catalog", "/items"];
const ERRORS_JUMP: [&str; 4] = ["front", "/cart", "cart", "/get"];
const P99_TRIPLES: [&str; 4] = ["catalog", "/items", "db-proxy", "/query"];
const SAME_COUNT: [&str; 4] = ["catalog", "/items", "inventory", "/stock"];
const STABLE: [&str; 4] = ["front", "/home", "users", "/me"];
const TOO_FEW: [&str; 4] = ["front", "/admin", "audit", "/log"];
const NONE_CALLEE: [Option<&str>; 4] = [Some("users"), Some("/me"), None, None];

/// Over [`BEFORE_S`].
pub(super) fn before() -> Vec<Quad> {
    vec![
        quad(REMOVED.map(Some), 600, 3, Some(60)),
        quad(RATE_DOUBLES.map(Some), 3000, 0, Some(20)),
        quad(ERRORS_JUMP.map(Some), 1500, 3, Some(15)),
        quad(P99_TRIPLES.map(Some), 3000, 0, Some(10)),
        quad(SAME_COUNT.map(Some), 600, 0, Some(8)),
        quad(STABLE.map(Some), 1500, 15, Some(40)),
        quad(TOO_FEW.map(Some), 5, 0, Some(10)),
        quad(NONE_CALLEE, 1500, 0, Some(35)),
    ]
}

/// Over [`AFTER_S`].
pub(super) fn after() -> Vec<Quad> {
    vec![
        quad(ADDED.map(Some), 240, 2, Some(50)),
        // 10/s before, 20/s now.
        quad(RATE_DOUBLES.map(Some), 2400, 0, Some(20)),
        // 0.2% of calls failed, now 15%, at the same 5/s.
        quad(ERRORS_JUMP.map(Some), 600, 90, Some(15)),
        quad(P99_TRIPLES.map(Some), 1200, 0, Some(30)),
        // The same count in a shorter window: 2/s before, 5/s now.
        quad(SAME_COUNT.map(Some), 600, 0, Some(8)),
        // 5% busier, errors 1% then 1.1%, p99 10% slower: noise.
        quad(STABLE.map(Some), 630, 7, Some(44)),
        // Six times the rate, errors from none to a third, p99 nine times: of too few calls.
        quad(TOO_FEW.map(Some), 12, 4, Some(90)),
        // No request ended in the window: no durations.
        quad(NONE_CALLEE, 600, 0, None),
    ]
}

/// [`before`] against [`after`], with the default thresholds.
pub(super) fn compared() -> Vec<Compared> {
    compare(
        Side {
            quads: &before(),
            seconds: BEFORE_S,
        },
        Side {
            quads: &after(),
            seconds: AFTER_S,
        },
        &Thresholds::default(),
    )
}

/// Hostile names in a changed, an added and a removed quadruple.
pub(super) fn hostile() -> Vec<Compared> {
    let changed = [SCRIPT, IMG, RED, LINES].map(Some);
    let before = [
        quad(changed, 600, 0, Some(10)),
        quad(
            [Some(SCRIPT), None, Some(LINES), Some(DECODED)],
            60,
            0,
            None,
        ),
    ];
    let after = [
        quad(changed, 480, 0, Some(10)),
        quad([Some(IMG), Some(RED), None, None], 24, 1, Some(5)),
    ];
    compare(
        Side {
            quads: &before,
            seconds: BEFORE_S,
        },
        Side {
            quads: &after,
            seconds: AFTER_S,
        },
        &Thresholds::default(),
    )
}
