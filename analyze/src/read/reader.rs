//! Reading recordings: checking that a file is a quadtrace recording this build understands,
//! then loading the columns reconstruction needs into the [`EventLog`].
//!
//! The footer is read first (arrow-rs' [`ArrowReaderMetadata`] holds its key-value metadata)
//! so that a foreign or newer file is refused before any data is decoded, and column types are
//! checked against the Arrow schema before the decoder meets them.

use std::collections::BTreeMap;
use std::fs::File;
use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::TryRecvError;
use std::sync::Arc;

use arrow_array::{Array, Int64Array, RecordBatch, StringViewArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::file::metadata::ParquetMetaData;
use quadtrace_schema::{columns, meta, ColumnType, MIN_READABLE_SCHEMA_VERSION, SCHEMA_VERSION};

pub use crate::read::problems::{ReadError, Warning};

use crate::read::problems::type_name;

use crate::model::events::{Event, EventLog, RecordingStart};
use crate::model::span::Period;
use crate::read::guard;
use crate::read::pages;
use decode::Decode;
use processes::{add_listeners, listed_processes};
use shared::SharedColumns;
use timeline::Timeline;

mod decode;
mod processes;
mod shared;
pub mod timeline;

/// The columns reconstruction reads. Columns a file's schema version predates may be absent and
/// read as null; every other one must be there.
pub(crate) const READ: [&str; 27] = [
    columns::TS_NS,
    columns::PID,
    columns::GOID,
    columns::KIND,
    columns::SERVICE,
    columns::METHOD,
    columns::HOST,
    columns::PATH,
    columns::LISTEN_ADDR,
    columns::STATUS,
    columns::ERROR,
    columns::PARENT_GOID,
    columns::CTX,
    columns::CTX1,
    columns::CTX2,
    columns::CTX3,
    columns::CHAN,
    columns::VALUE,
    columns::QCOUNT,
    columns::DATAQSIZ,
    columns::IN_SELECT,
    columns::COMPLETED,
    columns::ROUTE,
    columns::REMOTE_ADDR,
    columns::LOCAL_ADDR,
    columns::NETNS,
    columns::RECEIVER_GOID,
];

/// Rows decoded at a time, within a row group. Decoding a whole row group at once holds every
/// column of it in memory next to the events made from them, several times their size; a
/// slice's buffers are freed and reused for the next. `record` writes row groups of about a
/// million rows, sixteen slices each: a slice's events are 5 MB, which stay in the
/// processor's cache from conversion to the pass (measured on 100 M events: peak 1.42 GiB
/// with 2^17 rows, 1.55 GiB with 2^18, 2.31 GiB with 2^20; at 50 M, 2^16 rows with
/// [`SLICES_WAITING`] took 5.8-6.3 s where 2^17 with one took 6.0-6.8, and 9 MiB less).
const SLICE_ROWS: usize = 1 << 16;

/// Slices of events that may wait between the decoder and the pass. The pass works in bursts
/// (every ten seconds of the events' time it sweeps its tables), and waiting slices let the
/// decoder go on meanwhile; more than a few leave the events to go cold before the pass reads
/// them (conversion took 10 % longer with twelve).
const SLICES_WAITING: usize = 6;

/// What `record` appends to the name of the file it is writing, until it has closed it.
const INPROGRESS_EXTENSION: &str = "inprogress";

/// A recording's key-value metadata, as strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata(pub BTreeMap<String, String>);

impl Metadata {
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

/// Reads the recording at `path` into `log`, after checking its metadata and columns.
pub fn read_recording(
    path: &Path,
    log: &mut EventLog,
    warnings: &mut Vec<Warning>,
) -> Result<Metadata, ReadError> {
    read_recording_on(path, log, warnings, &Timeline::default())
}

/// Like [`read_recording`], the recording's times moved onto `timeline`.
pub fn read_recording_on(
    path: &Path,
    log: &mut EventLog,
    warnings: &mut Vec<Warning>,
    timeline: &Timeline,
) -> Result<Metadata, ReadError> {
    let mut buffer = Vec::new();
    // Events stay in the buffer until the end: the log is lent to the decoder until then.
    let metadata = read_slices(path, log, warnings, &mut buffer, &mut Keep, timeline)?;
    log.append(&mut buffer);
    Ok(metadata)
}

/// What [`read_slices`] hands on as it reads.
pub(crate) trait Slices {
    /// What a recording says of itself, once its metadata is read, before its first slice.
    fn started(&mut self, start: RecordingStart);
    /// A slice's events (`rows` of them) were appended to `buffer`.
    fn slice_done(&mut self, buffer: &mut Vec<Event>, rows: usize);
}

/// Keeps every event in the buffer.
struct Keep;

impl Slices for Keep {
    fn started(&mut self, _: RecordingStart) {}
    fn slice_done(&mut self, _: &mut Vec<Event>, _: usize) {}
}

/// An open recording whose footer has been read: the file, and its footer and Arrow schema
/// (with every string column to be decoded as string views, see [`as_views`]).
pub(crate) struct Opened {
    file: File,
    footer: ArrowReaderMetadata,
}

impl Opened {
    fn parquet(&self) -> &Arc<ParquetMetaData> {
        self.footer.metadata()
    }

    fn schema(&self) -> &Schema {
        self.footer.schema()
    }

    /// The file at `path` (this one) opened again, with the footer read already: a handle of
    /// its own, whose reads do not move another reader's (a cloned handle shares the file
    /// offset, which the readers seek).
    fn reopened(&self, path: &Path) -> Result<Opened, ReadError> {
        Ok(Opened {
            file: open_file(path)?,
            footer: self.footer.clone(),
        })
    }
}

/// Opens the file at `path` and reads its footer.
fn open(path: &Path) -> Result<Opened, ReadError> {
    let file = open_file(path)?;
    let footer = match guard::catch(|| ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()))
    {
        Ok(Ok(footer)) => footer,
        Ok(Err(e)) => return Err(no_footer(path, one_line(&e))),
        Err(reason) => return Err(corrupt(path, reason)),
    };
    let footer = match as_views(footer.schema()) {
        Some(views) => guarded(path, || {
            ArrowReaderMetadata::try_new(
                footer.metadata().clone(),
                ArrowReaderOptions::new().with_schema(views),
            )
        })?,
        None => footer,
    };
    Ok(Opened { file, footer })
}

/// `schema` with every string column as string views, when any is not already: a view of a
/// short string (up to 12 bytes) holds the string itself, and equal values of a
/// dictionary-encoded column share one view, which `load` interns by (see `load::strings`).
fn as_views(schema: &Schema) -> Option<Arc<Schema>> {
    let is_string = |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8);
    let stringy = |t: &DataType| match t {
        DataType::Dictionary(_, values) => is_string(values) || **values == DataType::Utf8View,
        t => is_string(t),
    };
    if !schema.fields().iter().any(|f| stringy(f.data_type())) {
        return None;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            if stringy(f.data_type()) {
                Field::new(f.name(), DataType::Utf8View, f.is_nullable())
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    Some(Arc::new(Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    )))
}

/// The slices [`read_slices`] reads from a file: each row group's rows, [`SLICE_ROWS`] at a
/// time (the group's index, and the slice's rows in the file).
pub(crate) fn slices(footer: &ParquetMetaData) -> Vec<(usize, Range<usize>)> {
    let mut slices = Vec::new();
    let mut first = 0usize;
    for (group, meta) in footer.row_groups().iter().enumerate() {
        let rows = usize::try_from(meta.num_rows()).unwrap_or(0);
        for start in (0..rows).step_by(SLICE_ROWS) {
            slices.push((group, first + start..first + rows.min(start + SLICE_ROWS)));
        }
        first += rows;
    }
    slices
}

/// Reads the recording at `path` like [`read_recording`], a slice at a time: `to` is told of
/// the recording once its metadata is read, then each slice's events are appended to `buffer`
/// and handed on, one slice at a time (see [`slices`], [`slice_min_ts`]).
pub(crate) fn read_slices(
    path: &Path,
    log: &mut EventLog,
    warnings: &mut Vec<Warning>,
    buffer: &mut Vec<Event>,
    to: &mut dyn Slices,
    timeline: &Timeline,
) -> Result<Metadata, ReadError> {
    let opened = open(path)?;
    let metadata = read_metadata(&opened);
    let version = check_version(path, &metadata)?;
    if let Some(count) = metadata
        .get(meta::LOST_TOTAL)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
    {
        warnings.push(Warning::LostEvents {
            path: path.to_owned(),
            count,
        });
    }
    let mut present = Vec::with_capacity(READ.len());
    for name in READ {
        if check_column(path, name, version, opened.schema())? {
            present.push(name);
        }
    }
    check_counts(path, opened.parquet())?;
    let slices = slices(opened.parquet());
    let hostname = metadata.get(meta::HOSTNAME).unwrap_or_default();
    let offset = timeline.offset(hostname);
    to.started(recording_start(&metadata, hostname, log, offset));
    buffer.reserve(SLICE_ROWS);
    // The decoder (see `decode`) decodes slices and turns them into events (interning their
    // strings in the log, which it holds until the end) while this thread hands the last
    // slice's events on; up to `SLICES_WAITING` slices wait between the two. Emptied vectors
    // go back to the decoder to be filled again without new page faults.
    let shared = SharedColumns::new(path, &opened, &present, &slices)?;
    let unknown = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(SLICES_WAITING);
        let (back, spare) = std::sync::mpsc::channel();
        let job = Decode {
            path,
            opened: &opened,
            columns: &present,
            slices: &slices,
            hostname,
            offset,
            shared: shared.as_ref(),
        };
        let lent = &mut *log;
        let decoder = scope.spawn(move || job.run(lent, &tx, &spare));
        loop {
            // Waiting for the next slice, this thread decodes columns of later ones instead.
            let slice = match rx.try_recv() {
                Ok(slice) => slice,
                Err(TryRecvError::Empty) if shared.as_ref().is_some_and(|s| s.help()) => continue,
                Err(TryRecvError::Empty) => match rx.recv() {
                    Ok(slice) => slice,
                    Err(_) => break,
                },
                Err(TryRecvError::Disconnected) => break,
            };
            let mut events = slice?;
            let rows = events.len();
            if buffer.is_empty() {
                std::mem::swap(buffer, &mut events);
            } else {
                buffer.append(&mut events);
            }
            // The decoder may be gone already (it stops after the last slice).
            let _ = back.send(events);
            to.slice_done(buffer, rows);
        }
        decoder
            .join()
            .map_err(|panic| corrupt(path, guard::message(panic.as_ref())))
    })?;
    if unknown > 0 {
        warnings.push(Warning::UnknownKinds {
            path: path.to_owned(),
            count: unknown,
        });
    }
    add_listeners(&metadata, hostname, log);
    Ok(metadata)
}

/// What the recording's metadata tells reconstruction (see [`RecordingStart`]); its start and
/// its processes from `quadtrace.processes` are noted in `log` (before any of its events, so
/// that they number from [`RecordingStart::first_proc`] like the rest of the file's). Its times
/// move by `offset` onto the set's timeline, and its clock's zero the other way.
fn recording_start(
    metadata: &Metadata,
    hostname: &str,
    log: &mut EventLog,
    offset: i64,
) -> RecordingStart {
    let first_proc = log.process_count();
    let machine = log.machine(hostname);
    let start_ns: Option<i64> = metadata
        .get(meta::TIME_RANGE_NS)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|s| s.parse().ok());
    if let Some(start_ns) = start_ns {
        log.note_start(machine, start_ns.saturating_add(offset));
    }
    let zero = boot_wall_ns(metadata).map(|boot| boot.saturating_sub(offset));
    if let Some(zero) = zero {
        log.note_clock(machine, zero);
    }
    let mut netns = Vec::new();
    for (pid, listed) in listed_processes(metadata) {
        if let Some(n) = listed.netns {
            netns.push((log.process(hostname, pid), n));
        }
        log.list_process(hostname, pid, listed);
    }
    RecordingStart {
        first_proc,
        machine,
        netns,
        boot_wall_ns: zero,
    }
}

/// The wall-clock time of the recording's `ts_ns = 0`, when its metadata says.
pub(crate) fn boot_wall_ns(metadata: &Metadata) -> Option<i64> {
    metadata.get(meta::BOOT_WALL_NS)?.trim().parse().ok()
}

/// The earliest `ts_ns` of each slice [`read_slices`] reads from the file at `path` (`None`
/// for a slice without one) on `timeline`, with the slice's rows, decoding that column alone;
/// `None` when the file cannot be read so, which [`read_slices`] will then say why.
pub(crate) fn slice_min_ts(path: &Path, timeline: &Timeline) -> Option<Vec<(Option<i64>, usize)>> {
    let opened = open(path).ok()?;
    let offset = timeline.offset(
        read_metadata(&opened)
            .get(meta::HOSTNAME)
            .unwrap_or_default(),
    );
    check_counts(path, opened.parquet()).ok()?;
    let slices = slices(opened.parquet());
    let column = [columns::TS_NS];
    let mut mins = Vec::with_capacity(slices.len());
    for group in 0..opened.parquet().num_row_groups() {
        check_pages(path, &opened, &column, group).ok()?;
        let mut batches = slice_reader(path, &opened, &column, group).ok()?;
        // Decoding happens in `next`, which a damaged page may make panic.
        while let Some(batch) = guarded(path, || batches.next().transpose()).ok()? {
            let ts = batch.columns().first()?;
            let ts = ts.as_any().downcast_ref::<Int64Array>()?;
            let min = ts.iter().flatten().min().map(|t| t.saturating_add(offset));
            mins.push((min, ts.len()));
        }
    }
    // Each batch is one of the slices, in order (see `decode::slice_reader`).
    (mins.len() == slices.len()).then_some(mins)
}

/// A recording's clock, from its footer: the wall-clock time of its `ts_ns = 0` and the
/// `ts_ns` it began at, where it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Clock {
    pub(crate) boot_wall_ns: Option<i64>,
    pub(crate) start_ns: Option<i64>,
    pub(crate) stop_ns: Option<i64>,
}

/// The clock of the recording at `path` (see [`Clock`]), after checking that it is one.
pub(crate) fn clock(path: &Path) -> Result<Clock, ReadError> {
    let metadata = read_metadata(&open(path)?);
    check_version(path, &metadata)?;
    Ok(Clock {
        boot_wall_ns: boot_wall_ns(&metadata),
        start_ns: metadata
            .get(meta::TIME_RANGE_NS)
            .and_then(|r| r.split_whitespace().next()?.parse().ok()),
        stop_ns: time_range(&metadata).map(|(_, stop)| stop),
    })
}

/// `quadtrace.time_range_ns`: the `ts_ns` the recording started and stopped at.
pub(crate) fn time_range(metadata: &Metadata) -> Option<(i64, i64)> {
    let mut range = metadata.get(meta::TIME_RANGE_NS)?.split_whitespace();
    let start = range.next()?.parse().ok()?;
    let stop = range.next()?.parse().ok()?;
    Some((start, stop))
}

/// What `analyze info` reads of a recording: its metadata, its rows, and how many rows of each
/// kind start inside `period` (every row when the period is everything).
pub(crate) struct Census {
    pub(crate) metadata: Metadata,
    pub(crate) rows: usize,
    pub(crate) kinds: BTreeMap<String, u64>,
}

/// The [`Census`] of the recording at `path`, decoding its `ts_ns` and `kind` columns alone.
pub(crate) fn census(path: &Path, period: Period) -> Result<Census, ReadError> {
    let opened = open(path)?;
    let metadata = read_metadata(&opened);
    let version = check_version(path, &metadata)?;
    for name in [columns::TS_NS, columns::KIND] {
        check_column(path, name, version, opened.schema())?;
    }
    check_counts(path, opened.parquet())?;
    let boot = boot_wall_ns(&metadata);
    let columns = [columns::TS_NS, columns::KIND];
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut rows = 0;
    for group in 0..opened.parquet().num_row_groups() {
        check_pages(path, &opened, &columns, group)?;
        let mut batches = slice_reader(path, &opened, &columns, group)?;
        while let Some(batch) = guarded(path, || batches.next().transpose())? {
            rows += batch.num_rows();
            let ts = batch.column_by_name(columns::TS_NS);
            let ts = ts.and_then(|c| c.as_any().downcast_ref::<Int64Array>());
            let kind = batch.column_by_name(columns::KIND);
            let kind = kind.and_then(|c| c.as_any().downcast_ref::<StringViewArray>());
            let (Some(ts), Some(kind)) = (ts, kind) else {
                return Err(corrupt(
                    path,
                    "ts_ns or kind decoded as another type".to_owned(),
                ));
            };
            // Counted by view (equal views, equal strings), named once per slice.
            let mut by_view: std::collections::HashMap<u128, (usize, u64)> = Default::default();
            for (i, &view) in kind.views().iter().enumerate() {
                let inside = period == Period::ALL
                    || (ts.is_valid(i)
                        && boot.is_some_and(|b| period.contains(b.saturating_add(ts.value(i)))));
                if !inside || kind.is_null(i) {
                    continue;
                }
                by_view.entry(view).or_insert((i, 0)).1 += 1;
            }
            for (i, n) in by_view.into_values() {
                *kinds.entry(kind.value(i).to_owned()).or_default() += n;
            }
        }
    }
    Ok(Census {
        metadata,
        rows,
        kinds,
    })
}

/// When the recording in the file at `path` began (`quadtrace.time_range_ns`) on `timeline`,
/// from its footer alone; `None` when it does not say or cannot be read.
pub(crate) fn recording_start_ns(path: &Path, timeline: &Timeline) -> Option<i64> {
    let metadata = read_footer_metadata(path)?;
    let start: i64 = metadata
        .get(meta::TIME_RANGE_NS)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let host = metadata.get(meta::HOSTNAME).unwrap_or_default();
    Some(start.saturating_add(timeline.offset(host)))
}

/// The key-value metadata of the file at `path`, from its footer alone; `None` when it cannot
/// be read.
pub(crate) fn read_footer_metadata(path: &Path) -> Option<Metadata> {
    Some(read_metadata(&open(path).ok()?))
}

fn read_metadata(opened: &Opened) -> Metadata {
    let pairs = opened.parquet().file_metadata().key_value_metadata();
    Metadata(
        pairs
            .into_iter()
            .flatten()
            .filter_map(|kv| Some((kv.key.clone(), kv.value.clone()?)))
            .collect(),
    )
}

/// Why the footer of the file at `path` could not be read, `reason` being the decoder's word:
/// a file `record` never finished, a Parquet file cut short, or not Parquet at all.
fn no_footer(path: &Path, reason: String) -> ReadError {
    if path.extension().is_some_and(|e| e == INPROGRESS_EXTENSION) {
        return ReadError::Unfinished {
            path: path.to_owned(),
        };
    }
    let mut head = [0u8; 4];
    let begins_like_parquet = File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok_and(|()| &head == b"PAR1");
    if begins_like_parquet {
        return ReadError::Truncated {
            path: path.to_owned(),
        };
    }
    let reason = match std::fs::metadata(path) {
        Ok(m) if m.len() == 0 => "the file is empty".to_owned(),
        _ => reason,
    };
    ReadError::NotParquet {
        path: path.to_owned(),
        reason,
    }
}

/// Checks the footer's row and value counts against each other (see [`pages`]).
fn check_counts(path: &Path, footer: &ParquetMetaData) -> Result<(), ReadError> {
    pages::check_counts(footer).map_err(|reason| corrupt(path, reason))
}

/// Checks the page headers of `columns` in row group `group` before the decoder trusts them
/// (see [`pages::check_pages`]).
fn check_pages(
    path: &Path,
    opened: &Opened,
    columns: &[&str],
    group: usize,
) -> Result<(), ReadError> {
    pages::check_pages(&opened.file, opened.parquet(), columns, group)
        .map_err(|reason| corrupt(path, reason))
}

/// Runs a decoder call on the file at `path`, turning its error, or its panic on damaged bytes,
/// into one that names the file.
fn guarded<T, E: std::fmt::Display>(
    path: &Path,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, ReadError> {
    match guard::catch(f) {
        Ok(result) => result.map_err(|e| data_error(path, &e)),
        Err(reason) => Err(corrupt(path, reason)),
    }
}

fn corrupt(path: &Path, reason: String) -> ReadError {
    ReadError::Corrupt {
        path: path.to_owned(),
        reason,
    }
}

fn check_version(path: &Path, metadata: &Metadata) -> Result<u32, ReadError> {
    let value = metadata
        .get(meta::SCHEMA_VERSION)
        .ok_or_else(|| ReadError::NotRecording {
            path: path.to_owned(),
        })?;
    let version = value
        .trim()
        .parse::<u32>()
        .map_err(|_| ReadError::BadVersion {
            path: path.to_owned(),
            value: value.to_owned(),
        })?;
    if version > SCHEMA_VERSION {
        return Err(ReadError::NewerSchema {
            path: path.to_owned(),
            found: version,
        });
    }
    if version < MIN_READABLE_SCHEMA_VERSION {
        return Err(ReadError::OlderSchema {
            path: path.to_owned(),
            found: version,
        });
    }
    Ok(version)
}

/// Whether column `name` is in the file with the schema's type. A column added after the file's
/// schema version may be absent (`Ok(false)`: read as null); any other absence is an error.
fn check_column(
    path: &Path,
    name: &'static str,
    version: u32,
    schema: &Schema,
) -> Result<bool, ReadError> {
    let column = quadtrace_schema::column(name);
    let Ok(field) = schema.field_with_name(name) else {
        if column.is_some_and(|c| c.since > version) {
            return Ok(false);
        }
        return Err(ReadError::MissingColumn {
            path: path.to_owned(),
            column: name,
        });
    };
    let Some(expected) = column.map(|c| c.ty) else {
        return Ok(true);
    };
    if arrow_type_matches(field.data_type(), expected) {
        return Ok(true);
    }
    Err(ReadError::WrongType {
        path: path.to_owned(),
        column: name,
        found: arrow_type_name(field.data_type()),
        expected: type_name(expected),
    })
}

/// The schema's name for an Arrow type where it has one, so that "found" reads like "expected".
fn arrow_type_name(dtype: &DataType) -> String {
    let ours = [
        ColumnType::Int64,
        ColumnType::Int32,
        ColumnType::Utf8,
        ColumnType::Bool,
    ]
    .into_iter()
    .find(|ty| arrow_type_matches(dtype, *ty));
    ours.map_or_else(|| format!("{dtype:?}"), |ty| type_name(ty).to_owned())
}

fn arrow_type_matches(dtype: &DataType, expected: ColumnType) -> bool {
    let is_string =
        |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    match expected {
        ColumnType::Int64 => matches!(dtype, DataType::Int64),
        ColumnType::Int32 => matches!(dtype, DataType::Int32),
        ColumnType::Bool => matches!(dtype, DataType::Boolean),
        ColumnType::Utf8 => match dtype {
            DataType::Dictionary(_, values) => is_string(values),
            t => is_string(t),
        },
    }
}

/// Decoder errors may span lines; a one-line message reads better after `error: FILE:`.
fn one_line(e: &impl std::fmt::Display) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn data_error(path: &Path, e: &impl std::fmt::Display) -> ReadError {
    ReadError::Data {
        path: path.to_owned(),
        reason: one_line(e),
    }
}

fn open_file(path: &Path) -> Result<File, ReadError> {
    File::open(path).map_err(|source| ReadError::Open {
        path: path.to_owned(),
        source,
    })
}

/// The next batch of a [`slice_reader`] of row group `group`: the slice of the file's `rows`,
/// whole, or why not.
fn next_slice(
    path: &Path,
    group: usize,
    rows: &Range<usize>,
    batches: &mut ParquetRecordBatchReader,
) -> Result<RecordBatch, ReadError> {
    // Decoding happens in `next`, which a damaged page may make panic.
    match guarded(path, || batches.next().transpose())? {
        Some(batch) if batch.num_rows() == rows.len() => Ok(batch),
        Some(batch) => Err(corrupt(
            path,
            format!(
                "row group {group} gave {} rows where its footer says {}",
                batch.num_rows(),
                rows.len()
            ),
        )),
        None => Err(corrupt(
            path,
            format!("row group {group} ended before the rows its footer counts"),
        )),
    }
}

/// A reader of `columns` of row group `group` of the open file, whose batches are the group's
/// slices (see [`slices`]).
pub(super) fn slice_reader(
    path: &Path,
    opened: &Opened,
    columns: &[&str],
    group: usize,
) -> Result<ParquetRecordBatchReader, ReadError> {
    let file = opened.file.try_clone().map_err(|source| ReadError::Open {
        path: path.to_owned(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, opened.footer.clone());
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    guarded(path, || {
        builder
            .with_projection(mask)
            .with_row_groups(vec![group])
            .with_batch_size(SLICE_ROWS)
            .build()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrow_types_match_the_schema() {
        assert!(arrow_type_matches(&DataType::Utf8View, ColumnType::Utf8));
        assert!(arrow_type_matches(&DataType::Int64, ColumnType::Int64));
        assert!(!arrow_type_matches(&DataType::Int32, ColumnType::Int64));
        assert!(!arrow_type_matches(&DataType::Int64, ColumnType::Utf8));
    }

    #[test]
    fn versions_are_checked() {
        let path = Path::new("r.parquet");
        let md = |v: &str| Metadata([(meta::SCHEMA_VERSION.to_owned(), v.to_owned())].into());
        assert_eq!(check_version(path, &md("1")).ok(), Some(1));
        assert_eq!(
            check_version(path, &md(&SCHEMA_VERSION.to_string())).ok(),
            Some(SCHEMA_VERSION)
        );
        assert!(matches!(
            check_version(path, &md("0")),
            Err(ReadError::OlderSchema { found: 0, .. })
        ));
        let err = check_version(path, &md(&(SCHEMA_VERSION + 1).to_string()));
        assert!(matches!(err, Err(ReadError::NewerSchema { .. })));
        assert!(matches!(
            check_version(path, &md("x")),
            Err(ReadError::BadVersion { .. })
        ));
        assert!(matches!(
            check_version(path, &Metadata::default()),
            Err(ReadError::NotRecording { .. })
        ));
    }
}
