//! Writes decoded events to a Parquet recording (the format of `quadtrace-schema`).
//!
//! The file is written as `NAME.inprogress` and renamed to `NAME` when closed, so a file under
//! the final name is always complete and readable.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow_array::builder::{BooleanBuilder, Int32Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use quadtrace_schema::{columns as col, ColumnType, COLUMNS};

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

/// Column builders for one batch, one per schema column.
#[derive(Default)]
struct Batch {
    ts_ns: Int64Builder,
    pid: Int32Builder,
    tid: Int32Builder,
    goid: Int64Builder,
    kind: StringBuilder,
    service: StringBuilder,
    method: StringBuilder,
    host: StringBuilder,
    path: StringBuilder,
    listen_addr: StringBuilder,
    status: Int32Builder,
    error: BooleanBuilder,
    parent_goid: Int64Builder,
    ctx: Int64Builder,
    truncated: BooleanBuilder,
    ctx1: Int64Builder,
    ctx2: Int64Builder,
    ctx3: Int64Builder,
    chan: Int64Builder,
    value: Int64Builder,
    qcount: Int32Builder,
    dataqsiz: Int32Builder,
    sendx: Int32Builder,
    recvx: Int32Builder,
    in_select: BooleanBuilder,
    completed: BooleanBuilder,
    route: StringBuilder,
    rows: usize,
}

/// Null where a column does not apply, so readers can tell "absent" from "empty".
fn opt_str(b: &mut StringBuilder, applies: bool, v: &str) {
    if applies {
        b.append_value(v)
    } else {
        b.append_null()
    }
}

impl Batch {
    fn push(&mut self, ev: &Event<'_>, service: &str) {
        use quadtrace_schema::EventKind as K;
        let request = matches!(ev.kind, K::ServerStart | K::ClientStart);
        // Go ids and pointers fit in i64; wrapping keeps any odd value instead of failing.
        self.ts_ns.append_value(ev.ts_ns as i64);
        self.pid.append_value(ev.pid as i32);
        self.tid.append_value(ev.tid as i32);
        self.goid.append_value(ev.goid as i64);
        self.kind.append_value(ev.kind.as_str());
        self.service.append_value(service);
        opt_str(&mut self.method, request, &ev.method);
        opt_str(&mut self.host, request, &ev.host);
        opt_str(&mut self.path, request, &ev.path);
        opt_str(
            &mut self.listen_addr,
            ev.kind == K::ServerStart,
            &ev.listen_addr,
        );
        self.status.append_option(ev.status);
        self.error
            .append_option((ev.kind == K::ClientEnd).then_some(ev.error));
        self.parent_goid
            .append_option((ev.kind == K::Spawn).then_some(ev.parent_goid as i64));
        self.ctx.append_option(request.then_some(ev.ctx as i64));
        self.truncated.append_value(ev.truncated);
        let client = ev.kind == K::ClientStart;
        for (b, v) in [&mut self.ctx1, &mut self.ctx2, &mut self.ctx3]
            .into_iter()
            .zip(ev.ctx_ancestors)
        {
            b.append_option(client.then_some(v as i64));
        }
        let chan = matches!(ev.kind, K::ChanSend | K::ChanRecv);
        self.chan.append_option(chan.then_some(ev.chan as i64));
        self.value.append_option(ev.value.map(|v| v as i64));
        let queue = [
            &mut self.qcount,
            &mut self.dataqsiz,
            &mut self.sendx,
            &mut self.recvx,
        ];
        for (b, v) in queue.into_iter().zip(ev.queue) {
            b.append_option(chan.then_some(v as i32));
        }
        self.in_select.append_option(chan.then_some(ev.in_select));
        self.completed
            .append_option((ev.kind == K::ChanRecv).then_some(ev.completed));
        opt_str(
            &mut self.route,
            ev.kind == K::ServerEnd && !ev.route.is_empty(),
            &ev.route,
        );
        self.rows += 1;
    }

    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch> {
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(COLUMNS.len());
        for c in COLUMNS {
            let a: ArrayRef = match c.name {
                col::TS_NS => Arc::new(self.ts_ns.finish()),
                col::PID => Arc::new(self.pid.finish()),
                col::TID => Arc::new(self.tid.finish()),
                col::GOID => Arc::new(self.goid.finish()),
                col::KIND => Arc::new(self.kind.finish()),
                col::SERVICE => Arc::new(self.service.finish()),
                col::METHOD => Arc::new(self.method.finish()),
                col::HOST => Arc::new(self.host.finish()),
                col::PATH => Arc::new(self.path.finish()),
                col::LISTEN_ADDR => Arc::new(self.listen_addr.finish()),
                col::STATUS => Arc::new(self.status.finish()),
                col::ERROR => Arc::new(self.error.finish()),
                col::PARENT_GOID => Arc::new(self.parent_goid.finish()),
                col::CTX => Arc::new(self.ctx.finish()),
                col::TRUNCATED => Arc::new(self.truncated.finish()),
                col::CTX1 => Arc::new(self.ctx1.finish()),
                col::CTX2 => Arc::new(self.ctx2.finish()),
                col::CTX3 => Arc::new(self.ctx3.finish()),
                col::CHAN => Arc::new(self.chan.finish()),
                col::VALUE => Arc::new(self.value.finish()),
                col::QCOUNT => Arc::new(self.qcount.finish()),
                col::DATAQSIZ => Arc::new(self.dataqsiz.finish()),
                col::SENDX => Arc::new(self.sendx.finish()),
                col::RECVX => Arc::new(self.recvx.finish()),
                col::IN_SELECT => Arc::new(self.in_select.finish()),
                col::COMPLETED => Arc::new(self.completed.finish()),
                col::ROUTE => Arc::new(self.route.finish()),
                other => anyhow::bail!("column {other} has no builder in record's writer"),
            };
            arrays.push(a);
        }
        self.rows = 0;
        RecordBatch::try_new(schema.clone(), arrays).context("assembling a batch of events")
    }
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
        let level = ZstdLevel::try_new(3).context("zstd level")?;
        // Timestamps grow steadily: deltas compress them far better than a dictionary would.
        let ts = ColumnPath::from(col::TS_NS);
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_column_dictionary_enabled(ts.clone(), false)
            .set_column_encoding(ts, Encoding::DELTA_BINARY_PACKED)
            .set_created_by(format!("quadtrace record {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props))
            .with_context(|| format!("starting Parquet writer on {}", temp_path.display()))?;
        Ok(RecordingWriter {
            final_path: path.to_path_buf(),
            temp_path,
            schema,
            writer,
            batch: Batch::default(),
        })
    }

    /// Appends one event of the process whose service name is `service`.
    pub fn push(&mut self, ev: &Event<'_>, service: &str) -> Result<()> {
        self.batch.push(ev, service);
        if self.batch.rows >= BATCH_ROWS {
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
            + self.batch.rows as u64 * BYTES_PER_BUFFERED_ROW
    }

    fn flush_batch(&mut self) -> Result<()> {
        if self.batch.rows == 0 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use quadtrace_schema::EventKind;

    fn event(kind: EventKind, ts: u64) -> Event<'static> {
        Event::sample(kind, ts, 3, "/echo")
    }

    #[test]
    fn round_trip_keeps_rows_columns_and_metadata() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.parquet");
        let mut w = RecordingWriter::create(&path).expect("create");
        assert!(in_progress_path(&path).exists() && !path.exists());
        for i in 0..(BATCH_ROWS as u64 + 5) {
            let kind = if i % 2 == 0 {
                EventKind::ServerStart
            } else {
                EventKind::Spawn
            };
            w.push(&event(kind, i), "svc").expect("push");
        }
        let (final_path, size) = w
            .close(vec![("quadtrace.schema_version".into(), "1".into())])
            .expect("close");
        assert_eq!(final_path, path);
        assert!(size > 0 && !in_progress_path(&path).exists());

        let reader = SerializedFileReader::new(File::open(&path).expect("open")).expect("parquet");
        let meta = reader.metadata().file_metadata();
        assert_eq!(meta.num_rows(), BATCH_ROWS as i64 + 5);
        let names: Vec<&str> = meta
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.name())
            .collect();
        let expected: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
        assert_eq!(names, expected);
        let kv = meta.key_value_metadata().expect("kv metadata");
        assert!(kv
            .iter()
            .any(|k| k.key == "quadtrace.schema_version" && k.value.as_deref() == Some("1")));
    }
}
