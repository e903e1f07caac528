//! The pipeline that ties the stages together: recordings are read a slice at a time straight
//! into the reconstruction's pass ([`stream`]), which counts or hands calls out as it goes;
//! commands whose output follows calls one by one read the files twice ([`passes`]). A bar
//! shows how reading goes ([`progress`]); whatever stops an analysis is an
//! [`AnalyzeError`].
//!
//! In: the recordings' paths, the span looked at and what to do with calls. Out: what the
//! reports need (counted quadruples, named call rows), the warnings. Uses every layer below
//! it ([`crate::read`], [`crate::rebuild`], [`crate::report`], [`crate::model`],
//! [`crate::util`]); only `lib.rs`, the public functions, uses it.

mod error;
pub(crate) mod export;
pub(crate) mod passes;
pub(crate) mod progress;
pub(crate) mod stream;

pub use error::AnalyzeError;
