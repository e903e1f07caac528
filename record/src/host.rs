//! The host object (`bpf/host.bpf.c`): loaded once per recording, it reports which recorded
//! process owns which TCP connection and listener, and which programs start. Record tells it
//! which processes and binaries are recorded through two maps.

use std::mem::MaybeUninit;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::{Context, Result};
use libbpf_rs::skel::{OpenSkel, Skel, SkelBuilder};
use libbpf_rs::{Link, MapCore, MapFlags, OpenObject};

use crate::bss;
use crate::raw_event::KIND_SLOTS;
use crate::skel::host::{HostSkel, HostSkelBuilder};

/// The loaded host object and its attached tracepoints.
pub struct HostProbes {
    pub skel: HostSkel<'static>,
    links: Vec<Link>,
}

/// The kernel's encoding of a device number (`MKDEV`: major in the high 12 bits of 32), which
/// is what the exec tracepoint sees in `i_sb->s_dev`; `stat` encodes it differently.
fn kernel_dev(dev: u64) -> u32 {
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    (major << 20) | (minor & 0xfffff)
}

impl HostProbes {
    /// Loads and attaches the tracepoints. `every_exec`: report every program started on the
    /// host (to find new targets by build id or, with `-a`, any Go HTTP program), not only
    /// those of binaries already probed.
    pub fn load(every_exec: bool) -> Result<HostProbes> {
        // As for the uprobe objects: kept until record exits, so one small leak is sound.
        let storage: &'static mut MaybeUninit<OpenObject> =
            Box::leak(Box::new(MaybeUninit::uninit()));
        let mut open = HostSkelBuilder::default()
            .open(storage)
            .context("opening the host BPF object")?;
        if let Some(rodata) = open.maps.rodata_data.as_deref_mut() {
            rodata.notice_every_exec = u32::from(every_exec);
        }
        let mut skel = open
            .load()
            .context("loading the socket and exec tracepoints into the kernel")?;
        skel.attach().context(
            "attaching the tracepoints sock:inet_sock_set_state and sched:sched_process_exec",
        )?;
        let links = [skel.links.sock_state.take(), skel.links.process_exec.take()]
            .into_iter()
            .flatten()
            .collect();
        Ok(HostProbes { skel, links })
    }

    /// Reports `pid`'s sockets from now on.
    pub fn add_process(&self, pid: u32) -> Result<()> {
        self.skel
            .maps
            .target_tgids
            .update(&pid.to_ne_bytes(), &[1], MapFlags::ANY)
            .with_context(|| format!("adding pid {pid} to the host probes"))
    }

    /// Makes every process that starts the binary at `path` a target at once, in the kernel,
    /// before it runs (so a listener it opens at start-up is seen).
    pub fn add_binary(&self, path: &Path) -> Result<()> {
        let meta =
            std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&meta.ino().to_ne_bytes());
        key[8..12].copy_from_slice(&kernel_dev(meta.dev()).to_ne_bytes());
        self.skel
            .maps
            .target_binaries
            .update(&key, &[1], MapFlags::ANY)
            .with_context(|| format!("adding {} to the host probes", path.display()))
    }

    /// Hands over the attached links (dropping them detaches).
    pub fn take_links(&mut self) -> Vec<Link> {
        std::mem::take(&mut self.links)
    }

    /// As [`crate::probes::ProbeSet::set_recording`].
    pub fn set_recording(&mut self, on: bool) {
        if let Some(bss) = self.skel.maps.bss_data.as_deref_mut() {
            bss::set_flag(&mut bss.recording, on);
        }
    }

    /// Ring-buffer reserve failures, indexed by raw event kind.
    pub fn lost(&self) -> [u64; KIND_SLOTS] {
        self.skel
            .maps
            .bss_data
            .as_deref()
            .map_or([0; KIND_SLOTS], |bss| bss::read_counters(&bss.lost))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_numbers_are_encoded_as_the_kernel_does() {
        // 8:1 (sda1) and 0:47 (an overlay); the kernel's MKDEV(ma, mi) = ma << 20 | mi.
        assert_eq!(kernel_dev(libc::makedev(8, 1)), (8 << 20) | 1);
        assert_eq!(kernel_dev(libc::makedev(0, 47)), 47);
        assert_eq!(kernel_dev(libc::makedev(259, 70000)), (259 << 20) | 70000);
    }
}
