//! Callee naming: turning a client call's `host:port` into the service that served it.
//!
//! Every `server_start` tells which address its server listened on. A call whose `host:port`
//! one of those addresses accepts takes that server's service name; otherwise the callee stays
//! the address as written. Loopback forms (`127.0.0.1`, `localhost`, `0.0.0.0`, `[::1]`, an
//! empty host) are one host, reachable only from the same machine. A listener without a host
//! (`:9932`) or on every interface (`0.0.0.0`, `[::]`) accepts any host name.

use std::collections::BTreeSet;

use crate::attribute::Reconstruction;
use crate::events::{EventLog, IdMap, IdSet, ProcId, Sym};

/// Callee name for a client call whose host was not recorded.
pub const UNKNOWN_HOST: &str = "?";

/// Where a listener accepts connections.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ListenHost {
    /// Every interface: `:port`, `0.0.0.0:port`, `[::]:port`.
    Any,
    /// Loopback only: `127.0.0.1`, `localhost`, `[::1]`.
    Loopback,
    /// One named host or address (lowercase).
    Named(String),
}

/// A host a client dialled.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DialHost {
    /// One of the loopback forms: this machine.
    Loopback,
    /// Anything else (lowercase).
    Named(String),
}

#[derive(Debug, Clone)]
struct Listener {
    host: ListenHost,
    /// `quadtrace.hostname` of the recording that saw the server.
    machine: String,
    service: String,
}

/// How well a listener fits a call; higher wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fit {
    /// A wildcard listener on another machine: some host name may reach it.
    AnyHostElsewhere,
    /// A wildcard listener on the caller's own machine.
    AnyHostHere,
    /// The dialled host is the listener's host, or the machine's name, or loopback to it.
    Exact,
}

/// Names callees from the listen addresses seen in a set of recordings.
#[derive(Debug, Default)]
pub struct CalleeNamer {
    by_port: IdMap<String, Vec<Listener>>,
}

impl CalleeNamer {
    /// No servers known: every callee stays `host:port`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `service`, on the machine named `machine`, served on `listen_addr` (the
    /// server's `Addr`). An empty address says nothing (a server started with `Serve(l)`).
    pub fn add_server(&mut self, machine: &str, listen_addr: &str, service: &str) {
        if listen_addr.is_empty() {
            return;
        }
        let (host, port) = split_host_port(listen_addr);
        let host = match normalize_host(host) {
            h if h.is_empty() || h == "0.0.0.0" || h == "::" => ListenHost::Any,
            h if is_loopback(&h) => ListenHost::Loopback,
            h => ListenHost::Named(h),
        };
        let listeners = self.by_port.entry(normalize_port(port)).or_default();
        let known = listeners
            .iter()
            .any(|l| l.host == host && l.machine == machine && l.service == service);
        if !known {
            listeners.push(Listener {
                host,
                machine: machine.to_owned(),
                service: service.to_owned(),
            });
        }
    }

    /// The service that a call to `host` (the URL's `host[:port]`), made on the machine named
    /// `machine`, reached; `None` when no recorded server fits, or servers of several services
    /// fit equally well.
    pub fn service_for(&self, machine: &str, host: &str) -> Option<&str> {
        let (dial_host, port) = split_host_port(host);
        let listeners = self.by_port.get(&normalize_port(port))?;
        let dial = match normalize_host(dial_host) {
            h if is_loopback(&h) || h == "0.0.0.0" || h == "::" => DialHost::Loopback,
            h => DialHost::Named(h),
        };
        let fits = listeners
            .iter()
            .filter_map(|l| fit(&dial, machine, l).map(|f| (f, l.service.as_str())));
        let best = fits.clone().map(|(f, _)| f).max()?;
        let services: BTreeSet<&str> = fits.filter(|(f, _)| *f == best).map(|(_, s)| s).collect();
        let mut it = services.into_iter();
        match (it.next(), it.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    }

    /// The callee name for a call to `host` from `machine`: the serving service's name, else
    /// the address as written.
    pub fn name(&self, machine: &str, host: &str) -> String {
        self.service_for(machine, host).unwrap_or(host).to_owned()
    }
}

/// Callee names of a reconstruction's calls, computed once per (calling process, host) and
/// numbered, so that counting compares numbers rather than strings.
pub struct CalleeNames<'a> {
    log: &'a EventLog,
    namer: CalleeNamer,
    names: Vec<String>,
    /// Per number: whether the name is a recorded server's service.
    served: Vec<bool>,
    ids: IdMap<(ProcId, Option<Sym>), usize>,
    by_name: IdMap<String, usize>,
}

impl<'a> CalleeNames<'a> {
    /// Learns every server's listen address from `rec`.
    pub fn new(log: &'a EventLog, rec: &Reconstruction) -> Self {
        let mut namer = CalleeNamer::new();
        // Millions of requests name a handful of servers: each is parsed once.
        let mut seen = IdSet::default();
        for r in rec.requests.all() {
            if let Some(addr) = r.listen_addr {
                if seen.insert((r.proc, addr, r.service)) {
                    namer.add_server(machine(log, r.proc), log.str(addr), log.str(r.service));
                }
            }
        }
        // Servers started with Serve(listener) leave the listen address empty: the sockets
        // record saw them listen on stand in.
        for l in log.listeners() {
            namer.add_server(machine(log, l.proc), log.str(l.addr), log.str(l.service));
        }
        CalleeNames {
            log,
            namer,
            names: Vec::new(),
            served: Vec::new(),
            ids: IdMap::default(),
            by_name: IdMap::default(),
        }
    }

    /// The number of the callee of a call from `proc` to `host`; equal names, equal numbers.
    pub fn id(&mut self, proc: ProcId, host: Option<Sym>) -> usize {
        if let Some(&id) = self.ids.get(&(proc, host)) {
            return id;
        }
        let service = host.and_then(|h| {
            self.namer
                .service_for(machine(self.log, proc), self.log.str(h))
                .map(str::to_owned)
        });
        let served = service.is_some();
        let name = match (service, host) {
            (Some(service), _) => service,
            (None, Some(h)) => self.log.str(h).to_owned(),
            (None, None) => UNKNOWN_HOST.to_owned(),
        };
        let next = self.names.len();
        let id = *self.by_name.entry(name.clone()).or_insert(next);
        if id == next {
            self.names.push(name);
            self.served.push(served);
        } else if let Some(s) = self.served.get_mut(id) {
            *s |= served;
        }
        self.ids.insert((proc, host), id);
        id
    }

    /// The name behind a number from [`CalleeNames::id`].
    pub fn name(&self, id: usize) -> &str {
        self.names.get(id).map_or(UNKNOWN_HOST, String::as_str)
    }

    /// The service behind a number from [`CalleeNames::id`], when a recorded server served
    /// the calls (rather than the callee being an address no recording saw serve).
    pub fn service(&self, id: usize) -> Option<&str> {
        self.served
            .get(id)
            .filter(|served| **served)
            .and(self.names.get(id))
            .map(String::as_str)
    }
}

/// The host name of the recording that saw `proc`.
pub fn machine(log: &EventLog, proc: ProcId) -> &str {
    log.process_info(proc).map_or("", |p| p.hostname.as_str())
}

fn fit(dial: &DialHost, machine: &str, l: &Listener) -> Option<Fit> {
    let here = l.machine == machine;
    match (dial, &l.host) {
        // Loopback never leaves the machine.
        (DialHost::Loopback, ListenHost::Loopback | ListenHost::Any) if here => Some(Fit::Exact),
        (DialHost::Loopback, _) => None,
        (DialHost::Named(h), ListenHost::Named(lh)) if h == lh => Some(Fit::Exact),
        (DialHost::Named(h), ListenHost::Any) if names_machine(h, &l.machine) => Some(Fit::Exact),
        (DialHost::Named(_), ListenHost::Any) if here => Some(Fit::AnyHostHere),
        (DialHost::Named(_), ListenHost::Any) => Some(Fit::AnyHostElsewhere),
        (DialHost::Named(_), _) => None,
    }
}

/// Whether a dialled name is the machine's host name, fully qualified or not.
fn names_machine(dialled: &str, machine: &str) -> bool {
    let machine = machine.to_ascii_lowercase();
    !machine.is_empty()
        && (dialled == machine
            || dialled.split('.').next() == Some(machine.as_str())
            || machine.split('.').next() == Some(dialled))
}

/// Splits `host[:port]`, `[v6][:port]` or a bare IPv6 address.
fn split_host_port(addr: &str) -> (&str, Option<&str>) {
    if let Some(rest) = addr.strip_prefix('[') {
        if let Some((host, after)) = rest.split_once(']') {
            return (host, after.strip_prefix(':'));
        }
        return (addr, None);
    }
    match addr.rsplit_once(':') {
        // More than one colon without brackets: a bare IPv6 address, no port.
        Some((host, _)) if host.contains(':') => (addr, None),
        Some((host, port)) => (host, Some(port)),
        None => (addr, None),
    }
}

fn normalize_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "" | "localhost" | "::1") || host.starts_with("127.")
}

/// The port as a number string. The scheme is not recorded, so a missing port is taken as
/// plain HTTP's 80; Go also accepts service names in `Addr`.
fn normalize_port(port: Option<&str>) -> String {
    match port {
        None | Some("") | Some("http") => "80".to_owned(),
        Some("https") => "443".to_owned(),
        Some(p) => p.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn namer(servers: &[(&str, &str, &str)]) -> CalleeNamer {
        let mut n = CalleeNamer::new();
        for (machine, addr, service) in servers {
            n.add_server(machine, addr, service);
        }
        n
    }

    #[test]
    fn splits_addresses() {
        assert_eq!(split_host_port("a:1"), ("a", Some("1")));
        assert_eq!(split_host_port(":1"), ("", Some("1")));
        assert_eq!(split_host_port("a"), ("a", None));
        assert_eq!(split_host_port("[::1]:9"), ("::1", Some("9")));
        assert_eq!(split_host_port("[::1]"), ("::1", None));
        assert_eq!(split_host_port("::1"), ("::1", None));
    }

    #[test]
    fn loopback_forms_are_one_host() {
        let n = namer(&[("m", "0.0.0.0:9932", "demo")]);
        for host in [
            "0.0.0.0:9932",
            "127.0.0.1:9932",
            "localhost:9932",
            "LOCALHOST:9932",
            "[::1]:9932",
            ":9932",
        ] {
            assert_eq!(n.name("m", host), "demo", "{host}");
        }
        let n = namer(&[("m", "127.0.0.1:9932", "demo")]);
        assert_eq!(n.name("m", "localhost:9932"), "demo");
        assert_eq!(n.name("m", "[::1]:9932"), "demo");
        assert_eq!(n.name("m", "db.internal:9932"), "db.internal:9932");
    }

    #[test]
    fn loopback_does_not_reach_another_machine() {
        let n = namer(&[("other", ":9932", "demo")]);
        assert_eq!(n.name("m", "localhost:9932"), "localhost:9932");
        assert_eq!(n.name("other", "localhost:9932"), "demo");
    }

    #[test]
    fn port_wildcard_accepts_any_host() {
        let n = namer(&[("m1", ":9932", "api")]);
        assert_eq!(n.name("m1", "localhost:9932"), "api");
        assert_eq!(n.name("m2", "api.example:9932"), "api");
        assert_eq!(n.name("m2", "api.example:9933"), "api.example:9933");
    }

    #[test]
    fn unserved_addresses_stay_as_written() {
        let n = namer(&[("m", "10.0.0.1:80", "web")]);
        assert_eq!(n.name("m", "10.0.0.1"), "web", "missing port is 80");
        assert_eq!(n.name("m", "10.0.0.2:80"), "10.0.0.2:80");
        assert_eq!(n.name("m", "example.com"), "example.com");
        assert_eq!(n.name("m", ""), "");
    }

    #[test]
    fn the_best_fit_wins_and_ties_stay_unnamed() {
        let n = namer(&[("a", ":8080", "svc-a"), ("b", ":8080", "svc-b")]);
        assert_eq!(
            n.name("a", "x:8080"),
            "svc-a",
            "same machine beats elsewhere"
        );
        assert_eq!(n.name("c", "x:8080"), "x:8080", "two services fit equally");
        assert_eq!(n.name("c", "b:8080"), "svc-b", "the machine's own name");
        assert_eq!(n.name("c", "b.cluster.local:8080"), "svc-b");
        let n = namer(&[("a", "10.0.0.9:8080", "exact"), ("a", ":8080", "wild")]);
        assert_eq!(n.name("a", "10.0.0.9:8080"), "exact");
    }

    #[test]
    fn an_empty_listen_address_is_ignored() {
        let n = namer(&[("m", "", "svc")]);
        assert_eq!(n.name("m", "localhost:80"), "localhost:80");
    }
}
