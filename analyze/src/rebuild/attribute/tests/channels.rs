//! Channel handoffs in the whole pass: workers, tickers, values, queue state, probe effects.

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
        .client_end(3, P, A, 20, Some(200))
        .send(4, P, A, 7, job(0xa1))
        .recv(5, P, A, 20, job(0xa1))
        .client_start(6, P, A, 20, "db:5432", "/for-one")
        .client_end(6, P, A, 20, Some(200))
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
        .call(4, P, A, 30, "metrics:9090", "/push")
        .server_start(5, P, A, 8, ":80", "/busy")
        .send(6, P, A, 8, job(0xb1))
        .recv(7, P, A, 30, tick)
        .call(8, P, A, 30, "metrics:9090", "/push")
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
        .call(6, P, A, 20, "db:1", "/x")
        .recv(7, P, A, 21, buffered(Some(0xa)))
        .call(8, P, A, 21, "db:1", "/y")
        // No values: order alone.
        .send(9, P, A, 8, buffered(None))
        .send(10, P, A, 7, buffered(None).queue(1, 8))
        .recv(11, P, A, 20, buffered(None).queue(1, 8))
        .call(12, P, A, 20, "db:1", "/z")
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
        .call(5, P, A, 20, "db:1", "/old-1")
        .recv(6, P, A, 20, q(1))
        .call(7, P, A, 20, "db:1", "/old-2")
        .recv(8, P, A, 20, q(0))
        .call(9, P, A, 20, "db:1", "/new")
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
        .call(4, P, A, 20, "db:1", "/old")
        .recv(5, P, A, 20, q(0))
        .call(6, P, A, 20, "db:1", "/new")
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
        .call(8, P, A, 21, "db:1", "/w1")
        .call(9, P, A, 22, "db:1", "/w2")
        .call(10, P, A, 23, "db:1", "/w2-child")
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
        .call(3 + age_ms, P, A, 20, "db:1", "/in-time")
        .call(4 + age_ms, P, A, 20, "db:1", "/too-late")
        .send(5 + age_ms, P, A, 7, job(2))
        .recv(6 + age_ms, P, A, 20, job(2))
        .recv_closed(7 + age_ms, P, A, 20, closed)
        .call(8 + age_ms, P, A, 20, "db:1", "/after-close")
        .build();
    assert_eq!(
        paths(&log),
        vec![s("/a", "channel"), s("-", "none"), s("-", "none")]
    );
}

/// Inside a round trip the calling goroutine hands the request to the connection's
/// goroutines and takes the response back over channels; those receives are not jobs.
#[test]
fn receives_inside_a_call_change_nothing() {
    let reqch = ChanOp::on(0xc000_6000, Some(0x10));
    let resc = ChanOp::on(0xc000_7000, Some(0x20));
    let log = LogBuilder::new()
        .server_start(1, P, A, 7, ":80", "/a")
        .spawn(2, P, A, 7, 20)
        .server_end(3, P, A, 7)
        // The transport's read loop (goroutine 90) serves every caller's connection.
        .client_start(4, P, A, 20, "b:80", "/first")
        .send(5, P, A, 20, reqch)
        .recv(6, P, A, 90, reqch)
        .send(7, P, A, 90, resc.in_select())
        .recv(8, P, A, 20, resc.in_select())
        .client_end(9, P, A, 20, Some(200))
        .client_start(10, P, A, 20, "b:80", "/second")
        .client_end(11, P, A, 20, Some(200))
        // A worker's job outlives its calls' internal receives too.
        .server_start(12, P, A, 8, ":80", "/job")
        .send(13, P, A, 8, job(0x30))
        .recv(14, P, A, 21, job(0x30))
        .client_start(15, P, A, 21, "b:80", "/w1")
        .recv(16, P, A, 21, ChanOp::on(0xc000_8000, None))
        .client_end(17, P, A, 21, Some(200))
        .client_start(18, P, A, 21, "b:80", "/w2")
        .build();
    assert_eq!(
        paths(&log),
        vec![
            s("/a", "spawned"),
            s("/a", "spawned"),
            s("/job", "channel"),
            s("/job", "channel"),
        ]
    );
}

/// A call whose end was never recorded stops shielding its goroutine after a while.
#[test]
fn a_call_without_an_end_is_over_after_its_bound() {
    let bound_ms = crate::rebuild::attribute::MAX_CALL_NS / 1_000_000;
    let log = LogBuilder::new()
        .client_start(1, P, A, 20, "b:80", "/end-lost")
        .server_start(2, P, A, 7, ":80", "/a")
        .send(3, P, A, 7, job(1))
        .recv(4, P, A, 20, job(1))
        .send(3 + bound_ms, P, A, 7, job(2))
        .recv(3 + bound_ms, P, A, 20, job(2))
        .call(5 + bound_ms, P, A, 20, "b:80", "/x")
        .build();
    assert_eq!(paths(&log), vec![s("-", "none"), s("/a", "channel")]);
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
        .call(3_000, P, A, 20, "db:1", "/x")
        .recv(4_000, P, A, 20, op)
        .send(
            4_000 + crate::rebuild::channels::PROBE_SKEW_NS + 1,
            P,
            A,
            7,
            op.in_select(),
        )
        .call(
            4_000 + 2 * crate::rebuild::channels::PROBE_SKEW_NS,
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
        .call(15, P, A, 31, "db:1", "/x")
        .build();
    assert_eq!(paths(&log), vec![s("/b", "channel")]);
}

/// Workers blocked in their receive before the recording began: their receives are never seen
/// to start, so only the sends, which name the receiver the runtime hands the value to, say
/// who works for whom. Each worker's first job is its sender's; a recorded receive later
/// agrees.
#[test]
fn a_worker_blocked_before_recording_gets_its_first_job_from_the_send() {
    let to = |_value: i64, worker: i64| Detail::ChanHandoff {
        chan: JOBS,
        receiver: worker,
    };
    let log = LogBuilder::new()
        .server_start(1, P, A, 7, ":80", "/one")
        .push(2, P, A, 7, to(0xa1, 20))
        .server_start(3, P, A, 8, ":80", "/two")
        .push(4, P, A, 8, to(0xa2, 21))
        .call(5, P, A, 21, "db:5432", "/for-two")
        .call(6, P, A, 20, "db:5432", "/for-one")
        .server_end(7, P, A, 7)
        .server_end(8, P, A, 8)
        .server_start(9, P, A, 9, ":80", "/three")
        .push(10, P, A, 9, to(0xa3, 20))
        .recv(11, P, A, 20, job(0xa3))
        .call(12, P, A, 20, "db:5432", "/for-three")
        .server_end(13, P, A, 9)
        .build();
    let got = summary(&log);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], c("/two", "channel", CHANNEL_DIRECT));
    assert_eq!(got[1], c("/one", "channel", CHANNEL_DIRECT));
    // The third job's receive was recorded: it pairs with the same send.
    assert_eq!(got[2].0, "/three");
    assert_eq!(got[2].1, "channel");
}
