//! A part's edges as chains through the layers: the layered graph that `order` and `place`
//! arrange.
//!
//! Services go on even layers and between every two lies a layer of points where edges
//! pass, so that an edge has a point in each layer it crosses and at least one: the one in
//! the middle of its way carries its label, which then takes room as a box does. Edges
//! reversed to break a cycle are chained in the direction of the layers.

use super::layered::Layered;
use super::rank::Ranking;

/// What an item of the layered graph is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// The part's node of this index.
    Node(usize),
    /// A point an edge passes.
    Point,
    /// The point that carries the label of the part's edge of this index.
    Label(usize),
}

/// The layered graph of a part, with what each item is.
#[derive(Debug, Clone)]
pub struct Chains {
    /// What each item is; the part's nodes first, by index.
    pub items: Vec<Item>,
    /// Each item's layer.
    pub layer_of: Vec<usize>,
    /// For each edge, its items from the lower layer to the higher: a node, points, a node.
    pub chains: Vec<Vec<usize>>,
    /// The items, in layers, linked along the chains.
    pub graph: Layered,
}

/// How much more a link between two points of one edge is kept straight than one to a box.
const STRAIGHT_THROUGH: f64 = 4.0;

/// Chains `edges` (caller, callee), the part's nodes in layers as `ranking` says.
pub fn chains(ranking: &Ranking, edges: &[(usize, usize)]) -> Chains {
    let mut layer_of: Vec<usize> = ranking.layer.iter().map(|l| 2 * l).collect();
    let mut items: Vec<Item> = (0..layer_of.len()).map(Item::Node).collect();
    let mut chains = Vec::with_capacity(edges.len());
    for (k, (&(a, b), &reversed)) in edges.iter().zip(&ranking.reversed).enumerate() {
        let (first, second) = if reversed { (b, a) } else { (a, b) };
        let (from, to) = (layer_of[first], layer_of[second]);
        // The middle one of the layers of points the edge crosses (the first of two).
        let crossed = to.saturating_sub(from) / 2;
        let label_layer = from + 2 * (crossed.saturating_sub(1) / 2) + 1;
        let mut chain = vec![first];
        for layer in from + 1..to {
            chain.push(items.len());
            layer_of.push(layer);
            items.push(if layer == label_layer {
                Item::Label(k)
            } else {
                Item::Point
            });
        }
        chain.push(second);
        chains.push(chain);
    }
    let mut graph = Layered::new(&layer_of);
    for chain in &chains {
        for pair in chain.windows(2) {
            let points = pair.iter().all(|&i| !matches!(items[i], Item::Node(_)));
            let weight = if points { STRAIGHT_THROUGH } else { 1.0 };
            graph.link(pair[0], pair[1], weight);
        }
    }
    Chains {
        items,
        layer_of,
        chains,
        graph,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_edge_gets_one_label_in_its_middle() {
        // 0 -> 1 -> 2 -> 3, 0 -> 3 across the three gaps, 3 -> 0 back.
        let ranking = Ranking {
            layer: vec![0, 1, 2, 3],
            reversed: vec![false, false, false, false, true],
        };
        let edges = [(0, 1), (1, 2), (2, 3), (0, 3), (3, 0)];
        let c = chains(&ranking, &edges);
        for (k, chain) in c.chains.iter().enumerate() {
            let labels: Vec<usize> = (chain.iter())
                .filter(|&&i| c.items[i] == Item::Label(k))
                .map(|&i| c.layer_of[i])
                .collect();
            assert_eq!(labels.len(), 1, "edge {k}");
            // Layers step by one along the chain.
            for pair in chain.windows(2) {
                assert_eq!(c.layer_of[pair[1]], c.layer_of[pair[0]] + 1);
            }
        }
        let ends: Vec<(usize, usize)> = (c.chains.iter())
            .map(|chain| (chain[0], chain[chain.len() - 1]))
            .collect();
        assert_eq!(ends, [(0, 1), (1, 2), (2, 3), (0, 3), (0, 3)]);
        // The long edges' labels sit in the middle gap, layer 3 of 0..=6.
        let label_layer = |k: usize| c.chains[k].iter().find(|&&i| c.items[i] == Item::Label(k));
        assert_eq!(label_layer(3).map(|&i| c.layer_of[i]), Some(3));
        // Four nodes, a point each for the three short edges, five for the two long ones.
        assert_eq!(c.graph.items(), 4 + 3 + 2 * 5);
    }
}
