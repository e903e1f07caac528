use super::*;
use crate::report::graph::fixtures::{hostile, random, small};
use crate::report::graph::topology::Node;

/// A rectangle: left, top, right, bottom.
type Rect = [f64; 4];

fn overlap(a: Rect, b: Rect) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

fn box_rect(b: &NodeBox) -> Rect {
    [b.x, b.y, b.x + b.width, b.y + b.height]
}

fn label_rect(label: &Label) -> Rect {
    let half = label_width(&label.lines) / 2.0;
    let height = label_height(&label.lines);
    [
        label.x - half,
        label.top,
        label.x + half,
        label.top + height,
    ]
}

fn node(name: &str) -> Node {
    Node {
        name: name.into(),
        recorded: true,
    }
}

fn edge(caller: usize, callee: usize) -> Edge {
    Edge {
        caller,
        callee,
        calls: 10,
        errors: 0,
        p99_ns: Some(1_000_000),
    }
}

/// Every shape the topology takes: cycles, self-loops (two on one service), both directions
/// between two services, repeated edges, parts apart, services without edges.
fn shapes() -> Topology {
    Topology {
        nodes: ["a", "b", "c", "d", "e", "f", "g", "alone"]
            .map(node)
            .to_vec(),
        edges: vec![
            edge(0, 1),
            edge(1, 2),
            edge(2, 0),
            edge(1, 0),
            edge(0, 1),
            edge(2, 2),
            edge(2, 2),
            edge(3, 4),
            edge(4, 3),
            edge(5, 6),
            edge(6, 6),
        ],
    }
}

fn examples() -> Vec<Topology> {
    vec![
        small(),
        hostile(),
        shapes(),
        random(60, 90, 7, false),
        random(40, 120, 11, true),
    ]
}

/// Checks that no two boxes overlap, that no label covers a box or another label, that the
/// whole picture holds them, and that no edge runs through a box.
fn assert_nothing_overlaps(t: &Topology, layout: &Layout) {
    let boxes: Vec<Rect> = layout.boxes.iter().map(box_rect).collect();
    let labels: Vec<Rect> = (layout.routes.iter().flatten())
        .map(|r| label_rect(&r.label))
        .collect();
    for (i, &a) in boxes.iter().enumerate() {
        for &b in &boxes[i + 1..] {
            assert!(!overlap(a, b), "boxes {a:?} and {b:?} overlap");
        }
        for &l in &labels {
            assert!(!overlap(a, l), "label {l:?} covers box {a:?}");
        }
    }
    for (i, &a) in labels.iter().enumerate() {
        for &b in &labels[i + 1..] {
            assert!(!overlap(a, b), "labels {a:?} and {b:?} overlap");
        }
    }
    for r in boxes.iter().chain(&labels) {
        assert!(r[0] >= -0.01 && r[1] >= -0.01, "{r:?}");
        assert!(
            r[2] <= layout.width + 0.01 && r[3] <= layout.height + 0.01,
            "{r:?}"
        );
    }
    for (i, route) in layout.routes.iter().enumerate() {
        let Some(Route {
            path: Path::Runs { runs, .. },
            ..
        }) = route
        else {
            continue;
        };
        for run in runs {
            let (from, to) = (run.from.min(run.to), run.from.max(run.to));
            for (n, b) in boxes.iter().enumerate() {
                let through = b[1] < run.y && run.y < b[3] && b[0] < to && from < b[2];
                assert!(!through, "edge {i} ({run:?}) runs through box {n} in {t:?}");
            }
        }
    }
}

#[test]
fn nothing_overlaps() {
    for t in examples() {
        assert_nothing_overlaps(&t, &layout(&t));
    }
}

#[test]
fn every_edge_goes_from_its_caller_to_its_callee() {
    for t in examples() {
        let layout = layout(&t);
        for (i, edge) in t.drawable_edges() {
            let route = layout.routes[i].as_ref();
            let (caller, callee) = (&layout.boxes[edge.caller], &layout.boxes[edge.callee]);
            match route.map(|r| &r.path) {
                Some(Path::Runs { runs, rightward }) => {
                    let (first, last) = (runs[0], runs[runs.len() - 1]);
                    // Out of the caller's right side and into the callee's left, or the other
                    // way round for an edge reversed to break a cycle.
                    let (out_side, in_side) = if *rightward {
                        (caller.x + caller.width, callee.x)
                    } else {
                        (caller.x, callee.x + callee.width)
                    };
                    assert_eq!((first.from, last.to), (out_side, in_side), "edge {i}");
                    assert!(caller.y < first.y && first.y < caller.y + caller.height);
                    assert!(callee.y < last.y && last.y < callee.y + callee.height);
                    // Runs are joined in order, each beyond the last.
                    for pair in runs.windows(2) {
                        let step = pair[1].from - pair[0].to;
                        assert!(if *rightward { step > 0.0 } else { step < 0.0 }, "{runs:?}");
                    }
                }
                Some(Path::Loop { left, right, y, .. }) => {
                    assert_eq!(edge.caller, edge.callee);
                    assert_eq!(*y, caller.y);
                    assert!(caller.x < *left && left < right && *right < caller.x + caller.width);
                }
                None => panic!("edge {i} of {t:?} has no route"),
            }
        }
    }
}

#[test]
fn callers_are_left_of_callees_when_nothing_calls_back() {
    for seed in 1..6 {
        let t = random(50, 100, seed, true);
        let layout = layout(&t);
        for (_, edge) in t.drawable_edges() {
            let (caller, callee) = (&layout.boxes[edge.caller], &layout.boxes[edge.callee]);
            assert!(caller.layer < callee.layer, "{edge:?}");
            assert!(caller.x + caller.width < callee.x, "{edge:?}");
        }
    }
}

#[test]
fn a_cycle_is_drawn_with_one_edge_back() {
    let t = Topology {
        nodes: ["a", "b", "c"].map(node).to_vec(),
        edges: vec![edge(0, 1), edge(1, 2), edge(2, 0)],
    };
    let layout = layout(&t);
    let back = (layout.routes.iter().flatten())
        .filter(|r| {
            matches!(
                r.path,
                Path::Runs {
                    rightward: false,
                    ..
                }
            )
        })
        .count();
    assert_eq!(back, 1);
    assert_eq!(
        layout.boxes.iter().map(|b| b.layer).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
}

#[test]
fn parts_lie_one_under_the_other_and_lone_services_last() {
    let t = shapes();
    let layout = layout(&t);
    let bottom = |nodes: &[usize]| {
        (nodes.iter())
            .map(|&n| layout.boxes[n].y + layout.boxes[n].height)
            .fold(0.0, f64::max)
    };
    let top = |nodes: &[usize]| {
        nodes
            .iter()
            .map(|&n| layout.boxes[n].y)
            .fold(f64::MAX, f64::min)
    };
    // The largest part (a, b, c) first; then (d, e) and (f, g), in the order of their nodes.
    assert!(bottom(&[0, 1, 2]) < top(&[3, 4]));
    assert!(bottom(&[3, 4]) < top(&[5, 6]));
    assert!(bottom(&[5, 6]) < top(&[7]));
    assert!(layout.alone.is_some_and(|caption| caption < top(&[7])));
}

#[test]
fn an_empty_topology_is_an_empty_picture() {
    let layout = layout(&Topology::default());
    assert!(layout.boxes.is_empty() && layout.routes.is_empty());
    assert_eq!((layout.width, layout.height), (0.0, 0.0));
}

#[test]
fn edges_to_missing_nodes_are_left_out() {
    let t = Topology {
        nodes: vec![node("a")],
        edges: vec![edge(0, 1), edge(7, 0), edge(0, 0)],
    };
    let layout = layout(&t);
    assert_eq!(layout.routes[0], None);
    assert_eq!(layout.routes[1], None);
    assert!(layout.routes[2].is_some());
}

#[test]
fn five_hundred_services_and_two_thousand_edges_lay_out() {
    let t = random(500, 2000, 0x9e37_79b9_7f4a_7c15, false);
    let layout = layout(&t);
    let routed = layout.routes.iter().filter(|r| r.is_some()).count();
    assert_eq!(routed, t.edges.len());
    let boxes: Vec<Rect> = layout.boxes.iter().map(box_rect).collect();
    for (i, &a) in boxes.iter().enumerate() {
        assert!(boxes[i + 1..].iter().all(|&b| !overlap(a, b)), "box {i}");
    }
}
