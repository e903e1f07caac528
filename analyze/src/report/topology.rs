//! The service topology of counted quadruples, as [`crate::report::graph`] draws it: a node per
//! service that served (the caller of some quadruple: every recorded service serves its requests'
//! own `[service, func, none, none]` or calls) and per callee no recording saw serve (an address),
//! an edge per caller and callee with the figures of every call between them.

use std::collections::BTreeMap;

use crate::report::counter::EdgeFigures;
use crate::report::graph::{Edge, Node, Topology};
use crate::report::quads::Quad;

/// The topology of `quads`, whose edges' figures are `edges`.
pub(crate) fn topology(quads: &[Quad], edges: &[EdgeFigures]) -> Topology {
    let mut recorded: BTreeMap<&str, bool> = BTreeMap::new();
    for q in quads {
        recorded.insert(&q.caller, true);
    }
    for e in edges {
        recorded.entry(&e.callee).or_insert(false);
    }
    let index: BTreeMap<&str, usize> = recorded.keys().enumerate().map(|(i, n)| (*n, i)).collect();
    Topology {
        nodes: recorded
            .iter()
            .map(|(name, recorded)| Node {
                name: (*name).to_owned(),
                recorded: *recorded,
            })
            .collect(),
        edges: edges
            .iter()
            .filter_map(|e| {
                Some(Edge {
                    caller: *index.get(e.caller.as_str())?,
                    callee: *index.get(e.callee.as_str())?,
                    calls: e.count,
                    errors: e.errors,
                    p99_ns: e.p99_ns,
                })
            })
            .collect(),
    }
}
