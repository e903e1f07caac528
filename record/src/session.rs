//! One recording: resolve targets, attach probes, drain the ring buffer into the writer until a
//! stop condition, then detach, drain what is left and close the file.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use libbpf_rs::RingBufferBuilder;

use crate::cli::Config;
use crate::gobin::GoBinary;
use crate::listeners::listening_addrs;
use crate::live::LivePrinter;
use crate::metadata::{self, TargetInfo};
use crate::probes::{self, ProbeSet};
use crate::raw_event::{self, KIND_SLOTS};
use crate::stats::{Counts, LiveLine};
use crate::targets::{self, Target};
use crate::writer::RecordingWriter;

/// How long one ring-buffer poll may block; bounds the reaction time to a stop condition.
const POLL: Duration = Duration::from_millis(100);
/// How often `-p` targets are checked for having exited.
const LIVENESS_EVERY: Duration = Duration::from_millis(500);

/// Why recording stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    Signal,
    Duration,
    TargetsExited,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopReason::Signal => "interrupted",
            StopReason::Duration => "duration reached",
            StopReason::TargetsExited => "every target exited",
        })
    }
}

/// The outcome, for the exit message.
pub struct Outcome {
    pub path: PathBuf,
    pub bytes: u64,
    pub counts: Counts,
    pub reason: StopReason,
}

/// Where ring-buffer records go; shared by the callbacks of every loaded object.
struct Sink {
    writer: RecordingWriter,
    counts: Counts,
    services: Vec<String>,
    pids_seen: Vec<BTreeSet<u32>>,
    live: Option<LivePrinter>,
    error: Option<anyhow::Error>,
}

impl Sink {
    /// Handles one record; a non-zero return stops libbpf's consume loop (on a write error).
    fn on_record(&mut self, target: usize, data: &[u8]) -> i32 {
        let ev = match raw_event::decode(data) {
            Ok(ev) => ev,
            Err(_) => {
                self.counts.malformed += 1;
                return 0;
            }
        };
        self.counts.count(ev.kind);
        let service = &self.services[target];
        self.pids_seen[target].insert(ev.pid);
        if let Err(e) = self.writer.push(&ev, service) {
            self.error = Some(e);
            return -1;
        }
        if let Some(live) = self.live.as_mut() {
            // A closed stdout (e.g. `| head`) ends the live view, not the recording.
            if live
                .on_event(&ev, service, &mut std::io::stdout().lock())
                .is_err()
            {
                self.live = None;
            }
        }
        0
    }
}

fn resolve_targets(cfg: &Config) -> Result<Vec<Target>> {
    let mut t = targets::from_pids(&cfg.pids, cfg.service.as_deref())?;
    t.extend(targets::from_exes(&cfg.exes, cfg.service.as_deref())?);
    Ok(t)
}

/// Reads the target's binary; errors name the executable the user knows, not `/proc/PID/exe`.
fn open_binary(t: &Target) -> Result<GoBinary> {
    GoBinary::open(&t.open_path).map_err(|e| {
        let msg = e.to_string().replace(
            &t.open_path.display().to_string(),
            &t.exe.display().to_string(),
        );
        match &t.pids {
            Some(pids) => anyhow::anyhow!(
                "pid {}: {msg}",
                pids.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            None => anyhow::anyhow!(msg),
        }
    })
}

/// Runs a recording to its end.
pub fn run(cfg: &Config) -> Result<Outcome> {
    crate::privileges::check()?;
    let targets = resolve_targets(cfg)?;
    let binaries: Vec<GoBinary> = targets.iter().map(open_binary).collect::<Result<_>>()?;

    let writer = RecordingWriter::create(&cfg.output)?;
    let mut sets: Vec<ProbeSet> = Vec::new();
    for (t, b) in targets.iter().zip(&binaries) {
        match probes::load_and_attach(t, b, cfg.channels) {
            Ok(set) => sets.push(set),
            Err(e) => {
                writer.abandon();
                return Err(e);
            }
        }
    }
    // The processes known at the start: the -p pids, or those running an --exe binary now
    // (one /proc scan each); events add the ones that start later.
    let pids_at_start: Vec<BTreeSet<u32>> = targets
        .iter()
        .map(|t| {
            t.pids
                .clone()
                .unwrap_or_else(|| targets::running_pids(&t.exe))
                .into_iter()
                .collect()
        })
        .collect();
    for (((t, b), s), now) in targets.iter().zip(&binaries).zip(&sets).zip(&pids_at_start) {
        for w in &s.warnings {
            eprintln!("record: warning: {w}");
        }
        let pids = match &t.pids {
            Some(p) => p
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(","),
            None => format!("all processes of it (now: {now:?})"),
        };
        eprintln!(
            "record: {} ({}, {}) pid {pids}: {} probes",
            t.service,
            t.exe.display(),
            b.version,
            s.probes.len()
        );
    }
    // Where each process listens, now and again at the end (a server may open its listener
    // later): the address its callers dial.
    let mut listeners: Vec<BTreeMap<u32, BTreeSet<String>>> = Vec::new();
    for pids in &pids_at_start {
        let mut by_pid = BTreeMap::new();
        note_listeners(&mut by_pid, pids);
        listeners.push(by_pid);
    }
    let mut links: Vec<libbpf_rs::Link> = sets.iter_mut().flat_map(ProbeSet::take_links).collect();
    // Every probe is in place: from now on, events count.
    for set in &mut sets {
        set.set_recording(true);
    }

    let start_ns = metadata::monotonic_ns();
    let sink = Rc::new(RefCell::new(Sink {
        writer,
        counts: Counts::default(),
        services: targets.iter().map(|t| t.service.clone()).collect(),
        pids_seen: pids_at_start,
        live: cfg.live.then(LivePrinter::default),
        error: None,
    }));
    let mut builder = RingBufferBuilder::new();
    for (i, set) in sets.iter().enumerate() {
        let sink = Rc::clone(&sink);
        builder
            .add(&set.skel.maps.events, move |data: &[u8]| {
                sink.borrow_mut().on_record(i, data)
            })
            .context("adding a ring buffer")?;
    }
    let ring = builder.build().context("building the ring-buffer poller")?;

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .context("installing a signal handler")?;
    }
    let begun = Instant::now();
    let mut last_liveness = Instant::now();
    let mut line = LiveLine::new();
    eprintln!(
        "record: recording to {}; Ctrl-C to stop",
        cfg.output.display()
    );
    let reason = loop {
        // BPF wakes us only when the buffer fills up (see submit() in the BPF code), so each turn
        // waits up to POLL and then drains whatever arrived. EINTR from a signal is an
        // ordinary wake-up: the flag is checked just below.
        let _ = ring.poll(POLL);
        let _ = ring.consume();
        if stop.load(Ordering::Relaxed) {
            break StopReason::Signal;
        }
        if cfg.duration.is_some_and(|d| begun.elapsed() >= d) {
            break StopReason::Duration;
        }
        if sink.borrow().error.is_some() {
            break StopReason::Signal;
        }
        if last_liveness.elapsed() >= LIVENESS_EVERY {
            last_liveness = Instant::now();
            let by_pid: Vec<&Vec<u32>> = targets.iter().filter_map(|t| t.pids.as_ref()).collect();
            if by_pid.len() == targets.len()
                && by_pid
                    .iter()
                    .all(|p| p.iter().all(|&pid| !targets::is_alive(pid)))
            {
                break StopReason::TargetsExited;
            }
        }
        let mut s = sink.borrow_mut();
        s.counts.lost_by_kind = total_lost(&sets);
        line.update(&s.counts);
    };
    line.finish();

    // Stop submitting everywhere at once, detach, then drain what the kernel already holds.
    for set in &mut sets {
        set.set_recording(false);
    }
    links.clear();
    let _ = ring.consume();
    drop(ring);
    let stop_ns = metadata::monotonic_ns();

    let mut sink = Rc::try_unwrap(sink)
        .map_err(|_| anyhow::anyhow!("ring-buffer callbacks still alive"))?
        .into_inner();
    sink.counts.lost_by_kind = total_lost(&sets);
    if let Some(e) = sink.error.take() {
        sink.writer.abandon();
        return Err(e.context("recording stopped: the recording could not be written"));
    }
    for (by_pid, pids) in listeners.iter_mut().zip(&sink.pids_seen) {
        note_listeners(by_pid, pids);
    }
    let infos: Vec<TargetInfo<'_>> = targets
        .iter()
        .zip(&binaries)
        .zip(&sets)
        .zip(&sink.pids_seen)
        .zip(&listeners)
        .map(
            |((((target, binary), set), pids_seen), listeners)| TargetInfo {
                target,
                binary,
                probes: &set.probes,
                pids_seen,
                listeners,
            },
        )
        .collect();
    let meta = metadata::build(&infos, &sink.counts, (start_ns, stop_ns));
    let (path, bytes) = sink.writer.close(meta)?;
    std::io::stdout().flush().ok();
    Ok(Outcome {
        path,
        bytes,
        counts: sink.counts,
        reason,
    })
}

/// Adds the addresses each of `pids` listens on now (none for a process that is gone).
fn note_listeners(by_pid: &mut BTreeMap<u32, BTreeSet<String>>, pids: &BTreeSet<u32>) {
    for &pid in pids {
        let addrs = listening_addrs(pid);
        if !addrs.is_empty() {
            by_pid.entry(pid).or_default().extend(addrs);
        }
    }
}

fn total_lost(sets: &[ProbeSet]) -> [u64; KIND_SLOTS] {
    let mut total = [0u64; KIND_SLOTS];
    for s in sets {
        for (t, l) in total.iter_mut().zip(s.lost()) {
            *t += l;
        }
    }
    total
}
