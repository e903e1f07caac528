//! `--service`: names given on the command line, for every recorded process (`NAME`), one
//! process (`PID=NAME`) or the processes of one executable (`EXE=NAME`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Result};

use super::naming::ServiceSource;
use crate::targets::service_name_of;

/// The parsed `--service` values. The most specific applies: a pid's, then an executable's by
/// path, then by file name, then the name for everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceFlags {
    all: Option<String>,
    by_pid: BTreeMap<u32, String>,
    /// Executable path (canonical when it exists here) → name.
    by_path: BTreeMap<String, String>,
    /// Executable file name → name.
    by_file_name: BTreeMap<String, String>,
}

impl ServiceFlags {
    /// Parses every `--service` value; empty names, a malformed pid and one process or
    /// executable given two names are errors.
    pub fn parse(values: &[String]) -> Result<ServiceFlags> {
        let mut flags = ServiceFlags::default();
        for value in values {
            flags.add(value)?;
        }
        Ok(flags)
    }

    fn add(&mut self, value: &str) -> Result<()> {
        let Some((key, name)) = value.split_once('=') else {
            let name = non_empty(value, value)?;
            if let Some(old) = self.all.as_ref().filter(|old| **old != name) {
                return Err(conflict("every recorded process", old, value));
            }
            self.all = Some(name);
            return Ok(());
        };
        let (key, name) = (key.trim(), non_empty(name, value)?);
        if key.is_empty() {
            bail!("--service {value:?}: give NAME, PID=NAME or EXE=NAME");
        }
        if key.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
            let pid = key.parse::<u32>().ok().filter(|&p| p > 0).ok_or_else(|| {
                anyhow::anyhow!(
                    "--service {value:?}: {key:?} is not a process id (an executable whose \
                     name starts so is given by its path, e.g. ./{key}=NAME)"
                )
            })?;
            return insert(&mut self.by_pid, pid, name, &format!("pid {pid}"), value);
        }
        if key.contains('/') {
            // The kernel shows executables by their canonical path; a path that does not exist
            // here (one inside a container) is kept as written, less any `.` and extra `/`.
            let path = std::fs::canonicalize(key)
                .unwrap_or_else(|_| Path::new(key).components().collect())
                .display()
                .to_string();
            let what = format!("executable {path}");
            return insert(&mut self.by_path, path, name, &what, value);
        }
        let what = format!("executable {key}");
        insert(&mut self.by_file_name, key.to_string(), name, &what, value)
    }

    /// The name the flags give process `pid`, whose executable is `exe`.
    pub fn for_process(&self, pid: u32, exe: &Path) -> Option<(&str, ServiceSource)> {
        match self.by_pid.get(&pid) {
            Some(name) => Some((name, ServiceSource::FlagPid)),
            None => self.for_binary(exe),
        }
    }

    /// The name the flags give every process of the executable `exe`.
    pub fn for_binary(&self, exe: &Path) -> Option<(&str, ServiceSource)> {
        let path = exe.display().to_string();
        let path = path.trim_end_matches(" (deleted)");
        self.by_path
            .get(path)
            .or_else(|| self.by_file_name.get(&service_name_of(exe)))
            .map(|n| (n.as_str(), ServiceSource::FlagExe))
            .or_else(|| self.all.as_deref().map(|n| (n, ServiceSource::Flag)))
    }

    /// The service of the binary `exe` as a whole (`service` in `quadtrace.targets`): the
    /// flags' name for all its processes, else its file name.
    pub fn binary_default(&self, exe: &Path) -> String {
        self.for_binary(exe)
            .map(|(name, _)| name.to_string())
            .unwrap_or_else(|| service_name_of(exe))
    }

    /// Fails on a `PID=NAME` or `EXE=NAME` that names nothing recorded: `recorded` holds each
    /// binary's executable and the pids running it now. A later process has a pid no one
    /// could have given, so this check is complete.
    pub fn check_used(&self, recorded: &[(&Path, Vec<u32>)]) -> Result<()> {
        for (pid, name) in &self.by_pid {
            if !recorded.iter().any(|(_, pids)| pids.contains(pid)) {
                bail!(
                    "--service {pid}={name}: pid {pid} is not recorded (give it with -p, or \
                     --exe its executable)"
                );
            }
        }
        let exes = || recorded.iter().map(|(exe, _)| *exe);
        for (path, name) in &self.by_path {
            if !exes().any(|exe| exe.display().to_string().trim_end_matches(" (deleted)") == path) {
                bail!("--service {path}={name}: no recorded executable is {path}");
            }
        }
        for (file_name, name) in &self.by_file_name {
            if !exes().any(|exe| &service_name_of(exe) == file_name) {
                bail!("--service {file_name}={name}: no recorded executable is named {file_name}");
            }
        }
        Ok(())
    }
}

fn non_empty(name: &str, value: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        bail!("--service {value:?}: the service name is empty");
    }
    Ok(name.to_string())
}

/// Adds `key`'s name; the same key named twice alike is fine, differently an error.
fn insert<K: Ord>(
    map: &mut BTreeMap<K, String>,
    key: K,
    name: String,
    what: &str,
    value: &str,
) -> Result<()> {
    if let Some(old) = map.get(&key).filter(|old| **old != name) {
        return Err(conflict(what, old, value));
    }
    map.insert(key, name);
    Ok(())
}

fn conflict(what: &str, old: &str, value: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "--service {value:?}: {what} is already named {old:?} (one name each; PID=NAME and \
         EXE=NAME name processes apart)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str]) -> Result<ServiceFlags> {
        ServiceFlags::parse(&values.iter().map(|v| v.to_string()).collect::<Vec<_>>())
    }

    fn err(values: &[&str]) -> String {
        format!("{:#}", parse(values).expect_err("invalid"))
    }

    #[test]
    fn the_most_specific_flag_applies() {
        let f = parse(&[
            "everyone",
            "42=answer",
            "app=by-name",
            "/nonexistent/dir/app=by-path",
            " 7 = seven ",
        ])
        .expect("valid");
        let app = Path::new("/nonexistent/dir/app");
        assert_eq!(
            f.for_process(42, app),
            Some(("answer", ServiceSource::FlagPid))
        );
        assert_eq!(
            f.for_process(7, app),
            Some(("seven", ServiceSource::FlagPid))
        );
        assert_eq!(
            f.for_process(1, app),
            Some(("by-path", ServiceSource::FlagExe))
        );
        assert_eq!(
            f.for_process(1, Path::new("/other/app (deleted)")),
            Some(("by-name", ServiceSource::FlagExe))
        );
        assert_eq!(
            f.for_process(1, Path::new("/usr/bin/other")),
            Some(("everyone", ServiceSource::Flag))
        );
        assert_eq!(
            f.for_binary(Path::new("/nonexistent/dir/app (deleted)")),
            Some(("by-path", ServiceSource::FlagExe))
        );
        assert_eq!(f.binary_default(Path::new("/usr/bin/other")), "everyone");
        let none = ServiceFlags::default();
        assert_eq!(none.for_process(42, app), None);
        assert_eq!(none.binary_default(app), "app");
    }

    #[test]
    fn paths_are_canonical_when_they_exist() {
        let dir = tempfile::tempdir().expect("tempdir");
        let exe = dir.path().join("bin");
        std::fs::write(&exe, b"").expect("write");
        let dotted = format!("{}/./bin=svc", dir.path().display());
        let f = parse(&[&dotted]).expect("valid");
        let canonical = std::fs::canonicalize(&exe).expect("canonical");
        assert_eq!(
            f.for_binary(&canonical),
            Some(("svc", ServiceSource::FlagExe))
        );
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(err(&[" "]).contains("empty"), "{}", err(&[" "]));
        assert!(err(&["42="]).contains("empty"));
        assert!(err(&["=svc"]).contains("PID=NAME"));
        for bad in ["12x=svc", "-3=svc", "0=svc", "99999999999=svc", "+=svc"] {
            assert!(
                err(&[bad]).contains("not a process id"),
                "{bad}: {}",
                err(&[bad])
            );
        }
        // A digit-led executable is given by path.
        assert!(parse(&["./7zip=svc"]).is_ok());
    }

    #[test]
    fn two_names_for_one_thing_are_errors() {
        assert!(err(&["a", "b"]).contains("already named \"a\""));
        assert!(err(&["1=a", "1=b"]).contains("pid 1"));
        assert!(err(&["app=a", "app=b"]).contains("executable app"));
        assert!(err(&["/x/app=a", "/x/./app=b"]).contains("already named"));
        // Repeating the same name is fine.
        let f = parse(&["a", "a", "1=x", "1=x", "app=y", "app=y"]).expect("repeats");
        assert_eq!(
            f.for_process(1, Path::new("/app")),
            Some(("x", ServiceSource::FlagPid))
        );
    }

    #[test]
    fn flags_must_name_something_recorded() {
        let exe = Path::new("/srv/app");
        let recorded = [(exe, vec![10, 11])];
        parse(&["svc", "10=a", "app=b", "/srv/app=c"])
            .expect("valid")
            .check_used(&recorded)
            .expect("all used");
        let e = parse(&["12=a"]).expect("valid").check_used(&recorded);
        assert!(format!("{e:?}").contains("pid 12 is not recorded"), "{e:?}");
        let e = parse(&["other=a"]).expect("valid").check_used(&recorded);
        assert!(format!("{e:?}").contains("named other"), "{e:?}");
        let e = parse(&["/srv/other=a"])
            .expect("valid")
            .check_used(&recorded);
        assert!(format!("{e:?}").contains("is /srv/other"), "{e:?}");
    }
}
