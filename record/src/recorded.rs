//! What is being recorded, and how it grows while recording: the targets with their binaries
//! and probe sets, the host object, and the processes added as they are found (at the start,
//! from exec notices, or with `-a` from every running Go HTTP program).

use std::cell::RefCell;

use anyhow::Result;
use quadtrace_schema::EventKind;

use crate::cli::Config;
use crate::discovery::{self, Discovery, Found};
use crate::gobin::GoBinary;
use crate::host::HostProbes;
use crate::metadata::{self, TargetMeta};
use crate::probes::{self, ProbeSet};
use crate::raw_event::{self, KIND_SLOTS};
use crate::sink::Sink;
use crate::sockets;
use crate::targets::Target;

/// Everything being recorded: the targets, their binaries and probe sets, indexed alike, and
/// the host object.
pub struct Recorded {
    pub targets: Vec<Target>,
    pub binaries: Vec<GoBinary>,
    pub sets: Vec<ProbeSet>,
    pub host: HostProbes,
    pub links: Vec<libbpf_rs::Link>,
}

impl Recorded {
    /// Loads and attaches target `t`'s probes; returns its index.
    pub fn attach(&mut self, t: Target, b: GoBinary, channels: bool) -> Result<usize> {
        let mut set = probes::load_and_attach(&t, &b, channels)?;
        for w in &set.warnings {
            eprintln!("record: warning: {w}");
        }
        if t.pids.is_none() {
            self.host.add_binary(&t.open_path)?;
        }
        self.links.extend(set.take_links());
        self.targets.push(t);
        self.binaries.push(b);
        self.sets.push(set);
        Ok(self.targets.len() - 1)
    }

    pub fn set_recording(&mut self, on: bool) {
        self.host.set_recording(on);
        for set in &mut self.sets {
            set.set_recording(on);
        }
    }

    pub fn lost(&self) -> [u64; KIND_SLOTS] {
        let mut total = total_lost(&self.sets);
        for (t, l) in total.iter_mut().zip(self.host.lost()) {
            *t += l;
        }
        total
    }
}

/// Starts recording process `pid` of target `target`: in the kernel's socket reports, and with
/// the sockets it already has (the tracepoint only sees them change).
pub fn add_process(rec: &Recorded, sink: &RefCell<Sink>, target: usize, pid: u32) {
    if let Err(e) = rec.host.add_process(pid) {
        eprintln!("record: warning: {e:#}");
    }
    let mut sink = sink.borrow_mut();
    sink.add_pid(target, pid);
    let now = metadata::monotonic_ns();
    let found = sockets::scan(pid);
    for addr in found.listening {
        sink.on_socket_event(raw_event::socket_event(
            EventKind::Listen,
            pid,
            now,
            addr,
            String::new(),
            found.netns,
        ));
    }
    for (local, remote) in found.connected {
        sink.on_socket_event(raw_event::socket_event(
            EventKind::Connect,
            pid,
            now,
            local,
            remote,
            found.netns,
        ));
    }
}

/// Handles a program that started while recording; true when a new binary was probed (the
/// ring-buffer poller must then be built again to read its events).
pub fn on_exec(
    rec: &mut Recorded,
    discovery: &mut Discovery,
    sink: &RefCell<Sink>,
    pid: u32,
    cfg: &Config,
) -> bool {
    // A process execs several times on its way (sh, env, then the program): once it is
    // recorded, the later notices say nothing new.
    if sink.borrow().has_pid(pid) {
        return false;
    }
    let (target, added) = match discovery.classify(pid) {
        Found::Ignore => return false,
        Found::Known(i) => (i, false),
        Found::New(t, b) => {
            let build_id = b.build_id.clone();
            let label = format!("{} ({}, {})", t.service, t.exe.display(), b.version);
            match rec.attach(t, b, cfg.channels) {
                Ok(i) => {
                    rec.sets[i].set_recording(true);
                    discovery.note_target(i, &rec.targets[i], build_id.as_deref());
                    let set = &rec.sets[i];
                    sink.borrow_mut().add_target(
                        TargetMeta::new(&rec.targets[i], &rec.binaries[i], &set.probes),
                        rec.targets[i].exe.clone(),
                    );
                    eprintln!("record: {label}: {} probes", set.probes.len());
                    (i, true)
                }
                Err(e) => {
                    eprintln!("record: warning: not recording pid {pid}: {e:#}");
                    return false;
                }
            }
        }
    };
    add_process(rec, sink, target, pid);
    eprintln!(
        "record: attached pid {pid} ({}); {} processes attached",
        rec.targets[target].service,
        sink.borrow().process_count()
    );
    added
}

/// `-a`: the Go HTTP programs running now, one target per binary.
pub fn discover_running(rec: &mut Recorded, discovery: &mut Discovery, cfg: &Config) -> Result<()> {
    for pid in discovery::all_pids() {
        if pid == std::process::id() {
            continue;
        }
        if let Found::New(t, b) = discovery.classify(pid) {
            let build_id = b.build_id.clone();
            let i = rec.attach(t, b, cfg.channels)?;
            discovery.note_target(i, &rec.targets[i], build_id.as_deref());
        }
    }
    Ok(())
}

/// Ring-buffer reserve failures of every uprobe object, by raw event kind.
fn total_lost(sets: &[ProbeSet]) -> [u64; KIND_SLOTS] {
    let mut total = [0u64; KIND_SLOTS];
    for s in sets {
        for (t, l) in total.iter_mut().zip(s.lost()) {
            *t += l;
        }
    }
    total
}
