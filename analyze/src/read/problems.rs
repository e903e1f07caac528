//! What can go wrong reading recordings: errors that stop the analysis of a file, and warnings
//! that do not. Every message names the file and says what is wrong with it.

use std::fmt;
use std::path::PathBuf;

use quadtrace_schema::{meta, ColumnType, MIN_READABLE_SCHEMA_VERSION, SCHEMA_VERSION};

/// Why a file could not be read as a recording.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened.
    #[error("cannot open {}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// `record` had not finished the file (`NAME.inprogress`): it has no Parquet footer yet.
    #[error(
        "{} is a recording that `record` never finished (still being written, or `record` was \
         killed): it has no Parquet footer and cannot be read; completed recordings can",
        path.display()
    )]
    Unfinished {
        /// The file.
        path: PathBuf,
    },
    /// The file begins like Parquet but its end, where the footer is, is missing.
    #[error(
        "{} is truncated: it begins like a Parquet file but has no footer (cut short while \
         copying, or `record` stopped before closing it)",
        path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
    },
    /// The file has no Parquet footer.
    #[error("{} is not a Parquet file ({reason})", path.display())]
    NotParquet {
        /// The file.
        path: PathBuf,
        /// What the Parquet reader said, on one line.
        reason: String,
    },
    /// Parquet, but not written by `record`.
    #[error(
        "{} is not a quadtrace recording (no {} metadata)",
        path.display(),
        meta::SCHEMA_VERSION
    )]
    NotRecording {
        /// The file.
        path: PathBuf,
    },
    /// The schema version is not a number.
    #[error("{}: {} is {value:?}, not a number", path.display(), meta::SCHEMA_VERSION)]
    BadVersion {
        /// The file.
        path: PathBuf,
        /// The value found.
        value: String,
    },
    /// Written by a newer `record` whose format this build may misread.
    #[error(
        "{} was written by a newer quadtrace (schema {found}, this analyze reads ≤ {}); upgrade analyze",
        path.display(),
        SCHEMA_VERSION
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: u32,
    },
    /// Written by a quadtrace older than this build still reads.
    #[error(
        "{} was written by an old quadtrace (schema {found}, this analyze reads {}..={}); re-record it",
        path.display(),
        MIN_READABLE_SCHEMA_VERSION,
        SCHEMA_VERSION
    )]
    OlderSchema {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: u32,
    },
    /// A column reconstruction needs is absent.
    #[error("{}: column `{column}` is missing", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column.
        column: &'static str,
    },
    /// A column has another type than the schema says.
    #[error("{}: column `{column}` is {found}, expected {expected}", path.display())]
    WrongType {
        /// The file.
        path: PathBuf,
        /// The column.
        column: &'static str,
        /// The type found.
        found: String,
        /// The schema's type.
        expected: &'static str,
    },
    /// A column that is never null in the schema has a null.
    #[error("{}: column `{column}` has a null in row {row}", path.display())]
    Null {
        /// The file.
        path: PathBuf,
        /// The column.
        column: &'static str,
        /// Row number in the file, from 0.
        row: usize,
    },
    /// The footer or the data is damaged: the decoder stopped on bytes that cannot be right.
    #[error("{}: the file is corrupt and cannot be decoded ({reason})", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the decoder said, on one line.
        reason: String,
    },
    /// The data could not be decoded.
    #[error("{}: cannot read the data ({reason})", path.display())]
    Data {
        /// The file.
        path: PathBuf,
        /// What polars said, on one line.
        reason: String,
    },
}

/// Something worth telling the user that does not stop the analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The ring buffer overflowed while recording.
    LostEvents {
        /// The file.
        path: PathBuf,
        /// `quadtrace.lost_total`.
        count: u64,
    },
    /// Rows with a `kind` this build does not know were skipped.
    UnknownKinds {
        /// The file.
        path: PathBuf,
        /// Rows skipped.
        count: u64,
    },
    /// Requests whose end was recorded but not their start (they began before the recording,
    /// or in a segment not given): not counted, and their calls count as outside any request.
    StartedBeforeRecording {
        /// Such requests, over all the files.
        count: u64,
    },
    /// `analyze calls` wrote rows out of time order: a call stayed open (or its request did)
    /// while more calls than it holds back in memory were done with behind it.
    CallsOutOfOrder {
        /// Rows written after a later-starting one.
        count: u64,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::LostEvents { path, count } => write!(
                f,
                "{}: {count} events were lost while recording; counts may be low",
                path.display()
            ),
            Warning::UnknownKinds { path, count } => write!(
                f,
                "{}: skipped {count} events of unknown kind (written by a newer quadtrace?)",
                path.display()
            ),
            Warning::StartedBeforeRecording { count: 1 } => write!(
                f,
                "1 request had started before the recording began: it is not counted, and the \
                 calls it made count as made outside any request"
            ),
            Warning::CallsOutOfOrder { count } => write!(
                f,
                "{count} calls were written out of time order, after calls that started later: \
                 a call or its request stayed open while too many later calls were done with to \
                 hold them all back (sort by ts_ns to restore the order)"
            ),
            Warning::StartedBeforeRecording { count } => write!(
                f,
                "{count} requests had started before the recording began: they are not counted, \
                 and the calls they made count as made outside any request"
            ),
        }
    }
}

/// A column type's name in messages.
pub(crate) fn type_name(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Int64 => "int64",
        ColumnType::Int32 => "int32",
        ColumnType::Utf8 => "string",
        ColumnType::Bool => "bool",
    }
}
