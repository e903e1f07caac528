//! The topology as Graphviz DOT, for `dot -Tsvg` or any tool that reads it.
//!
//! Nodes get generated ids (`"n0"`, `"n1"`, ...), so that two nodes of one name stay two and no
//! name is ever read as DOT; names go only into quoted labels, escaped by
//! [`crate::report::escape::dot`]. Addresses no recording saw serve are dashed, failing edges red.

use std::fmt::Write as _;

use super::style::{ADDRESS_COLOR, EDGE_COLOR, ERROR_COLOR};
use super::topology::Topology;
use crate::report::escape;

/// The topology as a Graphviz `digraph`, callers left of callees; valid DOT for any names.
pub fn dot(t: &Topology) -> String {
    let mut out = String::from("digraph quadtrace {\n");
    out.push_str("    rankdir=LR;\n");
    out.push_str("    node [shape=box, style=rounded, fontname=\"monospace\"];\n");
    let _ = writeln!(
        out,
        "    edge [fontname=\"monospace\", fontsize=10, color=\"{EDGE_COLOR}\"];"
    );
    for (i, node) in t.nodes.iter().enumerate() {
        let label = escape::dot(&node.name);
        if node.recorded {
            let _ = writeln!(out, "    \"n{i}\" [label=\"{label}\"];");
        } else {
            let _ = writeln!(
                out,
                "    \"n{i}\" [label=\"{label}\", style=\"rounded,dashed\", \
                 fontcolor=\"{ADDRESS_COLOR}\"];"
            );
        }
    }
    for (_, edge) in t.drawable_edges() {
        let _ = write!(
            out,
            "    \"n{}\" -> \"n{}\" [label=\"{}\"",
            edge.caller,
            edge.callee,
            escape::dot(&edge.label())
        );
        if edge.failing() {
            let _ = write!(
                out,
                ", color=\"{ERROR_COLOR}\", fontcolor=\"{ERROR_COLOR}\""
            );
        }
        out.push_str("];\n");
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::graph::fixtures::{hostile, small, HOSTILE};

    #[test]
    fn every_node_and_edge_is_there() {
        assert_eq!(
            dot(&small()),
            r##"digraph quadtrace {
    rankdir=LR;
    node [shape=box, style=rounded, fontname="monospace"];
    edge [fontname="monospace", fontsize=10, color="#5f6b7a"];
    "n0" [label="front"];
    "n1" [label="users"];
    "n2" [label="auth"];
    "n3" [label="10.0.0.7:5432", style="rounded,dashed", fontcolor="#4f5661"];
    "n0" -> "n1" [label="120 calls, 3 err, p99 12.5 ms", color="#d32f2f", fontcolor="#d32f2f"];
    "n1" -> "n3" [label="240 calls, p99 850 µs"];
    "n1" -> "n2" [label="60 calls"];
    "n2" -> "n1" [label="5 calls, 5 err, p99 2 s", color="#d32f2f", fontcolor="#d32f2f"];
    "n2" -> "n2" [label="1 call, p99 999 ns"];
}
"##
        );
    }

    #[test]
    fn empty_is_an_empty_digraph() {
        let out = dot(&Topology::default());
        assert!(out.starts_with("digraph quadtrace {\n"));
        assert!(out.ends_with("}\n"));
        assert!(!out.contains("->"));
    }

    /// Splits DOT into its quoted strings (unescaped as a label shows them) and what lies
    /// between, failing on a string left open or a raw line break inside one, or an `&` that
    /// Graphviz could read as the start of an entity other than `&amp;`.
    fn quoted_strings(dot: &str) -> (Vec<String>, String) {
        let mut strings = Vec::new();
        let mut outside = String::new();
        let mut chars = dot.chars();
        while let Some(c) = chars.next() {
            if c != '"' {
                outside.push(c);
                continue;
            }
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => panic!("a string is left open in {dot}"),
                    Some('"') => break,
                    Some('\n' | '\r') => panic!("a line break inside {s:?}"),
                    Some('\\') => match chars.next() {
                        Some('"') => s.push('"'),
                        Some('\\') => s.push('\\'),
                        other => panic!("a label escape {other:?} after {s:?}"),
                    },
                    Some('&') => {
                        let entity: String = chars.clone().take(4).collect();
                        assert_eq!(entity, "amp;", "a raw & after {s:?}");
                        chars.nth(3);
                        s.push('&');
                    }
                    Some(c) => s.push(c),
                }
            }
            strings.push(s);
        }
        (strings, outside)
    }

    #[test]
    fn hostile_names_stay_inside_their_labels() {
        let t = hostile();
        let out = dot(&t);
        let (strings, outside) = quoted_strings(&out);
        // Outside the strings only DOT's own words and signs: nothing of a name got out.
        let words = outside.split(|c: char| !c.is_ascii_alphanumeric() && c != '_');
        let dot_words = [
            "digraph",
            "quadtrace",
            "rankdir",
            "LR",
            "node",
            "shape",
            "box",
        ];
        let more_words = ["style", "rounded", "fontname", "edge", "fontsize", "color"];
        let last_words = ["label", "fontcolor", "10"];
        for word in words.filter(|w| !w.is_empty()) {
            let known = [&dot_words[..], &more_words, &last_words].concat();
            assert!(known.contains(&word), "{word:?} outside a string in {out}");
        }
        let signs = outside.replace("->", "");
        assert!(!signs.contains(['<', '>', '\'', '`', '\\']), "{outside}");
        assert_eq!(out.lines().count(), 4 + t.nodes.len() + t.edges.len() + 1);
        for (i, name) in HOSTILE.iter().enumerate() {
            // The label reads as the name, its control characters shown.
            let shown = escape::terminal(name);
            assert!(!shown.contains(|c: char| c.is_control()));
            let at = strings.iter().position(|s| *s == format!("n{i}"));
            assert_eq!(
                at.and_then(|at| strings.get(at + 1)),
                Some(&shown.into_owned())
            );
        }
    }
}
