//! The backend pod's program is stopped half way through a `record --exe` and started again
//! (a new pid, same pod, same hostname), as a rollout or a crash loop does: the old one's
//! listening socket is gone before recording ends, the new one's appeared after it began.
//! Every call, before and after, must name `backend`, linked to the process that served it.

use crate::support::{naming, outcome, outcome::Checks};

use super::{get_ok, named, setup, FrontBack, Setup, REQUESTS};

#[test]
fn root_backend_restarted_mid_recording() {
    const TEST: &str = "root_backend_restarted_mid_recording";
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
    let backend = pods.backend(&app);
    node.start(&pods.front, &pods.frontend(&app))
        .expect("frontend starts");
    let b1 = node.start(&pods.back, &backend).expect("backend starts");

    let out = dir.path().join("rec.parquet");
    // --exe: both pods run this one file, and so does the restarted backend.
    let args = [
        "--exe".to_string(),
        app.display().to_string(),
        "-o".to_string(),
        out.display().to_string(),
    ];
    let half = REQUESTS / 2;
    let mut b2 = 0;
    let outcome = outcome::record_while(&args, &out, || {
        get_ok(&pods.front_vip, "/a", half)?;
        node.stop(b1)?;
        b2 = node.start(&pods.back, &backend)?;
        get_ok(&pods.front_vip, "/a", REQUESTS - half)
    })
    .expect("recorded across the restart");

    let mut checks = Checks::new();
    checks.quads(&outcome.quads, &FrontBack::quads(REQUESTS));
    // The requests are sequential: the first half of the calls went to b1, the rest to b2.
    let mut times: Vec<u64> = outcome
        .calls()
        .iter()
        .filter_map(|c| c["ts_ns"].as_u64())
        .collect();
    times.sort_unstable();
    let split = times.get(half).copied().unwrap_or(u64::MAX);
    checks.calls_linked(outcome.calls(), |call| {
        let before = call["ts_ns"].as_u64().is_some_and(|t| t < split);
        Some(if before { b1 } else { b2 })
    });
    let started = node.started();
    let table = naming::table(
        &[
            named(&started[0], "frontend", &[&pods.front_vip]),
            named(&started[1], "backend", &[&pods.back_vip]),
            named(&started[2], "backend", &[&pods.back_vip]),
        ],
        outcome.calls(),
    );
    node.close().expect("the node is removed");
    checks.finish(TEST, &outcome, &table);
}
