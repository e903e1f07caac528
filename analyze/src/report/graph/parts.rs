//! The connected parts of a topology, each laid out on its own: a picture of two unrelated
//! systems reads better as two pictures than as one interleaved.

use super::topology::Topology;

/// A connected part: its nodes, the edges between two of them, its self-loops; each in the
/// topology's order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Part {
    pub nodes: Vec<usize>,
    pub edges: Vec<usize>,
    pub loops: Vec<usize>,
}

/// The connected parts, largest first (of one size, in the order of their first nodes), and
/// the nodes without any edge.
pub fn parts(t: &Topology) -> (Vec<Part>, Vec<usize>) {
    let mut sets = Sets::new(t.nodes.len());
    let mut has_edge = vec![false; t.nodes.len()];
    for (_, edge) in t.drawable_edges() {
        has_edge[edge.caller] = true;
        has_edge[edge.callee] = true;
        sets.join(edge.caller, edge.callee);
    }
    let mut part_of_set = vec![usize::MAX; t.nodes.len()];
    let mut parts: Vec<Part> = Vec::new();
    let mut alone = Vec::new();
    for (node, &has_edge) in has_edge.iter().enumerate() {
        if !has_edge {
            alone.push(node);
            continue;
        }
        let set = sets.find(node);
        if part_of_set[set] == usize::MAX {
            part_of_set[set] = parts.len();
            parts.push(Part::default());
        }
        parts[part_of_set[set]].nodes.push(node);
    }
    for (i, edge) in t.drawable_edges() {
        let part = &mut parts[part_of_set[sets.find(edge.caller)]];
        if edge.caller == edge.callee {
            part.loops.push(i);
        } else {
            part.edges.push(i);
        }
    }
    // A stable sort: parts of one size keep the order of their first nodes.
    parts.sort_by_key(|part| std::cmp::Reverse(part.nodes.len()));
    (parts, alone)
}

/// Disjoint sets of nodes (union-find), each named by its smallest node.
struct Sets {
    parent: Vec<usize>,
}

impl Sets {
    fn new(nodes: usize) -> Self {
        Sets {
            parent: (0..nodes).collect(),
        }
    }

    fn find(&mut self, mut node: usize) -> usize {
        while self.parent[node] != node {
            // Halving the path keeps later look-ups short.
            self.parent[node] = self.parent[self.parent[node]];
            node = self.parent[node];
        }
        node
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        self.parent[a.max(b)] = a.min(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::graph::topology::{Edge, Node};

    #[test]
    fn parts_are_found_largest_first() {
        let node = |name: &str| Node {
            name: name.into(),
            recorded: true,
        };
        let edge = |caller, callee| Edge {
            caller,
            callee,
            calls: 1,
            errors: 0,
            p99_ns: None,
        };
        let t = Topology {
            nodes: ["a", "b", "c", "d", "e", "f", "g"].map(node).to_vec(),
            // a - b; c alone; d - e - f with a loop on f; g loops on itself; one edge to
            // nowhere.
            edges: vec![
                edge(0, 1),
                edge(3, 4),
                edge(5, 4),
                edge(5, 5),
                edge(6, 6),
                edge(0, 9),
            ],
        };
        let (parts, alone) = parts(&t);
        let part = |nodes: &[usize], edges: &[usize], loops: &[usize]| Part {
            nodes: nodes.to_vec(),
            edges: edges.to_vec(),
            loops: loops.to_vec(),
        };
        assert_eq!(
            parts,
            vec![
                part(&[3, 4, 5], &[1, 2], &[3]),
                part(&[0, 1], &[0], &[]),
                part(&[6], &[], &[4]),
            ]
        );
        assert_eq!(alone, vec![2]);
    }
}
