//! Where each item goes across its layer (down the picture), once the order is chosen.
//!
//! Each item is pulled towards the weighted mean of its linked items in the neighbouring
//! layers, kept in its order and apart from its neighbours by their extents and a gap. With
//! the order fixed, the best positions of one layer for given targets (least squares) are an
//! isotonic regression, solved exactly by pooling adjacent violators. Passes go down and up the
//! layers several times, then once more pulled by both sides.

use super::layered::{Layered, Link};

/// Room an item takes above and below its position, and whether it is only the point where
/// an edge crosses a layer (edges run closer together than boxes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extent {
    /// Room above the position.
    pub above: f64,
    /// Room below the position.
    pub below: f64,
    /// A point of an edge, not a service.
    pub point: bool,
}

/// Gap between two items when one is a service.
const GAP: f64 = 14.0;
/// Gap between two points of edges.
const POINT_GAP: f64 = 7.0;
/// Passes down and up.
const ROUNDS: usize = 8;
/// How strongly an item without links towards the layer looked at holds its place.
const HOLD: f64 = 0.05;

/// The position of each item of `graph`, its layers ordered, items taking room as `extent`
/// says; the smallest top is 0.
pub fn place(graph: &Layered, extent: &[Extent]) -> Vec<f64> {
    let mut y = vec![0.0; graph.items()];
    for layer in &graph.layers {
        let mut at = 0.0;
        for (i, &item) in layer.iter().enumerate() {
            if i > 0 {
                at += separation(extent, layer[i - 1], item);
            }
            y[item] = at;
        }
    }
    for _ in 0..ROUNDS {
        for layer in &graph.layers {
            pull(layer, &[&graph.up], extent, &mut y);
        }
        for layer in graph.layers.iter().rev() {
            pull(layer, &[&graph.down], extent, &mut y);
        }
    }
    for layer in &graph.layers {
        pull(layer, &[&graph.up, &graph.down], extent, &mut y);
    }
    let top = (0..y.len())
        .map(|item| y[item] - extent[item].above)
        .fold(f64::INFINITY, f64::min);
    if top.is_finite() {
        for value in &mut y {
            *value -= top;
        }
    }
    y
}

/// How far apart the positions of `a` and the next item `b` must be.
fn separation(extent: &[Extent], a: usize, b: usize) -> f64 {
    let gap = if extent[a].point && extent[b].point {
        POINT_GAP
    } else {
        GAP
    };
    extent[a].below + gap + extent[b].above
}

/// Moves the items of `layer` as near the weighted mean of their links in `sides` as their
/// order and separations allow.
fn pull(layer: &[usize], sides: &[&Vec<Vec<Link>>], extent: &[Extent], y: &mut [f64]) {
    // With offsets o (the separations summed), z = y - o must not decrease along the layer:
    // a fit of the targets minus the offsets under that order.
    let mut offset = 0.0;
    let mut targets = Vec::with_capacity(layer.len());
    for (i, &item) in layer.iter().enumerate() {
        if i > 0 {
            offset += separation(extent, layer[i - 1], item);
        }
        let (mut sum, mut weight) = (0.0, 0.0);
        for side in sides {
            for link in &side[item] {
                sum += link.weight * y[link.item];
                weight += link.weight;
            }
        }
        let (target, weight) = if weight > 0.0 {
            (sum / weight, weight)
        } else {
            (y[item], HOLD)
        };
        targets.push((target - offset, weight, offset));
    }
    // Pool adjacent violators: blocks of (weight, weighted sum, items), means increasing.
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    for &(target, weight, _) in &targets {
        blocks.push((weight, weight * target, 1));
        while blocks.len() >= 2 {
            let (w2, s2, n2) = blocks[blocks.len() - 1];
            let (w1, s1, n1) = blocks[blocks.len() - 2];
            if s1 / w1 <= s2 / w2 {
                break;
            }
            blocks.pop();
            let last = blocks.len() - 1;
            blocks[last] = (w1 + w2, s1 + s2, n1 + n2);
        }
    }
    let mut i = 0;
    for (weight, sum, count) in blocks {
        for _ in 0..count {
            y[layer[i]] = sum / weight + targets[i].2;
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(half: f64) -> Extent {
        Extent {
            above: half,
            below: half,
            point: false,
        }
    }

    #[test]
    fn a_layer_keeps_its_order_and_gaps() {
        // One item on top linked to three below, which would all go to its position.
        let mut graph = Layered::new(&[0, 1, 1, 1]);
        for b in 1..4 {
            graph.link(0, b, 1.0);
        }
        let y = place(&graph, &[node(10.0); 4]);
        for (a, b) in [(1, 2), (2, 3)] {
            assert!(y[b] - y[a] >= 10.0 + GAP + 10.0 - 1e-9, "{y:?}");
        }
        // The one above is centred on the three.
        assert!((y[0] - y[2]).abs() < 1e-6, "{y:?}");
        assert!(y.iter().all(|&v| v >= 10.0 - 1e-9));
    }

    #[test]
    fn a_long_edge_runs_straight() {
        // 0 -> p -> q -> 3, and 1 -> 2 beside it on top.
        let mut graph = Layered::new(&[0, 0, 2, 2, 1, 1]);
        graph.link(0, 4, 2.0);
        graph.link(4, 2, 2.0);
        graph.link(1, 5, 2.0);
        graph.link(5, 3, 2.0);
        let mut extent = vec![node(15.0); 6];
        extent[4] = Extent {
            above: 1.0,
            below: 1.0,
            point: true,
        };
        extent[5] = extent[4];
        let y = place(&graph, &extent);
        assert!(
            (y[0] - y[2]).abs() < 1e-6 && (y[0] - y[4]).abs() < 1e-6,
            "{y:?}"
        );
    }
}
