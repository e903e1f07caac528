//! The event log: every event of every input file, merged into one time-ordered list.
//!
//! Strings repeat a lot (service names, paths, hosts), so each distinct string is stored once
//! and events carry a [`Sym`]. Processes are keyed by (recording host name, pid), so that files
//! recorded on different machines never mix up two processes that happen to share a pid.

use std::collections::HashMap;

use quadtrace_schema::EventKind;

/// An interned string; [`EventLog::str`] gives it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(u32);

/// A process; [`EventLog::process_info`] describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcId(u32);

/// A process as the recordings name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// `quadtrace.hostname` of the recording that saw it (empty when the metadata lacks it).
    pub hostname: String,
    /// Process id on that host.
    pub pid: i32,
}

/// One recorded event, reduced to what reconstruction reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Monotonic time, ns.
    pub ts_ns: i64,
    /// The process it happened in.
    pub proc: ProcId,
    /// The goroutine it happened on; for [`EventKind::Spawn`], the new goroutine.
    pub goid: i64,
    /// What happened.
    pub kind: EventKind,
    /// Service name of the process.
    pub service: Sym,
    /// Host header (`server_start`) or called `host[:port]` (`client_start`).
    pub host: Option<Sym>,
    /// URL path (`server_start`, `client_start`).
    pub path: Option<Sym>,
    /// The server's listen address (`server_start`).
    pub listen_addr: Option<Sym>,
    /// The spawning goroutine (`spawn`).
    pub parent_goid: Option<i64>,
}

/// Every event of a set of recordings, with the strings and processes they refer to.
#[derive(Debug, Default)]
pub struct EventLog {
    events: Vec<Event>,
    strings: Vec<String>,
    string_ids: HashMap<String, Sym>,
    processes: Vec<Process>,
    process_ids: HashMap<(String, i32), ProcId>,
}

impl EventLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of `s`, storing it on first sight.
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&sym) = self.string_ids.get(s) {
            return sym;
        }
        let sym = Sym(index_u32(self.strings.len()));
        self.strings.push(s.to_owned());
        self.string_ids.insert(s.to_owned(), sym);
        sym
    }

    /// The string behind `sym`.
    pub fn str(&self, sym: Sym) -> &str {
        self.strings
            .get(sym.0 as usize)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The process id for `pid` on `hostname`, creating it on first sight.
    pub fn process(&mut self, hostname: &str, pid: i32) -> ProcId {
        let key = (hostname.to_owned(), pid);
        if let Some(&id) = self.process_ids.get(&key) {
            return id;
        }
        let id = ProcId(index_u32(self.processes.len()));
        self.processes.push(Process {
            hostname: key.0.clone(),
            pid,
        });
        self.process_ids.insert(key, id);
        id
    }

    /// The process behind `id`.
    pub fn process_info(&self, id: ProcId) -> Option<&Process> {
        self.processes.get(id.0 as usize)
    }

    /// Appends an event; call [`EventLog::sort`] once all are in.
    pub fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Orders events by time. The sort is stable: events with equal timestamps keep file order,
    /// which is the order the recorder saw them in.
    pub fn sort(&mut self) {
        self.events.sort_by_key(|e| e.ts_ns);
    }

    /// The events, in the order [`EventLog::sort`] left them.
    pub fn events(&self) -> &[Event] {
        &self.events
    }
}

/// Ids are `u32` to keep events small; four billion distinct strings or processes would not fit
/// in memory anyway, so saturating is only a guard against a wrap-around.
fn index_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A compact way to write event sequences in tests.

    use super::*;

    /// Builds an [`EventLog`] for one host; times are in ms for readability.
    pub struct LogBuilder {
        pub log: EventLog,
    }

    impl LogBuilder {
        pub fn new() -> Self {
            Self {
                log: EventLog::new(),
            }
        }

        fn base(&mut self, ms: i64, pid: i32, service: &str, goid: i64, kind: EventKind) -> Event {
            Event {
                ts_ns: ms * 1_000_000,
                proc: self.log.process("host", pid),
                goid,
                kind,
                service: self.log.intern(service),
                host: None,
                path: None,
                listen_addr: None,
                parent_goid: None,
            }
        }

        pub fn server_start(
            &mut self,
            ms: i64,
            pid: i32,
            service: &str,
            goid: i64,
            listen: &str,
            path: &str,
        ) -> &mut Self {
            let mut e = self.base(ms, pid, service, goid, EventKind::ServerStart);
            e.path = Some(self.log.intern(path));
            e.listen_addr = Some(self.log.intern(listen));
            self.log.push(e);
            self
        }

        pub fn server_end(&mut self, ms: i64, pid: i32, service: &str, goid: i64) -> &mut Self {
            let e = self.base(ms, pid, service, goid, EventKind::ServerEnd);
            self.log.push(e);
            self
        }

        pub fn client_start(
            &mut self,
            ms: i64,
            pid: i32,
            service: &str,
            goid: i64,
            host: &str,
            path: &str,
        ) -> &mut Self {
            let mut e = self.base(ms, pid, service, goid, EventKind::ClientStart);
            e.host = Some(self.log.intern(host));
            e.path = Some(self.log.intern(path));
            self.log.push(e);
            self
        }

        pub fn spawn(
            &mut self,
            ms: i64,
            pid: i32,
            service: &str,
            parent: i64,
            child: i64,
        ) -> &mut Self {
            let mut e = self.base(ms, pid, service, child, EventKind::Spawn);
            e.parent_goid = Some(parent);
            self.log.push(e);
            self
        }

        pub fn build(&mut self) -> EventLog {
            let mut log = std::mem::take(&mut self.log);
            log.sort();
            log
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_and_processes_are_stable() {
        let mut log = EventLog::new();
        let a = log.intern("a");
        let b = log.intern("b");
        assert_eq!(log.intern("a"), a);
        assert_ne!(a, b);
        assert_eq!(log.str(b), "b");
        let p = log.process("h1", 7);
        assert_eq!(log.process("h1", 7), p);
        assert_ne!(
            log.process("h2", 7),
            p,
            "same pid on another host is another process"
        );
        assert_eq!(log.process_info(p).map(|p| p.pid), Some(7));
    }
}
