//! Reports: what a reconstruction says, counted, named and written out. Quadruples are
//! counted ([`counter`], defining them in [`quads`], with error counts and percentiles:
//! [`stats`], [`durations`]), callees and funcs named ([`callee`], [`routes`]), calls listed
//! ([`calls`]); they are written as tables, JSON or CSV ([`output`], with [`escape`] for
//! whatever a recording's strings hold), compared ([`diff`]), drawn ([`graph`], from
//! [`topology`]), or put in an HTML page ([`html`], [`incident`]). [`info`] describes the
//! files themselves, [`tree`] and [`replay`] a whole reconstruction request by request.
//!
//! In: a [`crate::rebuild::attribute::Reconstruction`], or the calls and requests its pass
//! hands over (this layer's [`counter::QuadCounter`] is the pass's
//! [`crate::rebuild::attribute::Counter`]); for [`info`], the recordings' footers. Out: text.
//! Uses [`crate::rebuild`], [`crate::read`], [`crate::model`], [`crate::util`]; never the
//! pipeline that drives it.

pub mod callee;
pub mod calls;
pub mod counter;
pub mod diff;
pub mod durations;
pub mod escape;
pub mod export;
pub mod graph;
pub mod html;
pub(crate) mod incident;
pub mod info;
pub mod output;
pub mod quads;
pub(crate) mod replay;
pub mod routes;
pub mod stats;
pub(crate) mod topology;
pub mod tree;
