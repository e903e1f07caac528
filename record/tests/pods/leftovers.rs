//! What an earlier run left behind when it died before its `Node` dropped (a `kill -9`, an
//! abort): network namespaces with whatever still runs in them, the nat and filter chains and
//! their jumps, and `net.ipv4.ip_forward` as it was before. Everything a `Node` makes is named `qt<pid>`
//! after the test process that made it, so what belongs to a process that no longer runs can
//! be told apart from what a running test (this one, or a test process of another clone) owns.
//! A pid reused since is taken for alive and its leftovers kept: harmless, they use other names.

use std::path::Path;

use super::host::{ip, iptables, set_forward, FORWARD, STATE_DIR, TABLES};

/// The pid in a name `qt<pid>` or `qt<pid>-...`, if it is one.
fn owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("qt")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let after = &rest[digits.len()..];
    if digits.is_empty() || !(after.is_empty() || after.starts_with('-')) {
        return None;
    }
    digits.parse().ok()
}

/// `true` when the name is a dead process's.
fn dead(name: &str) -> bool {
    owner(name).is_some_and(|pid| {
        pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
    })
}

/// Kills whatever runs in namespace `ns`: a pod's program outlives the test that started it.
pub fn kill_inside(ns: &str) {
    let pids = ip(&["netns", "pids", ns]).unwrap_or_default();
    for pid in pids
        .split_whitespace()
        .filter_map(|p| p.parse::<i32>().ok())
    {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// Removes every leftover of dead runs, saying on stderr what it removed.
pub fn remove() {
    let namespaces = ip(&["netns", "list"]).unwrap_or_default();
    for ns in namespaces
        .lines()
        .filter_map(|l| l.split_whitespace().next())
    {
        if dead(ns) {
            kill_inside(ns);
            match ip(&["netns", "del", ns]) {
                Ok(_) => eprintln!("pods: removed namespace {ns} left by a dead run"),
                Err(e) => eprintln!("pods: could not remove leftover namespace {ns}: {e:#}"),
            }
        }
    }

    for table in TABLES {
        remove_chains(table);
    }

    // ip_forward as it was before a dead run turned it on.
    let Ok(states) = std::fs::read_dir(STATE_DIR) else {
        return;
    };
    for entry in states.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(run) = name.strip_suffix(".ip_forward") else {
            continue;
        };
        if dead(run) {
            let was = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if set_forward(was.trim()).is_ok() {
                eprintln!(
                    "pods: put {FORWARD} back to {} after a dead run",
                    was.trim()
                );
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The chains of dead runs in `table`, with the jumps into them.
fn remove_chains(table: &str) {
    let rules = iptables(table, &["-S"]).unwrap_or_default();
    let chains: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.strip_prefix("-N "))
        .filter(|c| dead(c))
        .collect();
    for chain in chains {
        // The jumps into it first: a chain still referenced cannot be deleted.
        for jump in rules
            .lines()
            .filter(|l| l.starts_with("-A ") && l.ends_with(&format!("-j {chain}")))
        {
            let args: Vec<&str> = jump["-A ".len()..].split_whitespace().collect();
            let _ = iptables(table, &[&["-D"], args.as_slice()].concat());
        }
        let _ = iptables(table, &["-F", chain]);
        match iptables(table, &["-X", chain]) {
            Ok(_) => eprintln!("pods: removed {table} chain {chain} left by a dead run"),
            Err(e) => eprintln!("pods: could not remove leftover {table} chain {chain}: {e:#}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::owner;

    #[test]
    fn names_carry_their_owner() {
        assert_eq!(owner("qt1234-frontend"), Some(1234));
        assert_eq!(owner("qt1234"), Some(1234));
        assert_eq!(owner("qt-frontend"), None);
        assert_eq!(owner("qt12x"), None);
        assert_eq!(owner("kube-proxy"), None);
    }
}
