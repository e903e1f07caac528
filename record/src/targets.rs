//! Which processes and binaries to record: `-p PID` and `--exe PATH` resolved to binaries on disk.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::process::ServiceFlags;

/// One executable to probe, and the processes of it being recorded.
#[derive(Debug, Clone)]
pub struct Target {
    /// Path the binary is read from and uprobes are attached to. For `-p` this is
    /// `/proc/PID/exe`, which stays valid even if the file was replaced or deleted on disk.
    pub open_path: PathBuf,
    /// The executable's path as the user knows it (for messages and metadata).
    pub exe: PathBuf,
    /// The binary's default service name (`--service` for it, else its file name); each
    /// process is named on its own (`crate::process`).
    pub service: String,
    /// `Some(pids)`: attach to exactly these processes (`-p`). `None`: every process running
    /// the binary, including ones started later (`--exe`).
    pub pids: Option<Vec<u32>>,
}

/// The file name of an executable, without the " (deleted)" the kernel appends to
/// `/proc/PID/exe` when the file is gone.
pub fn service_name_of(exe: &Path) -> String {
    let name = exe
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.trim_end_matches(" (deleted)").to_string()
}

/// Whether a process exists and is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state letter follows the parenthesised command name, which may itself hold spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Groups `-p` pids by the binary they run, so each binary is loaded and probed once.
pub fn from_pids(pids: &[u32], flags: &ServiceFlags) -> Result<Vec<Target>> {
    let mut by_binary: BTreeMap<(u64, u64), Target> = BTreeMap::new();
    for &pid in pids {
        if !is_alive(pid) {
            bail!("no process with pid {pid}");
        }
        let open_path = PathBuf::from(format!("/proc/{pid}/exe"));
        let meta = fs::metadata(&open_path).with_context(|| {
            format!(
                "reading the executable of pid {pid} ({})",
                open_path.display()
            )
        })?;
        let exe = fs::read_link(&open_path)
            .with_context(|| format!("resolving {}", open_path.display()))?;
        let target = by_binary
            .entry((meta.dev(), meta.ino()))
            .or_insert_with(|| Target {
                open_path: open_path.clone(),
                service: flags.binary_default(&exe),
                exe,
                pids: Some(Vec::new()),
            });
        if let Some(list) = target.pids.as_mut() {
            if !list.contains(&pid) {
                list.push(pid);
            }
        }
    }
    Ok(by_binary.into_values().collect())
}

/// One target per `--exe` path; every process running it is recorded.
pub fn from_exes(exes: &[PathBuf], flags: &ServiceFlags) -> Result<Vec<Target>> {
    let mut seen: Vec<(u64, u64)> = Vec::new();
    let mut out = Vec::new();
    for exe in exes {
        let canonical = fs::canonicalize(exe)
            .with_context(|| format!("{}: no such executable", exe.display()))?;
        let meta =
            fs::metadata(&canonical).with_context(|| format!("reading {}", canonical.display()))?;
        if !meta.is_file() {
            bail!("{} is not a regular file", canonical.display());
        }
        let id = (meta.dev(), meta.ino());
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        out.push(Target {
            open_path: canonical.clone(),
            service: flags.binary_default(&canonical),
            exe: canonical,
            pids: None,
        });
    }
    Ok(out)
}

/// Pids of the processes currently running the binary at `exe`.
pub fn running_pids(exe: &Path) -> Vec<u32> {
    let Ok(want) = fs::metadata(exe) else {
        return Vec::new();
    };
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::metadata(format!("/proc/{pid}/exe"))
                .map(|m| m.dev() == want.dev() && m.ino() == want.ino())
                .unwrap_or(false)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_name_is_the_file_name() {
        assert_eq!(
            service_name_of(Path::new("/usr/bin/http_demo")),
            "http_demo"
        );
        assert_eq!(
            service_name_of(Path::new("/tmp/x/gin_demo (deleted)")),
            "gin_demo"
        );
    }

    #[test]
    fn own_process_resolves_and_a_missing_pid_is_an_error() {
        let me = std::process::id();
        assert!(is_alive(me));
        let flags = ServiceFlags::parse(&["svc".to_string()]).expect("valid");
        let t = from_pids(&[me, me], &flags).expect("own pid");
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].pids.as_deref(), Some(&[me][..]));
        assert_eq!(t[0].service, "svc");
        assert!(running_pids(&t[0].exe).contains(&me));
        let err = from_pids(&[u32::MAX - 1], &flags).expect_err("no such pid");
        assert!(err.to_string().contains("no process with pid"), "{err}");
    }

    #[test]
    fn missing_exe_is_an_error() {
        let err = from_exes(
            &[PathBuf::from("/nonexistent/bin")],
            &ServiceFlags::default(),
        )
        .expect_err("missing");
        assert!(format!("{err:#}").contains("/nonexistent/bin"), "{err:#}");
    }
}
