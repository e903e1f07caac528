//! Fleet roll-ups (issue 14) in the shape of production: the three tiers of three_tiers.rs,
//! front → mid → back through VIPs, but each tier recorded by a `record` of its own into a file
//! of its own, each `record` in a UTS namespace of its own with a node's hostname, so that the
//! three files look like three hosts' (`quadtrace.hostname` is record's uname). The three run
//! at once while the client pod drives front.
//!
//! What it checks:
//! - `analyze quads` over the three files gives three_tiers.rs's quadruples. mid and back both
//!   listen on :8080 and every call goes to a VIP that iptables DNATs, so no listening address
//!   names a callee: only the calls linked to the requests they caused, across files, do;
//! - `analyze info` sees three hosts, each file one process;
//! - the quadruples stay the same when one host booted long before the others: printed, and
//!   checked once analyze lines up hosts' clocks ([`CLOCKS_LINED_UP`]);
//! - the fleet roll-up, `scripts/fleet.sh quads --engine duckdb|spark`, prints byte for byte
//!   what `analyze quads --format csv` prints for the same files ([`FLEET_SCRIPT`]).
//!
//! `QUADTRACE_KEEP_RECORDINGS=DIR` keeps the three recordings in DIR.

use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::support::{
    self, analyze_cmd, naming,
    outcome::{Checks, Outcome},
    Guard,
};

use super::three_tiers::Tiers;
use super::{named, record_pids, setup, Setup, REQUESTS};

/// Whether the roll-up part runs: `scripts/fleet.sh` (branch `fleet`, with the SQL of branch
/// `sql`) must be there and both engines agree with `analyze quads`. Off, the test says it did
/// not run it (Spark alone takes some 45 s on this machine).
const FLEET_SCRIPT: bool = true;

/// How long one engine may take over three small files (Spark starts a JVM, and the script
/// may first install what it needs).
const FLEET_TIMEOUT: Duration = Duration::from_secs(1200);

/// Whether `analyze` lines up hosts whose monotonic clocks began at different times. Each
/// recording's `ts_ns` is its host's CLOCK_MONOTONIC (since that host booted) and
/// `quadtrace.boot_wall_ns` says when that was; hosts of a fleet booted at different times, but
/// the three "hosts" of this test share one kernel, hence one clock. So the test also analyzes
/// the files with mid's rewritten as a host booted [`BOOTED_EARLIER`] earlier would have written
/// it (same wall-clock times): the quadruples must not change, in analyze (which puts hosts on
/// one timeline by their boot times) and in the roll-up (which compares hosts' times on the
/// wall clock).
const CLOCKS_LINED_UP: bool = true;

/// How much earlier than the others mid's host booted, in the rewritten copy.
const BOOTED_EARLIER: i64 = 3_600_000_000_000;

/// Copies recording `src` to `dst` as a host booted `earlier_ns` before `src`'s would have
/// written it: every `ts_ns` and `quadtrace.time_range_ns` later by that much, and
/// `quadtrace.boot_wall_ns` earlier, so that every wall-clock time stays as it was.
fn booted_earlier(src: &Path, dst: &Path, earlier_ns: i64) -> Result<()> {
    use arrow_array::{cast::AsArray, types::Int64Type, ArrayRef, Int64Array, RecordBatch};
    use parquet::arrow::{arrow_reader::ParquetRecordBatchReaderBuilder, ArrowWriter};
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::metadata::KeyValue;
    use parquet::file::properties::WriterProperties;
    use quadtrace_schema::meta;
    use std::sync::Arc;

    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(src)?)?;
    let shift = |v: &str| -> Result<String> {
        let ns: Vec<i64> = v
            .split_whitespace()
            .map(|n| n.parse::<i64>().map(|n| n + earlier_ns))
            .collect::<Result<_, _>>()
            .with_context(|| format!("{} {v:?}", meta::TIME_RANGE_NS))?;
        Ok(ns.iter().map(i64::to_string).collect::<Vec<_>>().join(" "))
    };
    let mut kv = Vec::new();
    let file_kv = reader.metadata().file_metadata().key_value_metadata();
    for KeyValue { key, value } in file_kv.into_iter().flatten() {
        let value = value.clone().unwrap_or_default();
        let value = match key.as_str() {
            // The writer puts its own.
            "ARROW:schema" => continue,
            meta::BOOT_WALL_NS => (value.trim().parse::<i64>()? - earlier_ns).to_string(),
            meta::TIME_RANGE_NS => shift(&value)?,
            _ => value,
        };
        kv.push(KeyValue::new(key.clone(), value));
    }
    let schema = reader.schema().clone();
    let ts = schema.index_of("ts_ns")?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_key_value_metadata(Some(kv))
        .build();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(dst)?, schema.clone(), Some(props))?;
    for batch in reader.build()? {
        let batch = batch?;
        let mut columns = batch.columns().to_vec();
        let later: Int64Array = columns[ts]
            .as_primitive::<Int64Type>()
            .unary(|t| t + earlier_ns);
        columns[ts] = Arc::new(later) as ArrayRef;
        writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
    }
    writer.close()?;
    Ok(())
}

/// A host of the fleet: the tier it runs and the `record` that records it.
struct Host {
    hostname: &'static str,
    service: &'static str,
    pid: u32,
    file: PathBuf,
}

/// `record -p PID -o OUT` in a UTS namespace of its own whose hostname is `hostname`: `sh`
/// sets it and `exec`s record, so the child's pid is record's. Killed (SIGKILL) if the test's
/// thread dies first, so that no record outlives a test killed before its guards drop.
fn start_record_as(
    hostname: &str,
    pid: u32,
    out: &Path,
) -> Result<(Guard, mpsc::Receiver<String>)> {
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--uts",
        "sh",
        "-c",
        r#"hostname "$1" && shift && exec "$@""#,
        "sh",
        hostname,
    ])
    .arg(env!("CARGO_BIN_EXE_record"))
    .args(record_pids(&[pid], out));
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    support::start_recorder(cmd, Stdio::null())
        .with_context(|| format!("record of pid {pid} as host {hostname}"))
}

/// Stops a record with Ctrl-C as a user would; SIGKILL and an error if it has not finished
/// its file within 30 s. Everything it said on stderr.
fn stop_record(mut guard: Guard, rx: &mpsc::Receiver<String>) -> Result<String> {
    let pid = guard.0.id() as i32;
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = guard.0.try_wait()? {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // The stderr reader hangs up at end of file, right after the process exits (a kill on
    // drop for the timeout case).
    let stderr = || {
        let mut lines = Vec::new();
        while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
            lines.push(line);
        }
        lines.join("\n")
    };
    match status {
        Some(s) if s.success() => Ok(stderr()),
        Some(s) => bail!("record exited with {s}:\n{}", stderr()),
        None => {
            drop(guard);
            bail!("record did not stop within 30 s of SIGINT:\n{}", stderr())
        }
    }
}

/// `analyze ARGS FILES`: its stdout, and its stderr (which says how many calls were linked).
fn analyze(args: &[&str], files: &[PathBuf]) -> Result<(Vec<u8>, String)> {
    let o = analyze_cmd()
        .args(args)
        .args(files)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running analyze {}", args.join(" ")))?;
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    if !o.status.success() {
        bail!(
            "analyze {} failed ({}):\n{stderr}",
            args.join(" "),
            o.status
        );
    }
    Ok((o.stdout, stderr))
}

/// `analyze ARGS --format json FILES`, parsed.
fn analyze_json(args: &[&str], files: &[PathBuf]) -> Result<(Value, String)> {
    let args = [args, &["--format", "json"]].concat();
    let (out, stderr) = analyze(&args, files)?;
    let v = serde_json::from_slice(&out)
        .with_context(|| format!("analyze {}'s JSON", args.join(" ")))?;
    Ok((v, stderr))
}

/// The quadruples with their counts only: errors and latencies vary from run to run.
fn counts_only(mut quads: Value) -> Value {
    const KEEP: [&str; 5] = ["caller", "caller_func", "callee", "callee_func", "count"];
    for q in quads.as_array_mut().into_iter().flatten() {
        if let Some(fields) = q.as_object_mut() {
            fields.retain(|key, _| KEEP.contains(&key.as_str()));
        }
    }
    quads
}

/// `scripts/fleet.sh quads --engine ENGINE FILES`, killed (the script and what it started)
/// after [`FLEET_TIMEOUT`]. Its stdout, and its stderr for the failure message.
fn fleet_quads(engine: &str, files: &[PathBuf]) -> Result<(Vec<u8>, String)> {
    let script = support::repo().join("scripts/fleet.sh");
    if !script.exists() {
        bail!("{} is missing though FLEET_SCRIPT is on", script.display());
    }
    // `timeout` runs the script in a process group of its own and signals all of it.
    // The analyze the test compares with exports for it too.
    let analyze = analyze_cmd().get_program().to_owned();
    let o = Command::new("timeout")
        .args(["--kill-after=10", &format!("{}", FLEET_TIMEOUT.as_secs())])
        .arg(&script)
        .args(["quads", "--engine", engine])
        .args(files)
        .env("QUADTRACE_ANALYZE", analyze)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    match o.status.code() {
        Some(0) => Ok((o.stdout, stderr)),
        Some(124) | Some(137) => bail!(
            "fleet.sh --engine {engine} did not finish within {} s:\n{stderr}",
            FLEET_TIMEOUT.as_secs()
        ),
        Some(3) => bail!("fleet.sh --engine {engine} skipped some recordings:\n{stderr}"),
        _ => bail!(
            "fleet.sh --engine {engine} failed ({}):\n{stderr}",
            o.status
        ),
    }
}

#[test]
fn root_fleet_three_hosts_roll_up_as_analyze_quads() {
    const TEST: &str = "root_fleet_three_hosts_roll_up_as_analyze_quads";
    let Some(Setup {
        _port,
        dir,
        app,
        mut node,
    }) = setup(TEST)
    else {
        return;
    };

    let Tiers {
        client,
        front_vip,
        mid_vip,
        back_vip,
        pids: [f, m, b],
    } = Tiers::start(&mut node, &app).expect("the tiers start");

    let hosts = [
        ("node-a", "front", f),
        ("node-b", "mid", m),
        ("node-c", "back", b),
    ]
    .map(|(hostname, service, pid)| Host {
        hostname,
        service,
        pid,
        file: dir.path().join(format!("{hostname}.parquet")),
    });
    let files: Vec<PathBuf> = hosts.iter().map(|h| h.file.clone()).collect();

    // Three records at once, one per host; a guard each, so that a failure below kills them.
    let mut records = Vec::new();
    for h in &hosts {
        records.push(start_record_as(h.hostname, h.pid, &h.file).expect("record starts"));
    }
    let front_url = format!("http://{front_vip}/a");
    let driven = (|| -> Result<()> {
        for i in 0..REQUESTS {
            let code = node.curl(&client, &front_url)?;
            if code != 200 {
                bail!(
                    "curl {front_url} from the client pod (request {}) got {code}",
                    i + 1
                );
            }
        }
        Ok(())
    })();
    // Every record stopped, whatever the others and the driving did.
    let stopped: Vec<Result<String>> = records
        .into_iter()
        .map(|(guard, rx)| stop_record(guard, &rx))
        .collect();
    let mut record_stderr = String::new();
    let mut failed = Vec::new();
    for (h, s) in hosts.iter().zip(stopped) {
        match s {
            Ok(text) => record_stderr.push_str(&format!("--- record on {}:\n{text}\n", h.hostname)),
            Err(e) => failed.push(format!("record on {}: {e:#}", h.hostname)),
        }
    }
    if let Err(e) = driven {
        failed.insert(0, format!("{e:#}"));
    }
    if !failed.is_empty() {
        panic!(
            "{TEST}: recording failed:\n{}\n{record_stderr}",
            failed.join("\n")
        );
    }

    // QUADTRACE_KEEP_RECORDINGS=DIR keeps the three files, to look into (or to roll up by hand).
    if let Some(keep) = std::env::var_os("QUADTRACE_KEEP_RECORDINGS") {
        let keep = PathBuf::from(keep);
        for h in &hosts {
            let to = keep.join(h.file.file_name().unwrap_or_default());
            match std::fs::create_dir_all(&keep).and_then(|()| std::fs::copy(&h.file, &to)) {
                Ok(_) => eprintln!("{TEST}: kept {}", to.display()),
                Err(e) => eprintln!("{TEST}: could not keep {}: {e}", to.display()),
            }
        }
    }

    let read = || -> Result<_> {
        let (quads, quads_stderr) = analyze_json(&["quads"], &files)?;
        let (calls, _) = analyze_json(&["calls"], &files)?;
        let (info, _) = analyze_json(&["info"], &files)?;
        let (csv, _) = analyze(&["quads", "--format", "csv"], &files)?;
        Ok((quads, quads_stderr, calls, info, csv))
    };
    let (quads, quads_stderr, calls, info, csv) =
        read().unwrap_or_else(|e| panic!("{TEST}: {e:#}\nrecord said:\n{record_stderr}"));
    eprintln!("{TEST}: analyze quads said on stderr:\n{quads_stderr}");
    eprintln!(
        "{TEST}: analyze quads --format csv:\n{}",
        String::from_utf8_lossy(&csv)
    );
    eprintln!("{TEST}: analyze info, total: {}", info["total"]);
    // Each file alone, for the record: what a host's own recording can name without the others.
    for h in &hosts {
        match analyze(&["quads", "--format", "csv"], std::slice::from_ref(&h.file)) {
            Ok((out, _)) => eprintln!(
                "{TEST}: analyze quads of {} alone:\n{}",
                h.hostname,
                String::from_utf8_lossy(&out)
            ),
            Err(e) => eprintln!("{TEST}: analyze quads of {} alone: {e:#}", h.hostname),
        }
    }
    let outcome = Outcome {
        quads: counts_only(quads),
        calls,
        stderr: record_stderr,
        ignored: Vec::new(),
    };

    let mut checks = Checks::new();
    // front's calls are served by mid, mid's by back: links from one file into another.
    Tiers::check(&mut checks, &outcome, [f, m, b]);

    // Three hosts, each file one host with its one process. (info's services are the recorded
    // binaries, named after the file, `app` for all three: the tiers' own names are per
    // process, which info does not list.)
    let expected_hosts: Vec<&str> = hosts.iter().map(|h| h.hostname).collect();
    let total_hosts: Vec<&str> = info["total"]["hosts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    checks.that(total_hosts == expected_hosts, || {
        format!("analyze info: hosts {total_hosts:?}, expected {expected_hosts:?}")
    });
    for h in &hosts {
        let file = info["files"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["path"].as_str().map(Path::new) == Some(h.file.as_path()));
        let host = file.and_then(|f| f["host"].as_str());
        let pids: Vec<u64> = file
            .and_then(|f| f["services"].as_array())
            .into_iter()
            .flatten()
            .flat_map(|s| s["pids"].as_array().into_iter().flatten())
            .filter_map(Value::as_u64)
            .collect();
        let want = vec![u64::from(h.pid)];
        checks.that(host == Some(h.hostname) && pids == want, || {
            format!(
                "analyze info of {}: host {host:?}, pids {pids:?}; expected host {}, pids \
                 {want:?} ({})",
                h.file.display(),
                h.hostname,
                h.service
            )
        });
    }

    // Hosts that booted at different times: mid's file as from a host booted an hour earlier.
    let mid_file = &hosts[1].file;
    let apart = mid_file.with_file_name("node-b-booted-earlier.parquet");
    let files_apart = vec![files[0].clone(), apart.clone(), files[2].clone()];
    let analyzed_apart = booted_earlier(mid_file, &apart, BOOTED_EARLIER)
        .with_context(|| format!("rewriting {}", mid_file.display()))
        .and_then(|()| analyze(&["quads", "--format", "csv"], &files_apart));
    match analyzed_apart {
        Ok((out, stderr)) => {
            let same = out == csv;
            eprintln!(
                "{TEST}: with node-b booted {} s earlier than the others ({}):\n{}{stderr}",
                BOOTED_EARLIER / 1_000_000_000,
                if same { "the same" } else { "NOT the same" },
                String::from_utf8_lossy(&out)
            );
            if CLOCKS_LINED_UP {
                checks.that(same, || {
                    format!(
                        "analyze quads with node-b's host booted earlier differs\n got:\n{}\n\
                         expected:\n{}{stderr}",
                        String::from_utf8_lossy(&out),
                        String::from_utf8_lossy(&csv)
                    )
                });
            }
        }
        Err(e) => checks.that(false, || format!("hosts booted apart: {e:#}")),
    }

    // The roll-up, by each engine, byte for byte what analyze prints.
    if FLEET_SCRIPT {
        // Spark once (it takes most of a minute); the hosts booted apart on DuckDB, which runs
        // the same SQL.
        let runs = [
            ("duckdb", &files),
            ("spark", &files),
            ("duckdb", &files_apart),
        ];
        for (engine, files) in runs {
            let started = Instant::now();
            match fleet_quads(engine, files) {
                Ok((out, stderr)) => {
                    eprintln!(
                        "{TEST}: fleet.sh --engine {engine} on {:?}: {:.1} s",
                        files
                            .iter()
                            .filter_map(|f| f.file_name())
                            .collect::<Vec<_>>(),
                        started.elapsed().as_secs_f64()
                    );
                    checks.that(out == csv, || {
                        format!(
                            "fleet.sh quads --engine {engine} differs from analyze quads \
                             --format csv\n got:\n{}\nexpected:\n{}\nfleet.sh said:\n{stderr}",
                            String::from_utf8_lossy(&out),
                            String::from_utf8_lossy(&csv)
                        )
                    });
                }
                Err(e) => checks.that(false, || format!("{e:#}")),
            }
        }
    } else {
        eprintln!(
            "{TEST}: the fleet roll-up (scripts/fleet.sh) not checked: FLEET_SCRIPT is off \
             until branch fleet is merged"
        );
    }

    let started = node.started();
    let table = naming::table(
        &[
            named(&started[0], "front", &[&front_vip]),
            named(&started[1], "mid", &[&mid_vip]),
            named(&started[2], "back", &[&back_vip]),
        ],
        outcome.calls(),
    );
    node.close().expect("the node is removed");
    checks.finish(TEST, &outcome, &table);
}
