//! Target safety under sustained load: the labeled workload (goroutines, channels, timers,
//! pools) served at concurrency 64 for a minute (`QUADTRACE_SOAK_SECS`) while recorded. The
//! target must not crash, must answer every request as it would unrecorded (200), and its
//! memory must stay flat. Timing is not judged here: the figures are printed.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{
    demo_port, http_get_at, record_args, repo, require_root_or_skip, start_record, stop_record,
    Guard,
};

const ADDR: &str = "127.0.0.1:9940";
const DOWNSTREAM: &str = "127.0.0.1:9941";

fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn patterns_bin() -> PathBuf {
    let versions = std::env::var("QUADTRACE_GO_VERSIONS").unwrap_or_else(|_| "1.27.3".into());
    let newest = versions
        .split_whitespace()
        .last()
        .unwrap_or("1.27.3")
        .to_string();
    repo().join(format!("testdata/bin/go{newest}/stripped/patterns"))
}

fn start(bin: &PathBuf, downstream: bool) -> Guard {
    let mut cmd = Command::new(bin);
    cmd.env("PATTERNS_ADDR", ADDR)
        .env("PATTERNS_DOWNSTREAM", DOWNSTREAM)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if downstream {
        cmd.arg("-downstream");
    }
    Guard(cmd.spawn().expect("patterns starts"))
}

#[test]
fn root_target_survives_a_minute_of_load_under_record() {
    if !require_root_or_skip("root_target_survives_a_minute_of_load_under_record") {
        return;
    }
    let _port = demo_port();
    let secs: u64 = std::env::var("QUADTRACE_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let bin = patterns_bin();
    assert!(
        bin.exists(),
        "{} missing: run scripts/build-demos.sh",
        bin.display()
    );
    let loadgen = bin.with_file_name("loadgen");
    let _down = start(&bin, true);
    let mut target = start(&bin, false);
    let deadline = Instant::now() + Duration::from_secs(10);
    while http_get_at(ADDR, "/stats").is_err() || http_get_at(DOWNSTREAM, "/stats").is_err() {
        assert!(Instant::now() < deadline, "patterns did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = record_args(target.0.id(), &dir.path().join("soak.parquet"));
    args.extend([
        "--rotate-secs".into(),
        "20".into(),
        "--max-files".into(),
        "2".into(),
    ]);
    let (rec, rx) = start_record(&args, Stdio::null()).expect("record starts");

    let started = Instant::now();
    let mut rss = Vec::new();
    let mut rounds = 0u64;
    while started.elapsed() < Duration::from_secs(secs) {
        let o = Command::new(&loadgen)
            .args([
                "-url-base",
                &format!("http://{ADDR}"),
                "-n",
                "100",
                "-c",
                "64",
            ])
            .args(["-id-prefix", &format!("soak{rounds}-")])
            .output()
            .expect("loadgen runs");
        let summary = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            o.status.success(),
            "round {rounds}: {summary}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(summary.contains("errors=0"), "round {rounds}: {summary}");
        assert!(
            target.0.try_wait().expect("target status").is_none(),
            "the target exited under record"
        );
        rss.push(resident_kib(target.0.id()).expect("target's memory"));
        rounds += 1;
    }
    let stderr = stop_record(rec, &rx).expect("record stops cleanly");
    assert!(target.0.try_wait().expect("target status").is_none());
    // Flat: after the first rounds (heap and stacks growing to the load), the resident size
    // does not keep growing.
    let warm = rss.len() / 4;
    let (early, late) = (rss[warm], *rss.last().expect("at least one round"));
    eprintln!(
        "soak: {rounds} rounds of 900 requests at concurrency 64 in {:.0} s; target RSS {} KiB \
         after warm-up, {late} KiB at the end; record: {}",
        started.elapsed().as_secs_f64(),
        early,
        stderr.lines().find(|l| l.contains("wrote")).unwrap_or("")
    );
    assert!(late <= early * 3 / 2 + 8192, "memory grew: {rss:?}");
}
