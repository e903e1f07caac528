//! One recording: resolve targets, attach probes, drain the ring buffer into the writer until a
//! stop condition, then detach, drain what is left and close the file.

use std::cell::RefCell;
use std::collections::BTreeSet;
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
use crate::metadata::{self, TargetMeta};
use crate::probes::{self, ProbeSet};
use crate::process::Processes;
use crate::raw_event::KIND_SLOTS;
use crate::segments::{Segments, Summary};
use crate::sink::Sink;
use crate::stats::{Counts, LiveLine};
use crate::targets::{self, Target};

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
    /// The last file written.
    pub path: PathBuf,
    /// What the recording left on disk.
    pub files: Summary,
    pub counts: Counts,
    pub reason: StopReason,
}

fn resolve_targets(cfg: &Config) -> Result<Vec<Target>> {
    let mut t = targets::from_pids(&cfg.pids, &cfg.service)?;
    t.extend(targets::from_exes(&cfg.exes, &cfg.service)?);
    // A `--service PID=NAME` or `EXE=NAME` that names nothing is a typo better told now than
    // found as a wrong name in the recording.
    let recorded: Vec<_> = t
        .iter()
        .map(|t| {
            let pids = t
                .pids
                .clone()
                .unwrap_or_else(|| targets::running_pids(&t.exe));
            (t.exe.as_path(), pids)
        })
        .collect();
    cfg.service.check_used(&recorded)?;
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

    let segments = Segments::create(&cfg.output, cfg.rotation)?;
    let mut sets: Vec<ProbeSet> = Vec::new();
    for (t, b) in targets.iter().zip(&binaries) {
        match probes::load_and_attach(t, b, cfg.channels) {
            Ok(set) => sets.push(set),
            Err(e) => {
                segments.abandon();
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
    let mut links: Vec<libbpf_rs::Link> = sets.iter_mut().flat_map(ProbeSet::take_links).collect();
    // Every probe is in place: from now on, events count.
    for set in &mut sets {
        set.set_recording(true);
    }

    let start_ns = metadata::monotonic_ns();
    let metas: Vec<TargetMeta> = targets
        .iter()
        .zip(&binaries)
        .zip(&sets)
        .map(|((t, b), set)| TargetMeta::new(t, b, &set.probes))
        .collect();
    let processes = Processes::new(
        cfg.service.clone(),
        targets.iter().map(|t| t.exe.clone()).collect(),
    );
    let sink = Sink::new(
        segments,
        metas,
        pids_at_start,
        processes,
        cfg.live,
        start_ns,
    );
    for (_, p) in sink.processes() {
        eprintln!(
            "record: pid {} is service {} ({})",
            p.pid,
            p.service,
            p.service_source.as_str()
        );
    }
    let sink = Rc::new(RefCell::new(sink));
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
        // A second signal while stopping (draining, writing the footer) exits at once, as
        // Ctrl-C twice does in most tools: the file in progress is then left as .inprogress.
        signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&stop))
            .context("installing a signal handler")?;
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
        s.rotate_if_due();
        line.update(&s.counts);
    };
    line.finish();

    // Stop submitting everywhere at once, detach, then drain what the kernel already holds.
    for set in &mut sets {
        set.set_recording(false);
    }
    // Each detach waits for an RCU grace period (tens of ms here); waited for side by side,
    // stopping takes one grace period instead of one per link.
    std::thread::scope(|scope| {
        for link in links.drain(..) {
            scope.spawn(move || drop(link));
        }
    });
    let _ = ring.consume();
    drop(ring);
    let stop_ns = metadata::monotonic_ns();

    let mut sink = Rc::try_unwrap(sink)
        .map_err(|_| anyhow::anyhow!("ring-buffer callbacks still alive"))?
        .into_inner();
    sink.counts.lost_by_kind = total_lost(&sets);
    if let Some(e) = sink.error.take() {
        let left = sink.abandon();
        let kept = match left.kept.len() {
            0 => String::new(),
            n => format!(
                " ({n} completed file{} kept, the last {})",
                if n == 1 { "" } else { "s" },
                left.kept
                    .last()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ),
        };
        return Err(e.context(format!(
            "recording stopped: the recording could not be written{kept}"
        )));
    }
    let (last, files, counts) = sink.close(stop_ns)?;
    std::io::stdout().flush().ok();
    Ok(Outcome {
        path: last,
        files,
        counts,
        reason,
    })
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
