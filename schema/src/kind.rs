//! Event kinds. The numeric values are shared with the BPF header (`bpf/event.h`) and are never
//! renumbered; 0 is deliberately unused so that zeroed memory is never mistaken for an event.

use std::fmt;
use std::str::FromStr;

/// What a recorded event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum EventKind {
    /// A server began handling a request (`net/http.serverHandler.ServeHTTP`).
    ServerStart = 1,
    /// A server finished a request (`net/http.(*response).finishRequest`).
    ServerEnd = 2,
    /// A client round trip began (`net/http.(*Transport).roundTrip`).
    ClientStart = 3,
    /// A client round trip returned (a `RET` of `(*Transport).roundTrip`).
    ClientEnd = 4,
    /// A goroutine was created by a `go` statement (at its `CALL runtime.newproc`; recordings of
    /// schema 1-3: at `runtime.newproc1`, every goroutine).
    Spawn = 5,
    /// A value was sent on a channel (`runtime.chansend1` entry, or a `select` send case chosen).
    ChanSend = 6,
    /// A value was received from a channel (a `RET` of `runtime.chanrecv1/2`, or a `select`
    /// receive case chosen).
    ChanRecv = 7,
    /// A timer callback was armed (`time.AfterFunc` entry); `value` is the callback.
    TimerArm = 8,
    /// A recorded process's outgoing TCP connection was established (`SYN_SENT` →
    /// `ESTABLISHED`, from the kernel's `sock:inet_sock_set_state` tracepoint), or was found
    /// established when the process was first seen. `pid` owns the connection; `goid` is 0.
    Connect = 9,
    /// A recorded process began listening on a TCP address (or was found listening when first
    /// seen).
    Listen = 10,
    /// A recorded process's listening socket was closed.
    ListenEnd = 11,
}

impl EventKind {
    /// Every kind, in numeric order.
    pub const ALL: [EventKind; 11] = [
        EventKind::ServerStart,
        EventKind::ServerEnd,
        EventKind::ClientStart,
        EventKind::ClientEnd,
        EventKind::Spawn,
        EventKind::ChanSend,
        EventKind::ChanRecv,
        EventKind::TimerArm,
        EventKind::Connect,
        EventKind::Listen,
        EventKind::ListenEnd,
    ];

    /// The value stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ServerStart => "server_start",
            EventKind::ServerEnd => "server_end",
            EventKind::ClientStart => "client_start",
            EventKind::ClientEnd => "client_end",
            EventKind::Spawn => "spawn",
            EventKind::ChanSend => "chan_send",
            EventKind::ChanRecv => "chan_recv",
            EventKind::TimerArm => "timer_arm",
            EventKind::Connect => "connect",
            EventKind::Listen => "listen",
            EventKind::ListenEnd => "listen_end",
        }
    }

    /// The kind for a raw numeric value from BPF, if it is one.
    pub fn from_raw(raw: u8) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| *k as u8 == raw)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The string was not an event kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown event kind {:?}", self.0)
    }
}

impl std::error::Error for UnknownKind {}

impl FromStr for EventKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_values_round_trip_and_zero_is_not_a_kind() {
        assert_eq!(EventKind::from_raw(0), None);
        for k in EventKind::ALL {
            assert_eq!(EventKind::from_raw(k as u8), Some(k));
            assert_eq!(k.as_str().parse::<EventKind>(), Ok(k));
        }
        assert!("bogus".parse::<EventKind>().is_err());
    }
}
