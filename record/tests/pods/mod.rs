//! End-to-end tests in the shape of a Kubernetes node (issue 9): several pods run the same
//! stripped Go binary (`testdata/tiers`, copied as `app`), each in its own network namespace,
//! named only by how it is deployed (`OTEL_SERVICE_NAME`, `service.name` in
//! `OTEL_RESOURCE_ATTRIBUTES`, a pod-shaped hostname), and they call each other through
//! virtual IPs that iptables DNATs to the pod, as kube-proxy does. What they check:
//!
//! - every process gets its service name, though all run one executable called `app`;
//! - a call to a VIP is named after the service that served it (`backend`, not
//!   `198.19.0.10:80`), and `analyze calls` links it to the request it caused;
//! - servers listening on the same port in different pods are told apart;
//! - a server that restarts, or starts after `record` began, still names its callers' calls;
//! - `record -a` finds the pods' programs by itself;
//! - tiers recorded by a `record` each, as on hosts of their own, roll up as one (fleet.rs).
//!
//! Traffic goes only to the pods' addresses and the VIPs, all inside namespaces the test
//! makes (node.rs), and every loop is bounded in count and time.

mod fleet;
mod host;
mod launch;
mod leftovers;
mod node;
mod record_all;
mod restart;
mod three_tiers;
mod two_pods;

use std::path::{Path, PathBuf};
use std::sync::MutexGuard;

use anyhow::{bail, Result};

use crate::support::{self, naming::Named, outcome::quad};
use launch::{Launch, Started};
use node::{Node, Pod};

/// Requests driven per test; an even number (the restart test drives half before, half after).
const REQUESTS: usize = 20;

/// `n` GETs of `path` on `addr`, each its own connection, each answered 200.
fn get_ok(addr: &str, path: &str, n: usize) -> Result<()> {
    for i in 0..n {
        let code = support::http_get_at(addr, path)?;
        if code != 200 {
            bail!(
                "GET {addr}{path} (request {} of {n}) answered {code}",
                i + 1
            );
        }
    }
    Ok(())
}

/// The naming-table row of a started program: what names it, as the test deployed it.
fn named(s: &Started, expected: &str, addrs: &[&str]) -> Named {
    let mut how: Vec<String> = s
        .env
        .iter()
        .filter(|(k, _)| k.starts_with("OTEL_"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if s.own_uts {
        how.push(format!("hostname {}", s.hostname));
    }
    if how.is_empty() {
        how.push("exe only".to_string());
    }
    Named {
        label: s.pod.clone(),
        pid: s.pid,
        how: how.join("; "),
        expected: expected.to_string(),
        addrs: addrs.iter().map(|a| a.to_string()).collect(),
    }
}

/// `record` arguments: `-p PID` for each pid, then `-o out`.
fn record_pids(pids: &[u32], out: &std::path::Path) -> Vec<String> {
    let mut args: Vec<String> = pids
        .iter()
        .flat_map(|p| ["-p".to_string(), p.to_string()])
        .collect();
    args.extend(["-o".to_string(), out.display().to_string()]);
    args
}

/// What every test of a node starts from: one recording at a time on the host (as the other
/// end-to-end tests), a scratch directory holding the `app` binary, and the node.
struct Setup {
    _port: MutexGuard<'static, ()>,
    dir: tempfile::TempDir,
    app: PathBuf,
    node: Node,
}

/// The setup of test `test`; none when it is to be skipped (not root).
fn setup(test: &str) -> Option<Setup> {
    if !support::require_root_or_skip(test) {
        return None;
    }
    let _port = support::demo_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let app = node::app_in(dir.path());
    let node = Node::new().expect("the node is set up");
    Some(Setup {
        _port,
        dir,
        app,
        node,
    })
}

/// The two-pod shape of most tests: pod `frontend`, named by `OTEL_SERVICE_NAME`, serves /a by
/// calling /b of pod `backend`, named by its Deployment-shaped hostname, through backend's VIP.
struct FrontBack {
    front: Pod,
    back: Pod,
    front_vip: String,
    back_vip: String,
    /// `TIERS_CALLS` of the frontend.
    calls: String,
}

impl FrontBack {
    /// The pods and their VIPs; no program started yet.
    fn new(node: &mut Node) -> Result<FrontBack> {
        let front = node.add_pod("frontend")?;
        let back = node.add_pod("backend")?;
        let back_vip = node.add_vip(10, &back, 8080)?;
        let front_vip = node.add_vip(20, &front, 8080)?;
        let calls = format!("/a=http://{back_vip}/b");
        Ok(FrontBack {
            front,
            back,
            front_vip,
            back_vip,
            calls,
        })
    }

    fn frontend<'a>(&'a self, app: &'a Path) -> Launch<'a> {
        Launch::new(app)
            .env("OTEL_SERVICE_NAME", "frontend")
            .env("TIERS_CALLS", &self.calls)
    }

    fn backend<'a>(&self, app: &'a Path) -> Launch<'a> {
        Launch::new(app).hostname("backend-5d9c7b8f4-x2x7q")
    }

    /// The quadruples of `n` requests to /a.
    fn quads(n: usize) -> [serde_json::Value; 2] {
        [
            quad(Some("frontend"), Some("/a"), Some("backend"), Some("/b"), n),
            quad(Some("backend"), Some("/b"), None, None, n),
        ]
    }
}
