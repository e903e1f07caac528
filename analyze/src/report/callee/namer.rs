//! Naming a callee by the address called: which recorded server listened on a call's
//! `host:port` when the call started.
//!
//! A listener is a process's listening address over a span of time (from `listen` and
//! `listen_end` events), or for all time (a server's `Addr`, the addresses `record` found in
//! `/proc`, in recordings without socket events). A call fits a listener on its port:
//!
//! - exactly, when the dialled IP or name is the listener's own; when the listener is on every
//!   interface (`0.0.0.0`, `[::]`, `:port`) of a network namespace whose addresses are known
//!   and the dialled IP is one of them; when the dialled name is the listener's host name; or
//!   when a loopback host is dialled (`127.0.0.1`, `localhost`, `0.0.0.0`, `[::1]`, an empty
//!   host) and the listener, on loopback or every interface, is on the caller's host in the
//!   caller's network namespace;
//! - likely, for loopback when either namespace is unknown (it is then taken as the host's);
//! - loosely, when a name, or an IP no known namespace holds, is dialled and the listener is on
//!   every interface: on the caller's host, or failing that elsewhere.
//!
//! Loopback never fits another host or another known namespace, and a wildcard listener whose
//! namespace's addresses are known never fits an IP outside them. The best kind of fit wins;
//! when the listeners fitting best are of different services (every pod on `:8080`), the
//! callee is not guessed.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use crate::model::addr::{
    ip, is_loopback, normalize_host, normalize_port, split_host_port, unix_socket,
};
use crate::model::events::IdMap;

/// Where a listener accepts connections.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ListenHost {
    /// Every interface: `:port`, `0.0.0.0:port`, `[::]:port`.
    Any,
    /// Loopback only: `127.0.0.1`, `localhost`, `[::1]`.
    Loopback,
    /// One named host or address (lowercase), and the address when it is one.
    Named(String, Option<IpAddr>),
}

/// A host a client dialled.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dial {
    /// One of the loopback forms: this host's own network namespace.
    Loopback,
    /// Anything else (lowercase), and the address when it is one.
    Named(String, Option<IpAddr>),
}

impl Dial {
    fn of(host: &str) -> Dial {
        match normalize_host(host) {
            h if is_loopback(&h) || h == "0.0.0.0" || h == "::" => Dial::Loopback,
            h => match ip(&h) {
                Some(ip) if ip.is_loopback() || ip.is_unspecified() => Dial::Loopback,
                ip => Dial::Named(h, ip),
            },
        }
    }
}

/// A server listening on an address of a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// `quadtrace.hostname` of the recording that saw it.
    pub machine: String,
    /// Its service name.
    pub service: String,
    /// Its network namespace, when known.
    pub netns: Option<i64>,
    /// When it began listening (`i64::MIN`: before anything was recorded).
    pub from_ns: i64,
    /// When it stopped (`i64::MAX`: it never did while recorded).
    pub to_ns: i64,
}

impl Listener {
    /// A server known to listen for the whole recording (a server's `Addr`, `/proc`).
    pub fn always(machine: &str, service: &str, netns: Option<i64>) -> Self {
        Listener {
            machine: machine.to_owned(),
            service: service.to_owned(),
            netns,
            from_ns: i64::MIN,
            to_ns: i64::MAX,
        }
    }

    fn listens_at(&self, ts_ns: i64) -> bool {
        self.from_ns <= ts_ns && ts_ns < self.to_ns
    }
}

/// The process a call was made from, as naming needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller<'a> {
    /// `quadtrace.hostname` of its recording.
    pub machine: &'a str,
    /// Its network namespace, when known.
    pub netns: Option<i64>,
}

/// How well a listener fits a call; higher wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fit {
    /// A wildcard listener on another host: some host name may reach it.
    AnyHostElsewhere,
    /// A wildcard listener on the caller's own host.
    AnyHostHere,
    /// Loopback on the caller's host, a namespace unknown.
    Likely,
    /// See the module's doc.
    Exact,
}

/// Names callees from the servers seen listening in a set of recordings.
#[derive(Debug, Default)]
pub struct CalleeNamer {
    by_port: IdMap<String, Vec<(ListenHost, Listener)>>,
    /// Unix-domain listeners by socket (`/path`, `@name`): reached only from their own host.
    by_socket: HashMap<String, Vec<Listener>>,
    /// The addresses of each network namespace: host → inode → IPs.
    addrs: HashMap<String, IdMap<i64, BTreeSet<IpAddr>>>,
    /// Every time a listener began or stopped, ascending (see [`CalleeNamer::steady`]).
    changes: Vec<i64>,
}

impl CalleeNamer {
    /// No servers known: every callee stays `host:port`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `service`, on the host named `machine`, served on `listen_addr` for the
    /// whole recording. An empty address says nothing (a server started with `Serve(l)`).
    pub fn add_server(&mut self, machine: &str, listen_addr: &str, service: &str) {
        self.add(listen_addr, Listener::always(machine, service, None));
    }

    /// Records that `l` listened on `addr`. An empty address says nothing.
    pub fn add(&mut self, addr: &str, l: Listener) {
        let (host, port) = match place(addr) {
            None => return,
            Some(Place::Socket(socket)) => {
                let listeners = self.by_socket.entry(socket).or_default();
                if !listeners.contains(&l) {
                    listeners.push(l);
                }
                return;
            }
            Some(Place::Port(host, port)) => (host, port),
        };
        for t in [l.from_ns, l.to_ns] {
            if t != i64::MIN && t != i64::MAX {
                if let Err(at) = self.changes.binary_search(&t) {
                    self.changes.insert(at, t);
                }
            }
        }
        let listeners = self.by_port.entry(port).or_default();
        if !listeners.iter().any(|(h, known)| *h == host && *known == l) {
            listeners.push((host, l));
        }
    }

    /// Records the IP addresses of network namespace `netns` on host `machine`.
    pub fn add_addrs(&mut self, machine: &str, netns: i64, addrs: &[IpAddr]) {
        let known = self.addrs.entry(machine.to_owned()).or_default();
        known
            .entry(netns)
            .or_default()
            .extend(addrs.iter().copied());
    }

    /// The service that a call to `host` (the URL's `host[:port]`), made by `caller` at
    /// `ts_ns`, reached; `None` when no recorded server fits, or servers of several services
    /// fit equally well.
    pub fn service_at(&self, caller: Caller<'_>, host: &str, ts_ns: i64) -> Option<&str> {
        if let Some(socket) = unix_socket(host) {
            let services: BTreeSet<&str> = self
                .by_socket
                .get(&socket)?
                .iter()
                .filter(|l| l.machine == caller.machine && l.listens_at(ts_ns))
                .map(|l| l.service.as_str())
                .collect();
            let mut it = services.into_iter();
            return match (it.next(), it.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            };
        }
        let (dial_host, port) = split_host_port(host);
        let listeners = self.by_port.get(&normalize_port(port))?;
        let dial = Dial::of(dial_host);
        let fits = listeners
            .iter()
            .filter(|(_, l)| l.listens_at(ts_ns))
            .filter_map(|(h, l)| {
                self.fit(&dial, caller, h, l)
                    .map(|f| (f, l.service.as_str()))
            });
        let best = fits.clone().map(|(f, _)| f).max()?;
        let services: BTreeSet<&str> = fits.filter(|(f, _)| *f == best).map(|(_, s)| s).collect();
        let mut it = services.into_iter();
        match (it.next(), it.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }

    /// The times around `ts_ns` between which no listener begins or stops, so that every
    /// call in between is named alike: `[from, until)`.
    pub fn steady(&self, ts_ns: i64) -> (i64, i64) {
        let after = self.changes.partition_point(|t| *t <= ts_ns);
        let from = after
            .checked_sub(1)
            .and_then(|i| self.changes.get(i))
            .copied()
            .unwrap_or(i64::MIN);
        let until = self.changes.get(after).copied().unwrap_or(i64::MAX);
        (from, until)
    }

    fn fit(&self, dial: &Dial, caller: Caller<'_>, host: &ListenHost, l: &Listener) -> Option<Fit> {
        let here = l.machine == caller.machine;
        match (dial, host) {
            (Dial::Loopback, ListenHost::Loopback | ListenHost::Any) if here => {
                match (caller.netns, l.netns) {
                    (Some(a), Some(b)) if a == b => Some(Fit::Exact),
                    (Some(_), Some(_)) => None,
                    _ => Some(Fit::Likely),
                }
            }
            (Dial::Loopback, _) => None,
            (Dial::Named(h, ip), ListenHost::Named(lh, lip)) => {
                (h == lh || (ip.is_some() && ip == lip)).then_some(Fit::Exact)
            }
            (Dial::Named(h, _), ListenHost::Any) if names_machine(h, &l.machine) => {
                Some(Fit::Exact)
            }
            (Dial::Named(_, ip), ListenHost::Any) => {
                let addrs = l
                    .netns
                    .and_then(|n| self.addrs.get(l.machine.as_str())?.get(&n))
                    .filter(|a| !a.is_empty());
                match (ip, addrs) {
                    (Some(ip), Some(addrs)) => addrs.contains(ip).then_some(Fit::Exact),
                    _ if here => Some(Fit::AnyHostHere),
                    _ => Some(Fit::AnyHostElsewhere),
                }
            }
            (Dial::Named(..), ListenHost::Loopback) => None,
        }
    }
}

/// Where a listening address listens: a unix-domain socket, or a host kind on a port.
enum Place {
    Socket(String),
    Port(ListenHost, String),
}

/// What `addr` listens on; none for an empty address (a server started with `Serve(l)`).
fn place(addr: &str) -> Option<Place> {
    if addr.is_empty() {
        return None;
    }
    if let Some(socket) = unix_socket(addr) {
        return Some(Place::Socket(socket));
    }
    let (host, port) = split_host_port(addr);
    let host = normalize_host(host);
    let ip = ip(&host);
    let host = if host.is_empty() || ip.is_some_and(|ip| ip.is_unspecified()) {
        ListenHost::Any
    } else if is_loopback(&host) || ip.is_some_and(|ip| ip.is_loopback()) {
        ListenHost::Loopback
    } else {
        ListenHost::Named(host, ip)
    };
    Some(Place::Port(host, normalize_port(port)))
}

/// A listening address as naming reads it, spelled out for the export (`schema/EXPORT.md`,
/// `listeners`): `kind` is `any`, `loopback`, `named` or `unix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenPlace {
    pub kind: &'static str,
    /// `named`: the host; `unix`: the socket.
    pub host: Option<String>,
    /// `named`: the host as an IP address, when it is one.
    pub ip: Option<IpAddr>,
    /// The port; none for `unix`.
    pub port: Option<String>,
}

/// How naming reads listening address `addr`; none for an empty one.
pub fn listen_place(addr: &str) -> Option<ListenPlace> {
    Some(match place(addr)? {
        Place::Socket(socket) => ListenPlace {
            kind: "unix",
            host: Some(socket),
            ip: None,
            port: None,
        },
        Place::Port(host, port) => {
            let (kind, host, ip) = match host {
                ListenHost::Any => ("any", None, None),
                ListenHost::Loopback => ("loopback", None, None),
                ListenHost::Named(h, ip) => ("named", Some(h), ip),
            };
            ListenPlace {
                kind,
                host,
                ip,
                port: Some(port),
            }
        }
    })
}

/// A dialled `host[:port]` as naming reads it, spelled out for the export (`calls`):
/// `kind` is `loopback`, `named` or `unix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialPlace {
    pub kind: &'static str,
    /// The host, normalised; the socket for `unix`.
    pub host: String,
    /// `named`: the host as an IP address, when it is one.
    pub ip: Option<IpAddr>,
    /// The port; none for `unix`.
    pub port: Option<String>,
}

/// How naming reads a call's dialled `host[:port]`.
pub fn dial_place(dialled: &str) -> DialPlace {
    if let Some(socket) = unix_socket(dialled) {
        return DialPlace {
            kind: "unix",
            host: socket,
            ip: None,
            port: None,
        };
    }
    let (host, port) = split_host_port(dialled);
    let (kind, ip) = match Dial::of(host) {
        Dial::Loopback => ("loopback", None),
        Dial::Named(_, ip) => ("named", ip),
    };
    DialPlace {
        kind,
        host: normalize_host(host),
        ip,
        port: Some(normalize_port(port)),
    }
}

/// Whether a dialled name is the host's name, fully qualified or not.
fn names_machine(dialled: &str, machine: &str) -> bool {
    let machine = machine.to_ascii_lowercase();
    !machine.is_empty()
        && (dialled == machine
            || dialled.split('.').next() == Some(machine.as_str())
            || machine.split('.').next() == Some(dialled))
}

#[cfg(test)]
mod tests;
