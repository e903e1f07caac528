//! Reading recordings: a file is checked (its footer, metadata, schema version, column types
//! and page headers: [`reader`], [`pages`]) before anything is decoded, then its rows are
//! turned into events ([`load`]), a slice at a time. What can go wrong is said in
//! [`problems`]; a panic of the Parquet decoder on a damaged file becomes an error naming it
//! ([`guard`]). Recordings of several hosts are put on one timeline ([`reader::timeline`]).
//!
//! In: Parquet files. Out: an [`crate::model::events::EventLog`] (or its events handed on
//! slice by slice), the recordings' metadata, warnings and errors. Uses only
//! [`crate::model`] and [`crate::util`]; knows nothing of reconstruction or reports.

pub(crate) mod guard;
pub(crate) mod load;
pub(crate) mod pages;
pub(crate) mod problems;
pub mod reader;
