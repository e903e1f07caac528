//! The host commands and settings a node is made of: `ip`, `iptables`, IP forwarding, and the
//! names and addresses every node uses (see node.rs for the layout).

use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// Where a node keeps its lock and what it must put back (ip_forward).
pub const STATE_DIR: &str = "/run/quadtrace-pods";
pub const FORWARD: &str = "/proc/sys/net/ipv4/ip_forward";
/// The VIPs' /24 and the whole node's /16.
const VIP_NET: &str = "198.19.0.0/24";
pub const NODE_NET: &str = "198.19.0.0/16";
/// The iptables tables a node has a chain `qt<pid>` in.
pub const TABLES: [&str; 2] = ["nat", "filter"];
/// Where the chains are hooked in: table, hook, the addresses that jump.
pub const HOOKS: [(&str, &str, &str); 3] = [
    ("nat", "OUTPUT", VIP_NET),
    ("nat", "PREROUTING", VIP_NET),
    ("filter", "FORWARD", NODE_NET),
];

/// Runs `prog args`, failing with its stderr.
pub fn run(prog: &str, args: &[&str]) -> Result<String> {
    let o = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {prog} (scripts/setup.sh installs it)"))?;
    if !o.status.success() {
        bail!(
            "{prog} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

pub fn ip(args: &[&str]) -> Result<String> {
    run("ip", args)
}

/// `iptables -w -t TABLE ARGS` (`-w`: wait for the xtables lock rather than fail).
pub fn iptables(table: &str, args: &[&str]) -> Result<String> {
    run("iptables", &[&["-w", "-t", table], args].concat())
}

/// What follows `-A`/`-I`/`-D` to hook `chain` in: `HOOK -d|-s NET -j CHAIN`.
pub fn hook_args<'a>(hook: &'a str, net: &'a str, chain: &'a str) -> [&'a str; 5] {
    // Into the VIPs by destination; out of the pods by source.
    let by = if hook == "FORWARD" { "-s" } else { "-d" };
    [hook, by, net, "-j", chain]
}

pub fn set_forward(value: &str) -> Result<()> {
    std::fs::write(FORWARD, value).with_context(|| format!("writing {FORWARD}"))
}
