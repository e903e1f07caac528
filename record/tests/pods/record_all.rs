//! `record -a`, started before the pods' programs exist: it must find them by itself (from
//! the exec tracepoint), name them as deployed, and say on its live line how many processes it
//! has attached. It records every Go process of the host, so only the pods' quadruples and calls
//! are compared; the others are shown apart when a check fails.

use serde_json::Value;

use crate::support::{naming, outcome, outcome::Checks};

use super::{get_ok, named, setup, FrontBack, Setup, REQUESTS};

/// The number `k` of a stderr line saying `... k processes attached ...` (or `k process`), the
/// largest of them: the live line's count of attached processes.
fn attached_processes(stderr: &str) -> Option<u64> {
    stderr
        .lines()
        .filter(|l| l.contains("attached"))
        .flat_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words
                .windows(2)
                .filter(|w| w[1].starts_with("process"))
                .filter_map(|w| w[0].parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .max()
}

#[test]
fn root_record_all_picks_up_a_pod_started_later() {
    const TEST: &str = "root_record_all_picks_up_a_pod_started_later";
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

    let out = dir.path().join("rec.parquet");
    let args = [
        "-a".to_string(),
        "-o".to_string(),
        out.display().to_string(),
    ];
    let mut pids = Vec::new();
    let mut outcome = outcome::record_while(&args, &out, || {
        pids.push(node.start(&pods.front, &pods.frontend(&app))?);
        pids.push(node.start(&pods.back, &pods.backend(&app))?);
        get_ok(&pods.front_vip, "/a", REQUESTS)?;
        // The live line is refreshed once a second: let it show both pods.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        Ok(())
    })
    .expect("recorded while the pods started and served");

    // Ours: anything a pod's program is, or could wrongly be, named, or the VIPs it calls.
    let ours = |q: &Value| {
        let names = ["frontend", "backend", "app", "backend-5d9c7b8f4-x2x7q"];
        let is = |v: &Value| v.as_str().is_some_and(|s| names.contains(&s));
        is(&q["caller"])
            || is(&q["callee"])
            || q["callee"]
                .as_str()
                .is_some_and(|c| c.starts_with("198.19."))
    };
    outcome.keep_only(ours, &pids);

    let mut checks = Checks::new();
    checks.quads(&outcome.quads, &FrontBack::quads(REQUESTS));
    checks.calls_linked(outcome.calls(), |_| Some(pids[1]));
    let attached = attached_processes(&outcome.stderr);
    checks.that(attached.is_some_and(|k| k >= 2), || {
        format!(
            "record's stderr has no line saying `<k> processes attached` with k ≥ 2 (the two \
             pods at least): found {attached:?}"
        )
    });
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

#[test]
fn attached_count_is_read_from_the_live_line() {
    let line = "record: ⠁ recording 00:03  120 events/s  total 360  lost 0  3 processes attached";
    assert_eq!(attached_processes(line), Some(3));
    assert_eq!(attached_processes("record: 1 process attached"), Some(1));
    assert_eq!(attached_processes("recording to x.parquet"), None);
}
