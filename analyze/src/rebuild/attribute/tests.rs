//! Scenarios for the whole pass: each evidence kind, its bounds, and how they combine.

use super::*;
use crate::model::events::ChanOp;
use crate::rebuild::channels::{CHANNEL_DIRECT, CHANNEL_FIFO, CHANNEL_VALUE_MATCH};
use crate::rebuild::contexts::CONTEXT_AFTER_END_NS;
use crate::rebuild::evidence::SPAWN_FIRST_LINK;
use crate::rebuild::handoff::MAX_HANDOFF_AGE_NS;
use crate::rebuild::lineage::MAX_SPAWN_AGE_NS;
use crate::rebuild::timers::TIMER_UNIQUE;
use crate::test_support::LogBuilder;

const A: &str = "svc";
const P: i32 = 10;
const JOBS: i64 = 0xc000_1000;

/// (request path or "-", evidence, confidence) for each call, in order.
fn summary(log: &EventLog) -> Vec<(String, &'static str, f64)> {
    let rec = reconstruct(log);
    rec.calls
        .iter()
        .map(|c| {
            let path = c
                .attribution
                .request()
                .and_then(|r| rec.requests.get(r))
                .and_then(|r| r.path)
                .map_or("-".to_string(), |p| log.str(p).to_string());
            (path, c.attribution.evidence(), c.attribution.confidence)
        })
        .collect()
}

/// Like [`summary`] without confidences.
fn paths(log: &EventLog) -> Vec<(String, &'static str)> {
    summary(log).into_iter().map(|(p, e, _)| (p, e)).collect()
}

fn s(path: &str, ev: &'static str) -> (String, &'static str) {
    (path.to_string(), ev)
}

fn c(path: &str, ev: &'static str, confidence: f64) -> (String, &'static str, f64) {
    (path.to_string(), ev, (confidence * 100.0).round() / 100.0)
}

mod same_goroutine_and_spawned {
    use super::*;

    #[test]
    fn same_goroutine_while_open() {
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/a")
            .client_start(2, P, A, 7, "b:80", "/b")
            .server_end(3, P, A, 7)
            .client_start(4, P, A, 7, "b:80", "/late")
            .build();
        assert_eq!(
            summary(&log),
            vec![c("/a", "same_goroutine", 1.0), c("-", "none", 0.0)]
        );
    }

    #[test]
    fn other_process_same_goid_is_not_the_same_goroutine() {
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/a")
            .client_start(2, 11, "other", 7, "b:80", "/b")
            .build();
        assert_eq!(paths(&log), vec![s("-", "none")]);
    }

    #[test]
    fn spawned_two_levels_deep() {
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/a")
            .spawn(2, P, A, 7, 20)
            .server_end(3, P, A, 7)
            .spawn(4, P, A, 20, 21)
            .client_start(5, P, A, 21, "b:80", "/b")
            .client_start(6, P, A, 20, "c:80", "/c")
            .build();
        assert_eq!(
            summary(&log),
            vec![
                c("/a", "spawned", 0.9),
                c("/a", "spawned", SPAWN_FIRST_LINK)
            ]
        );
    }

    #[test]
    fn spawned_too_long_before_the_call_is_none() {
        let age_ms = MAX_SPAWN_AGE_NS / 1_000_000;
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/a")
            .spawn(2, P, A, 7, 20)
            .server_end(3, P, A, 7)
            .client_start(2 + age_ms, P, A, 20, "b:80", "/in-time")
            .client_start(3 + age_ms, P, A, 20, "b:80", "/too-late")
            .build();
        assert_eq!(paths(&log), vec![s("/a", "spawned"), s("-", "none")]);
    }

    #[test]
    fn spawned_outside_any_request_is_none() {
        let log = LogBuilder::new()
            .spawn(1, P, A, 1, 20)
            .server_start(2, P, A, 1, ":80", "/a")
            .client_start(3, P, A, 20, "b:80", "/b")
            .build();
        assert_eq!(paths(&log), vec![s("-", "none")]);
    }

    #[test]
    fn nested_requests_on_one_goroutine_use_the_innermost() {
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/outer")
            .server_start(2, P, A, 7, ":80", "/inner")
            .client_start(3, P, A, 7, "b:80", "/x")
            .spawn(4, P, A, 7, 30)
            .server_end(5, P, A, 7)
            .client_start(6, P, A, 7, "b:80", "/y")
            .client_start(7, P, A, 30, "b:80", "/z")
            .server_end(8, P, A, 7)
            .build();
        assert_eq!(
            paths(&log),
            vec![
                s("/inner", "same_goroutine"),
                s("/outer", "same_goroutine"),
                s("/inner", "spawned"),
            ]
        );
    }

    #[test]
    fn unmatched_end_at_file_start_is_ignored() {
        let log = LogBuilder::new()
            .server_end(1, P, A, 7)
            .client_start(2, P, A, 7, "b:80", "/b")
            .server_start(3, P, A, 7, ":80", "/a")
            .client_start(4, P, A, 7, "b:80", "/c")
            .build();
        assert_eq!(reconstruct(&log).requests.unmatched_ends(), 1);
        assert_eq!(paths(&log), vec![s("-", "none"), s("/a", "same_goroutine")]);
    }

    #[test]
    fn ends_give_status_and_duration() {
        let log = LogBuilder::new()
            .client_end(1, P, A, 7, Some(500))
            .client_start(2, P, A, 7, "b:80", "/b")
            .client_start(3, P, A, 8, "b:80", "/never-ends")
            .client_end(5, P, A, 7, Some(204))
            .build();
        let calls = reconstruct(&log).calls;
        let ends: Vec<_> = calls.iter().map(|c| (c.status, c.end_ns)).collect();
        assert_eq!(ends, vec![(Some(204), Some(5_000_000)), (None, None)]);
    }

    #[test]
    fn a_call_handed_to_an_inner_transport_is_one_call() {
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/a")
            .client_start(2, P, A, 7, "b:443", "/b")
            .client_start(3, P, A, 7, "b:443", "/b")
            .client_end(4, P, A, 7, Some(200))
            .client_end(5, P, A, 7, Some(200))
            // A different call made inside one in flight stays its own call.
            .client_start(6, P, A, 7, "b:443", "/b")
            .client_start(7, P, A, 7, "auth:443", "/token")
            .client_end(8, P, A, 7, Some(200))
            .client_end(9, P, A, 7, Some(201))
            .server_end(10, P, A, 7)
            .build();
        let calls = reconstruct(&log).calls;
        let ends: Vec<_> = calls.iter().map(|c| (c.status, c.end_ns)).collect();
        assert_eq!(
            ends,
            vec![
                (Some(200), Some(5_000_000)),
                (Some(201), Some(9_000_000)),
                (Some(200), Some(8_000_000)),
            ]
        );
    }
}

mod channels;

mod contexts {
    use super::*;

    #[test]
    fn a_context_or_its_ancestor_names_the_request() {
        let log = LogBuilder::new()
            .server_start_ctx(1, P, A, 7, ":80", "/a", 0xc0)
            .client_start_ctx(2, P, A, 50, "b:80", "/direct", [0xc0, 0, 0, 0])
            .client_start_ctx(3, P, A, 51, "b:80", "/derived", [0xd0, 0xc0, 0, 0])
            .client_start_ctx(4, P, A, 52, "b:80", "/unrelated", [0xd1, 0xd2, 0, 0])
            .build();
        assert_eq!(
            summary(&log),
            vec![
                c("/a", "context", 0.9),
                c("/a", "context", 0.85),
                c("-", "none", 0.0)
            ]
        );
    }

    #[test]
    fn lineage_comes_before_context_and_context_before_channel() {
        let log = LogBuilder::new()
            .server_start_ctx(1, P, A, 7, ":80", "/one", 0xc1)
            .server_start_ctx(2, P, A, 8, ":80", "/two", 0xc2)
            .spawn(3, P, A, 7, 20)
            .client_start_ctx(4, P, A, 20, "b:80", "/x", [0xc2, 0, 0, 0])
            .send(5, P, A, 7, ChanOp::on(JOBS, Some(5)))
            .recv(6, P, A, 21, ChanOp::on(JOBS, Some(5)))
            .client_start_ctx(7, P, A, 21, "b:80", "/y", [0xc2, 0, 0, 0])
            .build();
        assert_eq!(
            paths(&log),
            vec![s("/one", "spawned"), s("/two", "context")]
        );
    }

    #[test]
    fn an_old_request_context_stops_matching() {
        let after_ms = CONTEXT_AFTER_END_NS / 1_000_000;
        let log = LogBuilder::new()
            .server_start_ctx(1, P, A, 7, ":80", "/a", 0xc0)
            .server_end(2, P, A, 7)
            .client_start_ctx(2 + after_ms, P, A, 50, "b:80", "/x", [0xc0, 0, 0, 0])
            .client_start_ctx(3 + after_ms, P, A, 50, "b:80", "/y", [0xc0, 0, 0, 0])
            .build();
        assert_eq!(paths(&log), vec![s("/a", "context"), s("-", "none")]);
    }
}

mod timers {
    use super::*;

    const CALLBACK: i64 = 0xc000_5000;

    /// `time.AfterFunc` armed in a handler: the callback's goroutine is spawned by the timer
    /// code (parent goid 0) and works for the arming request.
    #[test]
    fn a_timer_callback_works_for_the_request_that_armed_it() {
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/a")
            .timer_arm(2, P, A, 7, CALLBACK)
            .server_end(3, P, A, 7)
            .server_start(4, P, A, 8, ":80", "/b")
            .spawn_value(5, P, A, 0, 40, CALLBACK)
            .client_start(6, P, A, 40, "b:80", "/later")
            // Each arming fires once: another spawn with that word is not a second firing.
            .spawn_value(7, P, A, 0, 41, CALLBACK)
            .client_start(8, P, A, 41, "b:80", "/other")
            .build();
        assert_eq!(
            summary(&log),
            vec![
                c("/a", "spawned", TIMER_UNIQUE * SPAWN_FIRST_LINK),
                c("-", "none", 0.0)
            ]
        );
    }

    #[test]
    fn a_timer_armed_outside_requests_hands_on_nothing() {
        let log = LogBuilder::new()
            .timer_arm(1, P, A, 3, CALLBACK)
            .spawn_value(3, P, A, 0, 40, CALLBACK)
            .client_start(4, P, A, 40, "b:80", "/x")
            .build();
        // The arming goroutine (3) was in no request.
        assert_eq!(paths(&log), vec![s("-", "none")]);
    }

    /// A stopped timer's callback address reused by an ordinary `go` closure: the goroutine's
    /// parent speaks for it, not the timer.
    #[test]
    fn only_the_schedulers_spawns_fire_timers() {
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/armed-and-stopped")
            .timer_arm(2, P, A, 7, CALLBACK)
            .server_end(3, P, A, 7)
            .server_start(4, P, A, 8, ":80", "/b")
            .spawn(5, P, A, 8, 20)
            .spawn_value(6, P, A, 20, 21, CALLBACK)
            .client_start(7, P, A, 21, "b:80", "/x")
            .spawn_value(8, P, A, 30, 31, CALLBACK)
            .client_start(9, P, A, 31, "b:80", "/y")
            .build();
        assert_eq!(paths(&log), vec![s("/b", "spawned"), s("-", "none")]);
    }
}
