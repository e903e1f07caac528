//! `golang.org/x/net/http2`: the HTTP/2 server and client a program links from x/net rather
//! than net/http's own copy, as cleartext HTTP/2 (h2c) services do. Its server calls handlers
//! itself, not through `serverHandler.ServeHTTP`, and its client does not go through
//! `(*Transport).roundTrip`, so it has hooks of its own.
//!
//! Its struct layouts follow x/net's version, which a binary does not record (GOPATH and
//! vendored builds leave no module version), so they come from the binary: its DWARF, else its
//! type descriptors. Without either the requests are still seen, without their status and
//! listen address.

use super::dwarf::Members;

/// Where the server runs a handler: `(sc *serverConn) runHandler(rw, req, handler)`.
pub const RUN_HANDLER: &str = "golang.org/x/net/http2.(*serverConn).runHandler";
/// Where a request's handler has returned, on the stream's goroutine.
pub const HANDLER_DONE: &str = "golang.org/x/net/http2.(*responseWriter).handlerDone";
/// Where an h2c handler hands a connection to the HTTP/2 server (after an upgrade, or a
/// connection that started with HTTP/2's preface).
pub const SERVE_CONN: &str = "golang.org/x/net/http2.(*Server).ServeConn";
/// The client's round trip: `(t *Transport) RoundTripOpt(req, opt) (*Response, error)`, the
/// same argument and result registers as net/http's `roundTrip`.
pub const ROUND_TRIP_OPT: &str = "golang.org/x/net/http2.(*Transport).RoundTripOpt";

/// The DWARF structs read, and the members of each.
pub(super) const STRUCTS: [&str; 3] = [SERVER_CONN, RESPONSE_WRITER, RESPONSE_WRITER_STATE];
const SERVER_CONN: &str = "golang.org/x/net/http2.serverConn";
const RESPONSE_WRITER: &str = "golang.org/x/net/http2.responseWriter";
const RESPONSE_WRITER_STATE: &str = "golang.org/x/net/http2.responseWriterState";

/// Offsets of x/net's server structs; absent ones are 0 (none of them is a first field).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XnetOffsets {
    /// `serverConn.hs`: the `*net/http.Server`, for the listen address.
    pub sc_hs: u64,
    /// `responseWriter.rws`.
    pub rw_rws: u64,
    /// `responseWriterState.status`.
    pub rws_status: u64,
}

/// The offsets found in `members`, all 0 when the binary describes none or has no x/net.
pub(super) fn offsets(members: Option<&Members>) -> XnetOffsets {
    let get = |s: &str, m: &str| -> u64 {
        members
            .and_then(|all| all.get(s))
            .and_then(|fields| fields.get(m))
            .copied()
            .unwrap_or(0)
    };
    XnetOffsets {
        sc_hs: get(SERVER_CONN, "hs"),
        rw_rws: get(RESPONSE_WRITER, "rws"),
        rws_status: get(RESPONSE_WRITER_STATE, "status"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn absent_structs_give_zero_offsets() {
        assert_eq!(offsets(None), XnetOffsets::default());
        let mut members = Members::new();
        members.insert(
            RESPONSE_WRITER_STATE.to_string(),
            HashMap::from([("status".to_string(), 72)]),
        );
        let o = offsets(Some(&members));
        assert_eq!((o.sc_hs, o.rw_rws, o.rws_status), (0, 0, 72));
    }
}
