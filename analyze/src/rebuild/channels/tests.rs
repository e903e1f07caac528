//! The pairing rules one by one, on the [`Channels`] table alone.

use super::*;
use crate::model::events::EventLog;
use crate::rebuild::requests::RequestId;

const C: i64 = 0xc000_0100;
const MS: i64 = 1_000_000;

fn proc() -> ProcId {
    EventLog::new().process("h", 1)
}

fn from(r: u32) -> Option<Carried> {
    Some(Carried::same_goroutine(RequestId(r)))
}

fn op(value: Option<i64>, qcount: i32, dataqsiz: i32) -> ChanOp {
    ChanOp {
        chan: C,
        value,
        qcount: Some(qcount),
        dataqsiz: Some(dataqsiz),
        in_select: false,
        completed: false,
    }
}

fn recv_op(value: Option<i64>, qcount: i32, dataqsiz: i32) -> ChanOp {
    ChanOp {
        completed: true,
        ..op(value, qcount, dataqsiz)
    }
}

/// The request and confidence a receive hands over.
fn got(h: Option<Handoff>) -> Option<(u32, f64)> {
    h.map(|h| (h.request.0, (h.confidence * 100.0).round() / 100.0))
}

#[test]
fn fifo_pairs_in_order_and_values_pick_out_of_order() {
    let p = proc();
    let mut ch = Channels::new();
    let g = GoIdx(0);
    ch.send(p, &op(None, 0, 4), MS, from(1));
    ch.send(p, &op(None, 1, 4), 2 * MS, from(2));
    assert_eq!(
        got(ch.recv(p, &recv_op(None, 1, 4), 3 * MS, g, 1)),
        Some((1, CHANNEL_FIFO))
    );
    ch.send(p, &op(Some(5), 1, 4), 4 * MS, from(3));
    ch.send(p, &op(Some(6), 2, 4), 5 * MS, from(4));
    // 6 is third in line but its value names it.
    let h = ch.recv(p, &recv_op(Some(6), 2, 4), 6 * MS, g, 2);
    assert_eq!(got(h), Some((4, CHANNEL_VALUE_MATCH)));
    // 7 matches nothing: the earliest, doubted.
    let h = ch.recv(p, &recv_op(Some(7), 1, 4), 7 * MS, g, 3);
    assert_eq!(got(h), Some((2, CHANNEL_FIFO)), "its send had no value");
    let h = ch.recv(p, &recv_op(Some(7), 0, 4), 8 * MS, g, 4);
    assert_eq!(got(h), Some((3, CHANNEL_VALUE_MISMATCH)));
}

#[test]
fn a_sender_working_for_nothing_hands_on_nothing() {
    let p = proc();
    let mut ch = Channels::new();
    ch.send(p, &op(Some(1), 0, 0), MS, None);
    assert_eq!(
        ch.recv(p, &recv_op(Some(1), 0, 0), 2 * MS, GoIdx(0), 1),
        None
    );
}

#[test]
fn a_closed_receive_pairs_with_nothing_and_empties_the_channel() {
    let p = proc();
    let mut ch = Channels::new();
    ch.send(p, &op(Some(1), 0, 0), MS, from(1));
    assert_eq!(ch.recv(p, &op(None, 0, 0), 3 * MS, GoIdx(0), 1), None);
    // The send before the close is gone; a later receive does not get it.
    ch.send(p, &op(Some(2), 0, 0), 4 * MS, None);
    assert_eq!(ch.recv(p, &recv_op(None, 0, 0), 5 * MS, GoIdx(0), 2), None);
}

#[test]
fn sends_expire() {
    let p = proc();
    let mut ch = Channels::new();
    ch.send(p, &op(None, 0, 0), 0, from(1));
    ch.send(p, &op(None, 0, 0), 1, from(2));
    let h = ch.recv(p, &recv_op(None, 0, 0), MAX_QUEUED_NS + 1, GoIdx(0), 1);
    assert_eq!(got(h).map(|(r, _)| r), Some(2), "the first waited too long");
}

#[test]
fn a_value_match_is_searched_only_near_the_front() {
    let p = proc();
    let mut ch = Channels::new();
    for i in 0..=VALUE_SCAN_LIMIT {
        ch.send(p, &op(Some(i as i64), 0, 0), 1, from(i as u32));
    }
    let last = Some(VALUE_SCAN_LIMIT as i64);
    let h = ch.recv(p, &recv_op(last, 0, 0), 2, GoIdx(0), 1);
    assert_eq!(got(h), Some((0, CHANNEL_VALUE_MISMATCH)));
}

#[test]
fn a_select_send_counts_its_own_value_in_the_first_qcount() {
    let p = proc();
    let mut ch = Channels::new();
    // After the select send, 3 values are buffered: 2 from before the recording, then its own.
    let first = ChanOp {
        in_select: true,
        ..op(None, 3, 4)
    };
    ch.send(p, &first, MS, from(1));
    let g = GoIdx(0);
    assert_eq!(ch.recv(p, &recv_op(None, 2, 4), 2 * MS, g, 1), None);
    assert_eq!(ch.recv(p, &recv_op(None, 1, 4), 3 * MS, g, 2), None);
    let h = ch.recv(p, &recv_op(None, 0, 4), 4 * MS, g, 3);
    assert_eq!(got(h).map(|(r, _)| r), Some(1));
}

#[test]
fn a_late_select_send_claims_a_receive_within_the_skew() {
    let p = proc();
    let mut ch = Channels::new();
    let (g1, g2) = (GoIdx(1), GoIdx(2));
    assert_eq!(ch.recv(p, &recv_op(Some(1), 0, 0), 10, g1, 5), None);
    assert_eq!(ch.recv(p, &recv_op(Some(2), 0, 0), 20, g2, 9), None);
    let select = |v| ChanOp {
        in_select: true,
        ..op(Some(v), 0, 0)
    };
    // The value says which of the two waiting receives it was.
    let claim = ch.send(p, &select(2), 30, from(7));
    assert_eq!(claim.map(|c| (c.receiver, c.seq)), Some((g2, 9)));
    assert_eq!(
        claim.and_then(|c| got(c.handoff)),
        Some((7, CHANNEL_VALUE_MATCH))
    );
    // Too late for the other: it stays a send for a later receive.
    assert_eq!(
        ch.send(p, &select(1), 10 + PROBE_SKEW_NS + 1, from(8)),
        None
    );
    let h = ch.recv(p, &recv_op(Some(1), 0, 0), 2 * PROBE_SKEW_NS, g1, 6);
    assert_eq!(got(h).map(|(r, _)| r), Some(8));
}

#[test]
fn a_new_buffer_size_is_a_new_channel() {
    let p = proc();
    let mut ch = Channels::new();
    ch.send(p, &op(Some(1), 0, 1), MS, from(1));
    // Same address, another size: the old channel was freed and the address reused.
    ch.send(p, &op(Some(2), 0, 0), 2 * MS, from(2));
    let h = ch.recv(p, &recv_op(None, 0, 0), 3 * MS, GoIdx(0), 1);
    assert_eq!(got(h).map(|(r, _)| r), Some(2));
}

#[test]
fn an_empty_buffer_drops_older_sends_but_not_ones_in_flight() {
    let p = proc();
    let mut ch = Channels::new();
    ch.send(p, &op(Some(1), 0, 2), 0, from(1));
    // A send recorded at its entry is not yet in the buffer: a probe right after it may still
    // read an empty one.
    ch.send(p, &op(Some(2), 0, 2), 10 * MS, from(2));
    ch.send(p, &op(Some(3), 0, 2), 10 * MS + 10, from(3));
    let h = ch.recv(p, &recv_op(None, 1, 2), 11 * MS, GoIdx(0), 1);
    assert_eq!(
        got(h).map(|(r, _)| r),
        Some(2),
        "request 1's value was gone"
    );
}

/// Two workers take the last two values; the first one's probe already sees the buffer empty.
/// The second's send left the FIFO order then, but its value still finds it.
#[test]
fn a_send_taken_out_of_order_still_matches_by_value() {
    let p = proc();
    let mut ch = Channels::new();
    ch.send(p, &op(Some(1), 0, 8), 0, from(1));
    ch.send(p, &op(Some(2), 1, 8), 1, from(2));
    ch.send(p, &op(Some(3), 2, 8), 2, from(3));
    let h = ch.recv(p, &recv_op(Some(1), 0, 8), 10 * MS, GoIdx(0), 1);
    assert_eq!(got(h), Some((1, CHANNEL_VALUE_MATCH)));
    // Value 3's receiver comes first; value 2's was done before the empty reading.
    let h = ch.recv(p, &recv_op(Some(3), 0, 8), 10 * MS + 5, GoIdx(1), 1);
    assert_eq!(got(h), Some((3, CHANNEL_VALUE_MATCH)));
    // A new send is in the order; value 2 pairs out of order, by value only.
    ch.send(p, &op(Some(4), 0, 8), 10 * MS + 7, from(4));
    let h = ch.recv(p, &recv_op(Some(2), 1, 8), 10 * MS + 9, GoIdx(2), 1);
    assert_eq!(got(h), Some((2, CHANNEL_VALUE_MATCH)));
    let h = ch.recv(p, &recv_op(None, 0, 8), 10 * MS + 11, GoIdx(2), 2);
    assert_eq!(got(h), Some((4, CHANNEL_FIFO)));
    // Without a value, stale sends are never taken.
    assert_eq!(
        ch.recv(p, &recv_op(None, 0, 8), 10 * MS + 12, GoIdx(2), 3),
        None
    );
}

#[test]
fn unknown_channels_are_ignored() {
    let p = proc();
    let mut ch = Channels::new();
    let nil = ChanOp {
        chan: 0,
        ..op(Some(1), 0, 0)
    };
    assert_eq!(ch.send(p, &nil, 1, from(1)), None);
    let nil_recv = ChanOp {
        completed: true,
        ..nil
    };
    assert_eq!(ch.recv(p, &nil_recv, 2, GoIdx(0), 1), None);
}

#[test]
fn a_send_whose_receive_was_missed_does_not_catch_its_address_reused_later() {
    // Unbuffered channel; the worker was blocked before recording, so job A's receive is
    // missing. Later jobs overtake A; then job D reuses A's freed address.
    let p = proc();
    let mut ch = Channels::new();
    let g = GoIdx(0);
    ch.send(p, &op(Some(0xa), 0, 0), MS, from(1));
    for (i, (v, r)) in [(0xb, 2), (0xc, 3)].into_iter().enumerate() {
        let t = (i as i64 + 1) * 20 * MS;
        ch.send(p, &op(Some(v), 0, 0), t, from(r));
        assert_eq!(
            got(ch.recv(p, &recv_op(Some(v), 0, 0), t + MS, g, i as u32 + 1)),
            Some((r, CHANNEL_VALUE_MATCH))
        );
    }
    ch.send(p, &op(Some(0xa), 0, 0), 100 * MS, from(4));
    let h = ch.recv(p, &recv_op(Some(0xa), 0, 0), 101 * MS, g, 3);
    assert_eq!(
        got(h),
        Some((4, CHANNEL_VALUE_MATCH)),
        "paired with the missed job's send"
    );
}

#[test]
fn an_idle_channel_is_forgotten_and_pairs_as_before_when_used_again() {
    let p = proc();
    let mut ch = Channels::new();
    let g = GoIdx(0);
    // An unbuffered channel and a buffered one whose count says empty: forgotten once their
    // value is received.
    for dataqsiz in [0, 1] {
        ch.send(p, &op(Some(1), 0, dataqsiz), MS, from(1));
        assert_eq!(ch.states.len(), 1, "a send in flight is kept");
        let h = ch.recv(p, &recv_op(Some(1), 0, dataqsiz), 2 * MS, g, 1);
        assert_eq!(got(h), Some((1, CHANNEL_VALUE_MATCH)));
        assert_eq!(ch.states.len(), 0, "dataqsiz {dataqsiz}");
        // Used again (the address reused, or the same channel): pairs like a kept state.
        ch.send(p, &op(Some(2), 0, dataqsiz), 3 * MS, from(2));
        let h = ch.recv(p, &recv_op(Some(2), 0, dataqsiz), 4 * MS, g, 2);
        assert_eq!(got(h), Some((2, CHANNEL_VALUE_MATCH)));
    }
    // A buffered channel still holding values is kept: they are orphans of its first event.
    ch.recv(p, &recv_op(Some(3), 2, 4), 5 * MS, g, 3);
    assert_eq!(ch.states.len(), 1);
    assert_eq!(ch.recv(p, &recv_op(Some(4), 1, 4), 6 * MS, g, 4), None);
}
