//! The `quadtrace.processes` metadata: one object per recorded process, with where its service
//! name came from, its container, network namespace and that namespace's addresses; and the
//! listening addresses of the targets metadata. Callee naming reads a process's network
//! namespace and addresses, and who listened where, from them; everything here only helps
//! naming, so a missing key, a malformed document or a malformed entry is skipped, never an
//! error.

use quadtrace_schema::meta::{self, process};
use serde_json::Value;

use crate::model::addr::interface_ip;
use crate::model::events::{EventLog, Listed};
use crate::read::reader::Metadata;

/// Every well-formed entry of `quadtrace.processes`, by pid; none when the key is absent.
pub(crate) fn listed_processes(metadata: &Metadata) -> Vec<(i32, Listed)> {
    let Some(doc) = metadata
        .get(meta::PROCESSES)
        .and_then(|v| serde_json::from_str::<Value>(v).ok())
    else {
        return Vec::new();
    };
    doc.as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let pid = integer(&p[process::PID]).and_then(|n| i32::try_from(n).ok())?;
            let listed = Listed {
                service: p[process::SERVICE].as_str().map(str::to_owned),
                netns: integer(&p[process::NETNS]),
                addrs: p[process::ADDRS]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_str().and_then(interface_ip))
                    .collect(),
            };
            Some((pid, listed))
        })
        .collect()
}

/// A JSON number, or a number written as a string (an inode may exceed what some writers put
/// in a JSON number).
fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().and_then(|u| i64::try_from(u).ok())),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The listening addresses `record` found for each process (`listeners` in the targets
/// metadata), so that servers whose requests carry no listen address still name callees.
/// Missing or malformed entries are skipped: they only help naming.
pub(crate) fn add_listeners(metadata: &Metadata, hostname: &str, log: &mut EventLog) {
    let Some(targets) = metadata
        .get(meta::TARGETS)
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
    else {
        return;
    };
    for target in targets.as_array().into_iter().flatten() {
        let Some(service) = target[meta::target::SERVICE].as_str() else {
            continue;
        };
        let Some(by_pid) = target[meta::target::LISTENERS].as_object() else {
            continue;
        };
        for (pid, addrs) in by_pid {
            let Ok(pid) = pid.parse::<i32>() else {
                continue;
            };
            for addr in addrs
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str())
            {
                log.add_listener(hostname, pid, service, addr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::addr::ip;

    fn metadata(doc: &str) -> Metadata {
        Metadata([(meta::PROCESSES.to_owned(), doc.to_owned())].into())
    }

    #[test]
    fn entries_are_read_and_malformed_ones_skipped() {
        let doc = r#"[
            {"pid": 7, "ns_pid": 1, "service": "users", "service_source": "otel",
             "netns": 4026532001, "addrs": ["10.1.0.7/24", "fd00::7", "junk"]},
            {"pid": "8", "netns": "4026532002"},
            {"service": "no pid"},
            {"pid": -1e99},
            3
        ]"#;
        let listed = listed_processes(&metadata(doc));
        assert_eq!(listed.len(), 2, "{listed:?}");
        let (pid, users) = &listed[0];
        assert_eq!(*pid, 7);
        assert_eq!(users.service.as_deref(), Some("users"));
        assert_eq!(users.netns, Some(4_026_532_001));
        assert_eq!(
            users.addrs,
            vec![ip("10.1.0.7"), ip("fd00::7")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
        );
        assert_eq!(
            listed[1],
            (
                8,
                Listed {
                    netns: Some(4_026_532_002),
                    ..Listed::default()
                }
            )
        );
    }

    #[test]
    fn absent_or_malformed_says_nothing() {
        assert!(listed_processes(&Metadata::default()).is_empty());
        assert!(listed_processes(&metadata("{not json")).is_empty());
        assert!(listed_processes(&metadata(r#"{"pid": 1}"#)).is_empty());
    }
}
