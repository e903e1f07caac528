//! grpc-go: its server and client, where gRPC requests and calls start and end.
//!
//! A server runs each RPC's handler on a goroutine of its own, entering
//! `(*Server).handleStream` with the stream (whose `method` is `/pkg.Service/Method`), and
//! ends it by writing the status (`WriteStatus` of its HTTP/2 transport, or of the
//! `ServeHTTP` one). A client call starts at `(*ClientConn).Invoke` (unary) or `NewStream`, and
//! ends when its stream finishes (a unary call runs on a stream too), with the error that holds
//! its status. Messages of a stream cost nothing: a unary RPC is 4 probe hits, two each side.
//!
//! The structs read follow grpc-go's version, which binaries built without modules (GOPATH,
//! Debian's packages) do not record, so their layout comes from the binary itself: its DWARF,
//! else its type descriptors (see `typedesc`). A binary where neither has them has its gRPC
//! probes left off, with one warning naming what is missing, never a guess.

use super::dwarf::Members;

/// A server RPC starts: `(s *Server) handleStream(t ServerTransport, stream *Stream, trInfo)`.
pub const HANDLE_STREAM: &str = "google.golang.org/grpc.(*Server).handleStream";
/// A server RPC ends when its status is written, on the handler's goroutine.
pub const WRITE_STATUS: [&str; 2] = [
    "google.golang.org/grpc/internal/transport.(*http2Server).WriteStatus",
    "google.golang.org/grpc/internal/transport.(*serverHandlerTransport).WriteStatus",
];
/// A unary client call: `(cc *ClientConn) Invoke(ctx, method string, args, reply, opts...)
/// error`.
pub const INVOKE: &str = "google.golang.org/grpc.(*ClientConn).Invoke";
/// A streaming client call starts: `(cc *ClientConn) NewStream(ctx, desc, method, opts...)`.
pub const NEW_STREAM: &str = "google.golang.org/grpc.(*ClientConn).NewStream";
/// A client call ends: `(cs *clientStream) finish(err error)` (nil or io.EOF: OK).
pub const STREAM_FINISH: &str = "google.golang.org/grpc.(*clientStream).finish";

const STREAM: &str = "google.golang.org/grpc/internal/transport.Stream";
const HTTP2_SERVER: &str = "google.golang.org/grpc/internal/transport.http2Server";
const TCP_ADDR: &str = "net.TCPAddr";
/// The first method of the `ServerTransport` interface, by name, of the HTTP/2 transport: what
/// an interface value's method table starts with when its transport is one (its peer's address
/// is then at hand; through `ServeHTTP` the enclosing HTTP request has it).
pub const HTTP2_SERVER_CLOSE: &str =
    "google.golang.org/grpc/internal/transport.(*http2Server).Close";
const CLIENT_CONN: &str = "google.golang.org/grpc.ClientConn";
/// The status a server writes and a client's error holds (behind one pointer each:
/// `status.Status{s}` and `status.Error{e}` have it as their only field).
const STATUS_PROTO: &str = "google.golang.org/genproto/googleapis/rpc/status.Status";

/// grpc-go ≥ 1.69 hands handlers a `*transport.ServerStream` that holds the `Stream` (by pointer,
/// by value since 1.77): the probes read `Stream` fields at the handler's argument, so that
/// generation is not probed. Its methods show it is the one linked.
const SERVER_STREAM_METHODS: &str = "google.golang.org/grpc/internal/transport.(*ServerStream).";

/// Why a binary's grpc-go is of a generation the probes do not read, if it is.
pub(super) fn unsupported_generation<'a>(
    mut functions: impl Iterator<Item = &'a str>,
) -> Option<String> {
    functions
        .any(|f| f.starts_with(SERVER_STREAM_METHODS))
        .then(|| {
            "grpc-go ≥1.69 (transport.ServerStream), whose stream layout the probes do not read yet"
                .to_string()
        })
}

/// The structs read (DWARF or type descriptor names).
pub(super) const STRUCTS: [&str; 5] = [STREAM, CLIENT_CONN, STATUS_PROTO, HTTP2_SERVER, TCP_ADDR];

/// Offsets of grpc-go's structs; `None` when the binary's DWARF lacks any of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GrpcOffsets {
    /// `transport.Stream.method`.
    pub stream_method: u64,
    /// `transport.Stream.ctx`: the RPC's context (an interface).
    pub stream_ctx: u64,
    /// `ClientConn.target`: what the client dialled.
    pub cc_target: u64,
    /// `status.Status.Code` (the protobuf message).
    pub status_code: u64,
    /// Where a request's client is, when known (see [`PeerOffsets`]).
    pub peer: Option<PeerOffsets>,
}

/// How to find a server request's client: `http2Server.remoteAddr` (a `net.Addr`, a
/// `*net.TCPAddr` on TCP) and that struct's `IP` and `Port`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerOffsets {
    /// `http2Server.remoteAddr`.
    pub remote_addr: u64,
    /// `net.TCPAddr.IP` (a byte slice; the first field).
    pub ip: u64,
    /// `net.TCPAddr.Port`.
    pub port: u64,
}

/// The offsets found in `members`: all of them, or an error naming each one missing.
pub(super) fn offsets(members: &Members) -> Result<GrpcOffsets, String> {
    let mut missing = Vec::new();
    let mut get = |s: &str, m: &str| match members.get(s).and_then(|f| f.get(m)) {
        Some(&offset) => offset,
        None => {
            missing.push(format!("{}.{m}", short(s)));
            0
        }
    };
    let offsets = GrpcOffsets {
        stream_method: get(STREAM, "method"),
        stream_ctx: get(STREAM, "ctx"),
        cc_target: get(CLIENT_CONN, "target"),
        status_code: get(STATUS_PROTO, "Code"),
        peer: None,
    };
    if !missing.is_empty() {
        return Err(format!(
            "neither its DWARF nor its type descriptors give {}",
            missing.join(", ")
        ));
    }
    let peer = |s: &str, m: &str| members.get(s)?.get(m).copied();
    Ok(GrpcOffsets {
        peer: (|| {
            Some(PeerOffsets {
                remote_addr: peer(HTTP2_SERVER, "remoteAddr")?,
                ip: peer(TCP_ADDR, "IP")?,
                port: peer(TCP_ADDR, "Port")?,
            })
        })(),
        ..offsets
    })
}

/// `transport.Stream` of `google.golang.org/grpc/internal/transport.Stream`.
fn short(full: &str) -> &str {
    full.rsplit('/').next().unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn server_stream_generation_is_named() {
        let old = [HANDLE_STREAM, INVOKE];
        assert_eq!(unsupported_generation(old.into_iter()), None);
        let new = [
            HANDLE_STREAM,
            "google.golang.org/grpc/internal/transport.(*ServerStream).Method",
        ];
        let why = unsupported_generation(new.into_iter()).expect("named");
        assert!(why.contains("grpc-go ≥1.69"), "{why}");
    }

    #[test]
    fn every_struct_is_needed() {
        let mut members = Members::new();
        assert_eq!(
            offsets(&members),
            Err(
                "neither its DWARF nor its type descriptors give transport.Stream.method, \
                 transport.Stream.ctx, grpc.ClientConn.target, status.Status.Code"
                    .to_string()
            )
        );
        members.insert(
            STREAM.to_string(),
            HashMap::from([("method".to_string(), 88), ("ctx".to_string(), 24)]),
        );
        members.insert(
            CLIENT_CONN.to_string(),
            HashMap::from([("target".to_string(), 16)]),
        );
        assert_eq!(
            offsets(&members),
            Err("neither its DWARF nor its type descriptors give status.Status.Code".to_string())
        );
        members.insert(
            STATUS_PROTO.to_string(),
            HashMap::from([("Code".to_string(), 40)]),
        );
        assert_eq!(
            offsets(&members),
            Ok(GrpcOffsets {
                stream_method: 88,
                stream_ctx: 24,
                cc_target: 16,
                status_code: 40,
                peer: None,
            })
        );
    }
}
