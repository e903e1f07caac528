//! A Kubernetes node in miniature, made of what a kubelet and kube-proxy make on a real one: a
//! network namespace per pod joined to the host by a veth pair, and virtual IPs that iptables
//! DNATs to a pod's address (kube-proxy's iptables mode), so that a caller calls one address and
//! the callee serves on another. Programs run in a pod with its own hostname when asked (own
//! UTS namespace, as a pod has) and an environment of their own.
//!
//! Addresses, in 198.19.0.0/16 (a benchmarking range that no real network routes):
//! - pod i (1, 2, ...): 198.19.i.2/24 on `eth0` in namespace `qt<pid>-<pod>`, 198.19.i.1/24 on
//!   the host side `qt<pid>h<i>`, the pod's default route through it, `lo` up;
//! - VIPs 198.19.0.k:80 (k ≥ 10), DNAT'd to a pod's ip:port in nat `OUTPUT` (the host's own
//!   calls) and `PREROUTING` (calls from pods), through the chain `qt<pid>`. The whole
//!   198.19.0.0/24 is routed into a sink namespace `qt<pid>-vips` (host side `qt<pid>v`,
//!   198.19.0.1/24, which is also the source of the host's calls): a VIP without a rule leads
//!   nowhere, never out of the host's default route;
//! - forwarding is on while the node lives (calls between pods pass through the host), and a
//!   filter chain `qt<pid>` at the head of `FORWARD` drops whatever a pod sends outside
//!   198.19.0.0/16: traffic stays between the namespaces the test made.
//!
//! Every name carries `qt<test pid>`. Dropping the `Node` kills its programs and removes all of
//! it, on failure and panic too; [`Node::close`] does the same and also checks that nothing is
//! left. One node at a time on the host (a lock file): they share the addresses.

use std::cell::RefCell;
use std::fs::File;
use std::net::Ipv4Addr;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::host::{
    hook_args, ip, iptables, run, set_forward, FORWARD, HOOKS, NODE_NET, STATE_DIR, TABLES,
};
use super::launch::{Launch, Started};
use super::leftovers;

/// One pod: its namespace and address.
#[derive(Clone)]
pub struct Pod {
    pub name: String,
    pub ns: String,
    pub ip: Ipv4Addr,
    /// The host side of its veth pair.
    host_if: String,
}

/// Holds the host-wide lock while alive (flock, released when the file closes).
struct HostLock {
    _file: File,
}

impl HostLock {
    fn take() -> Result<HostLock> {
        std::fs::create_dir_all(STATE_DIR)?;
        let f = File::create(Path::new(STATE_DIR).join("lock"))?;
        // SAFETY: flock on a descriptor we own; it blocks until the lock is ours.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            bail!("flock: {}", std::io::Error::last_os_error());
        }
        Ok(HostLock { _file: f })
    }
}

pub struct Node {
    prefix: String,
    pods: Vec<Pod>,
    /// The sink namespace of the VIP range, once made.
    sink: Option<String>,
    /// The tables the chain `qt<pid>` was made in.
    chains: Vec<&'static str>,
    /// What ip_forward was, when this node changed it.
    forward_was: Option<String>,
    running: RefCell<Vec<(u32, Child)>>,
    started: RefCell<Vec<Started>>,
    logs: tempfile::TempDir,
    _lock: HostLock,
}

impl Node {
    /// A node with no pod yet: the VIP range routed to its sink, the chains hooked in,
    /// forwarding on. Leftovers of dead runs are removed first.
    pub fn new() -> Result<Node> {
        let lock = HostLock::take()?;
        leftovers::remove();
        let mut node = Node {
            prefix: format!("qt{}", std::process::id()),
            pods: Vec::new(),
            sink: None,
            chains: Vec::new(),
            forward_was: None,
            running: RefCell::new(Vec::new()),
            started: RefCell::new(Vec::new()),
            logs: tempfile::tempdir()?,
            _lock: lock,
        };
        // On error, dropping `node` removes what was made.
        node.set_up()?;
        Ok(node)
    }

    fn set_up(&mut self) -> Result<()> {
        let sink = format!("{}-vips", self.prefix);
        let host_if = format!("{}v", self.prefix);
        ip(&["netns", "add", &sink])?;
        self.sink = Some(sink.clone());
        ip(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", "eth0", "netns", &sink,
        ])?;
        ip(&["-n", &sink, "link", "set", "eth0", "up"])?;
        ip(&["addr", "add", "198.19.0.1/24", "dev", &host_if])?;
        ip(&["link", "set", &host_if, "up"])?;

        for table in TABLES {
            iptables(table, &["-N", &self.prefix])?;
            self.chains.push(table);
        }
        iptables(
            "filter",
            &["-A", &self.prefix, "!", "-d", NODE_NET, "-j", "DROP"],
        )?;
        for (table, hook, net) in HOOKS {
            // First in FORWARD, so that no broader rule lets a pod's packet out before it.
            let op = if hook == "FORWARD" { "-I" } else { "-A" };
            iptables(
                table,
                &[&[op][..], &hook_args(hook, net, &self.prefix)].concat(),
            )?;
        }

        // Calls from one pod to another pass through the host: forwarding.
        let was = std::fs::read_to_string(FORWARD)?.trim().to_string();
        if was != "1" {
            // Written down before it changes, so that a run that dies can be undone.
            std::fs::write(
                Path::new(STATE_DIR).join(format!("{}.ip_forward", self.prefix)),
                &was,
            )?;
            self.forward_was = Some(was);
            set_forward("1")?;
        }
        Ok(())
    }

    /// Makes pod `name`: namespace, veth pair, addresses, default route.
    pub fn add_pod(&mut self, name: &str) -> Result<Pod> {
        let i = self.pods.len() + 1;
        let pod = Pod {
            name: name.to_string(),
            ns: format!("{}-{name}", self.prefix),
            ip: Ipv4Addr::new(198, 19, i as u8, 2),
            host_if: format!("{}h{i}", self.prefix),
        };
        ip(&["netns", "add", &pod.ns])?;
        self.pods.push(pod.clone());
        ip(&[
            "link",
            "add",
            &pod.host_if,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            &pod.ns,
        ])?;
        let n = ["-n", pod.ns.as_str()];
        ip(&[
            &n[..],
            &["addr", "add", &format!("{}/24", pod.ip), "dev", "eth0"],
        ]
        .concat())?;
        ip(&[&n[..], &["link", "set", "eth0", "up"]].concat())?;
        ip(&[&n[..], &["link", "set", "lo", "up"]].concat())?;
        let gateway = format!("198.19.{i}.1");
        ip(&[&n[..], &["route", "add", "default", "via", &gateway]].concat())?;
        ip(&["addr", "add", &format!("{gateway}/24"), "dev", &pod.host_if])?;
        ip(&["link", "set", &pod.host_if, "up"])?;
        Ok(pod)
    }

    /// Virtual IP `198.19.0.<k>:80` for `pod`'s `port`, as kube-proxy makes a Service's.
    /// Returns `198.19.0.<k>:80`.
    pub fn add_vip(&mut self, k: u8, pod: &Pod, port: u16) -> Result<String> {
        assert!(k >= 10, "198.19.0.1-9 are the node's own");
        let vip = format!("198.19.0.{k}");
        let to = format!("{}:{port}", pod.ip);
        iptables(
            "nat",
            &[
                "-A",
                &self.prefix,
                "-d",
                &format!("{vip}/32"),
                "-p",
                "tcp",
                "--dport",
                "80",
                "-j",
                "DNAT",
                "--to-destination",
                &to,
            ],
        )?;
        Ok(format!("{vip}:80"))
    }

    /// Starts `launch` in `pod` and waits (at most 10 s) until it is the program itself (not
    /// the `sh` that sets the hostname: it `exec`s, keeping the pid) and listens on its port.
    /// Returns its pid.
    pub fn start(&self, pod: &Pod, launch: &Launch<'_>) -> Result<u32> {
        let log_path = self.logs.path().join(format!("{}.log", pod.name));
        let log = File::options().create(true).append(true).open(&log_path)?;
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &pod.ns]);
        match launch.hostname {
            Some(host) => {
                cmd.args([
                    "unshare",
                    "--uts",
                    "sh",
                    "-c",
                    r#"hostname "$1" && exec "$2""#,
                ])
                .args(["sh", host])
                .arg(launch.bin);
            }
            None => {
                cmd.arg(launch.bin);
            }
        }
        // Its own environment only: an OTEL_SERVICE_NAME of the test's must not name it.
        cmd.env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {} in {}", launch.bin.display(), pod.ns))?;
        let pid = child.id();
        self.running.borrow_mut().push((pid, child));
        let log_text = || std::fs::read_to_string(&log_path).unwrap_or_default();
        let bin = launch.bin.canonicalize()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let is_bin = std::fs::read_link(format!("/proc/{pid}/exe")).ok() == Some(bin.clone());
            if is_bin && listens(pid, launch.port) {
                break;
            }
            if let Some(status) = self.exited(pid) {
                bail!(
                    "{} in {} exited with {status}:\n{}",
                    launch.bin.display(),
                    pod.ns,
                    log_text()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{} in {} did not listen on :{} within 10 s:\n{}",
                    launch.bin.display(),
                    pod.ns,
                    launch.port,
                    log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let pid_s = pid.to_string();
        let hostname = run("nsenter", &["--target", &pid_s, "--uts", "hostname"])?
            .trim()
            .to_string();
        self.started.borrow_mut().push(Started {
            pod: pod.name.clone(),
            pid,
            hostname,
            own_uts: launch.hostname.is_some(),
            env: launch.env.clone(),
        });
        Ok(pid)
    }

    /// The exit status of `pid` if it has exited.
    fn exited(&self, pid: u32) -> Option<std::process::ExitStatus> {
        let mut running = self.running.borrow_mut();
        let (_, child) = running.iter_mut().find(|(p, _)| *p == pid)?;
        child.try_wait().ok().flatten()
    }

    /// Stops program `pid` as a pod's is stopped: SIGTERM, then SIGKILL after 5 s.
    pub fn stop(&self, pid: u32) -> Result<()> {
        let mut running = self.running.borrow_mut();
        let at = running
            .iter()
            .position(|(p, _)| *p == pid)
            .with_context(|| format!("no program {pid} runs on this node"))?;
        let (_, mut child) = running.remove(at);
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                child.kill()?;
                child.wait()?;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Every program started so far, stopped ones too.
    pub fn started(&self) -> Vec<Started> {
        self.started.borrow().clone()
    }

    /// `GET url` with curl from inside `pod`; the status code.
    pub fn curl(&self, pod: &Pod, url: &str) -> Result<u16> {
        let out = run(
            "ip",
            &[
                "netns",
                "exec",
                &pod.ns,
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "10",
                url,
            ],
        )?;
        out.trim()
            .parse()
            .with_context(|| format!("curl printed {out:?}"))
    }

    /// Removes everything now and checks that nothing of this node is left: the namespaces,
    /// the chains, the links; ip_forward as it was.
    pub fn close(mut self) -> Result<()> {
        self.tear_down();
        let mut left = Vec::new();
        let namespaces = ip(&["netns", "list"])?;
        left.extend(
            namespaces
                .lines()
                .filter(|l| l.starts_with(&format!("{}-", self.prefix)))
                .map(|l| format!("namespace {l}")),
        );
        for table in TABLES {
            let rules = iptables(table, &["-S"])?;
            left.extend(
                rules
                    .lines()
                    .filter(|l| l.split_whitespace().any(|w| w == self.prefix))
                    .map(|l| format!("{table} rule {l}")),
            );
        }
        let links = ip(&["-o", "link", "show"])?;
        left.extend(
            links
                .lines()
                .filter_map(|l| l.split(": ").nth(1))
                .filter(|name| name.starts_with(&self.prefix))
                .map(|name| format!("link {name}")),
        );
        if !left.is_empty() {
            bail!("the node left behind:\n{}", left.join("\n"));
        }
        Ok(())
    }

    /// Kills the programs and removes everything made, each step whatever the others did.
    fn tear_down(&mut self) {
        let complain = |what: &str, r: Result<String>| {
            if let Err(e) = r {
                eprintln!("pods: cleanup: {what}: {e:#}");
            }
        };
        for (_, mut child) in self.running.borrow_mut().drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
        let pods: Vec<Pod> = self.pods.drain(..).collect();
        for pod in &pods {
            leftovers::kill_inside(&pod.ns);
            // Deleting one end of a veth pair deletes both at once; a namespace's own removal
            // is deferred by the kernel, and the next node reuses the names.
            complain(&pod.host_if, ip(&["link", "del", &pod.host_if]));
            complain(&pod.ns, ip(&["netns", "del", &pod.ns]));
        }
        if let Some(sink) = self.sink.take() {
            complain(
                "vip link",
                ip(&["link", "del", &format!("{}v", self.prefix)]),
            );
            complain(&sink, ip(&["netns", "del", &sink]));
        }
        let chains = std::mem::take(&mut self.chains);
        // The jumps first: a chain still referenced cannot be deleted.
        for (table, hook, net) in HOOKS.iter().filter(|(t, ..)| chains.contains(t)) {
            let jump = hook_args(hook, net, &self.prefix);
            complain(hook, iptables(table, &[&["-D"][..], &jump].concat()));
        }
        for table in chains {
            complain("flush chain", iptables(table, &["-F", &self.prefix]));
            complain("delete chain", iptables(table, &["-X", &self.prefix]));
        }
        if let Some(was) = self.forward_was.take() {
            complain("ip_forward", set_forward(&was).map(|()| String::new()));
            let state = Path::new(STATE_DIR).join(format!("{}.ip_forward", self.prefix));
            let _ = std::fs::remove_file(state);
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.tear_down();
    }
}

/// Whether `pid` has a TCP socket listening on `port` in its network namespace.
fn listens(pid: u32, port: u16) -> bool {
    let port_hex = format!(":{port:04X}");
    ["tcp", "tcp6"].iter().any(|f| {
        let table = std::fs::read_to_string(format!("/proc/{pid}/net/{f}")).unwrap_or_default();
        table.lines().skip(1).any(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            // local_address is column 1, st column 3; 0A is LISTEN.
            cols.len() > 3 && cols[1].ends_with(&port_hex) && cols[3] == "0A"
        })
    })
}

/// A copy named `app` of the stripped `tiers` build of the newest Go version tested, in
/// `dir`: every pod runs this one file, so only deployment tells the services apart.
pub fn app_in(dir: &Path) -> PathBuf {
    let newest = crate::support::go_versions()
        .into_iter()
        .filter(|v| v.starts_with("go1."))
        .max_by_key(|v| {
            v.trim_start_matches("go")
                .split('.')
                .map(|n| n.parse::<u32>().unwrap_or(0))
                .collect::<Vec<_>>()
        })
        .expect("no Go build under testdata/bin: run scripts/build-demos.sh");
    let tiers = crate::support::repo()
        .join("testdata/bin")
        .join(newest)
        .join("stripped/tiers");
    assert!(
        tiers.exists(),
        "{} is missing: run scripts/build-demos.sh",
        tiers.display()
    );
    let app = dir.join("app");
    std::fs::copy(&tiers, &app).expect("copy tiers to app");
    app
}
