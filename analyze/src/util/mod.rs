//! Helpers that change no result, for speed and for performance work: hints to the processor
//! and the kernel ([`hint`]), and the time and memory each phase of an analysis takes
//! ([`phases`]).
//!
//! The lowest layer with [`crate::model`]: it uses nothing of the crate, and every layer above
//! may use it. Nothing enters or leaves but what the machine is told or says about itself.

pub(crate) mod hint;
pub(crate) mod phases;
