//! Writes decoded events to a Parquet recording (the format of `quadtrace-schema`).
//!
//! The file is written as `NAME.inprogress` and renamed to `NAME` when closed, so a file under
//! the final name is always complete and readable.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow_array::builder::OffsetBufferBuilder;
use arrow_array::{
    ArrayRef, BooleanArray, Int32Array, Int64Array, RecordBatch, StringArray, UInt32Array,
    UInt8Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use quadtrace_schema::{columns as col, ColumnType, EventKind, COLUMNS};

use crate::raw_event::Event;

/// Rows buffered before they are handed to the Parquet writer as one batch.
const BATCH_ROWS: usize = 16 * 1024;

/// The Arrow schema of a recording, built from the one column list in `quadtrace-schema`.
pub fn arrow_schema() -> SchemaRef {
    let fields: Vec<Field> = COLUMNS
        .iter()
        .map(|c| {
            let ty = match c.ty {
                ColumnType::Int64 => DataType::Int64,
                ColumnType::Int32 => DataType::Int32,
                ColumnType::Utf8 => DataType::Utf8,
                ColumnType::Bool => DataType::Boolean,
            };
            Field::new(c.name, ty, c.nullable)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// One batch of rows, column by column, as plain vectors: a row costs one push per column and
/// no branch on whether the column applies. Values in rows where a column does not apply are
/// pushed anyway and masked as null in [`Batch::finish`], where validity follows from the kind
/// (and `flags`); the Parquet writer skips masked slots, so they never reach the file.
struct Batch {
    /// Per row: the raw kind in the low byte, `flags` in the bits above.
    tag: Vec<u32>,
    ts_ns: Vec<i64>,
    pid: Vec<i32>,
    tid: Vec<i32>,
    goid: Vec<i64>,
    /// Index into `services`, the batch's distinct service names.
    service: Vec<u32>,
    services: Vec<String>,
    /// The index of the previous row's service: runs of one process's events are the rule.
    last_service: u32,
    method: Strings,
    host: Strings,
    path: Strings,
    listen_addr: Strings,
    route: Strings,
    remote_addr: Strings,
    local_addr: Strings,
    netns: Vec<i64>,
    receiver_goid: Vec<i64>,
    status: Vec<i32>,
    parent_goid: Vec<i64>,
    ctx: Vec<i64>,
    ctx_ancestors: [Vec<i64>; 3],
    chan: Vec<i64>,
    value: Vec<i64>,
    /// qcount, dataqsiz, sendx, recvx.
    queue: [Vec<i32>; 4],
}

/// Bits of a row's flags (the bits of [`Batch::tag`] above the kind).
const HAS_STATUS: u16 = 1;
const HAS_VALUE: u16 = 2;
const ERROR: u16 = 4;
const TRUNCATED: u16 = 8;
const IN_SELECT: u16 = 16;
const COMPLETED: u16 = 32;
/// A `server_end` with a route (an empty one is unknown: null).
const HAS_ROUTE: u16 = 64;
/// A `server_start` or `connect` with a remote address (an empty one is unknown: null).
const HAS_REMOTE: u16 = 128;
/// A `chan_send` that names the receiver waiting for it.
const HAS_RECEIVER: u16 = 256;

fn column<T>() -> Vec<T> {
    Vec::with_capacity(BATCH_ROWS)
}

/// One string column of a batch, kept as Arrow lays it out (offsets into one byte buffer).
struct Strings {
    offsets: OffsetBufferBuilder<i32>,
    bytes: Vec<u8>,
}

impl Strings {
    fn new() -> Self {
        Strings {
            offsets: OffsetBufferBuilder::new(BATCH_ROWS),
            bytes: Vec::new(),
        }
    }

    /// Appends `v` where it applies, an empty string (a row to be masked as null) elsewhere.
    fn push(&mut self, applies: bool, v: &str) {
        let len = if applies {
            self.bytes.extend_from_slice(v.as_bytes());
            v.len()
        } else {
            0
        };
        self.offsets.push_length(len);
    }

    fn finish(&mut self, valid: &BooleanArray) -> Result<ArrayRef> {
        let Strings { offsets, bytes } = std::mem::replace(self, Strings::new());
        // A batch holds BATCH_ROWS strings of at most a few hundred bytes: far below i32::MAX.
        let offsets = offsets.try_finish().context("string column offsets")?;
        let bytes = UInt8Array::from(bytes).into_parts().1.into_inner();
        let array = StringArray::try_new(offsets, bytes, Some(valid.values().clone().into()))
            .context("assembling a string column")?;
        Ok(Arc::new(array))
    }
}

fn int64(values: &mut Vec<i64>, valid: Option<&BooleanArray>) -> ArrayRef {
    let values = std::mem::replace(values, column());
    Arc::new(Int64Array::new(
        values.into(),
        valid.map(|v| v.values().clone().into()),
    ))
}

fn int32(values: &mut Vec<i32>, valid: Option<&BooleanArray>) -> ArrayRef {
    let values = std::mem::replace(values, column());
    Arc::new(Int32Array::new(
        values.into(),
        valid.map(|v| v.values().clone().into()),
    ))
}

impl Batch {
    fn new() -> Self {
        Batch {
            tag: column(),
            ts_ns: column(),
            pid: column(),
            tid: column(),
            goid: column(),
            service: column(),
            services: Vec::new(),
            last_service: 0,
            method: Strings::new(),
            host: Strings::new(),
            path: Strings::new(),
            listen_addr: Strings::new(),
            route: Strings::new(),
            remote_addr: Strings::new(),
            local_addr: Strings::new(),
            netns: column(),
            receiver_goid: column(),
            status: column(),
            parent_goid: column(),
            ctx: column(),
            ctx_ancestors: [column(), column(), column()],
            chan: column(),
            value: column(),
            queue: [column(), column(), column(), column()],
        }
    }

    fn rows(&self) -> usize {
        self.tag.len()
    }

    fn push(&mut self, ev: &Event<'_>, service: &str) {
        use EventKind as K;
        let request = matches!(ev.kind, K::ServerStart | K::ClientStart);
        let flag = |on: bool, bit: u16| if on { bit } else { 0 };
        let route = ev.kind == K::ServerEnd && !ev.route.is_empty();
        let remote = !ev.remote_addr.is_empty();
        let flags = flag(route, HAS_ROUTE)
            | flag(remote, HAS_REMOTE)
            | flag(ev.receiver_goid.is_some(), HAS_RECEIVER)
            | flag(ev.status.is_some(), HAS_STATUS)
            | flag(ev.value.is_some(), HAS_VALUE)
            | flag(ev.error, ERROR)
            | flag(ev.truncated, TRUNCATED)
            | flag(ev.in_select, IN_SELECT)
            | flag(ev.completed, COMPLETED);
        self.tag
            .push(u32::from(ev.kind as u8) | u32::from(flags) << 8);
        // Go ids and pointers fit in i64; wrapping keeps any odd value instead of failing.
        self.ts_ns.push(ev.ts_ns as i64);
        self.pid.push(ev.pid as i32);
        self.tid.push(ev.tid as i32);
        self.goid.push(ev.goid as i64);
        let same = self
            .services
            .get(self.last_service as usize)
            .map(String::as_str);
        if same != Some(service) {
            self.last_service = self.service_index(service);
        }
        self.service.push(self.last_service);
        self.method.push(request, &ev.method);
        self.host.push(request, &ev.host);
        self.path.push(request, &ev.path);
        self.listen_addr
            .push(ev.kind == K::ServerStart, &ev.listen_addr);
        self.route.push(route, &ev.route);
        self.remote_addr.push(remote, &ev.remote_addr);
        self.local_addr.push(ev.netns.is_some(), &ev.local_addr);
        self.netns.push(ev.netns.unwrap_or(0) as i64);
        self.receiver_goid
            .push(ev.receiver_goid.unwrap_or(0) as i64);
        self.status.push(ev.status.unwrap_or(0));
        self.parent_goid.push(ev.parent_goid as i64);
        self.ctx.push(ev.ctx as i64);
        for (col, v) in self.ctx_ancestors.iter_mut().zip(ev.ctx_ancestors) {
            col.push(v as i64);
        }
        self.chan.push(ev.chan as i64);
        self.value.push(ev.value.unwrap_or(0) as i64);
        for (col, v) in self.queue.iter_mut().zip(ev.queue) {
            col.push(v as i32);
        }
    }

    #[cold]
    fn service_index(&mut self, service: &str) -> u32 {
        let i = match self.services.iter().position(|s| s == service) {
            Some(i) => i,
            None => {
                self.services.push(service.to_string());
                self.services.len() - 1
            }
        };
        // At most one name per traced process.
        i as u32
    }

    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch> {
        use EventKind as K;
        let tags = UInt32Array::from(std::mem::replace(&mut self.tag, column()));
        let kinds = |a: K, b: K| {
            let (a, b) = (a as u32, b as u32);
            BooleanArray::from_unary(&tags, |t| t & 0xff == a || t & 0xff == b)
        };
        let of_kind = |k: K| kinds(k, k);
        let flagged = |bit: u16| BooleanArray::from_unary(&tags, |t| (t >> 8) as u16 & bit != 0);
        let bools = |bit: u16, valid: Option<&BooleanArray>| -> ArrayRef {
            let values = flagged(bit).values().clone();
            Arc::new(BooleanArray::new(
                values,
                valid.map(|v| v.values().clone().into()),
            ))
        };
        let request = kinds(K::ServerStart, K::ClientStart);
        let chan = kinds(K::ChanSend, K::ChanRecv);
        let client_start = of_kind(K::ClientStart);
        let (connect, listen, listen_end) =
            (K::Connect as u32, K::Listen as u32, K::ListenEnd as u32);
        let socket = BooleanArray::from_unary(&tags, |t| {
            let k = t & 0xff;
            k == connect || k == listen || k == listen_end
        });
        let names: Vec<&str> = (0..=u8::MAX)
            .map(|k| EventKind::from_raw(k).map_or("", EventKind::as_str))
            .collect();
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(COLUMNS.len());
        for c in COLUMNS {
            let a: ArrayRef = match c.name {
                col::TS_NS => int64(&mut self.ts_ns, None),
                col::PID => int32(&mut self.pid, None),
                col::TID => int32(&mut self.tid, None),
                col::GOID => int64(&mut self.goid, None),
                col::KIND => Arc::new(StringArray::from_iter_values(
                    tags.values().iter().map(|&t| names[usize::from(t as u8)]),
                )),
                col::SERVICE => Arc::new(StringArray::from_iter_values(
                    self.service
                        .iter()
                        .map(|&i| self.services[i as usize].as_str()),
                )),
                col::METHOD => self.method.finish(&request)?,
                col::HOST => self.host.finish(&request)?,
                col::PATH => self.path.finish(&request)?,
                col::LISTEN_ADDR => self.listen_addr.finish(&of_kind(K::ServerStart))?,
                col::STATUS => int32(&mut self.status, Some(&flagged(HAS_STATUS))),
                col::ERROR => bools(ERROR, Some(&kinds(K::ClientEnd, K::ServerEnd))),
                col::PARENT_GOID => int64(&mut self.parent_goid, Some(&of_kind(K::Spawn))),
                col::CTX => int64(&mut self.ctx, Some(&request)),
                col::TRUNCATED => bools(TRUNCATED, None),
                col::CTX1 => int64(&mut self.ctx_ancestors[0], Some(&client_start)),
                col::CTX2 => int64(&mut self.ctx_ancestors[1], Some(&client_start)),
                col::CTX3 => int64(&mut self.ctx_ancestors[2], Some(&client_start)),
                col::CHAN => int64(&mut self.chan, Some(&chan)),
                col::VALUE => int64(&mut self.value, Some(&flagged(HAS_VALUE))),
                col::QCOUNT => int32(&mut self.queue[0], Some(&chan)),
                col::DATAQSIZ => int32(&mut self.queue[1], Some(&chan)),
                col::SENDX => int32(&mut self.queue[2], Some(&chan)),
                col::RECVX => int32(&mut self.queue[3], Some(&chan)),
                col::IN_SELECT => bools(IN_SELECT, Some(&chan)),
                col::COMPLETED => bools(COMPLETED, Some(&of_kind(K::ChanRecv))),
                col::ROUTE => self.route.finish(&flagged(HAS_ROUTE))?,
                col::REMOTE_ADDR => self.remote_addr.finish(&flagged(HAS_REMOTE))?,
                col::LOCAL_ADDR => self.local_addr.finish(&socket)?,
                col::NETNS => int64(&mut self.netns, Some(&socket)),
                col::RECEIVER_GOID => int64(&mut self.receiver_goid, Some(&flagged(HAS_RECEIVER))),
                other => anyhow::bail!("column {other} has no builder in record's writer"),
            };
            arrays.push(a);
        }
        self.service.clear();
        self.services.clear();
        self.last_service = 0;
        RecordBatch::try_new(schema.clone(), arrays).context("assembling a batch of events")
    }
}

/// Encodings and compression, chosen by `examples/writer_bench.rs` (3 M synthetic events of the
/// demo's `/handle` traffic with channel probes; share of CPU time from `perf record`):
///
/// | setting                                         | bytes/event | zstd share of CPU |
/// |-------------------------------------------------|-------------|-------------------|
/// | zstd 3, dictionary on all but `ts_ns` (before)  | 8.08        | ~13 %             |
/// | zstd 3, the per-column choices below            | 5.52        | 23 %              |
/// | zstd 2, the same                                | 5.21        | 15 %              |
/// | zstd 1, the same (chosen)                       | 5.23        | 12 %              |
/// | zstd 6, the same                                | 5.48        | not profiled; the run took ~1.4× as long |
/// | zstd -1, the same                               | 5.46        | 9 %               |
/// | zstd -3, the same                               | 6.22        | 8 %               |
///
/// Level 1 costs half of level 3's CPU time and is no larger on these pages (level 3's longer
/// matches buy nothing on columns of addresses and small deltas); the negative levels save
/// little more time for a larger file.
fn writer_properties() -> Result<WriterProperties> {
    let level = ZstdLevel::try_new(1).context("zstd level")?;
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_created_by(format!("quadtrace record {}", env!("CARGO_PKG_VERSION")));
    // Timestamps grow steadily and goroutine ids are handed out in increasing order: deltas
    // compress them far better than a dictionary would (goid: 1.44 → 0.04 bytes/event).
    for c in [col::TS_NS, col::GOID] {
        props = props
            .set_column_dictionary_enabled(ColumnPath::from(c), false)
            .set_column_encoding(ColumnPath::from(c), Encoding::DELTA_BINARY_PACKED);
    }
    // Addresses are nearly all distinct: a dictionary costs a hash per value, overflows its page
    // limit and falls back to plain anyway, and plain + zstd is smaller (chan: 1.69 → 1.08,
    // value: 1.07 → 0.62, ctx: 0.74 → 0.51 bytes/event). The int32s here are constant (pid) or
    // sparse and small; zstd alone squeezes them to the same few hundredths of a byte.
    // Dictionaries stay on for the strings (a handful of values, as the schema documents), `tid`
    // and `dataqsiz`, where they save 0.3 and 0.1 bytes/event.
    for c in [
        col::CHAN,
        col::VALUE,
        col::CTX,
        col::CTX1,
        col::CTX2,
        col::CTX3,
        col::PARENT_GOID,
        col::PID,
        col::STATUS,
        col::QCOUNT,
        col::SENDX,
        col::RECVX,
    ] {
        props = props.set_column_dictionary_enabled(ColumnPath::from(c), false);
    }
    Ok(props.build())
}

/// An open recording.
pub struct RecordingWriter {
    final_path: PathBuf,
    temp_path: PathBuf,
    schema: SchemaRef,
    writer: ArrowWriter<File>,
    batch: Batch,
}

/// `out.parquet` → `out.parquet.inprogress`.
pub fn in_progress_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".inprogress");
    PathBuf::from(s)
}

impl RecordingWriter {
    /// Creates `PATH.inprogress`; [`RecordingWriter::close`] renames it to `PATH`.
    pub fn create(path: &Path) -> Result<Self> {
        let temp_path = in_progress_path(path);
        let file = File::create(&temp_path)
            .with_context(|| format!("creating {}", temp_path.display()))?;
        let schema = arrow_schema();
        let props = writer_properties()?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .with_context(|| format!("starting Parquet writer on {}", temp_path.display()))?;
        Ok(RecordingWriter {
            final_path: path.to_path_buf(),
            temp_path,
            schema,
            writer,
            batch: Batch::new(),
        })
    }

    /// Appends one event of the process whose service name is `service`.
    pub fn push(&mut self, ev: &Event<'_>, service: &str) -> Result<()> {
        self.batch.push(ev, service);
        if self.batch.rows() >= BATCH_ROWS {
            self.flush_batch()?;
        }
        Ok(())
    }

    /// About how many bytes the file holds with what is buffered: written bytes, the row group
    /// being encoded, and the rows not yet encoded at the ~16 bytes an event takes on disk.
    pub fn size_estimate(&self) -> u64 {
        const BYTES_PER_BUFFERED_ROW: u64 = 16;
        self.writer.bytes_written() as u64
            + self.writer.in_progress_size() as u64
            + self.batch.rows() as u64 * BYTES_PER_BUFFERED_ROW
    }

    fn flush_batch(&mut self) -> Result<()> {
        if self.batch.rows() == 0 {
            return Ok(());
        }
        let batch = self.batch.finish(&self.schema)?;
        self.writer
            .write(&batch)
            .with_context(|| format!("writing {}", self.temp_path.display()))
    }

    /// Gives up: removes the unfinished file (nothing was recorded worth keeping).
    pub fn abandon(self) {
        let _ = std::fs::remove_file(&self.temp_path);
    }

    /// Writes what is buffered, the metadata and the footer, then renames the file into place.
    /// Returns the final path and its size in bytes.
    pub fn close(mut self, metadata: Vec<(String, String)>) -> Result<(PathBuf, u64)> {
        self.flush_batch()?;
        for (key, value) in metadata {
            self.writer
                .append_key_value_metadata(KeyValue::new(key, value));
        }
        let file = self
            .writer
            .into_inner()
            .with_context(|| format!("finishing {}", self.temp_path.display()))?;
        file.sync_all()
            .with_context(|| format!("syncing {}", self.temp_path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        drop(file);
        std::fs::rename(&self.temp_path, &self.final_path).with_context(|| {
            format!(
                "renaming {} to {}",
                self.temp_path.display(),
                self.final_path.display()
            )
        })?;
        Ok((self.final_path, size))
    }
}

// By path, so that the writer benchmark, which includes this file by path, finds it too.
#[cfg(test)]
#[path = "writer/tests.rs"]
mod tests;
