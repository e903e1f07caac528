//! The topology as a Mermaid flowchart, for Markdown that renders Mermaid (issues, wikis).
//!
//! Nodes get generated ids (`n0`, `n1`, ...) and names go only into quoted labels, with
//! Mermaid's entity codes for what would end them or be read as markup or configuration
//! ([`crate::report::escape::mermaid`]). Addresses no recording saw serve are dashed, failing edges
//! red, as in the SVG.

use std::fmt::Write as _;

use super::style::{ADDRESS_COLOR, ERROR_COLOR};
use super::topology::Topology;
use crate::report::escape;

/// A Mermaid `flowchart LR`, callers left of callees.
pub fn mermaid(t: &Topology) -> String {
    let mut out = String::from("flowchart LR\n");
    for (i, node) in t.nodes.iter().enumerate() {
        let _ = writeln!(out, "    n{i}[\"{}\"]", escape::mermaid(&node.name));
    }
    // linkStyle counts links in the order they are written, from 0.
    let mut failing = Vec::new();
    for (link, (_, edge)) in t.drawable_edges().enumerate() {
        let _ = writeln!(
            out,
            "    n{} -->|\"{}\"| n{}",
            edge.caller,
            escape::mermaid(&edge.label()),
            edge.callee
        );
        if edge.failing() {
            failing.push(link.to_string());
        }
    }
    let unrecorded: Vec<String> = (t.nodes.iter().enumerate())
        .filter(|(_, node)| !node.recorded)
        .map(|(i, _)| format!("n{i}"))
        .collect();
    if !unrecorded.is_empty() {
        let _ = writeln!(
            out,
            "    classDef unrecorded stroke-dasharray:5 5,color:{ADDRESS_COLOR}"
        );
        let _ = writeln!(out, "    class {} unrecorded", unrecorded.join(","));
    }
    if !failing.is_empty() {
        let _ = writeln!(
            out,
            "    linkStyle {} stroke:{ERROR_COLOR},color:{ERROR_COLOR}",
            failing.join(",")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::graph::fixtures::{hostile, small, HOSTILE};

    #[test]
    fn every_node_and_edge_is_there() {
        assert_eq!(
            mermaid(&small()),
            r##"flowchart LR
    n0["front"]
    n1["users"]
    n2["auth"]
    n3["10.0.0.7:5432"]
    n0 -->|"120 calls, 3 err, p99 12.5 ms"| n1
    n1 -->|"240 calls, p99 850 µs"| n3
    n1 -->|"60 calls"| n2
    n2 -->|"5 calls, 5 err, p99 2 s"| n1
    n2 -->|"1 call, p99 999 ns"| n2
    classDef unrecorded stroke-dasharray:5 5,color:#4f5661
    class n3 unrecorded
    linkStyle 0,3 stroke:#d32f2f,color:#d32f2f
"##
        );
        assert_eq!(mermaid(&Topology::default()), "flowchart LR\n");
    }

    #[test]
    fn hostile_names_stay_inside_their_labels() {
        let t = hostile();
        let out = mermaid(&t);
        assert_eq!(out.lines().count(), 1 + t.nodes.len() + t.edges.len() + 3);
        for (i, name) in HOSTILE.iter().enumerate() {
            let line = format!("    n{i}[\"{}\"]", escape::mermaid(name));
            assert!(out.lines().any(|l| l == line), "{line} in {out}");
            // The label, between the first and the last quote of its line, is the only place
            // the name went, and nothing in it can end it or be markup.
            let label = &line[line.find('"').unwrap_or(0) + 1..line.len() - 2];
            assert!(!label.contains(['"', '<', '>', '`', '%', '\n']), "{label}");
            assert!(!label.contains(|c: char| c.is_control()), "{label}");
        }
        // Mermaid's own signs appear only where this code wrote them.
        assert_eq!(out.matches("-->").count(), t.edges.len());
        assert_eq!(
            out.matches('"').count(),
            2 * (t.nodes.len() + t.edges.len())
        );
        assert!(!out.contains("%%"));
    }
}
