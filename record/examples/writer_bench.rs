//! Writer throughput: raw `qt_event` records → `raw_event::decode` → Arrow batches → zstd
//! Parquet, on one thread, from a synthetic event source shaped like the demo's `/handle`
//! traffic with channel probes (per request: 2 server starts and ends, a client call, 4 spawns,
//! 14 channel operations, a timer now and then). Prints figures, never fails on them.
//!
//! `record` has no library target, so its writer and decoder are compiled in here by path: this
//! measures the very code `record` runs.
//!
//!     cargo run --release -p quadtrace-record --example writer_bench -- [EVENTS] [OUT.parquet]
//!
//! Run it in release (`scripts/bench.sh` does, pinned to one CPU): a debug build is many times
//! slower and says nothing about the writer.
#![allow(dead_code)]

#[path = "../src/raw_event.rs"]
mod raw_event;
#[path = "../src/skel.rs"]
mod skel;
#[path = "../src/writer.rs"]
mod writer;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use skel::types::qt_event;

const RAW_SIZE: usize = std::mem::size_of::<qt_event>();
/// Records generated at a time, like a ring-buffer drain handing over a run of records.
const CHUNK: usize = 4096;

/// Deterministic pseudo-random numbers (xorshift64*), so every run writes the same file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A Go heap address: 0xc000000000 plus up to 256 MiB, 16-byte aligned.
    fn heap(&mut self) -> u64 {
        0xc0_0000_0000 + (self.next() % (256 << 20)) / 16 * 16
    }
}

fn put(dst: &mut [i8], s: &str) -> u16 {
    for (d, b) in dst.iter_mut().zip(s.bytes()) {
        *d = b as i8;
    }
    s.len().min(dst.len()) as u16
}

/// Kinds as in `bpf/event.h`.
const SERVER_START: u8 = 1;
const SERVER_END: u8 = 2;
const CLIENT_START: u8 = 3;
const CLIENT_END: u8 = 4;
const SPAWN: u8 = 5;
const CHAN_SEND: u8 = 6;
const CHAN_RECV: u8 = 7;
const TIMER_ARM: u8 = 8;
const F_HAS_STATUS: u8 = 4;
const F_IN_SELECT: u8 = 8;
const F_COMPLETED: u8 = 16;
const F_HAS_VALUE: u8 = 32;

/// One `/handle` request's events (in the order the demo produces them), appended to `out`.
struct Source {
    rng: Rng,
    ts: u64,
    request: u64,
    pending: Vec<qt_event>,
}

impl Source {
    fn new() -> Self {
        Source {
            rng: Rng(0x9E37_79B9_7F4A_7C15),
            ts: 1_872_978_626_073,
            request: 0,
            pending: Vec::new(),
        }
    }

    fn event(&mut self, kind: u8, goid: u64) -> qt_event {
        // 2-60 µs between events, as probes fire on a loaded service.
        self.ts += 2_000 + self.rng.next() % 58_000;
        qt_event {
            ts_ns: self.ts,
            pid: 27_566,
            tid: 27_566 + (self.rng.next() % 8) as u32,
            goid,
            kind,
            ..Default::default()
        }
    }

    fn chan(&mut self, kind: u8, goid: u64, chan: u64, value: Option<u64>, select: bool) {
        let mut e = self.event(kind, goid);
        e.chan = chan;
        e.dataqsiz = (chan >> 4) as u32 % 3;
        if let Some(v) = value {
            e.value = v;
            e.flags |= F_HAS_VALUE;
        }
        if select {
            e.flags |= F_IN_SELECT;
        }
        if kind == CHAN_RECV {
            e.flags |= F_COMPLETED;
        }
        self.pending.push(e);
    }

    fn request(&mut self) {
        let r = self.request;
        self.request += 1;
        let g = 20 + 6 * r; // goroutines of this request
        let (handle, echo, conn_r, conn_w) = (g, g + 1, g + 2, g + 3);

        let mut e = self.event(SPAWN, handle);
        e.parent_goid = 1;
        e.value = self.rng.heap();
        self.pending.push(e);
        let mut e = self.event(SERVER_START, handle);
        e.method_len = put(&mut e.method, "GET");
        e.host_len = put(&mut e.host, "127.0.0.1:9932");
        e.path_len = put(&mut e.path, "/handle");
        e.addr_len = put(&mut e.addr, "127.0.0.1:9932");
        e.ctx = self.rng.heap();
        let server_ctx = e.ctx;
        self.pending.push(e);
        let mut e = self.event(CLIENT_START, handle);
        e.method_len = put(&mut e.method, "GET");
        e.host_len = put(&mut e.host, "127.0.0.1:9932");
        e.path_len = put(&mut e.path, "/echo");
        e.ctx = self.rng.heap();
        e.ctx1 = server_ctx;
        self.pending.push(e);
        for child in [conn_r, conn_w] {
            let mut e = self.event(SPAWN, child);
            e.parent_goid = handle;
            e.value = self.rng.heap();
            self.pending.push(e);
        }
        if r % 5 == 4 {
            let mut e = self.event(TIMER_ARM, conn_r);
            e.value = self.rng.heap();
            self.pending.push(e);
        }
        // The transport's handoffs: request to the connection's write loop, response back.
        let (req_ch, resp_ch, done_ch) = (self.rng.heap(), self.rng.heap(), self.rng.heap());
        let job = self.rng.heap();
        self.chan(CHAN_RECV, conn_r, done_ch, None, true);
        self.chan(CHAN_SEND, conn_r, resp_ch, Some(0), false);
        self.chan(CHAN_RECV, handle, resp_ch, Some(0), false);
        self.chan(CHAN_SEND, handle, req_ch, Some(job), false);
        self.chan(CHAN_RECV, conn_w, req_ch, Some(job), true);
        self.chan(CHAN_SEND, conn_w, done_ch, Some(0), false);

        let mut e = self.event(SPAWN, echo);
        e.parent_goid = 1;
        e.value = self.rng.heap();
        self.pending.push(e);
        let mut e = self.event(SERVER_START, echo);
        e.method_len = put(&mut e.method, "GET");
        e.host_len = put(&mut e.host, "127.0.0.1:9932");
        e.path_len = put(&mut e.path, "/echo");
        e.addr_len = put(&mut e.addr, "127.0.0.1:9932");
        e.ctx = self.rng.heap();
        self.pending.push(e);
        let mut e = self.event(SERVER_END, echo);
        e.status = 200;
        e.flags = F_HAS_STATUS;
        self.pending.push(e);

        let (body_ch, ack_ch) = (self.rng.heap(), self.rng.heap());
        let resp = self.rng.heap();
        self.chan(CHAN_SEND, conn_r, body_ch, Some(resp), true);
        self.chan(CHAN_RECV, handle, body_ch, Some(resp), true);
        let mut e = self.event(CLIENT_END, handle);
        e.status = 200;
        e.flags = F_HAS_STATUS;
        self.pending.push(e);
        self.chan(CHAN_SEND, handle, ack_ch, Some(1), false);
        self.chan(CHAN_RECV, conn_r, ack_ch, Some(1), true);
        let (close_ch, close_v) = (self.rng.heap(), self.rng.heap());
        self.chan(CHAN_SEND, conn_r, close_ch, Some(close_v), false);
        self.chan(CHAN_RECV, handle, close_ch, Some(close_v), false);
        self.chan(CHAN_SEND, conn_w, close_ch, None, false);
        self.chan(CHAN_RECV, handle, close_ch, None, true);
        let mut e = self.event(SERVER_END, handle);
        e.status = 200;
        e.flags = F_HAS_STATUS;
        self.pending.push(e);
    }

    /// Fills `buf` with `n` raw records, as the ring buffer would hand them over.
    fn fill(&mut self, buf: &mut Vec<u8>, n: usize) {
        buf.clear();
        while buf.len() < n * RAW_SIZE {
            if self.pending.is_empty() {
                self.request();
                self.pending.reverse();
            }
            if let Some(e) = self.pending.pop() {
                // SAFETY: qt_event is plain old data (integers and byte arrays) of RAW_SIZE bytes.
                let bytes = unsafe {
                    std::slice::from_raw_parts((&e as *const qt_event).cast::<u8>(), RAW_SIZE)
                };
                buf.extend_from_slice(bytes);
            }
        }
    }
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let events: usize = match args.next() {
        Some(a) => a.parse().context("EVENTS must be a number")?,
        None => 5_000_000,
    };
    let out = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "/tmp/quadtrace-writer-bench.parquet".into()),
    );

    // The source alone, to tell its cost apart from the writer's.
    let mut buf = Vec::with_capacity(CHUNK * RAW_SIZE);
    let mut source = Source::new();
    let (t, cpu) = (Instant::now(), thread_cpu_s());
    let mut done = 0;
    while done < events {
        let n = CHUNK.min(events - done);
        source.fill(&mut buf, n);
        black_box(&buf);
        done += n;
    }
    let source_s = t.elapsed().as_secs_f64();
    let source_cpu_s = thread_cpu_s() - cpu;

    let mut source = Source::new();
    let mut w = writer::RecordingWriter::create(&out)?;
    let mut malformed = 0u64;
    let (t, cpu) = (Instant::now(), thread_cpu_s());
    let mut done = 0;
    while done < events {
        let n = CHUNK.min(events - done);
        source.fill(&mut buf, n);
        for rec in buf.chunks_exact(RAW_SIZE) {
            match raw_event::decode(rec) {
                Ok(ev) => w.push(&ev, "http_demo")?,
                Err(_) => malformed += 1,
            }
        }
        done += n;
    }
    let metadata = vec![
        (
            quadtrace_schema::meta::SCHEMA_VERSION.to_string(),
            quadtrace_schema::SCHEMA_VERSION.to_string(),
        ),
        (
            quadtrace_schema::meta::SERVICE.to_string(),
            "http_demo".to_string(),
        ),
    ];
    let (path, size) = w.close(metadata)?;
    let total_s = t.elapsed().as_secs_f64();
    let writer_s = (total_s - source_s).max(f64::EPSILON);
    let writer_cpu_s = (thread_cpu_s() - cpu - source_cpu_s).max(f64::EPSILON);

    let line = |label: &str, value: String| println!("{label:<34}{value}");
    line("events", events.to_string());
    line("malformed", malformed.to_string());
    line("source only (s)", format!("{source_s:.3}"));
    line("source+decode+arrow+parquet (s)", format!("{total_s:.3}"));
    line(
        "events/s decode+arrow+parquet",
        format!("{:.0}", events as f64 / writer_s),
    );
    // Wall time counts whatever else the machine runs; the thread's CPU time does not (only the
    // cache and memory bandwidth that neighbours take), so it varies far less between runs.
    line(
        "events/CPU-s decode+arrow+parquet",
        format!("{:.0}", events as f64 / writer_cpu_s),
    );
    line(
        "events/s with the source",
        format!("{:.0}", events as f64 / total_s.max(f64::EPSILON)),
    );
    line(
        "bytes/event",
        format!(
            "{:.2}  ({size} bytes in {})",
            size as f64 / events.max(1) as f64,
            path.display()
        ),
    );
    line("profile", profile().to_string());
    Ok(())
}

/// CPU time of the calling thread in seconds (0 if the clock cannot be read).
fn thread_cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID needs nothing else.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug (NOT representative)"
    } else {
        "release"
    }
}
