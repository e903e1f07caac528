//! Helpers for the end-to-end tests: finding demo builds, running them, driving HTTP load,
//! and running `record` and `analyze` as a user would.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub mod naming;
pub mod outcome;

pub const DEMO_ADDR: &str = "0.0.0.0:9932";

/// The demo listens on one fixed port, so the end-to-end tests take turns.
static DEMO_PORT: Mutex<()> = Mutex::new(());

/// Holds the demo port for the caller's test; a test that failed while holding it poisons
/// nothing that matters, so poisoning is ignored.
pub fn demo_port() -> MutexGuard<'static, ()> {
    DEMO_PORT.lock().unwrap_or_else(|p| p.into_inner())
}

/// `true` when the test may run; prints why not otherwise. Under `CI=true` a skip panics.
pub fn require_root_or_skip(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    let why = format!("{test}: skipped: needs root to load BPF programs");
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why} (a skip is a failure under CI=true)");
    }
    eprintln!("{why}");
    false
}

/// The repository root.
pub fn repo() -> PathBuf {
    // At run time: a test binary reused from another clone's build must not look in that clone.
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("..")
}

/// The `record` binary under test.
pub fn record_cmd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_record"))
}

/// The `analyze` binary, built by the same `cargo test --workspace` next to `record`.
pub fn analyze_cmd() -> Command {
    let record = PathBuf::from(env!("CARGO_BIN_EXE_record"));
    Command::new(record.with_file_name("analyze"))
}

/// The common start of a test on one demo build: skip unless root, hold the demo port, and
/// pick the first build of `service` (optionally of one `variant`). `None`: skipped.
pub fn one_demo_test(
    test: &str,
    service: &str,
    variant: Option<&str>,
) -> Option<(MutexGuard<'static, ()>, DemoBinary)> {
    if !require_root_or_skip(test) {
        return None;
    }
    let port = demo_port();
    let bin = demo_binaries()
        .into_iter()
        .find(|b| b.service() == service && variant.is_none_or(|v| b.variant == v))
        .unwrap_or_else(|| panic!("no {service} build"));
    Some((port, bin))
}

/// One demo build: `testdata/bin/go<V>/<dwarf|stripped>/<http_demo|gin_demo>`.
pub struct DemoBinary {
    pub path: PathBuf,
    pub go: String,
    pub variant: String,
}

impl DemoBinary {
    pub fn service(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn label(&self) -> String {
        format!("{} {} {}", self.go, self.variant, self.service())
    }
}

/// The Go versions to test, as `go<V>` folder names of `testdata/bin`: those in
/// `QUADTRACE_GO_VERSIONS` (set by scripts/test.sh), else every version built.
pub fn go_versions() -> Vec<String> {
    match std::env::var("QUADTRACE_GO_VERSIONS") {
        Ok(v) => v.split_whitespace().map(|v| format!("go{v}")).collect(),
        Err(_) => std::fs::read_dir(repo().join("testdata/bin"))
            .map(|d| {
                d.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Every demo build to test, of the versions of [`go_versions`]. None at all is a skip, or a
/// failure under CI.
pub fn demo_binaries() -> Vec<DemoBinary> {
    let bin_dir = repo().join("testdata/bin");
    let mut out = Vec::new();
    for go in go_versions() {
        for variant in ["dwarf", "stripped"] {
            for demo in ["http_demo", "gin_demo"] {
                let path = bin_dir.join(&go).join(variant).join(demo);
                assert!(
                    path.exists(),
                    "{} is missing: run scripts/build-demos.sh",
                    path.display()
                );
                out.push(DemoBinary {
                    path,
                    go: go.clone(),
                    variant: variant.to_string(),
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.go, &a.variant, a.service()).cmp(&(&b.go, &b.variant, b.service())));
    assert!(
        !out.is_empty(),
        "no demo builds under {}: run scripts/build-demos.sh",
        bin_dir.display()
    );
    out
}

/// A child process killed when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends `GET path` to the demo with its own connection and returns the status code.
pub fn http_get(path: &str) -> Result<u16> {
    http_get_at(DEMO_ADDR, path)
}

/// Sends `GET path` to `addr` with its own connection and returns the status code.
pub fn http_get_at(addr: &str, path: &str) -> Result<u16> {
    let mut s = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let status = resp.split_whitespace().nth(1).and_then(|c| c.parse().ok());
    status.with_context(|| format!("bad HTTP response {resp:?}"))
}

/// Starts a demo on its default address and waits until it answers.
pub fn start_demo(bin: &DemoBinary) -> Result<Guard> {
    start_demo_at(bin, DEMO_ADDR, None)
}

/// Starts a demo listening on `addr`, calling `downstream` (default: itself), and waits until
/// it answers.
pub fn start_demo_at(bin: &DemoBinary, addr: &str, downstream: Option<&str>) -> Result<Guard> {
    let mut cmd = Command::new(&bin.path);
    cmd.env("DEMO_ADDR", addr);
    if let Some(d) = downstream {
        cmd.env("DEMO_DOWNSTREAM", d);
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.path.display()))?;
    let guard = Guard(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if http_get_at(addr, "/echo").is_ok() {
            return Ok(guard);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{} did not answer on {addr}", bin.path.display())
}

/// `record -p PID -o OUT`.
pub fn record_args(pid: u32, out: &Path) -> Vec<String> {
    vec![
        "-p".into(),
        pid.to_string(),
        "-o".into(),
        out.display().to_string(),
    ]
}

/// Starts `record` and waits until it has attached (it says "recording to").
pub fn start_record(args: &[String], stdout: Stdio) -> Result<(Guard, mpsc::Receiver<String>)> {
    let mut cmd = record_cmd();
    cmd.args(args);
    start_recorder(cmd, stdout)
}

/// Like [`start_record`] for a command that ends by `exec`ing `record` (e.g. in a namespace of
/// its own): the child's pid is record's once it runs.
pub fn start_recorder(mut cmd: Command, stdout: Stdio) -> Result<(Guard, mpsc::Receiver<String>)> {
    let mut child = cmd
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .context("starting record")?;
    let stderr = child.stderr.take().context("record's stderr")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let guard = Guard(child);
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                let attached = line.contains("recording to");
                seen.push(line);
                if attached {
                    return Ok((guard, rx));
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    bail!("record did not start:\n{}", seen.join("\n"))
}

/// Sends `n` requests to /handle: half serially, half from `threads` threads at once.
pub fn drive_handle(n: usize, threads: usize) -> Result<()> {
    let serial = n / 2;
    for _ in 0..serial {
        let code = http_get("/handle")?;
        if code != 200 {
            bail!("/handle answered {code}");
        }
    }
    let rest = n - serial;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let count = rest / threads + usize::from(t < rest % threads);
            std::thread::spawn(move || -> Result<()> {
                for _ in 0..count {
                    let code = http_get("/handle")?;
                    if code != 200 {
                        bail!("/handle answered {code}");
                    }
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join()
            .map_err(|_| anyhow::anyhow!("load thread panicked"))??;
    }
    Ok(())
}

/// Sends SIGINT and waits for a clean exit.
pub fn stop_record(mut guard: Guard, rx: &mpsc::Receiver<String>) -> Result<String> {
    let pid = guard.0.id() as i32;
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let status = guard.0.wait().context("waiting for record")?;
    // The stderr reader thread hangs up at end of file, right after the process exits.
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        lines.push(line);
    }
    let text = lines.join("\n");
    if !status.success() {
        bail!("record exited with {status}:\n{text}");
    }
    Ok(text)
}

/// `analyze quads --format json FILE`, parsed, with only the quadruple and its count: the
/// error counts and latencies it also has vary from run to run.
pub fn analyze_json(file: &Path) -> Result<serde_json::Value> {
    let o = analyze_cmd()
        .args(["quads", "--format", "json"])
        .arg(file)
        .output()
        .context("running analyze")?;
    if !o.status.success() {
        bail!("analyze failed: {}", String::from_utf8_lossy(&o.stderr));
    }
    let mut quads: serde_json::Value =
        serde_json::from_slice(&o.stdout).context("analyze's JSON")?;
    const KEEP: [&str; 5] = ["caller", "caller_func", "callee", "callee_func", "count"];
    for quad in quads.as_array_mut().into_iter().flatten() {
        if let Some(fields) = quad.as_object_mut() {
            fields.retain(|key, _| KEEP.contains(&key.as_str()));
        }
    }
    Ok(quads)
}

/// What one recorded run produced.
pub struct DemoRun {
    pub quads: serde_json::Value,
    pub events: u64,
    pub bytes: u64,
    pub record_stderr: String,
    pub live_stdout: String,
}

fn events_in(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| {
            l.split("wrote ")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

impl DemoRun {
    /// Runs the demo, records it while `n` /handle requests are served, and analyzes the file.
    pub fn record_handle_requests(bin: &DemoBinary, n: usize, threads: usize) -> Result<DemoRun> {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("rec.parquet");
        let demo = start_demo(bin)?;
        let args = record_args(demo.0.id(), &out);
        let (rec, rx) = start_record(&args, Stdio::null())?;
        drive_handle(n, threads)?;
        let record_stderr = stop_record(rec, &rx)?;
        drop(demo);
        let bytes = std::fs::metadata(&out)
            .with_context(|| format!("{} not written", out.display()))?
            .len();
        let quads = analyze_json(&out)?;
        Ok(DemoRun {
            quads,
            events: events_in(&record_stderr),
            bytes,
            record_stderr,
            live_stdout: String::new(),
        })
    }

    /// Like [`DemoRun::record_handle_requests`] with `--live`, keeping record's stdout.
    pub fn record_handle_requests_live(bin: &DemoBinary, n: usize) -> Result<DemoRun> {
        let dir = tempfile::tempdir()?;
        let out = dir.path().join("rec.parquet");
        let demo = start_demo(bin)?;
        let mut args = record_args(demo.0.id(), &out);
        args.push("--live".into());
        let (mut rec, rx) = start_record(&args, Stdio::piped())?;
        let mut stdout = rec.0.stdout.take().context("record's stdout")?;
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        drive_handle(n, 1)?;
        let record_stderr = stop_record(rec, &rx)?;
        let live_stdout = reader
            .join()
            .map_err(|_| anyhow::anyhow!("stdout reader panicked"))?;
        Ok(DemoRun {
            quads: serde_json::Value::Null,
            events: events_in(&record_stderr),
            bytes: 0,
            record_stderr,
            live_stdout,
        })
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost, made at test time.
pub fn make_test_certificate(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args([
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("running openssl")?;
    if !status.success() {
        bail!("openssl failed: {status}");
    }
    Ok((cert, key))
}

/// `curl` over TLS (HTTP/2 negotiated), trusting `ca`; returns the status code.
fn curl_tls(ca: &Path, path: &str) -> Result<u16> {
    let ca = ca.display().to_string();
    let url = format!("https://127.0.0.1:9932{path}");
    curl(&["--http2", "--cacert", &ca], &url).map(|(code, _)| code)
}

/// `curl -s` of `url` with `args`: the status code and the HTTP version it answered with.
pub fn curl(args: &[&str], url: &str) -> Result<(u16, String)> {
    let o = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}|%{http_version}",
        ])
        .args(args)
        .arg(url)
        .output()
        .context("running curl")?;
    let out = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let (code, version) = out
        .split_once('|')
        .with_context(|| format!("curl printed {out:?}"))?;
    let code = code.parse().context("curl's status code")?;
    Ok((code, version.to_string()))
}

/// Runs `bin` with `env`, waits until `ready()` answers 200, records it while `drive()` sends
/// its requests, and returns `analyze quads --format json` of the recording.
pub fn record_demo_while(
    bin: &DemoBinary,
    env: &[(&str, &str)],
    ready: impl Fn() -> Result<u16>,
    drive: impl FnOnce() -> Result<()>,
) -> Result<serde_json::Value> {
    let child = Command::new(&bin.path)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.path.display()))?;
    let demo = Guard(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while ready().ok() != Some(200) {
        if Instant::now() > deadline {
            bail!("{} did not answer", bin.path.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("rec.parquet");
    let (rec, rx) = start_record(&record_args(demo.0.id(), &out), Stdio::null())?;
    drive()?;
    let stderr = stop_record(rec, &rx)?;
    drop(demo);
    analyze_json(&out).map_err(|e| e.context(stderr))
}

/// Sends `n` requests with `get` and fails on any answer but 200.
pub fn expect_ok(n: usize, path: &str, get: impl Fn(&str) -> Result<u16>) -> Result<()> {
    for _ in 0..n {
        let code = get(path)?;
        if code != 200 {
            bail!("{path} answered {code}");
        }
    }
    Ok(())
}

/// Runs `bin` over TLS (its downstream call too, so both sides speak HTTP/2), records it while
/// `n` /handle requests are served, and returns `analyze quads --format json`. With `x_net`,
/// the demo's client hands its HTTP/2 calls to golang.org/x/net/http2's transport.
pub fn record_tls_handle_requests(
    bin: &DemoBinary,
    cert: &Path,
    key: &Path,
    n: usize,
    x_net: bool,
) -> Result<serde_json::Value> {
    let cert_s = cert.display().to_string();
    let key_s = key.display().to_string();
    let env = [
        ("DEMO_TLS_CERT", cert_s.as_str()),
        ("DEMO_TLS_KEY", key_s.as_str()),
        ("DEMO_TLS_CA", cert_s.as_str()),
        ("DEMO_DOWNSTREAM", "https://127.0.0.1:9932"),
        ("DEMO_TLS_XNET", if x_net { "1" } else { "0" }),
    ];
    record_demo_while(
        bin,
        &env,
        || curl_tls(cert, "/echo"),
        || expect_ok(n, "/handle", |p| curl_tls(cert, p)),
    )
}
