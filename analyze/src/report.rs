//! `analyze report`: one self-contained HTML file for an incident (see [`crate::html`]) — the
//! topology picture, the quadruples, per edge a per-minute series of calls, errors and p99 with
//! its calls by evidence and a few sample calls, and the recordings' warnings.
//!
//! Everything comes from the two passes of [`crate::passes`] (bounded memory): the first gives
//! the quadruples, the second every call in time order, which is folded here into edges of
//! minutes. An edge is a caller and a callee as the quadruples name them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::calls::CallRow;
use crate::durations::Durations;
use crate::graph;
use crate::html::{self, EdgeReport, Minute, Report, Sample};
use crate::info::Info;
use crate::model::span::Period;
use crate::passes::{two_passes, CallFacts};
use crate::topology::topology;
use crate::{AnalyzeError, Warning};

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

/// The report of `paths` over `period`, as HTML; and the warnings.
pub(crate) fn build(
    paths: &[PathBuf],
    period: Period,
    info: &Info,
) -> Result<(String, Vec<Warning>), AnalyzeError> {
    let window = window(period, info);
    let mut edges: BTreeMap<(String, String), EdgeFold> = BTreeMap::new();
    let done = two_passes(paths, period, &mut |row, facts| {
        let key = (row.caller.clone(), row.callee.clone());
        edges.entry(key).or_default().add(&row, facts, window.0);
        Ok(())
    })?;
    let topology = topology(&done.quads, &done.edges);
    let warnings = done.warnings;
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
            .chain(done.links.map(|l| format!("callees: {l}")))
            .collect(),
        window,
        topology_svg: graph::svg_element(&topology),
        quads: done.quads,
        edges: edges
            .into_iter()
            .map(|((caller, callee), fold)| edge_report(caller, callee, fold))
            .collect(),
        warnings: texts,
    };
    Ok((html::render(&report), warnings))
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
