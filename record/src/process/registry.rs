//! Every process of a recording, each read from `/proc` once, when record first sees it.

use std::collections::HashMap;
use std::path::PathBuf;

use super::{own_uts_namespace, ProcessInfo, ServiceFlags};

/// The processes seen so far, keyed by pid and target: a process that execs another recorded
/// binary is a new process of that target (new executable, maybe a new environment).
pub struct Processes {
    flags: ServiceFlags,
    own_uts: Option<u64>,
    /// Each target's executable, indexed like the targets: the one a process is known by
    /// when it is gone before it could be read.
    exes: Vec<PathBuf>,
    seen: Vec<(usize, ProcessInfo)>,
    index: HashMap<(u32, usize), usize>,
    /// The last key looked up and its place in `seen`: runs of one process's events are the
    /// rule, and this skips the hashing for them.
    last: Option<((u32, usize), usize)>,
}

impl Processes {
    /// No process yet, for targets whose executables are `exes`, named under `flags`.
    pub fn new(flags: ServiceFlags, exes: Vec<PathBuf>) -> Processes {
        Processes {
            flags,
            own_uts: own_uts_namespace(),
            exes,
            seen: Vec::new(),
            index: HashMap::new(),
            last: None,
        }
    }

    /// A target found while recording (its index is the next one).
    pub fn add_target(&mut self, exe: PathBuf) {
        self.exes.push(exe);
    }

    /// Process `pid` of target `target`, read from `/proc` the first time (then `true` is
    /// returned with it). A name that fell back because the environment was unreadable is
    /// said on stderr, once.
    pub fn get(&mut self, pid: u32, target: usize) -> (&ProcessInfo, bool) {
        let key = (pid, target);
        if let Some((k, i)) = self.last {
            if k == key {
                return (&self.seen[i].1, false);
            }
        }
        let (i, new) = match self.index.get(&key) {
            Some(&i) => (i, false),
            None => {
                let exe = self.exes.get(target).cloned().unwrap_or_default();
                let (info, warning) = ProcessInfo::gather(pid, &exe, &self.flags, self.own_uts);
                if let Some(w) = warning {
                    eprintln!("record: warning: {w}");
                }
                self.seen.push((target, info));
                self.index.insert(key, self.seen.len() - 1);
                (self.seen.len() - 1, true)
            }
        };
        self.last = Some((key, i));
        (&self.seen[i].1, new)
    }

    /// Every process seen, with its target's index, by pid.
    pub fn sorted(&self) -> Vec<(usize, &ProcessInfo)> {
        let mut all: Vec<(usize, &ProcessInfo)> = self.seen.iter().map(|(t, p)| (*t, p)).collect();
        all.sort_by_key(|(t, p)| (p.pid, *t));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_process_is_read_once_per_target() {
        let me = std::process::id();
        let flags = ServiceFlags::parse(&["svc".to_string()]).expect("valid");
        let mut p = Processes::new(flags, vec![PathBuf::from("/a"), PathBuf::from("/b")]);
        assert!(p.get(me, 0).1);
        assert!(!p.get(me, 0).1);
        assert_eq!(p.get(u32::MAX, 1).0.exe, PathBuf::from("/b"));
        assert!(!p.get(me, 0).1, "found by the index after another pid");
        assert!(p.get(me, 1).1, "another target is another process");
        let order: Vec<(u32, usize)> = p.sorted().iter().map(|(t, i)| (i.pid, *t)).collect();
        assert_eq!(order, [(me, 0), (me, 1), (u32::MAX, 1)]);
        assert_eq!(p.get(me, 1).0.service, "svc");
    }
}
