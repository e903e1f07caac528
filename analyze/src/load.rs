//! Turning a recording's rows into [`Event`]s: typed access to each column, nulls checked where
//! the schema forbids them, columns that the file's schema version predates read as null.
//!
//! The reader leaves every column in the same chunks (one per row group, usually); rows are
//! read chunk by chunk, straight from the Arrow arrays, so that reading a cell is an index and
//! no column is copied into one piece first.

use std::path::Path;

use polars::prelude::*;
use quadtrace_schema::{columns, meta, EventKind};

use crate::addr::is_loopback_addr;
use crate::events::{ChanOp, Detail, Event, EventLog, IdMap, ProcId, Socket, Sym};
use crate::hint::prefetch;
use crate::reader::{type_name, Metadata, ReadError};
use strings::{StringCols, Strings};

mod strings;

/// One column of the file as `T`, or none when the file predates it.
type Col<'a, T> = Option<&'a ChunkedArray<T>>;

/// One chunk of one column.
struct Part<'a, T: PolarsDataType>(Option<&'a T::Array>);

impl<'a, T: PolarsDataType> Part<'a, T> {
    #[inline]
    fn get(&self, row: usize) -> Option<<T::Array as StaticArray>::ValueT<'a>> {
        self.0.and_then(|a| a.get(row))
    }
}

impl<T: PolarsNumericType> Part<'_, T> {
    /// Readies the value of row `row` (see [`Rows::prefetch`]).
    #[inline]
    fn prefetch(&self, row: usize) {
        if let Some(value) = self.0.and_then(|a| a.values().get(row)) {
            prefetch(value);
        }
    }
}

/// The frame read from one file, with errors that name it.
struct Frame<'a> {
    path: &'a Path,
    df: &'a DataFrame,
}

impl<'a> Frame<'a> {
    fn wrong(&self, name: &'static str, col: &Column) -> ReadError {
        let expected = quadtrace_schema::column(name).map_or("?", |c| type_name(c.ty));
        ReadError::WrongType {
            path: self.path.to_owned(),
            column: name,
            found: col.dtype().to_string(),
            expected,
        }
    }

    /// The column as `T`; none when the file lacks it (the reader has already checked that it
    /// may).
    fn col<T: PolarsDataType>(
        &self,
        name: &'static str,
        cast: fn(&'a Column) -> PolarsResult<&'a ChunkedArray<T>>,
    ) -> Result<Col<'a, T>, ReadError> {
        let Ok(col) = self.df.column(name) else {
            return Ok(None);
        };
        cast(col).map(Some).map_err(|_| self.wrong(name, col))
    }

    fn null(&self, name: &'static str, row: usize) -> ReadError {
        ReadError::Null {
            path: self.path.to_owned(),
            column: name,
            row,
        }
    }

    /// A column that may have no nulls, or the error naming the first null's row.
    fn no_nulls<T: PolarsDataType>(
        &self,
        col: &'a ChunkedArray<T>,
        name: &'static str,
        first_row: usize,
    ) -> Result<(), ReadError> {
        if col.null_count() == 0 {
            return Ok(());
        }
        let i = col.is_null().iter().position(|null| null == Some(true));
        let i = i.unwrap_or(0);
        Err(self.null(name, first_row + i))
    }

    /// A column every schema version has must be in the file.
    fn required<T: PolarsDataType>(
        &self,
        col: Col<'a, T>,
        name: &'static str,
    ) -> Result<&'a ChunkedArray<T>, ReadError> {
        col.ok_or_else(|| self.missing(name))
    }

    fn missing(&self, name: &'static str) -> ReadError {
        ReadError::MissingColumn {
            path: self.path.to_owned(),
            column: name,
        }
    }

    /// Chunk `c` of `col`, which must hold `len` rows like the others.
    fn part<T: PolarsDataType>(
        &self,
        col: Col<'a, T>,
        c: usize,
        len: usize,
    ) -> Result<Part<'a, T>, ReadError> {
        let Some(ca) = col else {
            return Ok(Part(None));
        };
        match ca.downcast_get(c) {
            Some(arr) if ca.chunk_lengths().nth(c) == Some(len) => Ok(Part(Some(arr))),
            _ => Err(ReadError::Data {
                path: self.path.to_owned(),
                reason: "columns are not split into the same chunks".to_owned(),
            }),
        }
    }
}

/// Defines the typed columns of a file and their chunks, from one list of fields.
macro_rules! columns {
    ($($field:ident: $ty:ty = $name:expr, $cast:ident;)*) => {
        /// The columns of one file, typed.
        struct Cols<'a> {
            $($field: Col<'a, $ty>,)*
        }

        /// One chunk of every column.
        struct Rows<'a> {
            $($field: Part<'a, $ty>,)*
        }

        impl<'a> Cols<'a> {
            fn new(f: &Frame<'a>) -> Result<Self, ReadError> {
                Ok(Cols {
                    $($field: f.col($name, |c: &Column| c.$cast())?,)*
                })
            }

            fn chunk(&self, f: &Frame<'a>, c: usize, len: usize) -> Result<Rows<'a>, ReadError> {
                Ok(Rows {
                    $($field: f.part(self.$field, c, len)?,)*
                })
            }
        }
    };
}

columns! {
    ts: Int64Type = columns::TS_NS, i64;
    pid: Int32Type = columns::PID, i32;
    goid: Int64Type = columns::GOID, i64;
    kind: StringType = columns::KIND, str;
    service: StringType = columns::SERVICE, str;
    method: StringType = columns::METHOD, str;
    host: StringType = columns::HOST, str;
    path: StringType = columns::PATH, str;
    listen: StringType = columns::LISTEN_ADDR, str;
    status: Int32Type = columns::STATUS, i32;
    error: BooleanType = columns::ERROR, bool;
    parent: Int64Type = columns::PARENT_GOID, i64;
    ctx0: Int64Type = columns::CTX, i64;
    ctx1: Int64Type = columns::CTX1, i64;
    ctx2: Int64Type = columns::CTX2, i64;
    ctx3: Int64Type = columns::CTX3, i64;
    chan: Int64Type = columns::CHAN, i64;
    value: Int64Type = columns::VALUE, i64;
    qcount: Int32Type = columns::QCOUNT, i32;
    dataqsiz: Int32Type = columns::DATAQSIZ, i32;
    in_select: BooleanType = columns::IN_SELECT, bool;
    completed: BooleanType = columns::COMPLETED, bool;
    route: StringType = columns::ROUTE, str;
    remote: StringType = columns::REMOTE_ADDR, str;
    local: StringType = columns::LOCAL_ADDR, str;
    netns: Int64Type = columns::NETNS, i64;
    receiver: Int64Type = columns::RECEIVER_GOID, i64;
}

/// How many rows ahead of the one being read [`Rows::prefetch`] readies the numeric columns.
const PREFETCH_ROWS: usize = 64;

impl Rows<'_> {
    /// Readies the numeric columns' values of row `row`. The row loop reads a dozen columns
    /// side by side, more streams than the processor's own prefetcher follows; asked once a
    /// cache line (eight 64-bit values) ahead, they are in cache when their row comes.
    #[inline]
    fn prefetch(&self, row: usize) {
        self.ts.prefetch(row);
        self.pid.prefetch(row);
        self.goid.prefetch(row);
        self.status.prefetch(row);
        self.parent.prefetch(row);
        self.ctx0.prefetch(row);
        self.ctx1.prefetch(row);
        self.ctx2.prefetch(row);
        self.ctx3.prefetch(row);
        self.chan.prefetch(row);
        self.value.prefetch(row);
        self.qcount.prefetch(row);
        self.dataqsiz.prefetch(row);
    }

    fn chan_op(&self, row: usize, completed: bool) -> ChanOp {
        ChanOp {
            chan: self.chan.get(row).unwrap_or(0),
            value: self.value.get(row),
            qcount: self.qcount.get(row),
            dataqsiz: self.dataqsiz.get(row),
            in_select: self.in_select.get(row).unwrap_or(false),
            completed,
        }
    }

    fn ctx(&self, row: usize) -> [i64; 4] {
        [
            self.ctx0.get(row).unwrap_or(0),
            self.ctx1.get(row).unwrap_or(0),
            self.ctx2.get(row).unwrap_or(0),
            self.ctx3.get(row).unwrap_or(0),
        ]
    }
}

/// Appends the rows of `df` to `out`, interning their strings and processes in `log`; returns
/// how many rows had an unknown kind. `first_row` is the file's row number of the frame's first
/// row, for error messages.
pub(crate) fn load_events(
    path: &Path,
    df: &DataFrame,
    first_row: usize,
    hostname: &str,
    log: &mut EventLog,
    out: &mut Vec<Event>,
) -> Result<u64, ReadError> {
    let frame = Frame { path, df };
    let cols = Cols::new(&frame)?;
    let ts = frame.required(cols.ts, columns::TS_NS)?;
    frame.required(cols.pid, columns::PID)?;
    frame.required(cols.goid, columns::GOID)?;
    let mut strings = Strings::default();
    // Processes by pid: a file comes from one host, and rows of a few processes interleave.
    let mut procs: IdMap<i32, ProcId> = IdMap::default();
    let mut unknown = 0;
    let mut first_row = first_row;
    // String columns are read column by column (see `strings`), so the nulls of those that
    // may have none are looked for first.
    let kind_col = frame.required(cols.kind, columns::KIND)?;
    let service_col = frame.required(cols.service, columns::SERVICE)?;
    frame.no_nulls(kind_col, columns::KIND, first_row)?;
    frame.no_nulls(service_col, columns::SERVICE, first_row)?;
    for (c, len) in ts.chunk_lengths().enumerate() {
        let rows = cols.chunk(&frame, c, len)?;
        // Both are in the file (checked above), so in every chunk of it.
        let kind = rows.kind.0.ok_or_else(|| frame.missing(columns::KIND))?;
        let service = rows
            .service
            .0
            .ok_or_else(|| frame.missing(columns::SERVICE))?;
        let string_cols = StringCols {
            kind,
            service,
            method: rows.method.0,
            host: rows.host.0,
            path: rows.path.0,
            listen: rows.listen.0,
            route: rows.route.0,
            remote: rows.remote.0,
            local: rows.local.0,
        };
        strings.read(log, &string_cols, len);
        for (i, (kind, &service)) in strings.kind.iter().zip(&strings.service).enumerate() {
            if i % 8 == 0 {
                rows.prefetch(i + PREFETCH_ROWS);
            }
            let row = first_row + i;
            let ts_ns = rows
                .ts
                .get(i)
                .ok_or_else(|| frame.null(columns::TS_NS, row))?;
            let pid = rows
                .pid
                .get(i)
                .ok_or_else(|| frame.null(columns::PID, row))?;
            let goid = rows
                .goid
                .get(i)
                .ok_or_else(|| frame.null(columns::GOID, row))?;
            let Some(kind) = *kind else {
                unknown += 1;
                continue;
            };
            let proc = *procs.entry(pid).or_insert_with(|| {
                let proc = log.process(hostname, pid);
                log.note_service(proc, service);
                proc
            });
            let detail = match detail(&rows, &strings, i, kind, log) {
                Detail::ChanRecv(op) => {
                    log.note_receiving(proc, goid, op.chan);
                    Detail::ChanRecv(op)
                }
                Detail::ChanHandoff { chan, receiver }
                    if log.has_received(proc, receiver, chan) =>
                {
                    Detail::ChanSend(rows.chan_op(i, false))
                }
                d => d,
            };
            out.push(Event {
                ts_ns,
                goid,
                proc,
                service,
                detail,
            });
        }
        first_row += len;
    }
    Ok(unknown)
}

/// The method `record` gives gRPC requests and calls.
const GRPC_METHOD: &str = "GRPC";

/// The columns of row `i` that an event of `kind` sets.
fn detail(rows: &Rows<'_>, s: &Strings, i: usize, kind: EventKind, log: &EventLog) -> Detail {
    let at = |col: &[Option<Sym>]| col.get(i).copied().flatten();
    // Socket events are rare (one per connection or listener): the text of the address is
    // looked at here, once, so that reconstruction compares symbols only.
    let socket = || {
        let local = at(&s.local);
        Socket {
            local,
            remote: at(&s.remote),
            netns: rows.netns.get(i),
            loopback: local.is_some_and(|a| is_loopback_addr(log.str(a))),
        }
    };
    match kind {
        EventKind::ServerStart => Detail::ServerStart {
            method: at(&s.method),
            host: at(&s.host),
            path: at(&s.path),
            listen_addr: at(&s.listen),
            remote: at(&s.remote),
            ctx: rows.ctx0.get(i).unwrap_or(0),
            grpc: at(&s.method).is_some_and(|m| log.str(m) == GRPC_METHOD),
        },
        EventKind::ServerEnd => Detail::ServerEnd {
            status: rows.status.get(i),
            route: at(&s.route),
            failed: rows.error.get(i).unwrap_or(false),
        },
        EventKind::ClientStart => Detail::ClientStart {
            method: at(&s.method),
            host: at(&s.host),
            path: at(&s.path),
            ctx: rows.ctx(i),
        },
        EventKind::ClientEnd => Detail::ClientEnd {
            status: rows.status.get(i),
            error: rows.error.get(i).unwrap_or(false),
        },
        EventKind::Spawn => Detail::Spawn {
            parent: rows.parent.get(i),
            value: rows.value.get(i),
        },
        EventKind::ChanSend => match rows.receiver.get(i).filter(|g| *g != 0) {
            Some(receiver) => Detail::ChanHandoff {
                chan: rows.chan.get(i).unwrap_or(0),
                receiver,
            },
            None => Detail::ChanSend(rows.chan_op(i, false)),
        },
        EventKind::ChanRecv => {
            Detail::ChanRecv(rows.chan_op(i, rows.completed.get(i).unwrap_or(false)))
        }
        EventKind::TimerArm => Detail::TimerArm {
            value: rows.value.get(i),
        },
        EventKind::Connect => Detail::Connect(socket()),
        EventKind::Listen => Detail::Listen(socket()),
        EventKind::ListenEnd => Detail::ListenEnd(socket()),
    }
}

/// The listening addresses `record` found for each process (`listeners` in the targets
/// metadata), so that servers whose requests carry no listen address still name callees.
/// Missing or malformed entries are skipped: they only help naming.
pub(crate) fn add_listeners(metadata: &Metadata, hostname: &str, log: &mut EventLog) {
    let Some(targets) = metadata
        .get(meta::TARGETS)
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
    else {
        return;
    };
    for target in targets.as_array().into_iter().flatten() {
        let Some(service) = target[meta::target::SERVICE].as_str() else {
            continue;
        };
        let Some(by_pid) = target[meta::target::LISTENERS].as_object() else {
            continue;
        };
        for (pid, addrs) in by_pid {
            let Ok(pid) = pid.parse::<i32>() else {
                continue;
            };
            for addr in addrs
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str())
            {
                log.add_listener(hostname, pid, service, addr);
            }
        }
    }
}
