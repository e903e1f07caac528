//! Where ring-buffer records go: decoded, counted, named by their process, written to the
//! current segment (rotating when it is due, with that segment's own metadata), and shown live
//! when asked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::Result;

use crate::live::LivePrinter;
use crate::metadata::{self, SegmentMeta, TargetMeta};
use crate::process::{ProcessInfo, Processes};
use crate::raw_event::{self, Event};
use crate::segments::{Segments, Summary};
use crate::sockets::listening_addrs;
use crate::stats::Counts;

/// Socket events kept for processes whose exec notice is being handled; a bound, not a size
/// that is reached (a process opens a few sockets before record adds it).
const MAX_WAITING: usize = 4096;

/// Shared by the ring-buffer callbacks of every loaded object, and by the main loop.
pub struct Sink {
    segments: Option<Segments>,
    targets: Vec<TargetMeta>,
    /// Everything counted since recording started.
    pub counts: Counts,
    /// `counts` when the current segment started.
    segment_base: Counts,
    segment_start_ns: u64,
    pids_seen: Vec<BTreeSet<u32>>,
    /// Every process seen, read once: each event is named by its process, not its binary.
    processes: Processes,
    /// Where each process listened, as last seen.
    listeners: Vec<BTreeMap<u32, BTreeSet<String>>>,
    live: Option<LivePrinter>,
    /// Socket events of processes not added yet.
    waiting: Vec<Event<'static>>,
    /// The first write error; recording stops on it.
    pub error: Option<anyhow::Error>,
}

impl Sink {
    /// A sink writing to `segments`, for targets described by `targets`, whose processes known
    /// now are `pids_at_start` (indexed alike); `processes` reads and names them, and those
    /// that start later.
    pub fn new(
        segments: Segments,
        targets: Vec<TargetMeta>,
        pids_at_start: Vec<BTreeSet<u32>>,
        mut processes: Processes,
        live: bool,
        start_ns: u64,
    ) -> Sink {
        // Read now, while they surely run: one that exits before its first event is still
        // named as it was.
        for (target, pids) in pids_at_start.iter().enumerate() {
            for &pid in pids {
                processes.get(pid, target);
            }
        }
        let mut sink = Sink {
            segments: Some(segments),
            listeners: vec![BTreeMap::new(); targets.len()],
            targets,
            counts: Counts::default(),
            segment_base: Counts::default(),
            segment_start_ns: start_ns,
            pids_seen: pids_at_start,
            processes,
            live: live.then(LivePrinter::default),
            waiting: Vec::new(),
            error: None,
        };
        sink.note_listeners();
        sink
    }

    /// Handles one record of target `target`'s uprobes; a non-zero return stops libbpf's
    /// consume loop (on a write error).
    pub fn on_record(&mut self, target: usize, data: &[u8]) -> i32 {
        let ev = match raw_event::decode(data) {
            Ok(ev) => ev,
            Err(_) => {
                self.counts.malformed += 1;
                return 0;
            }
        };
        self.write(target, &ev)
    }

    /// Handles a socket event of the host object (or one read from `/proc`): written for the
    /// target whose process it is. One of a process not added yet (its exec notice is still
    /// being handled) waits for [`Sink::add_pid`].
    pub fn on_socket_event(&mut self, ev: Event<'_>) -> i32 {
        match self.target_of(ev.pid) {
            Some(target) => self.write(target, &ev),
            None => {
                if self.waiting.len() < MAX_WAITING {
                    self.waiting.push(ev.into_owned());
                }
                0
            }
        }
    }

    fn target_of(&self, pid: u32) -> Option<usize> {
        self.pids_seen.iter().position(|seen| seen.contains(&pid))
    }

    /// A target found while recording (its index is the next one), running `exe`.
    pub fn add_target(&mut self, meta: TargetMeta, exe: PathBuf) {
        self.targets.push(meta);
        self.processes.add_target(exe);
        self.pids_seen.push(BTreeSet::new());
        self.listeners.push(BTreeMap::new());
    }

    /// Process `pid` of target `target` is recorded from now on; writes its socket events
    /// that arrived before.
    pub fn add_pid(&mut self, target: usize, pid: u32) {
        if let Some(seen) = self.pids_seen.get_mut(target) {
            seen.insert(pid);
        }
        let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|e| e.pid == pid);
        self.waiting = others;
        for ev in mine {
            self.write(target, &ev);
        }
    }

    /// Whether process `pid` is recorded.
    pub fn has_pid(&self, pid: u32) -> bool {
        self.target_of(pid).is_some()
    }

    /// How many processes have been recorded.
    pub fn process_count(&self) -> usize {
        self.pids_seen.iter().map(BTreeSet::len).sum()
    }

    fn write(&mut self, target: usize, ev: &Event<'_>) -> i32 {
        self.counts.count(ev.kind);
        if target >= self.targets.len() {
            self.counts.malformed += 1;
            return 0;
        }
        let (process, new) = self.processes.get(ev.pid, target);
        if new {
            if let Some(seen) = self.pids_seen.get_mut(target) {
                seen.insert(ev.pid);
            }
        }
        let service = &process.service;
        if let Some(live) = self.live.as_mut() {
            // A closed stdout (e.g. `| head`) ends the live view, not the recording.
            if live
                .on_event(ev, service, &mut std::io::stdout().lock())
                .is_err()
            {
                self.live = None;
            }
        }
        let pushed = match self.segments.as_mut() {
            Some(segments) => segments.push(ev, service).map(|()| segments.due()),
            None => Err(anyhow::anyhow!("the recording is already closed")),
        };
        let written = match pushed {
            Ok(true) => self.rotate(),
            Ok(false) => Ok(()),
            Err(e) => Err(e),
        };
        match written {
            Ok(()) => 0,
            Err(e) => {
                self.error = Some(e);
                -1
            }
        }
    }

    /// Rotates when the current segment is old enough (the main loop calls this: a quiet
    /// target sends no events that would check it).
    pub fn rotate_if_due(&mut self) {
        if self.error.is_none() && self.segments.as_ref().is_some_and(Segments::due) {
            if let Err(e) = self.rotate() {
                self.error = Some(e);
            }
        }
    }

    /// Completes the current segment and starts the next.
    fn rotate(&mut self) -> Result<()> {
        let now = metadata::monotonic_ns();
        let meta = self.segment_metadata(now);
        let segments = self
            .segments
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("the recording is already closed"))?;
        segments.rotate(meta)?;
        self.segment_base = self.counts.clone();
        self.segment_start_ns = now;
        Ok(())
    }

    fn segment_metadata(&mut self, now_ns: u64) -> Vec<(String, String)> {
        self.note_listeners();
        let counts = self.counts.since(&self.segment_base);
        let number = self.segments.as_ref().and_then(Segments::number);
        let processes = self.processes.sorted();
        metadata::build(
            &self.targets,
            &SegmentMeta {
                pids_seen: &self.pids_seen,
                listeners: &self.listeners,
                processes: &processes,
                counts: &counts,
                time_range: (self.segment_start_ns, now_ns),
                segment: number,
            },
        )
    }

    /// Adds where each process seen listens now (none for a process that is gone).
    fn note_listeners(&mut self) {
        for (by_pid, pids) in self.listeners.iter_mut().zip(&self.pids_seen) {
            for &pid in pids {
                let addrs = listening_addrs(pid);
                if !addrs.is_empty() {
                    by_pid.entry(pid).or_default().extend(addrs);
                }
            }
        }
    }

    /// Every process seen so far, with its target's index, by pid.
    pub fn processes(&self) -> Vec<(usize, &ProcessInfo)> {
        self.processes.sorted()
    }

    /// Completes the last segment. Returns its path and what the recording left on disk.
    pub fn close(mut self, stop_ns: u64) -> Result<(PathBuf, Summary, Counts)> {
        let meta = self.segment_metadata(stop_ns);
        let segments = self
            .segments
            .take()
            .ok_or_else(|| anyhow::anyhow!("the recording is already closed"))?;
        let (done, summary) = segments.close(meta)?;
        Ok((done, summary, self.counts))
    }

    /// Gives up on the segment in progress; the completed ones stay.
    pub fn abandon(mut self) -> Summary {
        self.segments
            .take()
            .map(Segments::abandon)
            .unwrap_or_default()
    }
}
