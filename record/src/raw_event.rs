//! The one boundary where the raw BPF record (`struct qt_event` in `bpf/event.h`, reaching Rust
//! through the skeleton) becomes a Rust [`Event`]. Nothing else in `record` touches the raw type.

use std::borrow::Cow;
use std::mem::{offset_of, size_of};
use std::net::{Ipv4Addr, Ipv6Addr};

use quadtrace_schema::EventKind;

use crate::skel::types::qt_event;

/// Must match the `_Static_assert` in `bpf/event.h`.
const RAW_EVENT_SIZE: usize = 448;
const _: () = assert!(size_of::<qt_event>() == RAW_EVENT_SIZE);

const F_TRUNCATED: u8 = 1;
const F_ERROR: u8 = 2;
const F_HAS_STATUS: u8 = 4;
const F_IN_SELECT: u8 = 8;
const F_COMPLETED: u8 = 16;
const F_HAS_VALUE: u8 = 32;
const F_HAS_RECEIVER: u8 = 64;

/// Raw kind values are indexes of per-kind counters: one past the largest (`QT_KIND_MAX`).
pub const KIND_SLOTS: usize = 12;

/// `QT_NOTICE_EXEC`: a program started (a notice from `bpf/host.bpf.c`, never written).
const NOTICE_EXEC: u8 = 100;
/// Address families of the socket kinds.
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// A decoded event. Strings borrow from the ring-buffer record when they are valid UTF-8.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    pub ts_ns: u64,
    pub pid: u32,
    pub tid: u32,
    pub goid: u64,
    pub kind: EventKind,
    pub method: Cow<'a, str>,
    pub host: Cow<'a, str>,
    pub path: Cow<'a, str>,
    /// `server_end`: the route template that served the request; empty when unknown.
    pub route: Cow<'a, str>,
    pub listen_addr: Cow<'a, str>,
    /// `server_start`: the client's `ip:port` (`Request.RemoteAddr`); `connect`: the address
    /// connected to.
    pub remote_addr: Cow<'a, str>,
    /// Socket kinds: the socket's own `ip:port`.
    pub local_addr: Cow<'a, str>,
    /// Socket kinds: inode of the socket's network namespace.
    pub netns: Option<u64>,
    pub status: Option<i32>,
    pub error: bool,
    pub parent_goid: u64,
    /// `chan_send`: the goroutine waiting on the channel that takes the value directly.
    pub receiver_goid: Option<u64>,
    pub ctx: u64,
    /// Parent, grandparent and great-grandparent of `ctx` (client_start).
    pub ctx_ancestors: [u64; 3],
    pub chan: u64,
    pub value: Option<u64>,
    /// Channel queue state: qcount, dataqsiz, sendx, recvx.
    pub queue: [u32; 4],
    pub in_select: bool,
    pub completed: bool,
    pub truncated: bool,
}

impl Event<'static> {
    /// An event of `kind` with every column empty, to be filled in.
    fn empty(kind: EventKind, ts_ns: u64, pid: u32) -> Self {
        let none = || Cow::Borrowed("");
        Event {
            ts_ns,
            pid,
            tid: 0,
            goid: 0,
            kind,
            method: none(),
            host: none(),
            path: none(),
            route: none(),
            listen_addr: none(),
            remote_addr: none(),
            local_addr: none(),
            netns: None,
            status: None,
            error: false,
            parent_goid: 0,
            receiver_goid: None,
            ctx: 0,
            ctx_ancestors: [0; 3],
            chan: 0,
            value: None,
            queue: [0; 4],
            in_select: false,
            completed: false,
            truncated: false,
        }
    }

    /// A demo-like event for tests: pid 1, GET 0.0.0.0:9932/echo, everything else empty.
    #[cfg(test)]
    pub fn sample(kind: EventKind, ts_ns: u64, goid: u64, path: &'static str) -> Self {
        Event {
            tid: 1,
            goid,
            method: Cow::Borrowed("GET"),
            host: Cow::Borrowed("0.0.0.0:9932"),
            path: Cow::Borrowed(path),
            listen_addr: Cow::Borrowed("0.0.0.0:9932"),
            ..Event::empty(kind, ts_ns, 1)
        }
    }
}

impl Event<'_> {
    /// The event with its strings owned, to be kept past its ring-buffer record.
    pub fn into_owned(self) -> Event<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        Event {
            ts_ns: self.ts_ns,
            pid: self.pid,
            tid: self.tid,
            goid: self.goid,
            kind: self.kind,
            method: own(self.method),
            host: own(self.host),
            path: own(self.path),
            route: own(self.route),
            listen_addr: own(self.listen_addr),
            remote_addr: own(self.remote_addr),
            local_addr: own(self.local_addr),
            netns: self.netns,
            status: self.status,
            error: self.error,
            parent_goid: self.parent_goid,
            receiver_goid: self.receiver_goid,
            ctx: self.ctx,
            ctx_ancestors: self.ctx_ancestors,
            chan: self.chan,
            value: self.value,
            queue: self.queue,
            in_select: self.in_select,
            completed: self.completed,
            truncated: self.truncated,
        }
    }
}

/// Why a ring-buffer record was skipped.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("record of {0} bytes, expected {RAW_EVENT_SIZE}")]
    Size(usize),
    #[error("unknown event kind {0}")]
    Kind(u8),
}

/// A record of the host object (`bpf/host.bpf.c`).
// Handed straight to the caller, never stored: boxing the event would cost an allocation per
// record for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum HostRecord<'a> {
    /// A socket event to write.
    Event(Event<'a>),
    /// Process `pid` exec'd a program (one whose binary is already probed for every process
    /// that runs it, BPF has already added to the targets; record decides for the others).
    Exec { pid: u32 },
}

fn raw_of(data: &[u8]) -> Result<qt_event, DecodeError> {
    if data.len() < RAW_EVENT_SIZE {
        return Err(DecodeError::Size(data.len()));
    }
    // SAFETY: the length was checked above, `qt_event` is plain old data (integers and byte
    // arrays, every bit pattern valid) and read_unaligned makes no alignment assumption.
    Ok(unsafe { std::ptr::read_unaligned(data.as_ptr().cast::<qt_event>()) })
}

/// Decodes one record of the host object.
pub fn decode_host(data: &[u8]) -> Result<HostRecord<'_>, DecodeError> {
    let raw = raw_of(data)?;
    if raw.kind == NOTICE_EXEC {
        return Ok(HostRecord::Exec { pid: raw.pid });
    }
    decode(data).map(HostRecord::Event)
}

/// A socket event read from `/proc` rather than reported by the kernel: the state of a
/// process's sockets when record first saw it.
pub fn socket_event(
    kind: EventKind,
    pid: u32,
    ts_ns: u64,
    local: String,
    remote: String,
    netns: Option<u64>,
) -> Event<'static> {
    Event {
        remote_addr: Cow::Owned(remote),
        local_addr: Cow::Owned(local),
        // Unknown is the host's namespace for analyze, never a made-up number.
        netns: Some(netns.unwrap_or(0)),
        ..Event::empty(kind, ts_ns, pid)
    }
}

/// `ip:port` of a socket address as the kernel holds it (v4 in the first 4 bytes); IPv4-mapped
/// v6 addresses are shown as v4, the way Go's `RemoteAddr` shows them.
fn socket_addr(family: u16, addr: &[u8; 16], port: u16) -> Option<String> {
    match family {
        AF_INET => Some(format!(
            "{}:{port}",
            Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3])
        )),
        AF_INET6 => {
            let ip = Ipv6Addr::from(*addr);
            Some(match ip.to_ipv4_mapped() {
                Some(v4) => format!("{v4}:{port}"),
                None => format!("[{ip}]:{port}"),
            })
        }
        _ => None,
    }
}

/// Decodes one ring-buffer record; a malformed one is an error for the caller to count and skip.
pub fn decode(data: &[u8]) -> Result<Event<'_>, DecodeError> {
    let raw = raw_of(data)?;
    let kind = EventKind::from_raw(raw.kind).ok_or(DecodeError::Kind(raw.kind))?;
    // The strings are sliced out of `data` (not `raw`) so that they can borrow from it.
    let text = |field_offset: usize, cap: usize, len: u16| -> Cow<'_, str> {
        let bytes = &data[field_offset..field_offset + usize::from(len).min(cap)];
        // Most kinds carry no text at all; valid text (nearly always ASCII) is borrowed after one
        // fast check; only a broken string pays for the lossy conversion and its allocation.
        if bytes.is_empty() {
            return Cow::Borrowed("");
        }
        match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(bytes),
        }
    };
    let path = text(offset_of!(qt_event, path), raw.path.len(), raw.path_len);
    // A server_end carries the route in the path buffer, which it has no other use for.
    let (path, route) = match kind {
        EventKind::ServerEnd => (Cow::Borrowed(""), path),
        _ => (path, Cow::Borrowed("")),
    };
    let socket = matches!(
        kind,
        EventKind::Connect | EventKind::Listen | EventKind::ListenEnd
    );
    let (local_addr, remote_addr, netns) = if socket {
        let addr =
            |a: &[u8; 16], port| Cow::Owned(socket_addr(raw.family, a, port).unwrap_or_default());
        let remote = match kind {
            EventKind::Connect => addr(&raw.raddr, raw.rport),
            _ => Cow::Borrowed(""),
        };
        (addr(&raw.laddr, raw.lport), remote, Some(raw.netns))
    } else if raw.peer_len == 0 && raw.family != 0 {
        // A gRPC request's client, read as an address rather than as Go's string.
        let peer = socket_addr(raw.family, &raw.raddr, raw.rport).unwrap_or_default();
        (Cow::Borrowed(""), Cow::Owned(peer), None)
    } else {
        let peer = text(offset_of!(qt_event, peer), raw.peer.len(), raw.peer_len);
        (Cow::Borrowed(""), peer, None)
    };
    Ok(Event {
        ts_ns: raw.ts_ns,
        pid: raw.pid,
        tid: raw.tid,
        goid: raw.goid,
        kind,
        method: text(
            offset_of!(qt_event, method),
            raw.method.len(),
            raw.method_len,
        ),
        host: text(offset_of!(qt_event, host), raw.host.len(), raw.host_len),
        path,
        route,
        listen_addr: text(offset_of!(qt_event, addr), raw.addr.len(), raw.addr_len),
        remote_addr,
        local_addr,
        netns,
        status: (raw.flags & F_HAS_STATUS != 0).then_some(raw.status),
        error: raw.flags & F_ERROR != 0,
        parent_goid: match kind {
            EventKind::ChanSend => 0,
            _ => raw.parent_goid,
        },
        receiver_goid: (kind == EventKind::ChanSend && raw.flags & F_HAS_RECEIVER != 0)
            .then_some(raw.parent_goid),
        ctx: raw.ctx,
        ctx_ancestors: [raw.ctx1, raw.ctx2, raw.ctx3],
        chan: raw.chan,
        value: (raw.flags & F_HAS_VALUE != 0).then_some(raw.value),
        queue: [raw.qcount, raw.dataqsiz, raw.sendx, raw.recvx],
        in_select: raw.flags & F_IN_SELECT != 0,
        completed: raw.flags & F_COMPLETED != 0,
        truncated: raw.flags & F_TRUNCATED != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_bytes(ev: &qt_event) -> Vec<u8> {
        // SAFETY: qt_event is plain old data of exactly RAW_EVENT_SIZE bytes.
        unsafe { std::slice::from_raw_parts((ev as *const qt_event).cast::<u8>(), RAW_EVENT_SIZE) }
            .to_vec()
    }

    fn put(dst: &mut [i8], s: &str) -> u16 {
        for (d, b) in dst.iter_mut().zip(s.bytes()) {
            *d = b as i8;
        }
        s.len() as u16
    }

    #[test]
    fn decodes_a_client_start() {
        let mut raw = qt_event {
            ts_ns: 7,
            pid: 10,
            tid: 11,
            goid: 42,
            kind: 3,
            ctx: 0xc000,
            ..Default::default()
        };
        raw.method_len = put(&mut raw.method, "GET");
        raw.host_len = put(&mut raw.host, "0.0.0.0:9932");
        raw.path_len = put(&mut raw.path, "/echo");
        let bytes = raw_bytes(&raw);
        let ev = decode(&bytes).expect("valid record");
        assert_eq!(ev.kind, EventKind::ClientStart);
        assert_eq!(
            (ev.ts_ns, ev.pid, ev.tid, ev.goid, ev.ctx),
            (7, 10, 11, 42, 0xc000)
        );
        assert_eq!(
            (&*ev.method, &*ev.host, &*ev.path, &*ev.listen_addr),
            ("GET", "0.0.0.0:9932", "/echo", "")
        );
        assert_eq!(ev.status, None);
        assert!(!ev.truncated && !ev.error);
    }

    #[test]
    fn flags_status_and_error() {
        let raw = qt_event {
            kind: 4,
            status: 503,
            flags: F_HAS_STATUS | F_ERROR | F_TRUNCATED,
            ..Default::default()
        };
        let bytes = raw_bytes(&raw);
        let ev = decode(&bytes).expect("valid record");
        assert_eq!(ev.status, Some(503));
        assert!(ev.error && ev.truncated);
    }

    #[test]
    fn a_server_end_carries_its_route() {
        let mut raw = qt_event {
            kind: 2,
            status: 200,
            flags: F_HAS_STATUS,
            ..Default::default()
        };
        raw.path_len = put(&mut raw.path, "GET /users/{id}");
        let bytes = raw_bytes(&raw);
        let ev = decode(&bytes).expect("valid record");
        assert_eq!((&*ev.route, &*ev.path), ("GET /users/{id}", ""));
    }

    #[test]
    fn socket_kinds_carry_their_addresses() {
        let mut raw = qt_event {
            kind: 9,
            pid: 77,
            family: AF_INET,
            lport: 45678,
            rport: 80,
            netns: 4026531840,
            ..Default::default()
        };
        raw.laddr[..4].copy_from_slice(&[198, 19, 1, 1]);
        raw.raddr[..4].copy_from_slice(&[198, 19, 0, 10]);
        let bytes = raw_bytes(&raw);
        let ev = decode(&bytes).expect("valid record");
        assert_eq!(ev.kind, EventKind::Connect);
        assert_eq!(
            (&*ev.local_addr, &*ev.remote_addr, ev.netns),
            ("198.19.1.1:45678", "198.19.0.10:80", Some(4026531840))
        );
        let mut raw = qt_event {
            kind: 10,
            family: AF_INET6,
            lport: 8080,
            ..Default::default()
        };
        raw.laddr[15] = 1;
        let bytes = raw_bytes(&raw);
        let ev = decode(&bytes).expect("valid record");
        assert_eq!((&*ev.local_addr, &*ev.remote_addr), ("[::1]:8080", ""));
        raw.laddr = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1];
        let bytes = raw_bytes(&raw);
        assert_eq!(
            &*decode(&bytes).expect("valid").local_addr,
            "127.0.0.1:8080"
        );
    }

    #[test]
    fn a_server_start_carries_the_client_address_and_exec_is_a_notice() {
        let mut raw = qt_event {
            kind: 1,
            ..Default::default()
        };
        raw.peer_len = put(&mut raw.peer, "198.19.1.1:45678");
        let bytes = raw_bytes(&raw);
        let ev = decode(&bytes).expect("valid record");
        assert_eq!((&*ev.remote_addr, ev.netns), ("198.19.1.1:45678", None));
        let raw = qt_event {
            kind: NOTICE_EXEC,
            pid: 5,
            ts_ns: 9,
            value: 1,
            ..Default::default()
        };
        let bytes = raw_bytes(&raw);
        assert_eq!(decode_host(&bytes), Ok(HostRecord::Exec { pid: 5 }));
        assert_eq!(decode(&bytes), Err(DecodeError::Kind(NOTICE_EXEC)));
    }

    #[test]
    fn malformed_records_are_errors_not_panics() {
        assert_eq!(decode(&[0u8; 10]), Err(DecodeError::Size(10)));
        assert_eq!(decode(&[0u8; RAW_EVENT_SIZE]), Err(DecodeError::Kind(0)));
        let mut raw = qt_event {
            kind: 1,
            ..Default::default()
        };
        raw.path_len = 9999; // longer than the buffer: clamped, not out of bounds
        raw.path[0] = -1; // invalid UTF-8 is replaced, not rejected
        let bytes = raw_bytes(&raw);
        let ev = decode(&bytes).expect("valid record");
        assert_eq!(ev.path.chars().count(), 128);
    }
}
