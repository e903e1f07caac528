//! Pairing the quadruples of two windows by their four names, each pair with a status, most
//! significant first.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Serialize;

use super::figures::Figures;
use super::judge::{judge, Changed, Thresholds};
use crate::report::quads::Quad;

/// The quadruples of one window and its length.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// As `analyze quads` counts them.
    pub quads: &'a [Quad],
    /// How long the recordings ran, s: counts are compared as rates over it.
    pub seconds: f64,
}

/// What became of a quadruple.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Only after.
    Added,
    /// Only before.
    Removed,
    /// On both sides, and its rate, error rate or p99 moved (see [`crate::report::diff`]).
    Changed,
    /// On both sides, with nothing moved beyond the thresholds.
    Unchanged,
}

impl Status {
    /// As written in every format.
    pub fn name(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Removed => "removed",
            Status::Changed => "changed",
            Status::Unchanged => "unchanged",
        }
    }

    /// Where its rows go: what needs a look first.
    fn rank(self) -> u8 {
        match self {
            Status::Changed => 0,
            Status::Added => 1,
            Status::Removed => 2,
            Status::Unchanged => 3,
        }
    }
}

/// One quadruple of either window, compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    /// As in [`Quad`]: `None` is "none".
    pub caller: String,
    /// As in [`Quad`].
    pub caller_func: Option<String>,
    /// As in [`Quad`].
    pub callee: Option<String>,
    /// As in [`Quad`].
    pub callee_func: Option<String>,
    /// What became of it.
    pub status: Status,
    /// Its figures before; none when it was not seen then.
    pub before: Option<Figures>,
    /// Its figures after; none when it is not seen any more.
    pub after: Option<Figures>,
    /// Which figures moved; nothing unless the status is `changed`.
    pub changed: Changed,
}

impl Compared {
    /// The four names, for sorting and display.
    pub fn key(&self) -> [Option<&str>; 4] {
        [
            Some(self.caller.as_str()),
            self.caller_func.as_deref(),
            self.callee.as_deref(),
            self.callee_func.as_deref(),
        ]
    }
}

/// Every quadruple of either window, with what became of it. Rows come most significant
/// first: changed, then added, then removed, then unchanged; changed rows with more figures
/// moved first; then the busiest (the higher rate of the two windows) first; then by name.
pub fn compare(before: Side<'_>, after: Side<'_>, thresholds: &Thresholds) -> Vec<Compared> {
    let mut pairs: BTreeMap<[Option<&str>; 4], Pair<'_>> = BTreeMap::new();
    for quad in before.quads {
        let pair = pairs.entry(quad.key()).or_insert_with(|| Pair::new(quad));
        add(&mut pair.before, quad, before.seconds);
    }
    for quad in after.quads {
        let pair = pairs.entry(quad.key()).or_insert_with(|| Pair::new(quad));
        add(&mut pair.after, quad, after.seconds);
    }
    let mut rows: Vec<Compared> = pairs
        .into_values()
        .map(|pair| pair.compared(thresholds))
        .collect();
    rows.sort_by(by_significance);
    rows
}

/// The order of [`compare`]'s rows.
pub(super) fn by_significance(a: &Compared, b: &Compared) -> Ordering {
    a.status
        .rank()
        .cmp(&b.status.rank())
        .then_with(|| b.changed.how_many().cmp(&a.changed.how_many()))
        .then_with(|| traffic(b).total_cmp(&traffic(a)))
        .then_with(|| a.key().cmp(&b.key()))
}

/// The higher rate of the two windows (the count, for a window without a length).
fn traffic(row: &Compared) -> f64 {
    [row.before, row.after]
        .iter()
        .flatten()
        .map(|f| f.per_s().unwrap_or(f.count as f64))
        .fold(0.0, f64::max)
}

/// One quadruple's figures on each side.
struct Pair<'a> {
    /// The first of its quadruples, for its names.
    names: &'a Quad,
    before: Option<Figures>,
    after: Option<Figures>,
}

impl<'a> Pair<'a> {
    fn new(names: &'a Quad) -> Self {
        Pair {
            names,
            before: None,
            after: None,
        }
    }

    fn compared(self, thresholds: &Thresholds) -> Compared {
        let (status, changed) = match (&self.before, &self.after) {
            (Some(before), Some(after)) => {
                let changed = judge(before, after, thresholds);
                let status = if changed.any() {
                    Status::Changed
                } else {
                    Status::Unchanged
                };
                (status, changed)
            }
            (None, _) => (Status::Added, Changed::default()),
            (_, None) => (Status::Removed, Changed::default()),
        };
        Compared {
            caller: self.names.caller.clone(),
            caller_func: self.names.caller_func.clone(),
            callee: self.names.callee.clone(),
            callee_func: self.names.callee_func.clone(),
            status,
            before: self.before,
            after: self.after,
            changed,
        }
    }
}

fn add(side: &mut Option<Figures>, quad: &Quad, seconds: f64) {
    match side {
        Some(figures) => figures.add(quad),
        None => *side = Some(Figures::of(quad, seconds)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    fn status_of(rows: &[Compared], callee_func: &str) -> (Status, Vec<&'static str>) {
        let row = rows
            .iter()
            .find(|r| r.callee_func.as_deref() == Some(callee_func));
        row.map_or((Status::Unchanged, vec!["missing"]), |r| {
            (r.status, r.changed.names())
        })
    }

    #[test]
    fn every_quadruple_gets_its_status() {
        let rows = fixture::compared();
        assert_eq!(rows.len(), 9);
        let expected: [(&str, Status, &[&str]); 8] = [
            ("/items", Status::Changed, &["rate"]),
            ("/get", Status::Changed, &["error_rate"]),
            ("/query", Status::Changed, &["p99"]),
            ("/stock", Status::Changed, &["rate"]),
            ("POST /charge", Status::Added, &[]),
            ("/charge", Status::Removed, &[]),
            ("/me", Status::Unchanged, &[]),
            ("/log", Status::Unchanged, &[]),
        ];
        for (callee_func, status, changed) in expected {
            assert_eq!(
                status_of(&rows, callee_func),
                (status, changed.to_vec()),
                "{callee_func}"
            );
        }
        let none_callee = rows.iter().find(|r| r.callee.is_none());
        assert_eq!(none_callee.map(|r| r.status), Some(Status::Unchanged));
    }

    #[test]
    fn rows_come_most_significant_first() {
        let statuses: Vec<Status> = fixture::compared().iter().map(|r| r.status).collect();
        let mut ranked = statuses.clone();
        ranked.sort_by_key(|s| s.rank());
        assert_eq!(statuses, ranked);
        assert_eq!(statuses.first(), Some(&Status::Changed));
        assert_eq!(statuses.last(), Some(&Status::Unchanged));
    }

    #[test]
    fn figures_keep_their_side() {
        let rows = fixture::compared();
        let added = rows.iter().find(|r| r.status == Status::Added);
        assert_eq!(
            added.map(|r| (r.before, r.after.map(|f| f.count))),
            Some((None, Some(240)))
        );
        let removed = rows.iter().find(|r| r.status == Status::Removed);
        assert_eq!(
            removed.map(|r| (r.before.map(|f| f.seconds), r.after)),
            Some((Some(fixture::BEFORE_S), None))
        );
    }

    #[test]
    fn nothing_to_compare() {
        let empty = Side {
            quads: &[],
            seconds: 60.0,
        };
        assert!(compare(empty, empty, &Thresholds::default()).is_empty());
    }
}
