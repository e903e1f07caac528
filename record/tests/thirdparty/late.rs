//! The third-party variant of a server that `record` never sees listening at its start or its
//! stop: node_exporter and caddy start after `record --exe ...` began and are stopped before it
//! ends. Listening sockets read from /proc when recording starts and stops miss node_exporter
//! both times, so caddy's calls can only be named `prometheus-node-exporter` (rather than
//! `127.0.0.1:19100`) if record follows listening sockets over the whole window.

use serde_json::Value;

use super::{debian_binary, start_caddy, start_node, CADDY, NODE, REQUESTS, S_CADDY, S_NODE};
use crate::support::{self, naming, outcome, outcome::quad, outcome::Checks, require_root_or_skip};

/// Pids of the processes already running `exe`: a stray instance (a systemd-started one)
/// would be recorded too and blur the counts.
fn running(exe: &std::path::Path) -> Vec<u32> {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe"))
                .ok()
                .as_deref()
                == Some(exe)
        })
        .collect()
}

#[test]
fn root_third_party_servers_started_and_stopped_within_the_recording_are_named() {
    const TEST: &str =
        "root_third_party_servers_started_and_stopped_within_the_recording_are_named";
    if !require_root_or_skip(TEST) {
        return;
    }
    let _port = support::demo_port();
    let (caddy_exe, node_exe) = (
        debian_binary("caddy"),
        debian_binary("prometheus-node-exporter"),
    );
    for exe in [&caddy_exe, &node_exe] {
        let strays = running(exe);
        assert!(
            strays.is_empty(),
            "{} already runs (pids {strays:?}): `record --exe` would record it too; stop it \
             (e.g. systemctl stop) and rerun",
            exe.display()
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("rec.parquet");
    let args: Vec<String> = vec![
        "--exe".into(),
        caddy_exe.display().to_string(),
        "--exe".into(),
        node_exe.display().to_string(),
        "-o".into(),
        out.display().to_string(),
    ];
    let mut pids = Vec::new();
    let outcome = outcome::record_while(&args, &out, || {
        let node = start_node(dir.path())?;
        let caddy = start_caddy(dir.path())?;
        pids = vec![caddy.0.id(), node.0.id()];
        for _ in 0..REQUESTS {
            let code = support::http_get_at(CADDY, "/node/metrics")?;
            anyhow::ensure!(code == 200, "caddy's /node/metrics answered {code}");
        }
        // Both gone before recording ends.
        drop(caddy);
        drop(node);
        std::thread::sleep(std::time::Duration::from_millis(300));
        Ok(())
    })
    .expect("recorded while caddy and node_exporter came and went");

    let n = REQUESTS as usize;
    let mut checks = Checks::new();
    // The readiness checks count: node_exporter's own (a /metrics it serves alone) and caddy's
    // (one proxied /node/metrics).
    checks.quads(
        &outcome.quads,
        &[
            quad(
                Some(S_CADDY),
                Some("/node/metrics"),
                Some(S_NODE),
                Some("/metrics"),
                n + 1,
            ),
            quad(Some(S_NODE), Some("/metrics"), None, None, n + 2),
        ],
    );
    let named_by_address = outcome
        .quads
        .as_array()
        .into_iter()
        .flatten()
        .any(|q| q["callee"] == Value::String(NODE.to_string()));
    checks.that(!named_by_address, || {
        format!("a callee is named {NODE}, the address, instead of {S_NODE}")
    });
    let node_pid = pids.get(1).copied();
    checks.calls_linked(outcome.calls(), |_| node_pid);
    let table = naming::table(
        &[
            naming::Named {
                label: "caddy".into(),
                pid: pids.first().copied().unwrap_or(0),
                how: "exe only".into(),
                expected: S_CADDY.into(),
                addrs: vec![CADDY.into()],
            },
            naming::Named {
                label: "node_exporter".into(),
                pid: node_pid.unwrap_or(0),
                how: "exe only".into(),
                expected: S_NODE.into(),
                addrs: vec![NODE.into()],
            },
        ],
        outcome.calls(),
    );
    checks.finish(TEST, &outcome, &table);
}
