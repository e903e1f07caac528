//! Route templates as `caller_func`/`callee_func`: `/users/1` and `/users/2` are one quadruple
//! when the service routes them through one template (a gin route on every Go version; a
//! `net/http.ServeMux` pattern from Go 1.22 on).

use anyhow::Result;

use crate::support::{
    demo_binaries, demo_port, expect_ok, http_get, record_demo_while, require_root_or_skip,
    DemoBinary,
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
    record_demo_while(
        bin,
        &[],
        || http_get("/echo"),
        || {
            for i in 0..REQUESTS {
                expect_ok(1, &format!("/users/{i}"), http_get)?;
                expect_ok(1, "/profile", http_get)?;
            }
            Ok(())
        },
    )
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
