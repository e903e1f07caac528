//! The order of the items within each layer, chosen so that few edges cross.
//!
//! Starting from the order a depth-first walk meets the items in, which keeps what calls
//! together close, sweeps go down and up the layers, each sorting a layer by the mean
//! position of its items' neighbours in the layer just swept (the barycentre heuristic of
//! Sugiyama, Tagawa and Toda, 1981). On graphs of the usual size, neighbours in a layer are
//! then swapped while that removes crossings. The best order seen is kept; sweeps stop when
//! a few in a row found none better.

use super::layered::{Layered, Link};

/// Sweeps at most, each down or up.
const MAX_SWEEPS: usize = 24;
/// Sweeps in a row without a better order after which the search stops.
const PATIENCE: usize = 4;
/// Items above which swapping neighbours, quadratic in the degrees, is left out.
const MAX_ITEMS_TO_SWAP: usize = 3_000;

/// Orders `graph`'s layers in place to cross few edges.
pub fn order(graph: &mut Layered) {
    first_order(graph);
    let mut best = graph.layers.clone();
    let mut fewest = crossings(graph);
    let mut stale = 0;
    for sweep in 0..MAX_SWEEPS {
        if fewest == 0 || stale >= PATIENCE {
            break;
        }
        let downwards = sweep % 2 == 0;
        sort_by_neighbours(graph, downwards);
        if graph.items() <= MAX_ITEMS_TO_SWAP {
            swap_neighbours(graph);
        }
        let now = crossings(graph);
        if now < fewest {
            fewest = now;
            best.clone_from(&graph.layers);
            stale = 0;
        } else {
            stale += 1;
        }
    }
    graph.layers = best;
}

/// How many pairs of links cross, over all pairs of neighbouring layers.
pub fn crossings(graph: &Layered) -> u64 {
    let position = graph.positions();
    let mut total = 0;
    for (layer, next) in graph.layers.iter().zip(graph.layers.iter().skip(1)) {
        let mut ends: Vec<(usize, usize)> = layer
            .iter()
            .flat_map(|&a| graph.down[a].iter().map(move |l| (a, l.item)))
            .map(|(a, b)| (position[a], position[b]))
            .collect();
        ends.sort_unstable();
        // Two links cross when one starts before the other and ends after it: inversions of
        // the ends, counted with a Fenwick tree over the next layer's positions.
        let mut tree = vec![0u64; next.len() + 1];
        for (seen, &(_, b)) in ends.iter().enumerate() {
            let mut at_most_b = 0;
            let mut i = b + 1;
            while i > 0 {
                at_most_b += tree[i];
                i &= i - 1;
            }
            total += seen as u64 - at_most_b;
            let mut i = b + 1;
            while i < tree.len() {
                tree[i] += 1;
                i += i & i.wrapping_neg();
            }
        }
    }
    total
}

/// Each layer in the order a depth-first walk from the first layers meets its items.
fn first_order(graph: &mut Layered) {
    let mut met = vec![usize::MAX; graph.items()];
    let mut count = 0;
    let roots: Vec<usize> = graph.layers.iter().flatten().copied().collect();
    let mut stack = Vec::new();
    for root in roots {
        if met[root] != usize::MAX || !graph.up[root].is_empty() {
            continue;
        }
        stack.push(root);
        while let Some(item) = stack.pop() {
            if met[item] != usize::MAX {
                continue;
            }
            met[item] = count;
            count += 1;
            // Reversed, so that the first link is walked first.
            stack.extend(graph.down[item].iter().rev().map(|l| l.item));
        }
    }
    for layer in &mut graph.layers {
        layer.sort_by_key(|&item| (met[item], item));
    }
}

/// Sorts each layer by the mean position of its items' links in the layer before it (sweeping
/// down) or after it (sweeping up); an item without such links keeps its place.
fn sort_by_neighbours(graph: &mut Layered, downwards: bool) {
    let mut position = graph.positions();
    let layers = graph.layers.len();
    for step in 1..layers {
        let index = if downwards { step } else { layers - 1 - step };
        let links = if downwards { &graph.up } else { &graph.down };
        let mut keyed: Vec<(f64, usize, usize)> = graph.layers[index]
            .iter()
            .map(|&item| (mean_position(&links[item], &position), position[item], item))
            .map(|(mean, at, item)| (mean.unwrap_or(at as f64), at, item))
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (i, &(_, _, item)) in keyed.iter().enumerate() {
            position[item] = i;
        }
        graph.layers[index] = keyed.into_iter().map(|(_, _, item)| item).collect();
    }
}

fn mean_position(links: &[Link], position: &[usize]) -> Option<f64> {
    if links.is_empty() {
        return None;
    }
    let sum: usize = links.iter().map(|l| position[l.item]).sum();
    Some(sum as f64 / links.len() as f64)
}

/// Swaps neighbouring items of a layer while that removes crossings with the layers on both
/// sides.
fn swap_neighbours(graph: &mut Layered) {
    let mut position = graph.positions();
    for _ in 0..8 {
        let mut improved = false;
        for index in 0..graph.layers.len() {
            for i in 1..graph.layers[index].len() {
                let (a, b) = (graph.layers[index][i - 1], graph.layers[index][i]);
                let now = pair_crossings(graph, &position, a, b);
                let swapped = pair_crossings(graph, &position, b, a);
                if swapped < now {
                    graph.layers[index].swap(i - 1, i);
                    position.swap(a, b);
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
}

/// Crossings between the links of `a` and those of `b` with `a` placed before `b`.
fn pair_crossings(graph: &Layered, position: &[usize], a: usize, b: usize) -> usize {
    let mut count = 0;
    for links in [&graph.up, &graph.down] {
        for la in &links[a] {
            for lb in &links[b] {
                if position[la.item] > position[lb.item] {
                    count += 1;
                }
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two layers, each pair linked as given.
    fn bipartite(top: usize, bottom: usize, links: &[(usize, usize)]) -> Layered {
        let layer_of: Vec<usize> = (0..top + bottom).map(|i| usize::from(i >= top)).collect();
        let mut graph = Layered::new(&layer_of);
        for &(a, b) in links {
            graph.link(a, top + b, 1.0);
        }
        graph
    }

    #[test]
    fn crossings_are_counted() {
        assert_eq!(crossings(&bipartite(2, 2, &[(0, 0), (1, 1)])), 0);
        assert_eq!(crossings(&bipartite(2, 2, &[(0, 1), (1, 0)])), 1);
        assert_eq!(crossings(&bipartite(3, 3, &[(0, 2), (1, 1), (2, 0)])), 3);
        // Links sharing an end never cross.
        assert_eq!(crossings(&bipartite(2, 1, &[(0, 0), (1, 0)])), 0);
    }

    #[test]
    fn a_crossing_that_can_go_goes() {
        let mut graph = bipartite(3, 3, &[(0, 2), (1, 1), (2, 0), (0, 1)]);
        order(&mut graph);
        assert_eq!(crossings(&graph), 0);
        let mut items: Vec<usize> = graph.layers.concat();
        items.sort_unstable();
        assert_eq!(items, (0..6).collect::<Vec<_>>());
    }
}
