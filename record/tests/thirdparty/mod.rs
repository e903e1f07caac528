//! Third-party Go services: Debian 12's own builds (Go 1.19, stripped: no `.symtab`, no DWARF)
//! of prometheus, prometheus-node-exporter, prometheus-blackbox-exporter and caddy, run on
//! loopback with the configurations of `testdata/thirdparty`, recorded together in one run.
//!
//! - prometheus scrapes node_exporter's `/metrics` and blackbox_exporter's `/probe` every second,
//!   from its scrape loops: calls that belong to no request;
//! - blackbox_exporter's `/probe?module=http_2xx&target=...` GETs the target while it serves;
//! - caddy reverse-proxies `/node/<path>` to node_exporter's `/<path>`.
//!
//! The packages come from scripts/setup.sh; without them the test fails and says so.
//! `late.rs`: node_exporter and caddy started after `record --exe` began and stopped before
//! it ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::support::{self, Guard};

mod late;

const NODE: &str = "127.0.0.1:19100";
const BLACKBOX: &str = "127.0.0.1:19115";
const CADDY: &str = "127.0.0.1:19080";
const PROMETHEUS: &str = "127.0.0.1:19090";

/// What blackbox_exporter probes, as prometheus.yml also asks it to.
const PROBE: &str = "/probe?module=http_2xx&target=http://127.0.0.1:19100/metrics";

/// Requests sent by the test to blackbox_exporter's /probe and to caddy's /node/metrics each.
const REQUESTS: u64 = 10;
/// How long prometheus scrapes (every second) under record.
const SCRAPE_WINDOW: Duration = Duration::from_secs(4);

/// Service names: record names a process after its executable's file name.
const S_PROMETHEUS: &str = "prometheus";
const S_NODE: &str = "prometheus-node-exporter";
const S_BLACKBOX: &str = "prometheus-blackbox-exporter";
const S_CADDY: &str = "caddy";

/// The Debian binary `name` under /usr/bin; its absence is a failure naming the fix.
fn debian_binary(name: &str) -> PathBuf {
    let path = Path::new("/usr/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup.sh (it installs Debian's prometheus, \
         prometheus-node-exporter, prometheus-blackbox-exporter and caddy)",
        path.display()
    );
    path
}

/// Starts `cmd` with its output in `log`, killed when the guard drops.
fn spawn(mut cmd: Command, log: &Path) -> Result<Guard> {
    let out = std::fs::File::create(log)?;
    let err = out.try_clone()?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .with_context(|| format!("starting {cmd:?}"))?;
    Ok(Guard(child))
}

/// Waits (at most 30 s) until `GET path` on `addr` answers 200, or the process exits.
fn wait_ready(guard: &mut Guard, addr: &str, path: &str, log: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(200) = support::http_get_at(addr, path) {
            return Ok(());
        }
        let log_text = || std::fs::read_to_string(log).unwrap_or_default();
        if let Some(status) = guard.0.try_wait()? {
            bail!(
                "{addr} exited with {status} before it answered:\n{}",
                log_text()
            );
        }
        if Instant::now() > deadline {
            bail!(
                "{addr}{path} did not answer 200 within 30 s:\n{}",
                log_text()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `GET path` on `addr` with its own connection: the body of a 200 answer.
fn http_get_body(addr: &str, path: &str) -> Result<String> {
    use std::io::{Read, Write};
    let mut s =
        std::net::TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    match resp.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.1 200") => Ok(body.to_string()),
        _ => bail!("{addr}{path}: {resp:?}"),
    }
}

/// Sends `sig` to the process of `guard`.
fn signal(guard: &Guard, sig: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe { libc::kill(guard.0.id() as i32, sig) };
}

/// node_exporter on [`NODE`], answering; answering once is one request it serves.
fn start_node(dir: &Path) -> Result<Guard> {
    let mut cmd = Command::new(debian_binary("prometheus-node-exporter"));
    // A few cheap collectors, so that a scrape is quick and the same everywhere.
    cmd.arg(format!("--web.listen-address={NODE}")).args([
        "--collector.disable-defaults",
        "--collector.loadavg",
        "--collector.meminfo",
        "--collector.time",
    ]);
    let log = dir.join("node_exporter.log");
    let mut node = spawn(cmd, &log)?;
    wait_ready(&mut node, NODE, "/metrics", &log)?;
    Ok(node)
}

/// caddy on [`CADDY`], proxying to node_exporter (which must be up): answering once is one
/// `/node/metrics` request, and so one call to node_exporter.
fn start_caddy(dir: &Path) -> Result<Guard> {
    let conf = support::repo().join("testdata/thirdparty");
    let mut cmd = Command::new(debian_binary("caddy"));
    cmd.args(["run", "--adapter", "caddyfile", "--config"])
        .arg(conf.join("Caddyfile"))
        // Caddy keeps its state under these: the temporary directory, not root's home.
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir)
        .env("XDG_CONFIG_HOME", dir);
    let log = dir.join("caddy.log");
    let mut caddy = spawn(cmd, &log)?;
    wait_ready(&mut caddy, CADDY, "/node/metrics", &log)?;
    Ok(caddy)
}

/// The four services, running; each is killed when this drops.
struct Services {
    node: Guard,
    blackbox: Guard,
    caddy: Guard,
    prometheus: Guard,
}

impl Services {
    fn start(dir: &Path) -> Result<Services> {
        let conf = support::repo().join("testdata/thirdparty");
        let node = start_node(dir)?;

        let mut cmd = Command::new(debian_binary("prometheus-blackbox-exporter"));
        cmd.arg(format!(
            "--config.file={}",
            conf.join("blackbox.yml").display()
        ))
        .arg(format!("--web.listen-address={BLACKBOX}"));
        let log = dir.join("blackbox_exporter.log");
        let mut blackbox = spawn(cmd, &log)?;
        wait_ready(&mut blackbox, BLACKBOX, "/", &log)?;

        let caddy = start_caddy(dir)?;

        // Last, so that its first scrapes find their targets up.
        let mut cmd = Command::new(debian_binary("prometheus"));
        cmd.arg(format!(
            "--config.file={}",
            conf.join("prometheus.yml").display()
        ))
        .arg(format!("--web.listen-address={PROMETHEUS}"))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("prometheus").display()
        ));
        let log = dir.join("prometheus.log");
        let mut prometheus = spawn(cmd, &log)?;
        wait_ready(&mut prometheus, PROMETHEUS, "/-/ready", &log)?;
        // Its first scrapes come a few seconds after it is ready (target discovery is
        // throttled): wait until it has scraped both targets, so that it scrapes under record.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let up = http_get_body(PROMETHEUS, "/api/v1/query?query=up").unwrap_or_default();
            if up.contains(r#""job":"node""#) && up.contains(r#""job":"blackbox""#) {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "prometheus did not scrape its targets within 30 s: {up}\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }

        Ok(Services {
            node,
            blackbox,
            caddy,
            prometheus,
        })
    }

    fn pids(&self) -> [u32; 4] {
        [
            self.node.0.id(),
            self.blackbox.0.id(),
            self.caddy.0.id(),
            self.prometheus.0.id(),
        ]
    }
}

/// The count of quadruple `[caller, caller_func, callee, callee_func]` (`None` is JSON null).
fn count(quads: &Value, key: [Option<&str>; 4]) -> Option<u64> {
    let field = |v: Option<&str>| v.map_or(Value::Null, |s| Value::String(s.into()));
    quads.as_array()?.iter().find_map(|q| {
        let same = q["caller"] == field(key[0])
            && q["caller_func"] == field(key[1])
            && q["callee"] == field(key[2])
            && q["callee_func"] == field(key[3]);
        if same {
            q["count"].as_u64()
        } else {
            None
        }
    })
}

#[test]
fn root_debian_third_party_services_give_their_quadruples() {
    if !support::require_root_or_skip("root_debian_third_party_services_give_their_quadruples") {
        return;
    }
    // Not the demo's port, but one recording at a time keeps the scrape timing undisturbed.
    let _port = support::demo_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let services = Services::start(dir.path()).expect("the third-party services start");

    let out = dir.path().join("rec.parquet");
    let mut args = Vec::new();
    for pid in services.pids() {
        args.extend(["-p".to_string(), pid.to_string()]);
    }
    args.extend(["-o".to_string(), out.display().to_string()]);
    // A request in flight when recording starts or stops is seen in part (say a /probe whose
    // call is recorded but not its start), which is right but makes counts inexact.
    // Prometheus's scrapes come by the clock: it is stopped (SIGSTOP) while record starts and
    // stops, after a pause that lets its scrapes in flight finish.
    let settle = Duration::from_millis(300);
    signal(&services.prometheus, libc::SIGSTOP);
    std::thread::sleep(settle);
    let (rec, rx) = support::start_record(&args, Stdio::null()).expect("record starts");
    signal(&services.prometheus, libc::SIGCONT);
    let started = Instant::now();
    for _ in 0..REQUESTS {
        assert_eq!(support::http_get_at(BLACKBOX, PROBE).expect("probe"), 200);
        assert_eq!(
            support::http_get_at(CADDY, "/node/metrics").expect("proxied metrics"),
            200
        );
    }
    if let Some(rest) = SCRAPE_WINDOW.checked_sub(started.elapsed()) {
        std::thread::sleep(rest);
    }
    signal(&services.prometheus, libc::SIGSTOP);
    let scraping = started.elapsed();
    std::thread::sleep(settle);
    let stderr = support::stop_record(rec, &rx).expect("record stops cleanly");
    drop(services);
    let quads = support::analyze_json(&out).expect("analyze");
    let mut context = format!("quadruples: {quads:#}\nrecord said:\n{stderr}");
    if quads.to_string().contains(NODE) {
        context.push_str(
            "\nnote: a callee is an address, not the service that served it: these servers \
             run http.Server.Serve(listener) and leave http.Server.Addr empty, so record \
             sees no listen address (see testdata/thirdparty/README.md)",
        );
    }

    let n = |key| count(&quads, key).unwrap_or(0);
    let caddy = n([
        Some(S_CADDY),
        Some("/node/metrics"),
        Some(S_NODE),
        Some("/metrics"),
    ]);
    let probes = n([
        Some(S_BLACKBOX),
        Some("/probe"),
        Some(S_NODE),
        Some("/metrics"),
    ]);
    let scrapes_node = n([Some(S_PROMETHEUS), None, Some(S_NODE), Some("/metrics")]);
    let scrapes_probe = n([Some(S_PROMETHEUS), None, Some(S_BLACKBOX), Some("/probe")]);
    let served = n([Some(S_NODE), Some("/metrics"), None, None]);

    // Exactly these five quadruples, nothing else.
    assert_eq!(quads.as_array().map(Vec::len), Some(5), "{context}");
    assert_eq!(caddy, REQUESTS, "{context}");
    // A scrape of each target every second while prometheus ran under record.
    let most = scraping.as_secs() + 2;
    for (what, scrapes) in [("node", scrapes_node), ("blackbox", scrapes_probe)] {
        assert!(
            (2..=most).contains(&scrapes),
            "{scrapes} scrapes of {what} in {scraping:?}\n{context}"
        );
    }
    // blackbox_exporter probes node_exporter once per /probe, the test's and prometheus's;
    // node_exporter serves every call of the three others.
    assert_eq!(probes, REQUESTS + scrapes_probe, "{context}");
    assert_eq!(served, caddy + probes + scrapes_node, "{context}");
    eprintln!("third-party services: {quads}");
}
