//! The values every stage shares: the events read from recordings ([`events`]: the event
//! log, its symbols, processes and machines), the addresses they name ([`addr`]), the span
//! of time a command looks at ([`span`]), and optional numbers packed small ([`packed`]).
//!
//! The lowest layer with [`crate::util`]: it uses nothing of the crate. Reading
//! ([`crate::read`]) fills an [`events::EventLog`]; reconstruction and the reports read it.

pub(crate) mod addr;
pub mod events;
pub mod packed;
pub mod span;
