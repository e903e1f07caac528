//! What record knows of each recorded process, read once from `/proc` when it first sees the
//! process: its service name (see [`naming`]), and where it runs (pid namespace, container,
//! pod, network namespace and addresses) for `analyze` to place its calls.

mod addrs;
mod flags;
mod naming;
mod otel;
mod podname;
mod procfs;
mod registry;
pub mod uts;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub use flags::ServiceFlags;
pub use naming::ServiceSource;
pub use registry::Processes;

use naming::{name_process, Clues};

/// One recorded process. Every field but `pid`, `service` and `service_source` is best
/// effort: a process that exits while it is read keeps what was read before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Its pid in record's (the host's) pid namespace, as events carry it.
    pub pid: u32,
    /// Its pid in its own pid namespace (a container's), when readable.
    pub ns_pid: Option<u32>,
    pub service: String,
    pub service_source: ServiceSource,
    /// Its executable; the target's when the process was gone before it could be read.
    pub exe: PathBuf,
    /// The hostname of its UTS namespace when that is not record's (a container's or pod's).
    pub pod_hostname: Option<String>,
    /// The 64-hex id of its container, from its cgroup path.
    pub container_id: Option<String>,
    /// The inode of its network namespace.
    pub netns: Option<u64>,
    /// The IP addresses of its network namespace.
    pub addrs: Vec<IpAddr>,
}

impl ProcessInfo {
    /// Reads what `/proc` tells of `pid`, a process of the binary `target_exe`, and names it.
    /// `own_uts` is the inode of record's UTS namespace. The second value is a warning for the
    /// user when its name fell back because its environment was unreadable.
    pub fn gather(
        pid: u32,
        target_exe: &Path,
        flags: &ServiceFlags,
        own_uts: Option<u64>,
    ) -> (ProcessInfo, Option<String>) {
        let exe = procfs::exe(pid).unwrap_or_else(|| target_exe.to_path_buf());
        let uts = procfs::ns_inode(Some(pid), "uts");
        let pod_hostname = match (uts, own_uts) {
            (Some(theirs), Some(ours)) if theirs != ours => uts::hostname_of(pid).ok(),
            _ => None,
        };
        let naming = name_process(
            flags,
            &Clues {
                pid,
                exe: &exe,
                pod_hostname: pod_hostname.as_deref(),
            },
            || std::fs::read(format!("/proc/{pid}/environ")),
        );
        let info = ProcessInfo {
            pid,
            ns_pid: procfs::ns_pid(pid),
            service: naming.service,
            service_source: naming.source,
            exe,
            pod_hostname,
            container_id: procfs::container_id(pid),
            netns: procfs::ns_inode(Some(pid), "net"),
            addrs: addrs::namespace_addrs(pid),
        };
        (info, naming.warning)
    }
}

/// The inode of record's own UTS namespace: a process in another one is in a container.
pub fn own_uts_namespace() -> Option<u64> {
    procfs::ns_inode(None, "uts")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_this_process() {
        let me = std::process::id();
        let flags = ServiceFlags::default();
        let (info, warning) = ProcessInfo::gather(me, Path::new("/x"), &flags, own_uts_namespace());
        assert_eq!(warning, None);
        assert_eq!(info.pid, me);
        assert!(info.ns_pid.is_some());
        assert_eq!(info.pod_hostname, None, "record's own UTS namespace");
        assert_eq!(info.netns, procfs::ns_inode(None, "net"));
        assert!(info.exe.is_absolute());
        assert!(
            info.addrs.iter().any(IpAddr::is_loopback),
            "{:?}",
            info.addrs
        );
        // Unless the test runs under OTEL_SERVICE_NAME, it is named by its executable.
        if std::env::var_os("OTEL_SERVICE_NAME").is_none()
            && std::env::var_os("OTEL_RESOURCE_ATTRIBUTES").is_none()
        {
            assert_eq!(info.service_source, ServiceSource::Exe);
            assert_eq!(info.service, crate::targets::service_name_of(&info.exe));
        }
    }

    #[test]
    fn a_process_that_is_gone_keeps_its_target_and_warns() {
        let flags = ServiceFlags::default();
        let (info, warning) = ProcessInfo::gather(u32::MAX, Path::new("/srv/app"), &flags, None);
        assert_eq!(info.service, "app");
        assert_eq!(info.service_source, ServiceSource::Exe);
        assert_eq!(info.exe, Path::new("/srv/app"));
        assert_eq!(
            (info.ns_pid, info.netns, &info.container_id),
            (None, None, &None)
        );
        assert!(info.addrs.is_empty());
        let w = warning.expect("warning");
        assert!(w.contains("environment is unreadable"), "{w}");
        // A flag names it without the environment: nothing to warn of.
        let flags = ServiceFlags::parse(&["svc".to_string()]).expect("valid");
        let (info, warning) = ProcessInfo::gather(u32::MAX, Path::new("/srv/app"), &flags, None);
        assert_eq!((info.service.as_str(), warning), ("svc", None));
    }
}
