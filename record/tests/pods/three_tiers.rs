//! Three tiers, front → mid → back, where mid and back both listen on :8080 in their pods (so
//! a listen address alone cannot tell them apart), driven by curl from a fourth pod. Each tier
//! is named by another rule: `service.name` in `OTEL_RESOURCE_ATTRIBUTES` (over a pod
//! hostname, which it must win against), a Deployment pod's hostname, a StatefulSet pod's.

use anyhow::bail;

use crate::support::{naming, outcome, outcome::quad, outcome::Checks};

use super::launch::Launch;
use super::node::{Node, Pod};
use super::{named, record_pids, setup, Setup, REQUESTS};

#[test]
fn root_three_tiers_with_two_backends_on_one_port() {
    const TEST: &str = "root_three_tiers_with_two_backends_on_one_port";
    let Some(Setup {
        _port,
        dir,
        app,
        mut node,
    }) = setup(TEST)
    else {
        return;
    };

    let tiers = Tiers::start(&mut node, &app).expect("the tiers start");
    let Tiers {
        client,
        front_vip,
        mid_vip,
        back_vip,
        pids: [f, m, b],
    } = tiers;

    let out = dir.path().join("rec.parquet");
    let front_url = format!("http://{front_vip}/a");
    let outcome = outcome::record_while(&record_pids(&[f, m, b], &out), &out, || {
        for i in 0..REQUESTS {
            let code = node.curl(&client, &front_url)?;
            if code != 200 {
                bail!(
                    "curl {front_url} from the client pod (request {}) got {code}",
                    i + 1
                );
            }
        }
        Ok(())
    })
    .expect("recorded while the tiers served");

    let mut checks = Checks::new();
    Tiers::check(&mut checks, &outcome, [f, m, b]);
    let started = node.started();
    let table = naming::table(
        &[
            named(&started[0], "front", &[&front_vip]),
            named(&started[1], "mid", &[&mid_vip]),
            named(&started[2], "back", &[&back_vip]),
        ],
        outcome.calls(),
    );
    node.close().expect("the node is removed");
    checks.finish(TEST, &outcome, &table);
}

/// The three tiers started: the client pod, the tiers' VIPs and pids (front, mid, back).
pub(super) struct Tiers {
    pub(super) client: Pod,
    pub(super) front_vip: String,
    pub(super) mid_vip: String,
    pub(super) back_vip: String,
    pub(super) pids: [u32; 3],
}

impl Tiers {
    /// The tiers' quadruples, [`REQUESTS`] each, and their calls linked: front's to mid's
    /// requests, mid's to back's (`pids`: front, mid, back).
    pub(super) fn check(checks: &mut Checks, outcome: &outcome::Outcome, pids: [u32; 3]) {
        let [f, m, b] = pids;
        checks.quads(
            &outcome.quads,
            &[
                quad(Some("front"), Some("/a"), Some("mid"), Some("/b"), REQUESTS),
                quad(Some("mid"), Some("/b"), Some("back"), Some("/c"), REQUESTS),
                quad(Some("back"), Some("/c"), None, None, REQUESTS),
            ],
        );
        checks.calls_linked(outcome.calls(), |call| match call["pid"].as_u64() {
            Some(p) if p == u64::from(f) => Some(m),
            Some(p) if p == u64::from(m) => Some(b),
            _ => None,
        });
    }

    /// Pods client, front, mid and back on `node`, VIPs 10, 11 and 12 for the tiers' :8080,
    /// and `app` started in each tier, named as the module's doc says.
    pub(super) fn start(node: &mut Node, app: &std::path::Path) -> anyhow::Result<Tiers> {
        let client = node.add_pod("client")?;
        let front = node.add_pod("front")?;
        let mid = node.add_pod("mid")?;
        let back = node.add_pod("back")?;
        let front_vip = node.add_vip(10, &front, 8080)?;
        let mid_vip = node.add_vip(11, &mid, 8080)?;
        let back_vip = node.add_vip(12, &back, 8080)?;
        let to_mid = format!("/a=http://{mid_vip}/b");
        let to_back = format!("/b=http://{back_vip}/c");
        let f = node.start(
            &front,
            &Launch::new(app)
                .hostname("web-7d4b9c8f6-k4m2p")
                .env(
                    "OTEL_RESOURCE_ATTRIBUTES",
                    "service.namespace=shop,service.name=front",
                )
                .env("TIERS_CALLS", &to_mid),
        )?;
        let m = node.start(
            &mid,
            &Launch::new(app)
                .hostname("mid-6f7b9c5d4-q8k2z")
                .env("TIERS_CALLS", &to_back),
        )?;
        let b = node.start(&back, &Launch::new(app).hostname("back-0"))?;
        Ok(Tiers {
            client,
            front_vip,
            mid_vip,
            back_vip,
            pids: [f, m, b],
        })
    }
}
