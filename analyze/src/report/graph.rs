//! The service topology, what talks to what, drawn for people: Graphviz DOT, a Mermaid
//! flowchart, or an SVG picture laid out here, with no program to call.
//!
//! What enters is a [`Topology`]: a node per service (and per called address no recording saw
//! serve), an edge per caller -> callee with its calls, errors and p99. What leaves is text in one
//! of three forms; each escapes the names, which come from the network and may be hostile, for its
//! own syntax ([`crate::report::escape`]). Callers are drawn left of their callees in all three.
//! This module depends on no other of the crate but [`crate::report::escape`]: the command that
//! builds a topology from recordings lives elsewhere.
//!
//! The SVG is drawn in stages, each a file, in the order the data goes: `parts` splits the
//! topology into connected parts; in each, `rank` breaks cycles and puts every service in a
//! layer, `chains` threads the edges through the layers between (`layered` is that graph),
//! `order` orders each layer to cross few edges and `place` positions them; `layout` makes
//! the geometry of it all, with `text` to size labels; `svg` draws it with `curves` and a
//! `legend`, in the colours of `style`, which DOT and Mermaid share.
//!
//! ```
//! use quadtrace_analyze::graph::{self, Edge, Node, Topology};
//!
//! let node = |name: &str| Node { name: name.into(), recorded: true };
//! let t = Topology {
//!     nodes: vec![node("front"), node("users")],
//!     edges: vec![Edge { caller: 0, callee: 1, calls: 120, errors: 3, p99_ns: Some(12_500_000) }],
//! };
//! assert!(graph::dot(&t).contains("label=\"120 calls, 3 err, p99 12.5 ms\""));
//! assert!(graph::svg(&t).starts_with("<?xml"));
//! ```

mod chains;
mod curves;
mod dot;
#[cfg(test)]
mod fixtures;
mod layered;
mod layout;
mod legend;
mod mermaid;
mod order;
mod parts;
mod place;
mod rank;
mod style;
mod svg;
mod text;
mod topology;

pub use dot::dot;
pub use mermaid::mermaid;
pub use svg::{svg, svg_element};
pub use topology::{Edge, Node, Topology};
