//! Scenarios for the whole pass: each evidence kind, its bounds, and how they combine.

use super::*;
use crate::channels::{CHANNEL_FIFO, CHANNEL_VALUE_MATCH, MAX_HANDOFF_AGE_NS};
use crate::contexts::CONTEXT_AFTER_END_NS;
use crate::events::ChanOp;
use crate::lineage::{MAX_SPAWN_AGE_NS, SPAWN_FIRST_LINK};
use crate::test_support::LogBuilder;
use crate::timers::TIMER_UNIQUE;

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
}

mod channels {
    use super::*;

    fn job(v: i64) -> ChanOp {
        ChanOp::on(JOBS, Some(v))
    }

    /// A worker spawned lazily by request 1 serves request 2 from the queue: its calls for
    /// job 2 are request 2's, not request 1's.
    #[test]
    fn a_lazily_spawned_worker_serves_whoever_sent_the_job() {
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/one")
            .spawn(2, P, A, 7, 20)
            .client_start(3, P, A, 20, "db:5432", "/warmup")
            .send(4, P, A, 7, job(0xa1))
            .recv(5, P, A, 20, job(0xa1))
            .client_start(6, P, A, 20, "db:5432", "/for-one")
            .server_end(7, P, A, 7)
            .server_start(8, P, A, 8, ":80", "/two")
            .send(9, P, A, 8, job(0xa2))
            .recv(10, P, A, 20, job(0xa2))
            .client_start(11, P, A, 20, "db:5432", "/for-two")
            .server_end(12, P, A, 8)
            .build();
        assert_eq!(
            summary(&log),
            vec![
                c("/one", "spawned", SPAWN_FIRST_LINK),
                c("/one", "channel", CHANNEL_VALUE_MATCH),
                c("/two", "channel", CHANNEL_VALUE_MATCH),
            ]
        );
    }

    /// A ticker's sends come from the runtime and are never recorded: its goroutine's calls
    /// are nobody's, even when a request spawned it and others are running.
    #[test]
    fn a_ticker_goroutine_is_none() {
        let tick = ChanOp::on(0xc000_2000, Some(0x1234)).queue(0, 1);
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/starts-the-ticker")
            .spawn(2, P, A, 7, 30)
            .recv(3, P, A, 30, tick)
            .client_start(4, P, A, 30, "metrics:9090", "/push")
            .server_start(5, P, A, 8, ":80", "/busy")
            .send(6, P, A, 8, job(0xb1))
            .recv(7, P, A, 30, tick)
            .client_start(8, P, A, 30, "metrics:9090", "/push")
            .build();
        assert_eq!(paths(&log), vec![s("-", "none"), s("-", "none")]);
    }

    #[test]
    fn values_pick_the_send_and_order_is_the_fallback() {
        let buffered = |v| ChanOp::on(JOBS, v).queue(0, 8);
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/one")
            .server_start(2, P, A, 8, ":80", "/two")
            .send(3, P, A, 7, buffered(Some(0xa)))
            .send(4, P, A, 8, buffered(Some(0xb)).queue(1, 8))
            .recv(5, P, A, 20, buffered(Some(0xb)).queue(1, 8))
            .client_start(6, P, A, 20, "db:1", "/x")
            .recv(7, P, A, 21, buffered(Some(0xa)))
            .client_start(8, P, A, 21, "db:1", "/y")
            // No values: order alone.
            .send(9, P, A, 8, buffered(None))
            .send(10, P, A, 7, buffered(None).queue(1, 8))
            .recv(11, P, A, 20, buffered(None).queue(1, 8))
            .client_start(12, P, A, 20, "db:1", "/z")
            .build();
        assert_eq!(
            summary(&log),
            vec![
                c("/two", "channel", CHANNEL_VALUE_MATCH),
                c("/one", "channel", CHANNEL_VALUE_MATCH),
                c("/two", "channel", CHANNEL_FIFO),
            ]
        );
    }

    /// Two values were buffered before the recording began (qcount 2 after the first receive
    /// seen): the first three receives have no recorded send; the fourth pairs with request
    /// one's send, not earlier.
    #[test]
    fn values_buffered_before_the_recording_pair_with_nothing() {
        let q = |n| ChanOp::on(JOBS, None).queue(n, 4);
        let log = LogBuilder::new()
            .recv(1, P, A, 20, q(2))
            .server_start(2, P, A, 7, ":80", "/one")
            .send(3, P, A, 7, q(2))
            .recv(4, P, A, 20, q(2))
            .client_start(5, P, A, 20, "db:1", "/old-1")
            .recv(6, P, A, 20, q(1))
            .client_start(7, P, A, 20, "db:1", "/old-2")
            .recv(8, P, A, 20, q(0))
            .client_start(9, P, A, 20, "db:1", "/new")
            .build();
        assert_eq!(
            paths(&log),
            vec![s("-", "none"), s("-", "none"), s("/one", "channel")]
        );
        // The same from a send: qcount before it counts the values already there.
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/one")
            .send(2, P, A, 7, q(1))
            .recv(3, P, A, 20, q(1))
            .client_start(4, P, A, 20, "db:1", "/old")
            .recv(5, P, A, 20, q(0))
            .client_start(6, P, A, 20, "db:1", "/new")
            .build();
        assert_eq!(paths(&log), vec![s("-", "none"), s("/one", "channel")]);
    }

    /// The sender's own attribution travels: a goroutine the handler spawned sends to one
    /// worker, which hands on to another; each link multiplies the confidence.
    #[test]
    fn the_senders_attribution_travels_along_a_chain() {
        let next = ChanOp::on(0xc000_3000, Some(0x77));
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/a")
            .spawn(2, P, A, 7, 20)
            .send(3, P, A, 20, job(0x66))
            .recv(4, P, A, 21, job(0x66))
            .send(5, P, A, 21, next)
            .recv(6, P, A, 22, next)
            .spawn(7, P, A, 22, 23)
            .client_start(8, P, A, 21, "db:1", "/w1")
            .client_start(9, P, A, 22, "db:1", "/w2")
            .client_start(10, P, A, 23, "db:1", "/w2-child")
            .build();
        let w1 = SPAWN_FIRST_LINK * CHANNEL_VALUE_MATCH;
        let w2 = w1 * CHANNEL_VALUE_MATCH;
        assert_eq!(
            summary(&log),
            vec![
                c("/a", "channel", w1),
                c("/a", "channel", w2),
                c("/a", "spawned", w2 * SPAWN_FIRST_LINK),
            ]
        );
    }

    #[test]
    fn a_handoff_lasts_until_the_next_receive_or_its_age_bound() {
        let age_ms = MAX_HANDOFF_AGE_NS / 1_000_000;
        let closed = ChanOp::on(0xc000_4000, None);
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/a")
            .send(2, P, A, 7, job(1))
            .recv(3, P, A, 20, job(1))
            .client_start(3 + age_ms, P, A, 20, "db:1", "/in-time")
            .client_start(4 + age_ms, P, A, 20, "db:1", "/too-late")
            .send(5 + age_ms, P, A, 7, job(2))
            .recv(6 + age_ms, P, A, 20, job(2))
            .recv_closed(7 + age_ms, P, A, 20, closed)
            .client_start(8 + age_ms, P, A, 20, "db:1", "/after-close")
            .build();
        assert_eq!(
            paths(&log),
            vec![s("/a", "channel"), s("-", "none"), s("-", "none")]
        );
    }

    /// A `select` send is stamped when `selectgo` returns, which may be after its receiver
    /// already returned.
    #[test]
    fn a_late_select_send_completes_the_receive_before_it() {
        let op = ChanOp::on(JOBS, Some(0x99));
        let log = LogBuilder::in_ns()
            .server_start(1_000, P, A, 7, ":80", "/a")
            .recv(2_000, P, A, 20, op)
            .send(2_500, P, A, 7, op.in_select())
            .client_start(3_000, P, A, 20, "db:1", "/x")
            .recv(4_000, P, A, 20, op)
            .send(
                4_000 + crate::channels::PROBE_SKEW_NS + 1,
                P,
                A,
                7,
                op.in_select(),
            )
            .client_start(
                4_000 + 2 * crate::channels::PROBE_SKEW_NS,
                P,
                A,
                20,
                "db:1",
                "/y",
            )
            .build();
        assert_eq!(paths(&log), vec![s("/a", "channel"), s("-", "none")]);
    }

    /// A buffered per-request channel left with a value (its reader timed out) is freed and
    /// its address reused for another request's channel: the stale value must not pair.
    #[test]
    fn a_reused_channel_address_forgets_stale_sends() {
        let result = |q| ChanOp::on(JOBS, None).queue(q, 1);
        let log = LogBuilder::new()
            .server_start(1, P, A, 7, ":80", "/timed-out")
            .send(2, P, A, 7, result(0))
            .server_end(3, P, A, 7)
            .server_start(10, P, A, 8, ":80", "/b")
            .spawn(11, P, A, 8, 30)
            .server_end(12, P, A, 8)
            .send(13, P, A, 30, result(0))
            .recv(14, P, A, 31, result(0))
            .client_start(15, P, A, 31, "db:1", "/x")
            .build();
        assert_eq!(paths(&log), vec![s("/b", "channel")]);
    }
}

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
            .server_start(2, P, A, 7, ":80", "/elsewhere")
            .spawn_value(3, P, A, 9, 40, CALLBACK)
            .client_start(4, P, A, 40, "b:80", "/x")
            .build();
        // The arming goroutine (3) was in no request, and the timer's spawner (9) is unrelated.
        assert_eq!(paths(&log), vec![s("-", "none")]);
    }
}
