//! Two pods of one binary: `frontend`, named by `OTEL_SERVICE_NAME` and sharing the host's UTS
//! namespace, calls `backend`, named by its Deployment-shaped pod hostname, through a VIP.

use crate::support::{
    demo_port, naming, outcome, outcome::quad, outcome::Checks, require_root_or_skip,
};

use super::node::{app_in, Launch, Node};
use super::{get_ok, named, record_pids, REQUESTS};

#[test]
fn root_two_pods_of_one_binary_are_named_by_otel_and_pod_hostname() {
    const TEST: &str = "root_two_pods_of_one_binary_are_named_by_otel_and_pod_hostname";
    if !require_root_or_skip(TEST) {
        return;
    }
    // One recording at a time on the host, as the other end-to-end tests do.
    let _port = demo_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let app = app_in(dir.path());
    let mut node = Node::new().expect("the node is set up");

    let front = node.add_pod("frontend").expect("pod frontend");
    let back = node.add_pod("backend").expect("pod backend");
    let back_vip = node.add_vip(10, &back, 8080).expect("backend's VIP");
    let front_vip = node.add_vip(20, &front, 8080).expect("frontend's VIP");
    let calls = format!("/a=http://{back_vip}/b");
    let f = node
        .start(
            &front,
            &Launch::new(&app)
                .env("OTEL_SERVICE_NAME", "frontend")
                .env("TIERS_CALLS", &calls),
        )
        .expect("frontend starts");
    let b = node
        .start(
            &back,
            &Launch::new(&app).hostname("backend-5d9c7b8f4-x2x7q"),
        )
        .expect("backend starts");

    let out = dir.path().join("rec.parquet");
    let outcome = outcome::record_while(&record_pids(&[f, b], &out), &out, || {
        get_ok(&front_vip, "/a", REQUESTS)
    })
    .expect("recorded while frontend served");

    let mut checks = Checks::new();
    checks.quads(
        &outcome.quads,
        &[
            quad(
                Some("frontend"),
                Some("/a"),
                Some("backend"),
                Some("/b"),
                REQUESTS,
            ),
            quad(Some("backend"), Some("/b"), None, None, REQUESTS),
        ],
    );
    checks.calls_linked(outcome.calls(), |_| Some(b));
    let started = node.started();
    let table = naming::table(
        &[
            named(&started[0], "frontend", &[&front_vip]),
            named(&started[1], "backend", &[&back_vip]),
        ],
        outcome.calls(),
    );
    node.close().expect("the node is removed");
    checks.finish(TEST, &outcome, &table);
}
