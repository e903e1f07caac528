//! One recording: resolve targets, attach probes, drain the ring buffer into the writer until a
//! stop condition, then detach, drain what is left and close the file.

use std::cell::RefCell;
use std::collections::{BTreeSet, VecDeque};
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use libbpf_rs::RingBufferBuilder;

use crate::cli::Config;
use crate::discovery::Discovery;
use crate::gobin::GoBinary;
use crate::host::HostProbes;
use crate::metadata::{self, TargetMeta};
use crate::process::Processes;
use crate::raw_event::{self, HostRecord};
use crate::recorded::{self, Recorded};
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
    let with_ids: Vec<(Target, Option<String>)> = targets
        .iter()
        .cloned()
        .zip(binaries.iter().map(|b| b.build_id.clone()))
        .collect();
    let mut discovery = Discovery::new(cfg.all, cfg.service.clone(), &with_ids);

    let segments = Segments::create(&cfg.output, cfg.rotation)?;
    let host = match HostProbes::load(discovery.looks_beyond_known_binaries()) {
        Ok(h) => h,
        Err(e) => {
            segments.abandon();
            return Err(e);
        }
    };
    let mut rec = Recorded {
        targets: Vec::new(),
        binaries: Vec::new(),
        sets: Vec::new(),
        host,
        links: Vec::new(),
    };
    let attached = targets
        .into_iter()
        .zip(binaries)
        .try_for_each(|(t, b)| rec.attach(t, b, cfg.channels).map(drop))
        .and_then(|()| {
            if cfg.all {
                recorded::discover_running(&mut rec, &mut discovery, cfg)
            } else {
                Ok(())
            }
        });
    if let Err(e) = attached {
        segments.abandon();
        return Err(e);
    }
    if rec.targets.is_empty() {
        // -a on a host where none runs yet: the ones that start are recorded.
        eprintln!("record: -a: no Go program using net/http is running yet; waiting for one");
    }
    // The processes known at the start: the -p pids, or those running an --exe binary now
    // (one /proc scan each); exec notices and events add the ones that start later.
    let pids_at_start: Vec<BTreeSet<u32>> = rec
        .targets
        .iter()
        .map(|t| {
            t.pids
                .clone()
                .unwrap_or_else(|| targets::running_pids(&t.open_path))
                .into_iter()
                .collect()
        })
        .collect();
    for (((t, b), s), now) in rec
        .targets
        .iter()
        .zip(&rec.binaries)
        .zip(&rec.sets)
        .zip(&pids_at_start)
    {
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

    let start_ns = metadata::monotonic_ns();
    let metas: Vec<TargetMeta> = rec
        .targets
        .iter()
        .zip(&rec.binaries)
        .zip(&rec.sets)
        .map(|((t, b), set)| TargetMeta::new(t, b, &set.probes))
        .collect();
    let processes = Processes::new(
        cfg.service.clone(),
        rec.targets.iter().map(|t| t.exe.clone()).collect(),
    );
    let sink = Sink::new(
        segments,
        metas,
        pids_at_start.clone(),
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
    // Every probe is in place: from now on, events count.
    rec.set_recording(true);
    for (target, pids) in pids_at_start.iter().enumerate() {
        for &pid in pids {
            recorded::add_process(&rec, &sink, target, pid);
        }
    }

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
    // Programs started while recording, from the host object's exec notices: handled between
    // polls, since probing one may add a ring buffer to read.
    let execs: Rc<RefCell<VecDeque<u32>>> = Rc::default();
    let reason = 'recording: loop {
        let ring = build_ring(&rec, &sink, &execs)?;
        loop {
            // BPF wakes us only when the buffer fills up (see submit() in the BPF code), so
            // each turn waits up to POLL and then drains whatever arrived. EINTR from a signal
            // is an ordinary wake-up: the flag is checked just below.
            let _ = ring.poll(POLL);
            let _ = ring.consume();
            if stop.load(Ordering::Relaxed) {
                break 'recording StopReason::Signal;
            }
            if cfg.duration.is_some_and(|d| begun.elapsed() >= d) {
                break 'recording StopReason::Duration;
            }
            if sink.borrow().error.is_some() {
                break 'recording StopReason::Signal;
            }
            if last_liveness.elapsed() >= LIVENESS_EVERY {
                last_liveness = Instant::now();
                let by_pid: Vec<&Vec<u32>> =
                    rec.targets.iter().filter_map(|t| t.pids.as_ref()).collect();
                if !cfg.all
                    && by_pid.len() == rec.targets.len()
                    && by_pid
                        .iter()
                        .all(|p| p.iter().all(|&pid| !targets::is_alive(pid)))
                {
                    break 'recording StopReason::TargetsExited;
                }
            }
            {
                let mut s = sink.borrow_mut();
                s.counts.lost_by_kind = rec.lost();
                s.rotate_if_due();
                line.update(&s.counts, s.process_count());
            }
            let pending: Vec<u32> = execs.borrow_mut().drain(..).collect();
            if pending.is_empty() {
                continue;
            }
            // The poller borrows the probe sets: let it go before any is added.
            drop(ring);
            for pid in pending {
                recorded::on_exec(&mut rec, &mut discovery, &sink, pid, cfg);
            }
            continue 'recording;
        }
    };
    line.finish();

    // Stop submitting everywhere at once, detach, then drain what the kernel already holds.
    rec.set_recording(false);
    let mut links: Vec<libbpf_rs::Link> = std::mem::take(&mut rec.links);
    links.extend(rec.host.take_links());
    // Each detach waits for an RCU grace period (tens of ms here); waited for side by side,
    // stopping takes one grace period instead of one per link.
    std::thread::scope(|scope| {
        for link in links.drain(..) {
            scope.spawn(move || drop(link));
        }
    });
    {
        let ring = build_ring(&rec, &sink, &execs)?;
        let _ = ring.consume();
    }
    let stop_ns = metadata::monotonic_ns();

    let mut sink = Rc::try_unwrap(sink)
        .map_err(|_| anyhow::anyhow!("ring-buffer callbacks still alive"))?
        .into_inner();
    sink.counts.lost_by_kind = rec.lost();
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

/// A poller over every ring buffer: each target's uprobe events, and the host object's socket
/// events and exec notices.
fn build_ring<'a>(
    rec: &'a Recorded,
    sink: &Rc<RefCell<Sink>>,
    execs: &Rc<RefCell<VecDeque<u32>>>,
) -> Result<libbpf_rs::RingBuffer<'a>> {
    let mut builder = RingBufferBuilder::new();
    for (i, set) in rec.sets.iter().enumerate() {
        let sink = Rc::clone(sink);
        builder
            .add(&set.skel.maps.events, move |data: &[u8]| {
                sink.borrow_mut().on_record(i, data)
            })
            .context("adding a ring buffer")?;
    }
    let host_sink = Rc::clone(sink);
    let execs = Rc::clone(execs);
    builder
        .add(
            &rec.host.skel.maps.host_events,
            move |data: &[u8]| match raw_event::decode_host(data) {
                Ok(HostRecord::Event(ev)) => host_sink.borrow_mut().on_socket_event(ev),
                Ok(HostRecord::Exec { pid }) => {
                    execs.borrow_mut().push_back(pid);
                    0
                }
                Err(_) => {
                    host_sink.borrow_mut().counts.malformed += 1;
                    0
                }
            },
        )
        .context("adding the host ring buffer")?;
    builder.build().context("building the ring-buffer poller")
}
