//! Cleartext HTTP/2 (h2c) with golang.org/x/net/http2: the server runs handlers itself and the
//! client has its own transport, yet the quadruples are the same as over HTTP/1.

use anyhow::{bail, Result};

use crate::support::{
    curl, demo_binaries, demo_port, expect_ok, record_demo_while, require_root_or_skip, DemoBinary,
    DEMO_ADDR,
};

const REQUESTS: usize = 20;

/// `curl --http2-prior-knowledge` (HTTP/2 from the first byte) or, with `upgrade`, `curl
/// --http2` (an HTTP/1 request that asks to upgrade: `Upgrade: h2c`). Returns the status.
fn curl_h2c(path: &str, upgrade: bool) -> Result<u16> {
    let how = if upgrade {
        "--http2"
    } else {
        "--http2-prior-knowledge"
    };
    match curl(&[how], &format!("http://{DEMO_ADDR}{path}"))? {
        (code, version) if version == "2" => Ok(code),
        (code, version) => bail!("not an HTTP/2 answer: {code} over HTTP/{version}"),
    }
}

fn record_h2c(bin: &DemoBinary, upgrade: bool) -> Result<serde_json::Value> {
    record_demo_while(
        bin,
        &[("DEMO_H2C", "1")],
        || curl_h2c("/echo", upgrade),
        || expect_ok(REQUESTS, "/handle", |p| curl_h2c(p, upgrade)),
    )
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
        for upgrade in [false, true] {
            let how = if upgrade {
                "upgrade"
            } else {
                "prior knowledge"
            };
            match record_h2c(&bin, upgrade) {
                Ok(q) if q == expected => eprintln!("ok {label} over h2c ({how})"),
                Ok(q) => failures.push(format!("{label} ({how}): got {q}")),
                Err(e) => failures.push(format!("{label} ({how}): {e:#}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
