//! What the renderers' tests draw: a small topology with every shape of edge, and hostile
//! names.

use super::topology::{Edge, Node, Topology};

/// Names as a hostile client may make a service see them: markup, quotes that end attributes
/// and labels, entity look-alikes, terminal escapes, line breaks, DOT's and Mermaid's signs.
pub const HOSTILE: [&str; 8] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "a\u{1b}[31mred\u{1b}[0m\nb\r\tc\u{0}",
    "back\\slash \"quote\" 'single' `tick` {brace} |pipe| [sq] ;",
    "#lt;&amp;&lt; %%{init: {'theme':'dark'}}%% -->|x| n0",
    "\\N \\G \\l\\\" ]; n9 -> n8 [label=x",
    "]]><!-- --><![CDATA[ \u{fffe}\u{85}\u{2028}ﬂ°lt¶ß \u{202e}gnp.exe",
    "/%3Cscript%3E decoded: </svg><svg onload=alert(1)>",
];

/// Three services and an address: front -> users -> db (unrecorded), users <-> auth (a
/// cycle), auth -> auth (a self-loop).
pub fn small() -> Topology {
    let node = |name: &str, recorded| Node {
        name: name.into(),
        recorded,
    };
    let edge = |caller, callee, calls, errors, p99_ns| Edge {
        caller,
        callee,
        calls,
        errors,
        p99_ns,
    };
    Topology {
        nodes: vec![
            node("front", true),
            node("users", true),
            node("auth", true),
            node("10.0.0.7:5432", false),
        ],
        edges: vec![
            edge(0, 1, 120, 3, Some(12_500_000)),
            edge(1, 3, 240, 0, Some(850_000)),
            edge(1, 2, 60, 0, None),
            edge(2, 1, 5, 5, Some(2_000_000_000)),
            edge(2, 2, 1, 0, Some(999)),
        ],
    }
}

/// `small` with its names replaced by the hostile ones, and a hostile node of each kind
/// more: so that every name is a node, recorded or not, with an edge.
pub fn hostile() -> Topology {
    let mut t = small();
    for (i, name) in HOSTILE.iter().enumerate() {
        if let Some(node) = t.nodes.get_mut(i) {
            node.name = (*name).to_owned();
        } else {
            t.nodes.push(Node {
                name: (*name).to_owned(),
                recorded: i % 2 == 0,
            });
            t.edges.push(Edge {
                caller: i % 3,
                callee: i,
                calls: i as u64,
                errors: i as u64 % 2,
                p99_ns: Some(i as i64 * 1_000_000),
            });
        }
    }
    t
}

/// `nodes` services (one in ten an address) and `edges` edges between random ones, self-loops
/// and repeats included, the same for the same `seed`; only from lower to higher indices when
/// `acyclic`.
pub fn random(nodes: usize, edges: usize, seed: u64, acyclic: bool) -> Topology {
    // xorshift64: any fixed sequence will do.
    let mut state = seed.max(1);
    let mut below = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    let nodes: Vec<Node> = (0..nodes)
        .map(|i| Node {
            name: format!("service-{i}"),
            recorded: below(10) != 0,
        })
        .collect();
    let edges = (0..edges)
        .map(|_| {
            let (mut caller, mut callee) = (below(nodes.len()), below(nodes.len()));
            if acyclic {
                if caller == callee {
                    callee = (callee + 1) % nodes.len();
                }
                if caller > callee {
                    std::mem::swap(&mut caller, &mut callee);
                }
            }
            let calls = below(100_000) as u64;
            Edge {
                caller,
                callee,
                calls,
                errors: if below(5) == 0 { calls / 50 } else { 0 },
                p99_ns: Some(below(2_000_000_000) as i64),
            }
        })
        .collect();
    Topology { nodes, edges }
}
