//! End-to-end tests: real Go demo services under real uprobes, recorded by the `record` binary
//! and read back by the `analyze` binary, as a user would run them.
//!
//! They need root (BPF) and the demo binaries built by `scripts/build-demos.sh`. Without either
//! they skip with a printed reason, except under `CI=true`, where a skip is a failure.

mod grpc;
mod h2c;
mod pods;
mod reliability;
mod routes;
mod support;
mod thirdparty;

use std::time::Duration;

use support::{demo_binaries, demo_port, require_root_or_skip, DemoRun};

/// Requests per run: half sent one after another, half from several threads at once.
const REQUESTS: usize = 60;
const CONCURRENCY: usize = 4;

#[test]
fn root_demo_matrix_gives_exactly_two_quadruples() {
    if !require_root_or_skip("root_demo_matrix_gives_exactly_two_quadruples") {
        return;
    }
    let _port = demo_port();
    let binaries = demo_binaries();
    let mut failures = Vec::new();
    for bin in &binaries {
        let label = bin.label();
        match DemoRun::record_handle_requests(bin, REQUESTS, CONCURRENCY) {
            Ok(run) => {
                let service = bin.service();
                let expected = serde_json::json!([
                    {"caller": service, "caller_func": "/echo", "callee": null, "callee_func": null, "count": REQUESTS},
                    {"caller": service, "caller_func": "/handle", "callee": service, "callee_func": "/echo", "count": REQUESTS},
                ]);
                if run.quads != expected {
                    failures.push(format!(
                        "{label}: got {}\nrecord said:\n{}",
                        run.quads, run.record_stderr
                    ));
                } else {
                    eprintln!(
                        "ok {label}: {} events, {} bytes ({:.1} B/event), {:.1} events/request",
                        run.events,
                        run.bytes,
                        run.bytes as f64 / run.events as f64,
                        run.events as f64 / REQUESTS as f64
                    );
                }
            }
            Err(e) => failures.push(format!("{label}: {e:#}")),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        failures.is_empty(),
        "{} of {} binaries failed:\n{}",
        failures.len(),
        binaries.len(),
        failures.join("\n\n")
    );
}

#[test]
fn root_live_output_has_the_original_form() {
    let Some((_port, bin)) =
        support::one_demo_test("root_live_output_has_the_original_form", "http_demo", None)
    else {
        return;
    };
    let run = DemoRun::record_handle_requests_live(&bin, 3).expect("recording");
    let handle = "caller: http_demo\n  caller_path: /handle\ncallee:\n  method: GET\n  host: 0.0.0.0:9932\n  url: /echo\n\n";
    let echo = "caller: http_demo\n  caller_path: /echo\ncallee: none\n\n";
    assert_eq!(
        run.live_stdout.matches(handle).count(),
        3,
        "live output:\n{}",
        run.live_stdout
    );
    assert_eq!(
        run.live_stdout.matches(echo).count(),
        3,
        "live output:\n{}",
        run.live_stdout
    );
}

#[test]
fn root_bad_targets_are_one_line_errors() {
    if !require_root_or_skip("root_bad_targets_are_one_line_errors") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("x.parquet");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["-p".into(), "4000000".into()],
            "no process with pid 4000000",
        ),
        (vec!["--exe".into(), "/bin/ls".into()], "not a Go binary"),
        (
            vec!["--exe".into(), "/nonexistent/x".into()],
            "/nonexistent/x",
        ),
    ];
    for (args, want) in cases {
        let o = support::record_cmd()
            .args(&args)
            .arg("-o")
            .arg(&out)
            .output()
            .expect("run record");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(
            err.contains(want),
            "{args:?}: stderr {err:?} lacks {want:?}"
        );
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: not one line: {err}"
        );
        assert!(!out.exists(), "{args:?} left a file behind");
    }
}

#[test]
fn root_exe_records_processes_started_after_record() {
    let Some((_port, bin)) = support::one_demo_test(
        "root_exe_records_processes_started_after_record",
        "gin_demo",
        Some("stripped"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("rec.parquet");
    let args = vec![
        "--exe".to_string(),
        bin.path.display().to_string(),
        "-o".into(),
        out.display().to_string(),
    ];
    let (rec, rx) =
        support::start_record(&args, std::process::Stdio::null()).expect("record starts");
    let demo = support::start_demo(&bin).expect("demo starts");
    support::drive_handle(10, 2).expect("requests");
    let stderr = support::stop_record(rec, &rx).expect("record stops cleanly");
    drop(demo);
    let quads = support::analyze_json(&out).expect("analyze");
    let count = |func: &str| {
        quads
            .as_array()
            .and_then(|a| a.iter().find(|q| q["caller_func"] == func))
            .map(|q| q["count"].clone())
    };
    assert_eq!(count("/handle"), Some(10.into()), "{quads}\n{stderr}");
    // The ten calls, plus the readiness check start_demo makes once the demo listens.
    assert_eq!(count("/echo"), Some(11.into()), "{quads}\n{stderr}");
    assert_eq!(quads.as_array().map(Vec::len), Some(2), "{quads}");
}

#[test]
fn root_record_ends_with_a_valid_file_when_its_target_exits() {
    let Some((_port, bin)) = support::one_demo_test(
        "root_record_ends_with_a_valid_file_when_its_target_exits",
        "http_demo",
        None,
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("rec.parquet");
    let demo = support::start_demo(&bin).expect("demo starts");
    let args = support::record_args(demo.0.id(), &out);
    let (mut rec, rx) =
        support::start_record(&args, std::process::Stdio::null()).expect("record starts");
    support::drive_handle(5, 1).expect("requests");
    drop(demo); // kills the target
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = rec.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "record did not stop after its target exited"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr: Vec<String> = rx.try_iter().collect();
    assert!(status.success(), "{stderr:?}");
    assert!(
        stderr.iter().any(|l| l.contains("every target exited")),
        "{stderr:?}"
    );
    let quads = support::analyze_json(&out).expect("analyze");
    assert_eq!(quads[0]["count"], 5, "{quads}");
    assert_eq!(quads[1]["count"], 5, "{quads}");
}

#[test]
fn root_unprivileged_record_names_what_is_missing() {
    if !require_root_or_skip("root_unprivileged_record_names_what_is_missing") {
        return;
    }
    // A copy that user nobody can execute (the build directory may be private to root).
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = dir.path().join("record");
    std::fs::copy(env!("CARGO_BIN_EXE_record"), &exe).expect("copy record");
    use std::os::unix::fs::PermissionsExt;
    for p in [dir.path(), exe.as_path()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let o = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(&exe)
        .args(["-p", "1", "-o", "/tmp/quadtrace-unprivileged.parquet"])
        .output()
        .expect("setpriv runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("needs root (or CAP_BPF and CAP_PERFMON)"),
        "{err}"
    );
}

#[test]
fn root_duration_and_sigterm_both_leave_a_valid_recording() {
    let Some((_port, bin)) = support::one_demo_test(
        "root_duration_and_sigterm_both_leave_a_valid_recording",
        "http_demo",
        None,
    ) else {
        return;
    };
    let demo = support::start_demo(&bin).expect("demo starts");
    let dir = tempfile::tempdir().expect("tempdir");
    for how in ["--duration", "SIGTERM"] {
        let out = dir.path().join(format!("{how}.parquet"));
        let mut args = support::record_args(demo.0.id(), &out);
        if how == "--duration" {
            args.extend(["--duration".to_string(), "3".to_string()]);
        }
        let (mut rec, rx) =
            support::start_record(&args, std::process::Stdio::null()).expect("record starts");
        support::drive_handle(2, 1).expect("requests");
        if how == "SIGTERM" {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(rec.0.id() as i32, libc::SIGTERM) };
        }
        let status = rec.0.wait().expect("wait");
        let stderr: Vec<String> = rx.iter().collect();
        assert!(status.success(), "{how}: {stderr:?}");
        let reason = if how == "SIGTERM" {
            "interrupted"
        } else {
            "duration reached"
        };
        assert!(
            stderr.iter().any(|l| l.contains(reason)),
            "{how}: {stderr:?}"
        );
        let quads = support::analyze_json(&out).expect("analyze");
        assert_eq!(quads.as_array().map(Vec::len), Some(2), "{how}: {quads}");
        assert!(
            quads
                .as_array()
                .into_iter()
                .flatten()
                .all(|q| q["count"] == 2),
            "{how}: {quads}"
        );
    }
}

#[test]
fn root_tls_and_http2_give_the_same_quadruples() {
    if !require_root_or_skip("root_tls_and_http2_give_the_same_quadruples") {
        return;
    }
    let _port = demo_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) =
        support::make_test_certificate(dir.path()).expect("openssl makes a certificate");
    let mut failures = Vec::new();
    let http_demos = demo_binaries()
        .into_iter()
        .filter(|b| b.service() == "http_demo");
    for bin in http_demos {
        // Plain net/http, then with golang.org/x/net/http2's transport under net/http's.
        for x_net in [false, true] {
            let label = format!("{}{}", bin.label(), if x_net { " x/net" } else { "" });
            match support::record_tls_handle_requests(&bin, &cert, &key, 20, x_net) {
                Ok(quads) => {
                    let expected = serde_json::json!([
                        {"caller": "http_demo", "caller_func": "/echo", "callee": null, "callee_func": null, "count": 20},
                        {"caller": "http_demo", "caller_func": "/handle", "callee": "http_demo", "callee_func": "/echo", "count": 20},
                    ]);
                    if quads != expected {
                        failures.push(format!("{label}: {quads}"));
                    }
                }
                Err(e) => failures.push(format!("{label}: {e:#}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn root_two_processes_in_one_recording_name_the_downstream_service() {
    let Some((_port, front)) = support::one_demo_test(
        "root_two_processes_in_one_recording_name_the_downstream_service",
        "http_demo",
        None,
    ) else {
        return;
    };
    let back = demo_binaries()
        .into_iter()
        .find(|b| b.service() == "gin_demo")
        .expect("a gin_demo build");
    let back_proc =
        support::start_demo_at(&back, "127.0.0.1:9934", None).expect("downstream starts");
    let front_proc =
        support::start_demo_at(&front, "127.0.0.1:9933", Some("http://127.0.0.1:9934"))
            .expect("front starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("rec.parquet");
    let args: Vec<String> = vec![
        "-p".into(),
        front_proc.0.id().to_string(),
        "-p".into(),
        back_proc.0.id().to_string(),
        "-o".into(),
        out.display().to_string(),
    ];
    let (rec, rx) =
        support::start_record(&args, std::process::Stdio::null()).expect("record starts");
    for _ in 0..20 {
        assert_eq!(
            support::http_get_at("127.0.0.1:9933", "/handle").expect("request"),
            200
        );
    }
    support::stop_record(rec, &rx).expect("record stops");
    let quads = support::analyze_json(&out).expect("analyze");
    let expected = serde_json::json!([
        {"caller": "gin_demo", "caller_func": "/echo", "callee": null, "callee_func": null, "count": 20},
        {"caller": "http_demo", "caller_func": "/handle", "callee": "gin_demo", "callee_func": "/echo", "count": 20},
    ]);
    assert_eq!(quads, expected);
}

#[test]
fn root_labeled_workload_at_concurrency_8_meets_the_accuracy_targets() {
    if !require_root_or_skip("root_labeled_workload_at_concurrency_8_meets_the_accuracy_targets") {
        return;
    }
    // The benchmark script is the one judge of accuracy: it records the labeled workload, runs
    // `analyze calls` and, with --check, fails unless every pattern meets its target.
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/bench-accuracy.sh");
    let o = std::process::Command::new(script)
        .args(["--check", "8"])
        .env("ACCURACY_NO_CHANNELS", "0")
        .output()
        .expect("bench-accuracy.sh runs");
    let out = format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success() && out.contains("CHECK OK"), "{out}");
    eprintln!("{out}");
}
