//! Two pods of one binary: `frontend`, named by `OTEL_SERVICE_NAME` and sharing the host's UTS
//! namespace, calls `backend`, named by its Deployment-shaped pod hostname, through a VIP.

use crate::support::{naming, outcome, outcome::Checks};

use super::{get_ok, named, record_pids, setup, FrontBack, Setup, REQUESTS};

#[test]
fn root_two_pods_of_one_binary_are_named_by_otel_and_pod_hostname() {
    const TEST: &str = "root_two_pods_of_one_binary_are_named_by_otel_and_pod_hostname";
    let Some(Setup {
        _port,
        dir,
        app,
        mut node,
    }) = setup(TEST)
    else {
        return;
    };

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
