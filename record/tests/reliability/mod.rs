//! A recorder left running during an incident: rotation bounds what a `kill -9` loses, a second
//! Ctrl-C aborts at once, a full disk stops recording with the completed files intact, and an
//! `--exe` target that restarts keeps being recorded.

mod soak;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{
    self, analyze_cmd, analyze_json, drive_handle, http_get, one_demo_test, record_args,
    start_demo, start_record,
};

/// The files in `dir` whose names end with `suffix`, sorted.
fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.to_string_lossy().ends_with(suffix));
    v.sort();
    v
}

/// `analyze quads --format json` over several files, parsed.
fn quads_of(files: &[PathBuf]) -> serde_json::Value {
    let o = analyze_cmd()
        .args(["quads", "--format", "json"])
        .args(files)
        .output()
        .expect("analyze runs");
    assert!(
        o.status.success(),
        "analyze failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("analyze's JSON")
}

/// The count of the quadruple whose caller_func is `func`.
fn count_of(quads: &serde_json::Value, func: &str) -> u64 {
    quads
        .as_array()
        .into_iter()
        .flatten()
        .filter(|q| q["caller_func"] == func)
        .filter_map(|q| q["count"].as_u64())
        .sum()
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid as i32, sig) };
}

#[test]
fn root_rotation_bounds_what_kill_9_loses() {
    let Some((_port, bin)) =
        one_demo_test("root_rotation_bounds_what_kill_9_loses", "http_demo", None)
    else {
        return;
    };
    let demo = start_demo(&bin).expect("demo starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = record_args(demo.0.id(), &dir.path().join("rec.parquet"));
    args.extend(["--rotate-secs".into(), "1".into()]);
    let (rec, _rx) = start_record(&args, Stdio::null()).expect("record starts");
    // Until two segments are complete and a third is being written (a slow disk may make a
    // rotation take longer than its second), with a generous bound.
    let deadline = Instant::now() + Duration::from_secs(60);
    while files_ending(dir.path(), ".parquet").len() < 2 {
        assert!(Instant::now() < deadline, "record did not rotate");
        assert_eq!(http_get("/handle").expect("request"), 200);
    }
    for _ in 0..20 {
        assert_eq!(http_get("/handle").expect("request"), 200);
    }
    signal(rec.0.id(), libc::SIGKILL);
    drop(rec);
    // The target is unharmed: the kernel removed the probes with record's file descriptors.
    assert_eq!(http_get("/handle").expect("target still serves"), 200);

    let done = files_ending(dir.path(), ".parquet");
    assert!(done.len() >= 2, "completed segments: {done:?}");
    let quads = quads_of(&done);
    // Requests are sent one at a time, so at most the one in flight when the last complete
    // segment ended has its /handle recorded without its /echo.
    let (handle, echo) = (count_of(&quads, "/handle"), count_of(&quads, "/echo"));
    assert!(echo > 0 && (echo..=echo + 1).contains(&handle), "{quads}");
    // The segment in progress is the only loss, and analyze says why it cannot read it.
    let partial = files_ending(dir.path(), ".inprogress");
    assert!(partial.len() <= 1, "{partial:?}");
    for p in &partial {
        let o = analyze_cmd()
            .arg("quads")
            .arg(p)
            .output()
            .expect("analyze runs");
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&p.display().to_string()) && err.lines().count() <= 3,
            "{err}"
        );
    }
}

#[test]
fn root_second_interrupt_aborts_at_once() {
    let Some((_port, bin)) =
        one_demo_test("root_second_interrupt_aborts_at_once", "http_demo", None)
    else {
        return;
    };
    let demo = start_demo(&bin).expect("demo starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("rec.parquet");
    let (mut rec, _rx) =
        start_record(&record_args(demo.0.id(), &out), Stdio::null()).expect("record starts");
    drive_handle(4, 1).expect("requests");
    // Two signals sent at once would merge into one pending signal: the second is sent once
    // the first has been taken, while record is detaching and writing (which takes far longer).
    signal(rec.0.id(), libc::SIGINT);
    std::thread::sleep(Duration::from_millis(5));
    signal(rec.0.id(), libc::SIGINT);
    let status = rec.0.wait().expect("record exits");
    assert_eq!(status.code(), Some(130), "{status}");
    assert!(!out.exists());
    assert_eq!(
        files_ending(dir.path(), ".inprogress"),
        vec![dir.path().join("rec.parquet.inprogress")]
    );
}

#[test]
fn root_full_disk_stops_with_completed_segments_intact() {
    let Some((_port, bin)) = one_demo_test(
        "root_full_disk_stops_with_completed_segments_intact",
        "http_demo",
        None,
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).expect("mkdir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=384k", "quadtrace-test"])
        .arg(&mnt)
        .status()
        .expect("mount runs");
    assert!(mounted.success(), "mounting a small tmpfs");
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mnt.clone());

    let demo = start_demo(&bin).expect("demo starts");
    let mut args = record_args(demo.0.id(), &mnt.join("rec.parquet"));
    args.extend(["--rotate-size".into(), "32K".into()]);
    let (mut rec, rx) = start_record(&args, Stdio::null()).expect("record starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = rec.0.try_wait().expect("record's status") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "record did not stop on a full disk"
        );
        drive_handle(20, 4).expect("requests");
    };
    let stderr: Vec<String> = rx.try_iter().collect();
    let stderr = stderr.join("\n");
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("No space left on device") && stderr.contains("completed file"),
        "{stderr}"
    );
    let done = files_ending(&mnt, ".parquet");
    assert!(done.len() >= 2, "{done:?}");
    let quads = quads_of(&done);
    assert!(count_of(&quads, "/handle") > 0, "{quads}");
    assert_eq!(http_get("/handle").expect("target still serves"), 200);
}

#[test]
fn root_exe_target_that_restarts_keeps_being_recorded() {
    let Some((_port, bin)) = one_demo_test(
        "root_exe_target_that_restarts_keeps_being_recorded",
        "http_demo",
        Some("stripped"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("rec.parquet");
    let first = start_demo(&bin).expect("demo starts");
    let args: Vec<String> = vec![
        "--exe".into(),
        bin.path.display().to_string(),
        "-o".into(),
        out.display().to_string(),
    ];
    let (rec, rx) = start_record(&args, Stdio::null()).expect("record starts");
    drive_handle(5, 1).expect("requests to the first process");
    drop(first);
    let second = start_demo(&bin).expect("demo restarts");
    drive_handle(7, 1).expect("requests to the second process");
    let stderr = support::stop_record(rec, &rx).expect("record stops");
    drop(second);
    let quads = analyze_json(&out).expect("analyze");
    assert_eq!(count_of(&quads, "/handle"), 12, "{quads}\n{stderr}");
}
