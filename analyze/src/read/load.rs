//! Turning a recording's rows into [`Event`]s: typed access to each column, nulls checked where
//! the schema forbids them, columns that the file's schema version predates read as null.
//!
//! A slice arrives as one Arrow array per column; rows are read straight from the arrays, so
//! that reading a cell is an index.

use std::path::Path;

use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, BooleanArray, PrimitiveArray, RecordBatch, StringViewArray};
use quadtrace_schema::{columns, EventKind};

use crate::model::addr::is_loopback_addr;
use crate::model::events::{ChanOp, Detail, Event, EventLog, IdMap, ProcId, Socket, Sym};
use crate::read::problems::{type_name, ReadError};
use crate::util::hint::prefetch;
use strings::{StringCols, Strings};

mod strings;

/// One column of the slice, typed; none when the file predates it.
struct Part<'a, A>(Option<&'a A>);

impl<'a, T: arrow_array::ArrowPrimitiveType> Part<'a, PrimitiveArray<T>> {
    #[inline]
    fn get(&self, row: usize) -> Option<T::Native> {
        let a = self.0?;
        a.is_valid(row).then(|| a.value(row))
    }

    /// Readies the value of row `row` (see [`Rows::prefetch`]).
    #[inline]
    fn prefetch(&self, row: usize) {
        if let Some(value) = self.0.and_then(|a| a.values().get(row)) {
            prefetch(value);
        }
    }
}

impl Part<'_, BooleanArray> {
    #[inline]
    fn get(&self, row: usize) -> Option<bool> {
        let a = self.0?;
        a.is_valid(row).then(|| a.value(row))
    }
}

/// The slice read from one file, with errors that name it.
struct Frame<'a> {
    path: &'a Path,
    batch: &'a RecordBatch,
}

impl<'a> Frame<'a> {
    /// The column as `A`; none when the file lacks it (the reader has already checked that it
    /// may).
    fn col<A: Array + 'static>(&self, name: &'static str) -> Result<Part<'a, A>, ReadError> {
        let Some(col) = self.batch.column_by_name(name) else {
            return Ok(Part(None));
        };
        col.as_any()
            .downcast_ref::<A>()
            .map(|a| Part(Some(a)))
            .ok_or_else(|| self.wrong(name, col))
    }

    fn wrong(&self, name: &'static str, col: &ArrayRef) -> ReadError {
        let expected = quadtrace_schema::column(name).map_or("?", |c| type_name(c.ty));
        ReadError::WrongType {
            path: self.path.to_owned(),
            column: name,
            found: col.data_type().to_string(),
            expected,
        }
    }

    fn null(&self, name: &'static str, row: usize) -> ReadError {
        ReadError::Null {
            path: self.path.to_owned(),
            column: name,
            row,
        }
    }

    /// A column that may have no nulls, or the error naming the first null's row.
    fn no_nulls(
        &self,
        col: &dyn Array,
        name: &'static str,
        first_row: usize,
    ) -> Result<(), ReadError> {
        match col.nulls().filter(|n| n.null_count() > 0) {
            None => Ok(()),
            Some(nulls) => {
                let i = nulls.iter().position(|valid| !valid).unwrap_or(0);
                Err(self.null(name, first_row + i))
            }
        }
    }

    /// A column every schema version has must be in the file.
    fn required<A>(&self, col: Option<&'a A>, name: &'static str) -> Result<&'a A, ReadError> {
        col.ok_or_else(|| self.missing(name))
    }

    fn missing(&self, name: &'static str) -> ReadError {
        ReadError::MissingColumn {
            path: self.path.to_owned(),
            column: name,
        }
    }
}

/// Defines the typed columns of a slice, from one list of fields.
macro_rules! columns {
    ($($field:ident: $ty:ty = $name:expr;)*) => {
        /// Every column of one slice, typed.
        struct Rows<'a> {
            $($field: Part<'a, $ty>,)*
        }

        impl<'a> Rows<'a> {
            fn new(f: &Frame<'a>) -> Result<Self, ReadError> {
                Ok(Rows {
                    $($field: f.col::<$ty>($name)?,)*
                })
            }
        }
    };
}

type I64s = PrimitiveArray<Int64Type>;
type I32s = PrimitiveArray<Int32Type>;

columns! {
    ts: I64s = columns::TS_NS;
    pid: I32s = columns::PID;
    goid: I64s = columns::GOID;
    kind: StringViewArray = columns::KIND;
    service: StringViewArray = columns::SERVICE;
    method: StringViewArray = columns::METHOD;
    host: StringViewArray = columns::HOST;
    path: StringViewArray = columns::PATH;
    listen: StringViewArray = columns::LISTEN_ADDR;
    status: I32s = columns::STATUS;
    error: BooleanArray = columns::ERROR;
    parent: I64s = columns::PARENT_GOID;
    ctx0: I64s = columns::CTX;
    ctx1: I64s = columns::CTX1;
    ctx2: I64s = columns::CTX2;
    ctx3: I64s = columns::CTX3;
    chan: I64s = columns::CHAN;
    value: I64s = columns::VALUE;
    qcount: I32s = columns::QCOUNT;
    dataqsiz: I32s = columns::DATAQSIZ;
    in_select: BooleanArray = columns::IN_SELECT;
    completed: BooleanArray = columns::COMPLETED;
    route: StringViewArray = columns::ROUTE;
    remote: StringViewArray = columns::REMOTE_ADDR;
    local: StringViewArray = columns::LOCAL_ADDR;
    netns: I64s = columns::NETNS;
    receiver: I64s = columns::RECEIVER_GOID;
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

/// Turns one file's slices into events, keeping from slice to slice what repeats: the symbols
/// of short strings (see `strings`), the processes by pid, and the vectors of symbols. Made
/// afresh for every slice, they were interned and allocated again each time: 65,536 rows
/// bring thousands of distinct paths and addresses, most of them seen in the slice before.
#[derive(Default)]
pub(crate) struct Converter {
    strings: Strings,
    /// Processes by pid: a file comes from one host, and rows of a few processes interleave.
    procs: IdMap<i32, ProcId>,
}

impl Converter {
    /// Appends the rows of `batch` to `out`, interning their strings and processes in `log`;
    /// returns how many rows had an unknown kind. `first_row` is the file's row number of the
    /// slice's first row, for error messages. Every slice given must come from the file of
    /// host `hostname`.
    pub(crate) fn load_events(
        &mut self,
        path: &Path,
        batch: &RecordBatch,
        first_row: usize,
        hostname: &str,
        log: &mut EventLog,
        out: &mut Vec<Event>,
    ) -> Result<u64, ReadError> {
        let frame = Frame { path, batch };
        let rows = Rows::new(&frame)?;
        let ts = frame.required(rows.ts.0, columns::TS_NS)?;
        frame.required(rows.pid.0, columns::PID)?;
        frame.required(rows.goid.0, columns::GOID)?;
        // String columns are read column by column (see `strings`), so the nulls of those that
        // may have none are looked for first.
        let kind = frame.required(rows.kind.0, columns::KIND)?;
        let service = frame.required(rows.service.0, columns::SERVICE)?;
        frame.no_nulls(kind, columns::KIND, first_row)?;
        frame.no_nulls(service, columns::SERVICE, first_row)?;
        let Converter { strings, procs } = self;
        // Consecutive rows are mostly of one process.
        let mut last_proc: Option<(i32, ProcId)> = None;
        let mut unknown = 0;
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
        strings.read(log, &string_cols, ts.len());
        out.reserve(ts.len());
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
            let proc = match last_proc {
                Some((last_pid, proc)) if last_pid == pid => proc,
                _ => {
                    let proc = *procs.entry(pid).or_insert_with(|| {
                        let proc = log.process(hostname, pid);
                        log.note_service(proc, service);
                        proc
                    });
                    last_proc = Some((pid, proc));
                    proc
                }
            };
            let detail = match detail(&rows, strings, i, kind, log) {
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
        Ok(unknown)
    }
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
