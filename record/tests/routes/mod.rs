//! Route templates as `caller_func`/`callee_func`: `/users/1` and `/users/2` are one quadruple
//! when the service routes them through one template (a gin route on every Go version; a
//! `net/http.ServeMux` pattern from Go 1.22 on).

use anyhow::{bail, Result};

use crate::support::{
    analyze_json, demo_binaries, demo_port, http_get, record_args, require_root_or_skip,
    start_demo, start_record, stop_record, DemoBinary,
};

/// Requests to each of /users/{id} and /profile (which calls /users/{random id}).
const REQUESTS: usize = 20;

/// The route the demo serves /users/ID under, or `None` when the Go version's ServeMux has no
/// patterns (the raw paths are then expected).
fn users_route(bin: &DemoBinary) -> Option<&'static str> {
    if bin.service() == "gin_demo" {
        return Some("/users/:id");
    }
    let minor: u32 = bin
        .go
        .trim_start_matches("go1.")
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    (minor >= 22).then_some("GET /users/{id}")
}

fn record_routes(bin: &DemoBinary) -> Result<serde_json::Value> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("rec.parquet");
    let demo = start_demo(bin)?;
    let (rec, rx) = start_record(&record_args(demo.0.id(), &out), std::process::Stdio::null())?;
    for i in 0..REQUESTS {
        for path in [format!("/users/{i}"), "/profile".to_string()] {
            let code = http_get(&path)?;
            if code != 200 {
                bail!("{path} answered {code}");
            }
        }
    }
    let stderr = stop_record(rec, &rx)?;
    drop(demo);
    analyze_json(&out).map_err(|e| e.context(stderr))
}

#[test]
fn root_routes_group_requests_by_template() {
    if !require_root_or_skip("root_routes_group_requests_by_template") {
        return;
    }
    let _port = demo_port();
    let mut failures = Vec::new();
    for bin in demo_binaries() {
        let label = bin.label();
        let service = bin.service();
        let quads = match record_routes(&bin) {
            Ok(q) => q,
            Err(e) => {
                failures.push(format!("{label}: {e:#}"));
                continue;
            }
        };
        let Some(route) = users_route(&bin) else {
            // Raw paths: one quadruple per distinct id, all of them /users/<n>.
            let all_raw = quads.as_array().is_some_and(|a| {
                a.iter().all(|q| {
                    let f = q["caller_func"].as_str().unwrap_or("");
                    f == "/profile" || f.starts_with("/users/")
                })
            });
            if !all_raw {
                failures.push(format!("{label}: expected raw paths, got {quads}"));
            }
            continue;
        };
        let expected = serde_json::json!([
            {"caller": service, "caller_func": route, "callee": null, "callee_func": null, "count": 2 * REQUESTS},
            {"caller": service, "caller_func": "/profile", "callee": service, "callee_func": route, "count": REQUESTS},
        ]);
        if quads != expected {
            failures.push(format!("{label}: got {quads}, want {expected}"));
        } else {
            eprintln!("ok {label}: {route}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
