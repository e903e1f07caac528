//! Layers: which column each service of a connected part goes in, callers before callees.
//!
//! Layers need an acyclic graph, and services call in cycles (A -> B -> A). The cycles are
//! broken by reversing a few edges for the layering only (they are still drawn from caller to
//! callee): the services are put in a sequence by the greedy heuristic of Eades, Lin and
//! Smyth (1993) — sinks to the end, sources to the front, else the service with the most
//! more calls out than in — and the edges that point backwards in it are the reversed ones,
//! few in practice. Layers are then the longest path from a source, with each source moved
//! next to its nearest callee, so that a service that only calls deep into the graph is not
//! stretched across it.

/// Each node's layer and which edges were reversed to break cycles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranking {
    /// Layer of each node, from 0.
    pub layer: Vec<usize>,
    /// For each edge, whether it goes from a later layer to an earlier one.
    pub reversed: Vec<bool>,
}

/// Layers `nodes` nodes joined by `edges` (caller, callee), which hold no self-loop: for each
/// edge not reversed the caller's layer is below the callee's, for each reversed one above.
pub fn rank(nodes: usize, edges: &[(usize, usize)]) -> Ranking {
    let sequence = acyclic_sequence(nodes, edges);
    let mut place = vec![0; nodes];
    for (i, &node) in sequence.iter().enumerate() {
        place[node] = i;
    }
    let reversed: Vec<bool> = edges.iter().map(|&(a, b)| place[a] > place[b]).collect();
    let mut before = vec![Vec::new(); nodes];
    let mut after = vec![Vec::new(); nodes];
    for (&(a, b), &reversed) in edges.iter().zip(&reversed) {
        let (first, second) = if reversed { (b, a) } else { (a, b) };
        if first != second {
            before[second].push(first);
            after[first].push(second);
        }
    }
    // The sequence is a topological order of the edges as they point now.
    let mut layer = vec![0; nodes];
    for &node in &sequence {
        layer[node] = before[node]
            .iter()
            .map(|&b| layer[b] + 1)
            .max()
            .unwrap_or(0);
    }
    for &node in sequence.iter().rev() {
        if before[node].is_empty() {
            if let Some(nearest) = after[node].iter().map(|&a| layer[a]).min() {
                layer[node] = nearest - 1;
            }
        }
    }
    Ranking { layer, reversed }
}

/// The nodes in an order where few edges point backwards.
fn acyclic_sequence(nodes: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut graph = Remaining::new(nodes, edges);
    let mut front = Vec::with_capacity(nodes);
    let mut back = Vec::new();
    while graph.left > 0 {
        let mut changed = true;
        while changed {
            changed = false;
            for node in 0..nodes {
                if graph.has(node) && graph.out_degree[node] == 0 {
                    graph.remove(node);
                    back.push(node);
                    changed = true;
                }
            }
            for node in 0..nodes {
                if graph.has(node) && graph.in_degree[node] == 0 {
                    graph.remove(node);
                    front.push(node);
                    changed = true;
                }
            }
        }
        let most_out = (0..nodes)
            .filter(|&node| graph.has(node))
            .max_by_key(|&node| {
                let more_out = graph.out_degree[node] - graph.in_degree[node];
                (more_out, std::cmp::Reverse(node))
            });
        if let Some(node) = most_out {
            graph.remove(node);
            front.push(node);
        }
    }
    front.extend(back.iter().rev());
    front
}

/// The graph as nodes are taken out of it, with the degrees of those left.
struct Remaining {
    out_of: Vec<Vec<usize>>,
    into: Vec<Vec<usize>>,
    out_degree: Vec<i64>,
    in_degree: Vec<i64>,
    removed: Vec<bool>,
    left: usize,
}

impl Remaining {
    fn new(nodes: usize, edges: &[(usize, usize)]) -> Self {
        let mut graph = Remaining {
            out_of: vec![Vec::new(); nodes],
            into: vec![Vec::new(); nodes],
            out_degree: vec![0; nodes],
            in_degree: vec![0; nodes],
            removed: vec![false; nodes],
            left: nodes,
        };
        for &(a, b) in edges.iter().filter(|(a, b)| a != b) {
            graph.out_of[a].push(b);
            graph.into[b].push(a);
            graph.out_degree[a] += 1;
            graph.in_degree[b] += 1;
        }
        graph
    }

    fn has(&self, node: usize) -> bool {
        !self.removed[node]
    }

    fn remove(&mut self, node: usize) {
        self.removed[node] = true;
        self.left -= 1;
        for &b in &self.out_of[node] {
            self.in_degree[b] -= 1;
        }
        for &a in &self.into[node] {
            self.out_degree[a] -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether every edge goes from a lower layer to a higher, or back when reversed.
    fn consistent(ranking: &Ranking, edges: &[(usize, usize)]) -> bool {
        let layer = &ranking.layer;
        edges
            .iter()
            .zip(&ranking.reversed)
            .all(|(&(a, b), &reversed)| {
                if reversed {
                    layer[a] > layer[b]
                } else {
                    layer[a] < layer[b]
                }
            })
    }

    #[test]
    fn a_chain_is_in_order() {
        let edges = [(0, 1), (1, 2), (0, 2)];
        let ranking = rank(3, &edges);
        assert_eq!(ranking.layer, vec![0, 1, 2]);
        assert_eq!(ranking.reversed, vec![false; 3]);
    }

    #[test]
    fn a_cycle_has_one_edge_reversed() {
        let edges = [(0, 1), (1, 2), (2, 0)];
        let ranking = rank(3, &edges);
        assert_eq!(ranking.reversed.iter().filter(|&&r| r).count(), 1);
        assert!(consistent(&ranking, &edges));
        let pair = [(0, 1), (1, 0), (0, 1)];
        let ranking = rank(2, &pair);
        assert_eq!(ranking.reversed, vec![false, true, false]);
        assert!(consistent(&ranking, &pair));
    }

    #[test]
    fn a_caller_of_a_deep_service_sits_next_to_it() {
        // 0 -> 1 -> 2 -> 3, and 4 calls only 3.
        let edges = [(0, 1), (1, 2), (2, 3), (4, 3)];
        assert_eq!(rank(5, &edges).layer, vec![0, 1, 2, 3, 2]);
    }

    #[test]
    fn tangles_stay_consistent() {
        // Every node calls the next three, and back to the start: cycles everywhere.
        let n = 40;
        let edges: Vec<(usize, usize)> = (0..n)
            .flat_map(|a| (1..4).map(move |d| (a, (a * 7 + d * 13) % n)))
            .filter(|(a, b)| a != b)
            .collect();
        let ranking = rank(n, &edges);
        assert!(consistent(&ranking, &edges));
        assert!(ranking.reversed.iter().filter(|&&r| r).count() < edges.len() / 2);
    }
}
