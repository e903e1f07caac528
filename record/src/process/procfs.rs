//! Facts about a process read from `/proc/PID`: the pid it sees itself as, its container and
//! its namespaces. Each reader is best effort: `None` when the process is gone or the file is
//! not what was expected, since these facts only help to name and place the process.

use std::path::PathBuf;

/// Length of a container id as Docker, containerd and CRI-O write it into cgroup paths.
const CONTAINER_ID_LEN: usize = 64;

/// The pid the process has in its own pid namespace: the last value of `NSpid:` in
/// `/proc/PID/status` (the first is the host's; a process in a container has one value per
/// namespace level).
pub fn ns_pid(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_ns_pid(&status)
}

fn parse_ns_pid(status: &str) -> Option<u32> {
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    line.split_whitespace().last()?.parse().ok()
}

/// The process's executable as the kernel names it, without the ` (deleted)` it appends for a
/// file that is gone.
pub fn exe(pid: u32) -> Option<PathBuf> {
    let link = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    let shown = link.to_string_lossy();
    Some(match shown.strip_suffix(" (deleted)") {
        Some(path) => PathBuf::from(path),
        None => link,
    })
}

/// The inode of a namespace of the process (`kind`: `net`, `uts`, ...; `pid` `None`: record's
/// own): equal inodes are the same namespace.
pub fn ns_inode(pid: Option<u32>, kind: &str) -> Option<u64> {
    let who = pid.map_or_else(|| "self".to_string(), |p| p.to_string());
    let link = std::fs::read_link(format!("/proc/{who}/ns/{kind}")).ok()?;
    parse_ns_link(link.to_str()?, kind)
}

/// `net:[4026531840]` → 4026531840.
fn parse_ns_link(link: &str, kind: &str) -> Option<u64> {
    link.strip_prefix(kind)?
        .strip_prefix(":[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The id of the container the process runs in, from `/proc/PID/cgroup`.
pub fn container_id(pid: u32) -> Option<String> {
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    parse_container_id(&cgroup)
}

/// Runtimes put the 64-hex container id into the last component of the container's cgroup
/// path, bare (`/docker/ID`, `/kubepods/burstable/podUID/ID`) or wrapped (`docker-ID.scope`,
/// `cri-containerd-ID.scope`, `crio-ID.scope`). Lines are `hierarchy:controllers:path`; the
/// first line with such a component gives the id (the hierarchies of cgroup v1 agree).
fn parse_container_id(cgroup: &str) -> Option<String> {
    cgroup.lines().find_map(|line| {
        let path = line.splitn(3, ':').nth(2)?;
        path.rsplit('/').find_map(hex_run)
    })
}

/// The run of exactly [`CONTAINER_ID_LEN`] lower-case hex digits in `component`, if any.
fn hex_run(component: &str) -> Option<String> {
    component
        .split(|c: char| !matches!(c, '0'..='9' | 'a'..='f'))
        .find(|run| run.len() == CONTAINER_ID_LEN)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f4b1c9e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c";

    #[test]
    fn ns_pid_is_the_innermost() {
        let status = "Name:\tapp\nTgid:\t4242\nNSpid:\t4242\t17\t1\nPPid:\t1\n";
        assert_eq!(parse_ns_pid(status), Some(1));
        assert_eq!(parse_ns_pid("NSpid:\t4242\n"), Some(4242));
        assert_eq!(parse_ns_pid("Name:\tapp\n"), None);
        let me = std::process::id();
        assert!(ns_pid(me).is_some());
        assert_eq!(ns_pid(u32::MAX), None);
    }

    #[test]
    fn container_ids_of_the_usual_runtimes() {
        for cgroup in [
            format!("0::/system.slice/docker-{ID}.scope\n"),
            format!("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1a2b3c4d_5e6f_7a8b_9c0d_1e2f3a4b5c6d.slice/cri-containerd-{ID}.scope\n"),
            format!("12:pids:/docker/{ID}\n11:memory:/docker/{ID}\n"),
            format!("1:name=systemd:/kubepods/burstable/pod1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d/{ID}\n"),
            format!("0::/machine.slice/libpod-{ID}.scope/container\n"),
            format!("0::/crio-{ID}.scope\n"),
        ] {
            assert_eq!(parse_container_id(&cgroup).as_deref(), Some(ID), "{cgroup}");
        }
    }

    #[test]
    fn no_container_id() {
        let short = &ID[..63];
        let long = format!("{ID}a");
        for cgroup in [
            "0::/user.slice/user-0.slice/session-3.scope\n".to_string(),
            "0::/\n".to_string(),
            format!("0::/docker/{short}\n"),
            format!("0::/docker/{long}\n"),
            format!("0::/docker/{}\n", ID.to_uppercase()),
            "garbage".to_string(),
            String::new(),
        ] {
            assert_eq!(parse_container_id(&cgroup), None, "{cgroup}");
        }
        assert_eq!(container_id(u32::MAX), None);
    }

    #[test]
    fn namespace_links() {
        assert_eq!(parse_ns_link("net:[4026531840]", "net"), Some(4026531840));
        assert_eq!(parse_ns_link("uts:[4026531838]", "net"), None);
        assert_eq!(parse_ns_link("net:[x]", "net"), None);
        let me = std::process::id();
        assert_eq!(ns_inode(Some(me), "net"), ns_inode(None, "net"));
        assert!(ns_inode(None, "uts").is_some());
        assert_eq!(ns_inode(Some(u32::MAX), "net"), None);
    }

    #[test]
    fn own_executable() {
        let exe = exe(std::process::id()).expect("own exe");
        assert!(exe.is_absolute(), "{}", exe.display());
        assert_eq!(super::exe(u32::MAX), None);
    }
}
