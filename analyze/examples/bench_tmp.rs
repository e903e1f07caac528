use std::time::Instant;
use quadtrace_analyze::events::{ChanOp, Detail, Event, EventLog};
use quadtrace_analyze::attribute::reconstruct;

fn main() {
    let n_req: i64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let mut log = EventLog::new();
    let proc = log.process("h", 1);
    let svc = log.intern("svc");
    let path = log.intern("/p/pool/1");
    let host = log.intern("127.0.0.1:9941");
    let get = log.intern("GET");
    let mut ts = 0i64;
    let mut push = |log: &mut EventLog, goid: i64, detail: Detail| {
        ts += 100;
        log.push(Event { ts_ns: ts, goid, proc, service: svc, detail });
    };
    let workers = 8;
    for w in 0..workers {
        push(&mut log, 1_000_000 + w, Detail::Spawn { parent: Some(1), value: Some(5) });
    }
    for i in 0..n_req {
        let g = 100 + (i % 64);
        let w = 1_000_000 + (i % workers);
        let rl = 2_000_000 + (i % 16);
        push(&mut log, g, Detail::ServerStart { method: Some(get), host: None, path: Some(path), listen_addr: Some(host), ctx: 0xc000_0000 + i });
        push(&mut log, 5_000_000 + i, Detail::Spawn { parent: Some(g), value: Some(0x77) });
        push(&mut log, g, Detail::ChanSend(ChanOp { chan: 0xc1, value: Some(i), qcount: Some(0), dataqsiz: Some(4096), in_select: false, completed: false }));
        push(&mut log, g, Detail::TimerArm { value: Some(0xf000_0000 + i) });
        push(&mut log, g, Detail::ServerEnd { status: Some(200) });
        push(&mut log, w, Detail::ChanRecv(ChanOp { chan: 0xc1, value: Some(i), qcount: Some(0), dataqsiz: Some(4096), in_select: false, completed: true }));
        push(&mut log, w, Detail::ClientStart { method: Some(get), host: Some(host), path: Some(path), ctx: [0xd0 + i, 0, 0, 0] });
        push(&mut log, w, Detail::ChanSend(ChanOp { chan: 0xd1 + (i % 16), value: Some(i * 3), qcount: Some(0), dataqsiz: Some(0), in_select: false, completed: false }));
        push(&mut log, rl, Detail::ChanRecv(ChanOp { chan: 0xd1 + (i % 16), value: Some(i * 3), qcount: Some(0), dataqsiz: Some(0), in_select: false, completed: true }));
        push(&mut log, rl, Detail::ChanSend(ChanOp { chan: 0xe1 + i * 64, value: Some(i * 5), qcount: Some(0), dataqsiz: Some(0), in_select: true, completed: false }));
        push(&mut log, w, Detail::ChanRecv(ChanOp { chan: 0xe1 + i * 64, value: Some(i * 5), qcount: Some(0), dataqsiz: Some(0), in_select: true, completed: true }));
        push(&mut log, w, Detail::ClientEnd { status: Some(200) });
    }
    let n = log.events().len();
    log.sort();
    let t = Instant::now();
    let rec = reconstruct(&log);
    let dt = t.elapsed().as_secs_f64();
    let attributed = rec.calls.iter().filter(|c| c.attribution.request().is_some()).count();
    println!("{n} events in {dt:.3}s: {:.1} M events/s; calls {} attributed {}", n as f64 / dt / 1e6, rec.calls.len(), attributed);
    let path = "/tmp/qt_bench.parquet";
    if !std::path::Path::new(path).exists() { write_parquet(&log, path); }
    drop(rec); drop(log);
    let t = Instant::now();
    let (log2, _) = quadtrace_analyze::load(&[std::path::PathBuf::from(path)]).unwrap();
    let dl = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let rec = reconstruct(&log2);
    let dr = t.elapsed().as_secs_f64();
    drop(rec);
    let t = Instant::now();
    let rec = reconstruct(&log2);
    eprintln!("again {:?}", t.elapsed());
    let t = Instant::now();
    let q = quadtrace_analyze::quads::count_quads(&log2, &rec);
    let dq = t.elapsed().as_secs_f64();
    println!("load {dl:.3}s ({:.1} M/s), reconstruct {dr:.3}s, quads {dq:.3}s ({} quads); total {:.1} M events/s", n as f64/dl/1e6, q.len(), n as f64/(dl+dr+dq)/1e6);
}

#[allow(dead_code)]
pub fn write_parquet(log: &EventLog, path: &str) {
    use polars::prelude::*;
    use quadtrace_schema::{COLUMNS, meta, SCHEMA_VERSION};
    let ev = log.events();
    let s = |x| log.str(x).to_owned();
    let mut cols = Vec::new();
    for c in COLUMNS {
        let name = PlSmallStr::from_static(c.name);
        let col = match c.name {
            "ts_ns" => Column::new(name, ev.iter().map(|e| e.ts_ns).collect::<Vec<_>>()),
            "pid" | "tid" => Column::new(name, ev.iter().map(|_| 1i32).collect::<Vec<_>>()),
            "goid" => Column::new(name, ev.iter().map(|e| e.goid).collect::<Vec<_>>()),
            "kind" => Column::new(name, ev.iter().map(|e| e.detail.kind().as_str()).collect::<Vec<_>>()),
            "service" => Column::new(name, ev.iter().map(|e| s(e.service)).collect::<Vec<_>>()),
            "method" => Column::new(name, ev.iter().map(|e| match e.detail { Detail::ServerStart { method, .. } | Detail::ClientStart { method, .. } => method.map(s), _ => None }).collect::<Vec<_>>()),
            "host" => Column::new(name, ev.iter().map(|e| match e.detail { Detail::ServerStart { host, .. } | Detail::ClientStart { host, .. } => host.map(s), _ => None }).collect::<Vec<_>>()),
            "path" => Column::new(name, ev.iter().map(|e| match e.detail { Detail::ServerStart { path, .. } | Detail::ClientStart { path, .. } => path.map(s), _ => None }).collect::<Vec<_>>()),
            "listen_addr" => Column::new(name, ev.iter().map(|e| match e.detail { Detail::ServerStart { listen_addr, .. } => listen_addr.map(s), _ => None }).collect::<Vec<_>>()),
            "status" => Column::new(name, ev.iter().map(|e| match e.detail { Detail::ServerEnd { status } | Detail::ClientEnd { status } => status, _ => None }).collect::<Vec<_>>()),
            "error" | "truncated" => Column::new(name, ev.iter().map(|_| Some(false)).collect::<Vec<_>>()),
            "parent_goid" => Column::new(name, ev.iter().map(|e| match e.detail { Detail::Spawn { parent, .. } => parent, _ => None }).collect::<Vec<_>>()),
            "ctx" | "ctx1" | "ctx2" | "ctx3" => { let i = match c.name { "ctx" => 0, "ctx1" => 1, "ctx2" => 2, _ => 3 }; Column::new(name, ev.iter().map(|e| match e.detail { Detail::ClientStart { ctx, .. } => Some(ctx[i]), Detail::ServerStart { ctx, .. } if i == 0 => Some(ctx), _ => None }).collect::<Vec<_>>()) }
            "chan" => Column::new(name, ev.iter().map(|e| match e.detail { Detail::ChanSend(o) | Detail::ChanRecv(o) => Some(o.chan), _ => None }).collect::<Vec<_>>()),
            "value" => Column::new(name, ev.iter().map(|e| match e.detail { Detail::ChanSend(o) | Detail::ChanRecv(o) => o.value, Detail::Spawn { value, .. } | Detail::TimerArm { value } => value, _ => None }).collect::<Vec<_>>()),
            "qcount" | "dataqsiz" | "sendx" | "recvx" => Column::new(name, ev.iter().map(|e| match e.detail { Detail::ChanSend(o) | Detail::ChanRecv(o) => o.qcount, _ => None }).collect::<Vec<_>>()),
            "in_select" => Column::new(name, ev.iter().map(|e| match e.detail { Detail::ChanSend(o) | Detail::ChanRecv(o) => Some(o.in_select), _ => None }).collect::<Vec<_>>()),
            "completed" => Column::new(name, ev.iter().map(|e| match e.detail { Detail::ChanRecv(o) => Some(o.completed), _ => None }).collect::<Vec<_>>()),
            _ => panic!(),
        };
        cols.push(col);
    }
    let mut df = DataFrame::new(ev.len(), cols).unwrap();
    let kv = vec![(meta::SCHEMA_VERSION.to_string(), SCHEMA_VERSION.to_string()), (meta::HOSTNAME.to_string(), "h".to_string())];
    ParquetWriter::new(std::fs::File::create(path).unwrap()).with_compression(ParquetCompression::Zstd(None)).with_key_value_metadata(Some(KeyValueMetadata::from_static(kv))).finish(&mut df).unwrap();
}
