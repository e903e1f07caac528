//! `analyze report`: one self-contained HTML file for an incident (see
//! [`crate::report::html`]) — the topology picture, the quadruples, per edge a per-minute
//! series of calls, errors and p99 with its calls by evidence and a few sample calls, and the
//! recordings' warnings.
//!
//! Everything comes from the pipeline's two passes over the recordings (bounded memory): the
//! first gives the quadruples, the second every call in time order, which is folded here into
//! edges of minutes ([`Fold`]). An edge is a caller and a callee as the quadruples name them.

use std::collections::BTreeMap;

use crate::model::span::Period;
use crate::read::reader::Warning;
use crate::report::callee::LinkSummary;
use crate::report::calls::{CallFacts, CallRow};
use crate::report::counter::EdgeFigures;
use crate::report::durations::Durations;
use crate::report::graph;
use crate::report::html::{self, EdgeReport, Minute, Report, Sample};
use crate::report::info::Info;
use crate::report::quads::Quad;
use crate::report::topology::topology;

const MINUTE_NS: i64 = 60_000_000_000;

/// Sample calls kept per edge: the first few, and the slowest few.
const FIRST_SAMPLES: usize = 3;
const SLOWEST_SAMPLES: usize = 3;

/// One minute of one edge.
#[derive(Default)]
struct MinuteFold {
    calls: u64,
    errors: u64,
    durations: Durations,
}

/// What the calls of one edge add up to.
#[derive(Default)]
struct EdgeFold {
    minutes: BTreeMap<i64, MinuteFold>,
    evidence: BTreeMap<&'static str, u64>,
    first: Vec<Sample>,
    slowest: Vec<Sample>,
}

impl EdgeFold {
    fn add(&mut self, row: &CallRow, facts: CallFacts, origin: i64) {
        // By the evidence that tied the call to its request: the shares add up to the
        // edge's calls. (How callees were named, by link or by address, is said once for all.)
        *self.evidence.entry(row.attribution).or_default() += 1;
        if let Some(at) = facts.wall_ns {
            let minute = origin + (at - origin).div_euclid(MINUTE_NS) * MINUTE_NS;
            let m = self.minutes.entry(minute).or_default();
            m.calls += 1;
            m.errors += u64::from(facts.failed);
            if let Some(d) = row.duration_ns {
                m.durations.add(d);
            }
        }
        let sample = || Sample {
            ts_ns: facts.wall_ns.unwrap_or(row.ts_ns),
            caller_func: row.caller_func.clone(),
            callee_func: row.callee_func.clone(),
            attribution: row.attribution.to_owned(),
            confidence: row.confidence,
            duration_ns: row.duration_ns,
            status: row.status,
        };
        if self.first.len() < FIRST_SAMPLES {
            self.first.push(sample());
        } else if let Some(d) = row.duration_ns {
            let faster = self.slowest.iter().map(|s| s.duration_ns).min().flatten();
            if self.slowest.len() < SLOWEST_SAMPLES || faster.is_some_and(|f| d > f) {
                self.slowest.push(sample());
                self.slowest
                    .sort_by_key(|s| std::cmp::Reverse(s.duration_ns));
                self.slowest.truncate(SLOWEST_SAMPLES);
            }
        }
    }
}

/// The calls of a report, folded into edges as they come ([`Fold::add`]), then the page
/// ([`Fold::page`]).
pub(crate) struct Fold {
    /// The window shown (see [`window`]).
    window: (i64, i64),
    edges: BTreeMap<(String, String), EdgeFold>,
}

impl Fold {
    /// Ready for the calls of the recordings `info` describes, over `period`.
    pub(crate) fn new(period: Period, info: &Info) -> Self {
        Fold {
            window: window(period, info),
            edges: BTreeMap::new(),
        }
    }

    /// One call, in time order.
    pub(crate) fn add(&mut self, row: &CallRow, facts: CallFacts) {
        let key = (row.caller.clone(), row.callee.clone());
        let origin = self.window.0;
        self.edges.entry(key).or_default().add(row, facts, origin);
    }

    /// The report as HTML, once every call was added: with the recordings' `quads`, their
    /// callers' and callees' figures (`edges`), how calls were linked and the `warnings`.
    pub(crate) fn page(
        self,
        info: &Info,
        quads: Vec<Quad>,
        edges: &[EdgeFigures],
        links: Option<LinkSummary>,
        warnings: &[Warning],
    ) -> String {
        let topology = topology(&quads, edges);
        let texts: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        let report = Report {
            title: format!("quadtrace report: {} recording(s)", info.files.len()),
            sources: info
                .files
                .iter()
                .map(|f| {
                    format!(
                        "{} — host {}, {} .. {}",
                        f.path,
                        f.host.as_deref().unwrap_or("?"),
                        f.from.as_deref().unwrap_or("?"),
                        f.to.as_deref().unwrap_or("?")
                    )
                })
                .chain(links.map(|l| format!("callees: {l}")))
                .collect(),
            window: self.window,
            topology_svg: graph::svg_element(&topology),
            quads,
            edges: self
                .edges
                .into_iter()
                .map(|((caller, callee), fold)| edge_report(caller, callee, fold))
                .collect(),
            warnings: texts,
        };
        html::render(&report)
    }
}

/// The window shown: the period asked for, within the recordings' own range.
fn window(period: Period, info: &Info) -> (i64, i64) {
    let starts = info.files.iter().filter_map(|f| f.start_wall());
    let stops = info.files.iter().filter_map(|f| f.stop_wall());
    let (first, last) = (starts.min(), stops.max());
    let since = first.map_or(period.since, |f| f.max(period.since));
    let until = last.map_or(period.until, |l| l.min(period.until));
    if since < until && since != i64::MIN && until != i64::MAX {
        (since, until)
    } else {
        (0, 0)
    }
}

fn edge_report(caller: String, callee: String, fold: EdgeFold) -> EdgeReport {
    let mut samples = fold.first;
    samples.extend(fold.slowest);
    EdgeReport {
        caller,
        callee,
        minutes: fold
            .minutes
            .into_iter()
            .map(|(start_ns, mut m)| Minute {
                start_ns,
                calls: m.calls,
                errors: m.errors,
                p99_ns: m.durations.percentile(99),
            })
            .collect(),
        evidence: fold
            .evidence
            .into_iter()
            .map(|(k, n)| (k.to_owned(), n))
            .collect(),
        samples,
    }
}
