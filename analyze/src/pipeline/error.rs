//! What stops an analysis: the one error of the crate's public functions, whatever stage it
//! comes from.

use std::path::Path;

use crate::read::reader::ReadError;

/// Why an analysis failed.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// An input file could not be read as a recording.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// No input files were given.
    #[error("no recordings given")]
    NoInput,
    /// The output could not be written.
    #[error("writing the output: {0}")]
    Write(std::io::Error),
    /// What was asked cannot be done: a span that cannot place the events, a request that is
    /// not there.
    #[error("{0}")]
    Usage(String),
    /// A check of analyze's own consistency failed: a bug, to be reported.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AnalyzeError {
    /// Writing to `path` failed with `e`: a write error naming the path.
    pub(crate) fn write_to(path: &Path, e: &std::io::Error) -> AnalyzeError {
        AnalyzeError::Write(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    }
}
