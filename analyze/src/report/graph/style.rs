//! The colours and fonts of the pictures, one set for SVG, DOT and Mermaid, so that a red
//! edge means the same in each.

/// Fonts whose characters all take 0.6 em, as `text` assumes.
pub const FONT: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', \
                        'Liberation Mono', monospace";
/// A recorded service's box.
pub const SERVICE_FILL: &str = "#e8f0fb";
pub const SERVICE_STROKE: &str = "#3d6aa8";
pub const NAME_COLOR: &str = "#17202b";
/// The dashed box of an address no recording saw serve.
pub const ADDRESS_FILL: &str = "#ffffff";
pub const ADDRESS_STROKE: &str = "#80868f";
pub const ADDRESS_COLOR: &str = "#4f5661";
/// The dashes of an address's box, in SVG's `stroke-dasharray`.
pub const ADDRESS_DASHES: &str = "5 3";
/// Edges, and edges some of whose calls failed.
pub const EDGE_COLOR: &str = "#5f6b7a";
pub const ERROR_COLOR: &str = "#d32f2f";
/// Figures and the legend.
pub const FIGURES_COLOR: &str = "#3a434e";
