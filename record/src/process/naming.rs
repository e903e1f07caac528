//! Which service a process is: the first of `--service`, its OpenTelemetry environment, its
//! Kubernetes workload and its executable's file name that gives a name. Two pods running one
//! binary on a node are two services; the executable alone cannot tell them apart.

use std::io;
use std::path::Path;

use super::flags::ServiceFlags;
use super::{otel, podname};
use crate::targets::service_name_of;

/// Where a process's service name came from (`service_source` in `quadtrace.processes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceSource {
    /// `--service NAME`.
    Flag,
    /// `--service PID=NAME`.
    FlagPid,
    /// `--service EXE=NAME`.
    FlagExe,
    /// `OTEL_SERVICE_NAME` in the process's environment.
    OtelServiceName,
    /// `service.name` in `OTEL_RESOURCE_ATTRIBUTES` in the process's environment.
    OtelResourceAttributes,
    /// The workload named by the pod-shaped hostname of the process's UTS namespace.
    K8sPod,
    /// The executable's file name.
    Exe,
}

impl ServiceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceSource::Flag => "flag",
            ServiceSource::FlagPid => "flag_pid",
            ServiceSource::FlagExe => "flag_exe",
            ServiceSource::OtelServiceName => "otel_service_name",
            ServiceSource::OtelResourceAttributes => "otel_resource_attributes",
            ServiceSource::K8sPod => "k8s_pod",
            ServiceSource::Exe => "exe",
        }
    }
}

/// What one process is called, and a warning for the user when its environment, which could
/// have named it, was unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    pub service: String,
    pub source: ServiceSource,
    pub warning: Option<String>,
}

/// What is known of the process when it is named.
pub struct Clues<'a> {
    pub pid: u32,
    pub exe: &'a Path,
    /// The hostname of its own UTS namespace; `None` when it shares record's.
    pub pod_hostname: Option<&'a str>,
}

/// Names the process `clues` describes. `environ` reads its environment block; it is called
/// only when no flag names the process.
pub fn name_process(
    flags: &ServiceFlags,
    clues: &Clues<'_>,
    environ: impl FnOnce() -> io::Result<Vec<u8>>,
) -> Naming {
    let named = |service: &str, source| Naming {
        service: service.to_string(),
        source,
        warning: None,
    };
    if let Some((service, source)) = flags.for_process(clues.pid, clues.exe) {
        return named(service, source);
    }
    let unreadable = match environ() {
        Ok(env) => match otel::service_from_environ(&env) {
            Some((service, source)) => return named(&service, source),
            None => None,
        },
        Err(e) => Some(e),
    };
    let mut naming = match clues.pod_hostname.and_then(podname::workload_of) {
        Some((workload, _)) => named(workload, ServiceSource::K8sPod),
        None => named(&service_name_of(clues.exe), ServiceSource::Exe),
    };
    naming.warning = unreadable.map(|e| {
        // A process gone before its first event was drained is the usual case.
        let why = match e.kind() {
            io::ErrorKind::NotFound => "it had exited".to_string(),
            _ => e.to_string(),
        };
        format!(
            "pid {}: its environment is unreadable ({why}), so OTEL_SERVICE_NAME could not name \
             it: named {:?} by its {}",
            clues.pid,
            naming.service,
            match naming.source {
                ServiceSource::K8sPod => "pod's hostname",
                _ => "executable",
            }
        )
    });
    naming
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(values: &[&str]) -> ServiceFlags {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        ServiceFlags::parse(&values).expect("valid flags")
    }

    fn clues<'a>(pod_hostname: Option<&'a str>) -> Clues<'a> {
        Clues {
            pid: 42,
            exe: Path::new("/srv/app"),
            pod_hostname,
        }
    }

    fn env(e: &str) -> impl FnOnce() -> io::Result<Vec<u8>> + '_ {
        move || Ok(e.replace(' ', "\0").into_bytes())
    }

    fn unreadable() -> io::Result<Vec<u8>> {
        Err(io::Error::from_raw_os_error(libc::ESRCH))
    }

    fn name(n: Naming) -> (String, &'static str) {
        (n.service, n.source.as_str())
    }

    #[test]
    fn the_first_source_that_names_wins() {
        let pod = Some("backend-5d9c7b8f4-x2x7q");
        let otel = "OTEL_SERVICE_NAME=frontend";
        let exe_flag = flags(&["app=by-exe"]);
        let none = flags(&[]);
        let env_read = std::cell::Cell::new(false);
        let n = name_process(&exe_flag, &clues(pod), || {
            env_read.set(true);
            Ok(Vec::new())
        });
        assert_eq!(name(n), ("by-exe".into(), "flag_exe"));
        assert!(!env_read.get(), "a flag makes the environment moot");
        assert_eq!(
            name(name_process(&flags(&["42=p"]), &clues(pod), env(otel))),
            ("p".into(), "flag_pid")
        );
        assert_eq!(
            name(name_process(&flags(&["all"]), &clues(pod), env(otel))),
            ("all".into(), "flag")
        );
        assert_eq!(
            name(name_process(&none, &clues(pod), env(otel))),
            ("frontend".into(), "otel_service_name")
        );
        assert_eq!(
            name(name_process(
                &none,
                &clues(pod),
                env("OTEL_RESOURCE_ATTRIBUTES=service.name=cart")
            )),
            ("cart".into(), "otel_resource_attributes")
        );
        assert_eq!(
            name(name_process(&none, &clues(pod), env("PATH=/bin"))),
            ("backend".into(), "k8s_pod")
        );
        assert_eq!(
            name(name_process(&none, &clues(Some("my-laptop")), env(""))),
            ("app".into(), "exe")
        );
        assert_eq!(
            name(name_process(&none, &clues(None), env(""))),
            ("app".into(), "exe")
        );
    }

    #[test]
    fn an_unreadable_environment_falls_back_with_a_warning() {
        let none = flags(&[]);
        let n = name_process(&none, &clues(Some("db-0")), unreadable);
        assert_eq!(
            (n.service.as_str(), n.source),
            ("db", ServiceSource::K8sPod)
        );
        let w = n.warning.expect("warning");
        assert!(
            w.starts_with("pid 42: its environment is unreadable"),
            "{w}"
        );
        assert!(w.ends_with("named \"db\" by its pod's hostname"), "{w}");
        let n = name_process(&none, &clues(None), unreadable);
        assert!(n.warning.expect("warning").ends_with("by its executable"));
        let gone = || Err(io::Error::from(io::ErrorKind::NotFound));
        let n = name_process(&none, &clues(None), gone);
        assert!(n.warning.expect("warning").contains("(it had exited)"));
        let n = name_process(&none, &clues(None), env(""));
        assert_eq!(n.warning, None);
    }
}
