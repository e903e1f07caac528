//! The picture's geometry: a box per node and a route and label per edge, laid out in layers
//! from left (callers) to right (callees), in the manner of Sugiyama, Tagawa and Toda (1981).
//!
//! Each connected part of the topology (`parts`) is laid out on its own, the largest first,
//! one under the other; services that neither called nor were called sit in a row at the
//! bottom. In a part, `rank` gives each service a layer, `chains` makes each edge a chain of
//! points through the layers between, one of which carries its label (so labels take room as
//! boxes do and never cover one another), and `order` and `place` arrange the layers; here
//! they get their widths. Inside a layer an edge runs straight across, and it bends only
//! between layers, so it never passes through a box. A service's edges leave and enter its
//! sides at ports spread along them in the order of where they go, so that no two meet at one
//! point. A self-loop is drawn on top of its box, its label above it.

use super::chains::{chains, Chains, Item};
use super::order::order;
use super::parts::{parts, Part};
use super::place::{place, Extent};
use super::rank::{rank, Ranking};
use super::text;
use super::topology::{Edge, Topology};

/// Room left and right of a name in its box.
const NAME_PAD: f64 = 12.0;
/// Narrowest box.
const MIN_BOX_WIDTH: f64 = 56.0;
/// Height of a box with few edges.
const BOX_HEIGHT: f64 = 30.0;
/// Distance between the ports of one side of a box.
const PORT_SPACING: f64 = 8.0;
/// Room between the first port and the box's corner.
const PORT_MARGIN: f64 = 8.0;
/// Height of a line of figures.
pub const LINE: f64 = 14.0;
/// Room left and right of a label.
const LABEL_PAD: f64 = 4.0;
/// Room between a label and the line it sits on.
const LABEL_LIFT: f64 = 3.0;
/// Room around a point an edge passes, keeping edges side by side apart.
const POINT_ROOM: f64 = 1.5;
/// Height and half width of the first self-loop of a box, and how much higher each next one
/// goes (and half that wider).
const LOOP_HEIGHT: f64 = 18.0;
const LOOP_HALF_WIDTH: f64 = 10.0;
const LOOP_STEP: f64 = 9.0;
/// Room between the highest self-loop and its label.
const LOOP_LABEL_GAP: f64 = 4.0;
/// Narrowest gap between layers, where edges bend; it grows with how far they bend, up to
/// the widest.
const MIN_LAYER_GAP: f64 = 40.0;
const MAX_LAYER_GAP: f64 = 100.0;
const GAP_PER_BEND: f64 = 0.2;
/// Gap between parts, and between the boxes of the bottom row.
const PART_GAP: f64 = 36.0;
const ROW_GAP: f64 = 14.0;
/// Narrowest width the bottom row is wrapped to.
const MIN_ROW_WIDTH: f64 = 560.0;

/// Where everything goes, in a picture whose top left corner is (0, 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// A box per node, in the topology's order.
    pub boxes: Vec<NodeBox>,
    /// A route per edge, in the topology's order; none for an edge that is not drawn.
    pub routes: Vec<Option<Route>>,
    /// The top of the caption over the row of nodes without any edge, when there are some.
    pub alone: Option<f64>,
    /// The size of the picture.
    pub width: f64,
    pub height: f64,
}

/// A node's box.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeBox {
    /// Top left corner.
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// Layer within its part, from 0 (callers) on.
    pub layer: usize,
    /// The name as shown ([`text::shown`]).
    pub text: String,
}

/// How an edge is drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub path: Path,
    pub label: Label,
}

/// The line of an edge, from caller to callee.
#[derive(Debug, Clone, PartialEq)]
pub enum Path {
    /// Straight runs across layers, to be joined by curves; the last one ends at the callee.
    Runs {
        runs: Vec<Run>,
        /// Whether the edge enters the callee from the left (from the right when the edge was
        /// reversed to break a cycle).
        rightward: bool,
    },
    /// A loop on top of a box, from `left` up and down to `right`, where it ends.
    Loop {
        left: f64,
        right: f64,
        /// The box's top.
        y: f64,
        height: f64,
    },
}

/// A horizontal stretch of an edge, at `y` from `from` to `to`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Run {
    pub y: f64,
    pub from: f64,
    pub to: f64,
}

/// An edge's figures, a line each, centred on `x`, the first line's top at `top`.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub x: f64,
    pub top: f64,
    pub lines: Vec<String>,
}

/// The figures of `edge` in the lines of its label: calls and errors; p99.
pub fn label_lines(edge: &Edge) -> Vec<String> {
    std::iter::once(edge.volume())
        .chain(edge.latency())
        .collect()
}

fn label_width(lines: &[String]) -> f64 {
    let widest = lines.iter().map(|l| text::width(l, text::FIGURES_PX));
    widest.fold(0.0, f64::max) + 2.0 * LABEL_PAD
}

fn label_height(lines: &[String]) -> f64 {
    lines.len() as f64 * LINE
}

/// Lays out `t`.
pub fn layout(t: &Topology) -> Layout {
    let boxes = t
        .nodes
        .iter()
        .map(|node| {
            let text = text::shown(&node.name);
            let width = (text::width(&text, text::NAME_PX) + 2.0 * NAME_PAD).max(MIN_BOX_WIDTH);
            NodeBox {
                x: 0.0,
                y: 0.0,
                width,
                height: BOX_HEIGHT,
                layer: 0,
                text,
            }
        })
        .collect();
    let mut layout = Layout {
        boxes,
        routes: vec![None; t.edges.len()],
        alone: None,
        width: 0.0,
        height: 0.0,
    };
    let (parts, alone) = parts(t);
    let mut top = 0.0;
    for part in &parts {
        let (width, height) = lay_out_part(t, part, top, &mut layout);
        layout.width = f64::max(layout.width, width);
        layout.height = top + height;
        top += height + PART_GAP;
    }
    // The services nothing called and that called nothing, in a row wrapped to the width,
    // under a caption.
    if !alone.is_empty() {
        layout.alone = Some(top);
        top += LINE + 4.0;
    }
    let wrap = layout.width.max(MIN_ROW_WIDTH);
    let (mut x, mut row_top) = (0.0, top);
    for &node in &alone {
        let node_box = &mut layout.boxes[node];
        if x > 0.0 && x + node_box.width > wrap {
            x = 0.0;
            row_top += BOX_HEIGHT + ROW_GAP;
        }
        node_box.x = x;
        node_box.y = row_top;
        x += node_box.width + ROW_GAP;
        layout.width = layout.width.max(x - ROW_GAP);
        layout.height = row_top + BOX_HEIGHT;
    }
    layout
}

/// A part being laid out, and what is known of it before its positions.
struct PartLayout<'a> {
    part: &'a Part,
    /// Where the part's top goes.
    top: f64,
    ranking: Ranking,
    chains: Chains,
    /// The label lines of each edge of the part, by index in the part.
    labels: Vec<Vec<String>>,
    /// The self-loops of each node of the part, with their label lines.
    loops: Vec<Vec<(usize, Vec<String>)>>,
}

/// Lays out `part` with its top at `top`, into `layout`; returns its width and height.
fn lay_out_part(t: &Topology, part: &Part, top: f64, layout: &mut Layout) -> (f64, f64) {
    let mut p = PartLayout::new(t, part, top);
    p.size_boxes(&mut layout.boxes);
    let extent = p.extents(&layout.boxes);
    order(&mut p.chains.graph);
    let y = place(&p.chains.graph, &extent);
    let columns = p.columns(&layout.boxes, &y);
    for (i, &node) in part.nodes.iter().enumerate() {
        let (left, thickness) = columns[p.chains.layer_of[i]];
        let node_box = &mut layout.boxes[node];
        node_box.x = left + (thickness - node_box.width) / 2.0;
        node_box.y = top + y[i] - node_box.height / 2.0;
    }
    p.route_edges(&layout.boxes, &y, &extent, &columns, &mut layout.routes);
    p.route_loops(&layout.boxes, &mut layout.routes);
    let width = columns
        .last()
        .map_or(0.0, |(left, thickness)| left + thickness);
    let height = (0..y.len())
        .map(|item| y[item] + extent[item].below)
        .fold(0.0, f64::max);
    (width, height)
}

impl<'a> PartLayout<'a> {
    fn new(t: &Topology, part: &'a Part, top: f64) -> Self {
        // Part nodes are in ascending order.
        let local = |node: usize| part.nodes.binary_search(&node).unwrap_or(0);
        let ends: Vec<(usize, usize)> = (part.edges.iter())
            .map(|&e| (local(t.edges[e].caller), local(t.edges[e].callee)))
            .collect();
        let ranking = rank(part.nodes.len(), &ends);
        let chains = chains(&ranking, &ends);
        let labels = (part.edges.iter())
            .map(|&e| label_lines(&t.edges[e]))
            .collect();
        let mut loops = vec![Vec::new(); part.nodes.len()];
        for &e in &part.loops {
            loops[local(t.edges[e].caller)].push((e, label_lines(&t.edges[e])));
        }
        PartLayout {
            part,
            top,
            ranking,
            chains,
            labels,
            loops,
        }
    }

    /// The height of the self-loops on the part's node `i`.
    fn loops_height(&self, i: usize) -> f64 {
        match self.loops[i].len() {
            0 => 0.0,
            n => LOOP_HEIGHT + (n - 1) as f64 * LOOP_STEP,
        }
    }

    /// The room the self-loops on node `i` and their labels take above its box.
    fn loops_room(&self, i: usize) -> f64 {
        if self.loops[i].is_empty() {
            return 0.0;
        }
        let labels: f64 = self.loops[i].iter().map(|(_, l)| label_height(l)).sum();
        self.loops_height(i) + LOOP_LABEL_GAP + labels
    }

    /// Sets each box's layer, and its height to hold the ports of its busier side.
    fn size_boxes(&self, boxes: &mut [NodeBox]) {
        let mut ports_out = vec![0usize; self.part.nodes.len()];
        let mut ports_in = vec![0usize; self.part.nodes.len()];
        for chain in &self.chains.chains {
            ports_out[chain[0]] += 1;
            ports_in[chain[chain.len() - 1]] += 1;
        }
        for (i, &node) in self.part.nodes.iter().enumerate() {
            let ports = ports_out[i].max(ports_in[i]).max(1);
            let height = PORT_SPACING * (ports - 1) as f64 + 2.0 * PORT_MARGIN;
            boxes[node].height = height.max(BOX_HEIGHT);
            boxes[node].layer = self.ranking.layer[i];
        }
    }

    /// The room each item takes above and below its position.
    fn extents(&self, boxes: &[NodeBox]) -> Vec<Extent> {
        let extent = |item: &Item| match *item {
            Item::Node(i) => {
                let half = boxes[self.part.nodes[i]].height / 2.0;
                Extent {
                    above: half + self.loops_room(i),
                    below: half,
                    point: false,
                }
            }
            Item::Label(k) => Extent {
                above: label_height(&self.labels[k]) + LABEL_LIFT,
                below: LABEL_LIFT,
                point: true,
            },
            Item::Point => Extent {
                above: POINT_ROOM,
                below: POINT_ROOM,
                point: true,
            },
        };
        self.chains.items.iter().map(extent).collect()
    }

    /// Each layer's left and width: as wide as its widest item, with a gap after it that
    /// grows with how far the edges in it bend.
    fn columns(&self, boxes: &[NodeBox], y: &[f64]) -> Vec<(f64, f64)> {
        let graph = &self.chains.graph;
        let width = |item: usize| match self.chains.items[item] {
            Item::Node(i) => (self.loops[i].iter())
                .map(|(_, l)| label_width(l))
                .fold(boxes[self.part.nodes[i]].width, f64::max),
            Item::Label(k) => label_width(&self.labels[k]),
            Item::Point => 0.0,
        };
        let mut columns = Vec::with_capacity(graph.layers.len());
        let mut left = 0.0;
        for layer in &graph.layers {
            let thickness = layer.iter().map(|&item| width(item)).fold(0.0, f64::max);
            columns.push((left, thickness));
            let bend = (layer.iter())
                .flat_map(|&a| graph.down[a].iter().map(move |l| (y[a] - y[l.item]).abs()))
                .fold(0.0, f64::max);
            left += thickness + (bend * GAP_PER_BEND).clamp(MIN_LAYER_GAP, MAX_LAYER_GAP);
        }
        columns
    }

    /// The ports of each edge on its first and last box: a side's edges in the order of the
    /// next items along them, centred on the side.
    fn ports(&self, boxes: &[NodeBox], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let chains = &self.chains.chains;
        let mut sides = vec![(Vec::new(), Vec::new()); self.part.nodes.len()];
        for (k, chain) in chains.iter().enumerate() {
            let (first, last) = (chain[0], chain[chain.len() - 1]);
            sides[first].0.push((y[chain[1]], k));
            sides[last].1.push((y[chain[chain.len() - 2]], k));
        }
        let mut out = vec![0.0; chains.len()];
        let mut into = vec![0.0; chains.len()];
        for (i, (outgoing, incoming)) in sides.iter_mut().enumerate() {
            let node_box = &boxes[self.part.nodes[i]];
            let centre = node_box.y + node_box.height / 2.0;
            for (side, ports) in [(outgoing, &mut out), (incoming, &mut into)] {
                side.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let middle = (side.len() as f64 - 1.0) / 2.0;
                for (n, &(_, k)) in side.iter().enumerate() {
                    ports[k] = centre + (n as f64 - middle) * PORT_SPACING;
                }
            }
        }
        (out, into)
    }

    /// Each edge's runs, from its first box's port through its points to its last box's
    /// port (turned round for an edge reversed to break a cycle), and its label.
    fn route_edges(
        &self,
        boxes: &[NodeBox],
        y: &[f64],
        extent: &[Extent],
        columns: &[(f64, f64)],
        routes: &mut [Option<Route>],
    ) {
        let (port_out, port_in) = self.ports(boxes, y);
        for (k, chain) in self.chains.chains.iter().enumerate() {
            let first = &boxes[self.part.nodes[chain[0]]];
            let last = &boxes[self.part.nodes[chain[chain.len() - 1]]];
            let mut runs = Vec::with_capacity(chain.len());
            let mut label = None;
            for (n, &item) in chain.iter().enumerate() {
                let (left, thickness) = columns[self.chains.layer_of[item]];
                let (from, to) = (left, left + thickness);
                runs.push(if n == 0 {
                    Run {
                        y: port_out[k],
                        from: first.x + first.width,
                        to,
                    }
                } else if n == chain.len() - 1 {
                    Run {
                        y: port_in[k],
                        from,
                        to: last.x,
                    }
                } else {
                    Run {
                        y: self.top + y[item],
                        from,
                        to,
                    }
                });
                if self.chains.items[item] == Item::Label(k) {
                    label = Some(Label {
                        x: (from + to) / 2.0,
                        top: self.top + y[item] - extent[item].above,
                        lines: self.labels[k].clone(),
                    });
                }
            }
            let reversed = self.ranking.reversed[k];
            if reversed {
                runs.reverse();
                for run in &mut runs {
                    std::mem::swap(&mut run.from, &mut run.to);
                }
            }
            let path = Path::Runs {
                runs,
                rightward: !reversed,
            };
            if let (Some(label), Some(route)) = (label, routes.get_mut(self.part.edges[k])) {
                *route = Some(Route { path, label });
            }
        }
    }

    /// The self-loops on top of their boxes, each wider and higher than the one before, their
    /// labels stacked above them.
    fn route_loops(&self, boxes: &[NodeBox], routes: &mut [Option<Route>]) {
        for (i, loops) in self.loops.iter().enumerate() {
            let node_box = &boxes[self.part.nodes[i]];
            let centre = node_box.x + node_box.width / 2.0;
            let mut label_top = node_box.y - self.loops_height(i) - LOOP_LABEL_GAP;
            for (n, (e, lines)) in loops.iter().enumerate() {
                let half =
                    (LOOP_HALF_WIDTH + LOOP_STEP / 2.0 * n as f64).min(node_box.width / 2.0 - 4.0);
                label_top -= label_height(lines);
                let route = Route {
                    path: Path::Loop {
                        left: centre - half,
                        right: centre + half,
                        y: node_box.y,
                        height: LOOP_HEIGHT + n as f64 * LOOP_STEP,
                    },
                    label: Label {
                        x: centre,
                        top: label_top,
                        lines: lines.clone(),
                    },
                };
                if let Some(slot) = routes.get_mut(*e) {
                    *slot = Some(route);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
