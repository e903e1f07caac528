//! Reconstruction: one pass over the time-ordered events rebuilds the server requests
//! ([`requests`]), what each goroutine works for ([`goroutines`], by descent: [`lineage`]; by
//! a channel receive: [`channels`], [`handoff`]; by a timer: [`timers`]), requests by context
//! ([`contexts`]), and attributes each client call ([`client`]) to the request it was made
//! for, with its evidence and confidence ([`evidence`]); the same pass gathers who listened
//! where ([`sockets`]) and links calls to the requests they caused ([`links`]).
//! [`attribute`] runs the pass, keeping everything or, in bounded memory, handing what it is
//! done with to a counter or a sink as it goes.
//!
//! In: events in time order ([`crate::model::events`]). Out: a [`attribute::Reconstruction`],
//! or done calls and requests handed to an [`attribute::Counter`] or an
//! [`attribute::CallSink`]. Uses [`crate::model`] and [`crate::util`]; never reads a file
//! itself and knows nothing of the reports (their counter is only a [`attribute::Counter`]
//! here).

pub mod attribute;
pub mod channels;
pub mod client;
pub mod contexts;
pub mod evidence;
pub mod goroutines;
pub mod handoff;
pub mod lineage;
pub mod links;
pub mod requests;
pub mod sockets;
pub mod stack;
pub mod timers;
pub(crate) mod window;
