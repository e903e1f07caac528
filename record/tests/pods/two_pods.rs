//! Two pods of one binary: `frontend`, named by `OTEL_SERVICE_NAME` and sharing the host's UTS
//! namespace, calls `backend`, named by its Deployment-shaped pod hostname, through a VIP.

use crate::support::{demo_port, naming, outcome, outcome::Checks, require_root_or_skip};

use super::node::{app_in, Node};
use super::{get_ok, named, record_pids, FrontBack, REQUESTS};

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

    let pods = FrontBack::new(&mut node).expect("pods frontend and backend");
    let f = node
        .start(&pods.front, &pods.frontend(&app))
        .expect("frontend starts");
    let b = node
        .start(&pods.back, &pods.backend(&app))
        .expect("backend starts");

    let out = dir.path().join("rec.parquet");
    let outcome = outcome::record_while(&record_pids(&[f, b], &out), &out, || {
        get_ok(&pods.front_vip, "/a", REQUESTS)
    })
    .expect("recorded while frontend served");

    let mut checks = Checks::new();
    checks.quads(&outcome.quads, &FrontBack::quads(REQUESTS));
    checks.calls_linked(outcome.calls(), |_| Some(b));
    let started = node.started();
    let table = naming::table(
        &[
            named(&started[0], "frontend", &[&pods.front_vip]),
            named(&started[1], "backend", &[&pods.back_vip]),
        ],
        outcome.calls(),
    );
    node.close().expect("the node is removed");
    checks.finish(TEST, &outcome, &table);
}
