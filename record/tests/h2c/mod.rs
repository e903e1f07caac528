//! Cleartext HTTP/2 (h2c) with golang.org/x/net/http2: the server runs handlers itself and the
//! client has its own transport, yet the quadruples are the same as over HTTP/1.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::support::{
    analyze_json, demo_binaries, demo_port, record_args, require_root_or_skip, start_record,
    stop_record, DemoBinary, Guard, DEMO_ADDR,
};

const REQUESTS: usize = 20;

/// `curl --http2-prior-knowledge`: HTTP/2 from the first byte, no upgrade. Returns the status.
fn curl_h2c(path: &str) -> Result<u16> {
    let o = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}|%{http_version}",
        ])
        .arg("--http2-prior-knowledge")
        .arg(format!("http://{DEMO_ADDR}{path}"))
        .output()
        .context("running curl")?;
    let out = String::from_utf8_lossy(&o.stdout).trim().to_string();
    match out.split_once('|') {
        Some((code, "2")) => code.parse().context("curl's status code"),
        _ => bail!("not an HTTP/2 answer: {out:?}"),
    }
}

fn record_h2c(bin: &DemoBinary) -> Result<serde_json::Value> {
    let child = Command::new(&bin.path)
        .env("DEMO_H2C", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.path.display()))?;
    let demo = Guard(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while curl_h2c("/echo").ok() != Some(200) {
        if Instant::now() > deadline {
            bail!("{} did not answer over h2c", bin.path.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("rec.parquet");
    let (rec, rx) = start_record(&record_args(demo.0.id(), &out), Stdio::null())?;
    for _ in 0..REQUESTS {
        let code = curl_h2c("/handle")?;
        if code != 200 {
            bail!("/handle answered {code}");
        }
    }
    let stderr = stop_record(rec, &rx)?;
    drop(demo);
    analyze_json(&out).map_err(|e| e.context(stderr))
}

#[test]
fn root_h2c_gives_the_same_quadruples() {
    if !require_root_or_skip("root_h2c_gives_the_same_quadruples") {
        return;
    }
    let _port = demo_port();
    let mut failures = Vec::new();
    for bin in demo_binaries()
        .into_iter()
        .filter(|b| b.service() == "http_demo")
    {
        let label = bin.label();
        let expected = serde_json::json!([
            {"caller": "http_demo", "caller_func": "/echo", "callee": null, "callee_func": null, "count": REQUESTS},
            {"caller": "http_demo", "caller_func": "/handle", "callee": "http_demo", "callee_func": "/echo", "count": REQUESTS},
        ]);
        match record_h2c(&bin) {
            Ok(q) if q == expected => eprintln!("ok {label} over h2c"),
            Ok(q) => failures.push(format!("{label}: got {q}")),
            Err(e) => failures.push(format!("{label}: {e:#}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
