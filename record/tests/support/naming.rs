//! The naming table of a test: each process the test ran, how its deployment says it should be
//! named, and the names `analyze calls` actually gave it, as a caller (its own calls) and as a
//! callee (calls linked to its requests, or, while calls carry no link, calls to the
//! addresses it is reached by). Printed by every topology test, so that a run shows at a glance
//! which naming rule held and which did not.

use serde_json::Value;

/// One process of a test.
pub struct Named {
    /// What the test calls it (the pod's name, the program's).
    pub label: String,
    pub pid: u32,
    /// What names it: `OTEL_SERVICE_NAME=frontend`, `hostname backend-5d9c7b8f4-x2x7q`, ...
    pub how: String,
    pub expected: String,
    /// The addresses its callers call it by (`198.19.0.10:80`).
    pub addrs: Vec<String>,
}

/// The distinct values of `field` over `calls` that `pick` accepts, joined; `-` when none.
fn names(calls: &[Value], field: &str, pick: impl Fn(&Value) -> bool) -> String {
    let mut v: Vec<String> = calls
        .iter()
        .filter(|c| pick(c))
        .map(|c| c[field].as_str().unwrap_or("?").to_string())
        .collect();
    v.sort();
    v.dedup();
    if v.is_empty() {
        "-".to_string()
    } else {
        v.join(",")
    }
}

/// The table, one process a line.
pub fn table(procs: &[Named], calls: &[Value]) -> String {
    let linked = calls.iter().any(|c| c.get("linked_pid").is_some());
    let callee_header = if linked {
        "AS CALLEE (linked)"
    } else {
        "AS CALLEE (by address)"
    };
    let mut rows = vec![[
        "PROCESS".to_string(),
        "PID".to_string(),
        "NAMED BY".to_string(),
        "EXPECTED".to_string(),
        "AS CALLER".to_string(),
        callee_header.to_string(),
    ]];
    for p in procs {
        let pid = u64::from(p.pid);
        let as_caller = names(calls, "caller", |c| c["pid"].as_u64() == Some(pid));
        let as_callee = names(calls, "callee", |c| {
            if linked {
                c["linked_pid"].as_u64() == Some(pid)
            } else {
                c["callee_addr"]
                    .as_str()
                    .is_some_and(|a| p.addrs.iter().any(|x| x == a))
            }
        });
        rows.push([
            p.label.clone(),
            p.pid.to_string(),
            p.how.clone(),
            p.expected.clone(),
            as_caller,
            as_callee,
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            let line: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            format!("  {}\n", line.join("  ").trim_end())
        })
        .collect()
}
