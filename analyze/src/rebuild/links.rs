//! Exact links: the server request each client call caused, when both ends were recorded.
//!
//! A server request carries the client's `ip:port` as its connection saw it (`remote_addr`),
//! and a `connect` event names the recorded process that owns a connection and the
//! connection's own `ip:port` (`local_addr`). Destination NAT (a Kubernetes service's virtual
//! IP) rewrites only the address dialled, never the client's own, so the two are equal for
//! the connection a request came over, and its owner is the process whose call caused it.
//!
//! Which call: one of the owner's calls in flight when the request started (started at or
//! before it, at most [`LINK_WINDOW_NS`] before; returned at or after it, or not yet) and not
//! linked already. A connection carries one request at a time (HTTP/1) or several (HTTP/2),
//! and a process may have dozens of calls in flight on as many connections; among the
//! candidates, a call to the same method and path as the request's comes first, then one whose
//! URL was the very address the connection dialled, then the call that started first: Go's
//! transport sends requests, and hands connections to calls waiting for one, in the order the
//! calls asked, so requests reach the server in about that order (taking the latest call
//! instead would pair two concurrent identical calls crosswise).
//!
//! It all happens inside the one time-ordered pass: a request starts after the call that
//! caused it, so that call is in flight in the owner's table when the request comes. The
//! table holds only calls that may still be linked; those that returned, were linked or
//! started more than [`LINK_WINDOW_NS`] ago are dropped as it is swept, which it is each time
//! it has doubled, so its size follows the calls in flight, not the calls made.

use std::cmp::Reverse;

use crate::model::events::{Event, IdMap, Machine, ProcId, Socket, Sym};
use crate::rebuild::client::ClientCall;
use crate::rebuild::requests::RequestId;
use crate::rebuild::sockets::{grown, Sockets};
use crate::rebuild::window::Window;

/// The connections and calls in flight seen so far.
#[derive(Debug, Default)]
pub(crate) struct Links {
    /// By a connection's own address: the latest `connect` of it on each (host, network
    /// namespace): a later one is the port used again.
    conns: IdMap<Sym, Vec<Conn>>,
    /// Per process index: its calls that may still be linked.
    flight: Vec<Flight>,
}

/// A connection, as its `connect` event said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Conn {
    owner: ProcId,
    machine: Option<Machine>,
    netns: Option<i64>,
    ts_ns: i64,
    /// The address dialled.
    remote: Option<Sym>,
    /// Its own address is a loopback address: only a server in its own network namespace
    /// on its own host can have seen it.
    loopback: bool,
}

/// One process's calls that may still be linked, in start order (indexes into the calls).
#[derive(Debug, Default)]
struct Flight {
    calls: Vec<u32>,
    /// Sweep when the list reaches this length.
    sweep_at: usize,
}

/// The list is swept no more often than every this many calls.
const MIN_SWEEP: usize = 16;

/// How long after a call starts the request it causes may reach the server: the request is
/// sent as soon as the call has a connection, which takes at most a dial or a wait for one
/// in the pool. A call still unlinked after that sent its request to a server nobody recorded
/// (or whose start was lost), and must not take a later request of the same path that another
/// call caused.
pub const LINK_WINDOW_NS: i64 = 10_000_000_000;

/// What a `server_start` tells the linker.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arrival {
    /// The serving process.
    pub(crate) proc: ProcId,
    /// When it started.
    pub(crate) ts_ns: i64,
    /// The client's `ip:port`.
    pub(crate) remote: Sym,
    /// Its method.
    pub(crate) method: Option<Sym>,
    /// Its raw path.
    pub(crate) path: Option<Sym>,
}

impl Links {
    /// A `connect`: `e`'s process owns a connection from `s.local` to `s.remote`.
    pub(crate) fn connect(&mut self, e: &Event, s: &Socket, sockets: &Sockets) {
        let Some(local) = s.local else {
            return;
        };
        let conn = Conn {
            owner: e.proc,
            machine: sockets.machine(e.proc),
            netns: s.netns,
            ts_ns: e.ts_ns,
            remote: s.remote,
            loopback: s.loopback,
        };
        let owners = self.conns.entry(local).or_default();
        match owners
            .iter_mut()
            .find(|c| c.machine == conn.machine && c.netns == conn.netns)
        {
            Some(old) => *old = conn,
            None => owners.push(conn),
        }
    }

    /// A call started: `calls[index]`, of process `proc`.
    pub(crate) fn call_started(&mut self, proc: ProcId, index: u32, calls: &Window<ClientCall>) {
        let flight = grown(&mut self.flight, proc.index());
        flight.calls.push(index);
        if flight.calls.len() >= flight.sweep_at {
            let now = calls.get(index).map_or(i64::MIN, |c| c.ts_ns);
            flight
                .calls
                .retain(|&i| calls.get(i).is_some_and(|c| may_link(c, now)));
            flight.sweep_at = (2 * flight.calls.len()).max(MIN_SWEEP);
        }
    }

    /// A request started: links it to the call that caused it, when one can be told (see the
    /// module's doc). Returns whether it was.
    pub(crate) fn request_started(
        &mut self,
        r: &Arrival,
        id: RequestId,
        calls: &mut Window<ClientCall>,
        sockets: &Sockets,
    ) -> bool {
        let Some(owners) = self.conns.get(&r.remote) else {
            return false;
        };
        let Some(conn) = owner(owners, sockets.machine(r.proc), sockets.netns(r.proc)) else {
            return false;
        };
        let Some(flight) = self.flight.get_mut(conn.owner.index()) else {
            return false;
        };
        let call = |i: u32| calls.get(i);
        let best = flight
            .calls
            .iter()
            .copied()
            .filter(|&i| call(i).is_some_and(|c| may_link(c, r.ts_ns)))
            .min_by_key(|&i| {
                let c = call(i);
                let same_request = c.is_some_and(|c| c.method == r.method && c.path == r.path);
                let dialled = c.is_some_and(|c| c.host.is_some() && c.host == conn.remote);
                (Reverse(same_request), Reverse(dialled), c.map(|c| c.ts_ns))
            });
        flight
            .calls
            .retain(|&i| Some(i) != best && call(i).is_some_and(|c| may_link(c, r.ts_ns)));
        match best.and_then(|i| calls.get_mut(i)) {
            Some(linked) => {
                linked.link = Some(id);
                true
            }
            None => false,
        }
    }
}

/// Whether a call may still be linked to a request starting at `ts_ns`.
fn may_link(c: &ClientCall, ts_ns: i64) -> bool {
    c.link.is_none() && c.in_flight_at(ts_ns) && ts_ns.saturating_sub(c.ts_ns) <= LINK_WINDOW_NS
}

/// The connection among `owners` (of one address, on several hosts or namespaces) that a
/// server on `machine`, in `netns`, saw: one on the server's host first; for a loopback
/// address only one there, and in the server's namespace when both are known; then the latest.
fn owner(owners: &[Conn], machine: Option<Machine>, netns: Option<i64>) -> Option<&Conn> {
    let here = |c: &Conn| machine.is_some() && c.machine == machine;
    let same_netns = |c: &Conn| netns.is_some() && c.netns == netns;
    let other_netns = |c: &Conn| netns.is_some() && c.netns.is_some() && c.netns != netns;
    owners
        .iter()
        .filter(|c| !c.loopback || (here(c) && !other_netns(c)))
        .max_by_key(|c| (here(c), c.loopback && same_netns(c), c.ts_ns))
}

#[cfg(test)]
mod tests;
