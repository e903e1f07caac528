//! What the socket events (`connect`, `listen`, `listen_end`, schema 4) say about processes,
//! gathered during the reconstruction pass: who listened on which address and when, each
//! process's network namespace, and (from the recordings' metadata) each process's host.
//!
//! Listening is kept as spans of time, so that a server that started after recording began, or
//! stopped before it ended, names the calls made to it while it listened, and only those. Links
//! ([`crate::rebuild::links`]) read hosts and namespaces from here while the pass runs; callee
//! naming ([`crate::report::callee`]) reads the spans afterwards.

use crate::model::events::{Event, EventLog, IdMap, Machine, ProcId, RecordingStart, Socket, Sym};

/// A process listening on an address for a span of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenSpan {
    /// The listening process.
    pub proc: ProcId,
    /// Its service name.
    pub service: Sym,
    /// The `ip:port` it listened on.
    pub addr: Sym,
    /// The socket's network namespace.
    pub netns: Option<i64>,
    /// When it began listening; `None` when its end was recorded but not its start.
    pub from_ns: Option<i64>,
    /// When it stopped; `None` while the recordings last.
    pub to_ns: Option<i64>,
}

/// What the socket events have said so far.
#[derive(Debug, Default)]
pub struct Sockets {
    seen: bool,
    /// The host of the processes numbered from each index on, ascending.
    machines: Vec<(usize, Machine)>,
    /// Per process index: its network namespace, from its socket events, else the metadata.
    netns: Vec<Option<i64>>,
    /// Per process index: the namespace came from a socket event (the metadata's is only a
    /// fallback).
    netns_from_event: Vec<bool>,
    spans: Vec<ListenSpan>,
    /// The open span of each (process, address).
    open: IdMap<(ProcId, Sym), usize>,
}

impl Sockets {
    /// What `log`'s recordings said of themselves, for a pass over a log read whole.
    pub(crate) fn of_log(log: &EventLog) -> Self {
        let mut sockets = Sockets::default();
        let mut last = None;
        for (i, p) in log.processes().iter().enumerate() {
            if last != Some(p.machine) {
                sockets.machines.push((i, p.machine));
                last = Some(p.machine);
            }
        }
        for (proc, p) in log.processes().iter().enumerate() {
            if let Some(n) = p.listed.as_ref().and_then(|l| l.netns) {
                sockets.set_netns_listed(proc, n);
            }
        }
        sockets
    }

    /// A recording's events will follow.
    pub(crate) fn started(&mut self, start: &RecordingStart) {
        self.machines.push((start.first_proc, start.machine));
        for &(proc, netns) in &start.netns {
            self.set_netns_listed(proc.index(), netns);
        }
    }

    fn set_netns_listed(&mut self, proc: usize, netns: i64) {
        if !self.netns_from_event.get(proc).copied().unwrap_or(false) {
            *grown(&mut self.netns, proc) = Some(netns);
        }
    }

    /// Any socket event: notes that the recordings have them, and the process's namespace.
    pub(crate) fn socket(&mut self, e: &Event, s: &Socket) {
        self.seen = true;
        if let Some(n) = s.netns {
            *grown(&mut self.netns, e.proc.index()) = Some(n);
            *grown(&mut self.netns_from_event, e.proc.index()) = true;
        }
    }

    /// A `listen`: a span opens, unless the process already listens there (the same socket
    /// reported again).
    pub(crate) fn listen(&mut self, e: &Event, s: &Socket) {
        self.socket(e, s);
        let Some(addr) = s.local else {
            return;
        };
        if self.open.contains_key(&(e.proc, addr)) {
            return;
        }
        self.open.insert((e.proc, addr), self.spans.len());
        self.spans.push(ListenSpan {
            proc: e.proc,
            service: e.service,
            addr,
            netns: s.netns,
            from_ns: Some(e.ts_ns),
            to_ns: None,
        });
    }

    /// A `listen_end`: the open span closes; without one, the process had listened since
    /// before anything recorded it.
    pub(crate) fn listen_end(&mut self, e: &Event, s: &Socket) {
        self.socket(e, s);
        let Some(addr) = s.local else {
            return;
        };
        match self.open.remove(&(e.proc, addr)) {
            Some(i) => {
                if let Some(span) = self.spans.get_mut(i) {
                    span.to_ns = Some(e.ts_ns);
                }
            }
            None => self.spans.push(ListenSpan {
                proc: e.proc,
                service: e.service,
                addr,
                netns: s.netns,
                from_ns: None,
                to_ns: Some(e.ts_ns),
            }),
        }
    }

    /// Whether the recordings had any socket event.
    pub fn seen(&self) -> bool {
        self.seen
    }

    /// The host of `proc`.
    pub fn machine(&self, proc: ProcId) -> Option<Machine> {
        let i = self
            .machines
            .partition_point(|(first, _)| *first <= proc.index());
        i.checked_sub(1)
            .and_then(|i| self.machines.get(i))
            .map(|(_, m)| *m)
    }

    /// The network namespace of `proc`, when its socket events or the metadata say.
    pub fn netns(&self, proc: ProcId) -> Option<i64> {
        self.netns.get(proc.index()).copied().flatten()
    }

    /// Every listening span, in the order they began (spans known only by their end, at
    /// their end).
    pub fn spans(&self) -> &[ListenSpan] {
        &self.spans
    }
}

/// The slot of `i`, growing `v` to hold it (tables indexed by process).
pub(crate) fn grown<T: Default>(v: &mut Vec<T>, i: usize) -> &mut T {
    if v.len() <= i {
        v.resize_with(i + 1, T::default);
    }
    &mut v[i]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::Detail;

    fn event(log: &mut EventLog, ts_ns: i64, proc: ProcId, detail: Detail) -> Event {
        Event {
            ts_ns,
            goid: 0,
            proc,
            service: log.intern("svc"),
            detail,
        }
    }

    #[test]
    fn spans_open_and_close_per_process_and_address() {
        let mut log = EventLog::new();
        let addr = log.intern("0.0.0.0:8080");
        let other = log.intern("[::]:9090");
        let s = |a| Socket {
            local: Some(a),
            netns: Some(7),
            ..Socket::default()
        };
        let (p1, p2) = (log.process("h", 1), log.process("h", 2));
        let mut sockets = Sockets::default();
        let e = event(&mut log, 10, p1, Detail::Listen(s(addr)));
        sockets.listen(&e, &s(addr));
        sockets.listen(&event(&mut log, 11, p1, Detail::Listen(s(addr))), &s(addr));
        sockets.listen_end(
            &event(&mut log, 20, p1, Detail::ListenEnd(s(addr))),
            &s(addr),
        );
        sockets.listen_end(
            &event(&mut log, 30, p2, Detail::ListenEnd(s(other))),
            &s(other),
        );
        let spans: Vec<_> = sockets
            .spans()
            .iter()
            .map(|s| (s.from_ns, s.to_ns))
            .collect();
        assert_eq!(spans, [(Some(10), Some(20)), (None, Some(30))]);
        assert!(sockets.seen());
        assert_eq!(sockets.netns(e.proc), Some(7));
    }

    #[test]
    fn hosts_by_process_number_and_namespaces_from_events_first() {
        let mut log = EventLog::new();
        let (h1, h2) = (log.machine("h1"), log.machine("h2"));
        let mut sockets = Sockets::default();
        let a = log.process("h1", 1);
        sockets.started(&RecordingStart {
            first_proc: 0,
            machine: h1,
            netns: vec![(a, 5)],
            boot_wall_ns: None,
        });
        let b = log.process("h2", 1);
        sockets.started(&RecordingStart {
            first_proc: 1,
            machine: h2,
            netns: Vec::new(),
            boot_wall_ns: None,
        });
        // A second file of h1 that adds no process.
        sockets.started(&RecordingStart {
            first_proc: 2,
            machine: h1,
            netns: Vec::new(),
            boot_wall_ns: None,
        });
        assert_eq!(
            (sockets.machine(a), sockets.machine(b)),
            (Some(h1), Some(h2))
        );
        assert_eq!(sockets.netns(a), Some(5));
        let s = Socket {
            netns: Some(6),
            ..Socket::default()
        };
        sockets.socket(&event(&mut log, 1, a, Detail::Connect(s)), &s);
        sockets.started(&RecordingStart {
            first_proc: 2,
            machine: h1,
            netns: vec![(a, 5)],
            boot_wall_ns: None,
        });
        assert_eq!(
            sockets.netns(a),
            Some(6),
            "a socket event beats the metadata"
        );
    }
}
