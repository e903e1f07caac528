//! Host names: record's own, and that of another process's UTS namespace (a container's, which
//! in Kubernetes is the pod's name). The kernel shows a namespace's hostname only to tasks
//! inside it, so a short-lived thread joins the namespace, asks, and ends.

use std::fs::File;
use std::os::fd::AsRawFd;

use anyhow::{anyhow, Context, Result};

/// The `uname` fields record uses.
pub struct Uname {
    pub nodename: String,
    pub release: String,
}

/// `uname(2)` of the calling thread's UTS namespace.
pub fn uname() -> Result<Uname> {
    // SAFETY: utsname is plain old data; uname fills it with NUL-terminated strings.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable utsname.
    if unsafe { libc::uname(&mut u) } != 0 {
        return Err(std::io::Error::last_os_error()).context("uname");
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Ok(Uname {
        nodename: field(&u.nodename),
        release: field(&u.release),
    })
}

/// The hostname of the UTS namespace process `pid` is in.
pub fn hostname_of(pid: u32) -> Result<String> {
    let path = format!("/proc/{pid}/ns/uts");
    let ns = File::open(&path).with_context(|| format!("opening {path}"))?;
    // setns(CLONE_NEWUTS) moves only the calling thread; this one ends right after, so no other
    // thread of record ever runs in the process's namespace.
    let thread = std::thread::Builder::new()
        .name("uts-hostname".into())
        .spawn(move || -> Result<String> {
            // SAFETY: `ns` is an open namespace file descriptor, alive for this call.
            if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWUTS) } != 0 {
                return Err(std::io::Error::last_os_error())
                    .with_context(|| format!("joining the UTS namespace of pid {pid}"));
            }
            Ok(uname()?.nodename)
        })
        .context("starting a thread to read a hostname")?;
    thread
        .join()
        .map_err(|_| anyhow!("the thread reading the hostname of pid {pid} panicked"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_namespace_has_own_hostname() {
        let own = uname().expect("uname").nodename;
        assert!(!own.is_empty());
        // Joining a namespace needs CAP_SYS_ADMIN, even one's own.
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            assert_eq!(hostname_of(std::process::id()).expect("hostname"), own);
        }
        let err = hostname_of(u32::MAX).expect_err("no such process");
        assert!(format!("{err:#}").contains("/ns/uts"), "{err:#}");
    }
}
