//! Processes and hosts: whose the events are, as the recordings' metadata and events name
//! them.

use std::net::IpAddr;

use super::{index_u32, EventLog, ProcId, Sym};

/// A recording host, by its `quadtrace.hostname`; [`EventLog::machine_name`] names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Machine(u32);

/// A process as the recordings name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// `quadtrace.hostname` of the recording that saw it (empty when the metadata lacks it).
    pub hostname: String,
    /// The same host, numbered.
    pub machine: Machine,
    /// Process id on that host.
    pub pid: i32,
    /// The service name its events carry (the first seen): names are per process, so two
    /// processes of one binary may have different ones.
    pub service: Option<Sym>,
    /// What `quadtrace.processes` says of it, when the recording has that key.
    pub listed: Option<Listed>,
}

/// A process as the `quadtrace.processes` metadata describes it (the fields analyze uses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listed {
    /// Its service name.
    pub service: Option<String>,
    /// Inode of its network namespace.
    pub netns: Option<i64>,
    /// The IP addresses of that network namespace.
    pub addrs: Vec<IpAddr>,
}

/// What reconstruction must know of a recording before its events come, while the log is
/// lent to the reader: which host the processes it creates are on, and their network
/// namespaces as its metadata lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingStart {
    /// Processes this recording adds to the log are numbered from here on.
    pub first_proc: usize,
    /// Its host.
    pub machine: Machine,
    /// Network namespaces from `quadtrace.processes`.
    pub netns: Vec<(ProcId, i64)>,
    /// Wall-clock time of its `ts_ns = 0` (`quadtrace.boot_wall_ns`), when it says.
    pub boot_wall_ns: Option<i64>,
}

/// A process listening on an address, as `record` read it from `/proc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listening {
    /// The process.
    pub proc: ProcId,
    /// Its service name.
    pub service: Sym,
    /// `host:port` it listened on.
    pub addr: Sym,
}

impl EventLog {
    /// The process id for `pid` on `hostname`, creating it on first sight.
    pub fn process(&mut self, hostname: &str, pid: i32) -> ProcId {
        let key = (hostname.to_owned(), pid);
        if let Some(&id) = self.process_ids.get(&key) {
            return id;
        }
        let id = ProcId(index_u32(self.processes.len()));
        let machine = self.machine(hostname);
        self.processes.push(Process {
            hostname: key.0.clone(),
            machine,
            pid,
            service: None,
            listed: None,
        });
        self.process_ids.insert(key, id);
        id
    }

    /// How many processes there are; the next one created gets this index.
    pub fn process_count(&self) -> usize {
        self.processes.len()
    }

    /// The number of the host named `hostname`, numbering it on first sight.
    pub fn machine(&mut self, hostname: &str) -> Machine {
        // A handful of hosts: a search beats a map.
        if let Some(i) = self.machines.iter().position(|m| m == hostname) {
            return Machine(index_u32(i));
        }
        self.machines.push(hostname.to_owned());
        Machine(index_u32(self.machines.len() - 1))
    }

    /// The host name behind `machine`.
    pub fn machine_name(&self, machine: Machine) -> &str {
        self.machines
            .get(machine.0 as usize)
            .map_or("", String::as_str)
    }

    /// Notes that a recording on `machine` began at `ts_ns`.
    pub fn note_start(&mut self, machine: Machine, ts_ns: i64) {
        self.starts.push((machine, ts_ns));
    }

    /// Notes that `machine`'s `ts_ns = 0` was at wall-clock time `boot_wall_ns`.
    pub fn note_clock(&mut self, machine: Machine, boot_wall_ns: i64) {
        if !self.clocks.iter().any(|(m, _)| *m == machine) {
            self.clocks.push((machine, boot_wall_ns));
        }
    }

    /// The wall-clock time of `ts_ns` on `proc`'s host, when its recording said.
    pub fn wall_clock(&self, proc: ProcId, ts_ns: i64) -> Option<i64> {
        let machine = self.process_info(proc)?.machine;
        let (_, zero) = self.clocks.iter().find(|(m, _)| *m == machine)?;
        Some(zero.saturating_add(ts_ns))
    }

    /// The latest time at or before `ts_ns` when a recording on `machine` began.
    pub fn started_before(&self, machine: Machine, ts_ns: i64) -> Option<i64> {
        let starts = self
            .starts
            .iter()
            .filter(|(m, t)| *m == machine && *t <= ts_ns);
        starts.map(|(_, t)| *t).max()
    }

    /// The wall-clock time the earliest recording with a clock began.
    pub fn first_wall_start(&self) -> Option<i64> {
        self.starts
            .iter()
            .filter_map(|(m, t)| {
                let (_, zero) = self.clocks.iter().find(|(c, _)| c == m)?;
                Some(zero.saturating_add(*t))
            })
            .min()
    }

    /// Notes the service name `proc`'s events carry, unless one is noted already.
    pub fn note_service(&mut self, proc: ProcId, service: Sym) {
        if let Some(p) = self.processes.get_mut(proc.index()) {
            p.service.get_or_insert(service);
        }
    }

    /// Notes what `quadtrace.processes` says of process `pid` on `hostname`.
    pub fn list_process(&mut self, hostname: &str, pid: i32, listed: Listed) {
        let id = self.process(hostname, pid);
        if let Some(p) = self.processes.get_mut(id.index()) {
            p.listed = Some(listed);
        }
    }

    /// Every process, by [`ProcId`] index.
    pub fn processes(&self) -> &[Process] {
        &self.processes
    }

    /// Notes that process `pid` on `hostname`, of `service`, listened on `addr`.
    pub fn add_listener(&mut self, hostname: &str, pid: i32, service: &str, addr: &str) {
        let listening = Listening {
            proc: self.process(hostname, pid),
            service: self.intern(service),
            addr: self.intern(addr),
        };
        self.listeners.push(listening);
    }

    /// Every listening address noted by [`EventLog::add_listener`].
    pub fn listeners(&self) -> &[Listening] {
        &self.listeners
    }

    /// The process behind `id`.
    pub fn process_info(&self, id: ProcId) -> Option<&Process> {
        self.processes.get(id.0 as usize)
    }
}
