//! One exported dataset's files: rows of typed values gathered into Arrow batches and written
//! to one Parquet file per date partition, under a hidden temporary name until the export is
//! complete (readers skip names starting with `.`; a failed export removes its own).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;
use quadtrace_schema::export::{meta, Dataset, ExportType, EXPORT_VERSION, PARTITION};

/// One value of a row, in column order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value<'a> {
    I64(Option<i64>),
    F64(f64),
    Str(Option<&'a str>),
    Bool(Option<bool>),
    /// Microseconds since the Unix epoch (a minute's start).
    Minute(Option<i64>),
}

/// Rows of a row group.
const ROW_GROUP_ROWS: usize = 1 << 18;

/// Rows gathered before they go to the file as one batch.
const BATCH_ROWS: usize = 65_536;

/// A column being filled.
enum Builder {
    I64(Int64Builder),
    F64(Float64Builder),
    Str(StringBuilder),
    Bool(BooleanBuilder),
    Minute(TimestampMicrosecondBuilder),
}

impl Builder {
    fn of(ty: ExportType) -> Builder {
        match ty {
            ExportType::Int64 => Builder::I64(Int64Builder::new()),
            ExportType::Float64 => Builder::F64(Float64Builder::new()),
            ExportType::Utf8 => Builder::Str(StringBuilder::new()),
            ExportType::Bool => Builder::Bool(BooleanBuilder::new()),
            ExportType::Minute => Builder::Minute(TimestampMicrosecondBuilder::new()),
        }
    }

    /// Appends `v`; false when it is not of the column's type.
    fn push(&mut self, v: Value<'_>) -> bool {
        match (self, v) {
            (Builder::I64(b), Value::I64(v)) => b.append_option(v),
            (Builder::F64(b), Value::F64(v)) => b.append_value(v),
            (Builder::Str(b), Value::Str(v)) => b.append_option(v),
            (Builder::Bool(b), Value::Bool(v)) => b.append_option(v),
            (Builder::Minute(b), Value::Minute(v)) => b.append_option(v),
            _ => return false,
        }
        true
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::F64(b) => Arc::new(b.finish()),
            Builder::Str(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Minute(b) => Arc::new(b.finish()),
        }
    }
}

/// The Arrow schema of `d`, from its definition in the schema crate.
fn schema_of(d: &Dataset) -> SchemaRef {
    let fields: Vec<Field> = d
        .columns
        .iter()
        .map(|c| {
            let ty = match c.ty {
                ExportType::Int64 => DataType::Int64,
                ExportType::Float64 => DataType::Float64,
                ExportType::Utf8 => DataType::Utf8,
                ExportType::Bool => DataType::Boolean,
                ExportType::Minute => DataType::Timestamp(TimeUnit::Microsecond, None),
            };
            Field::new(c.name, ty, c.nullable)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// One partition's file, being written.
struct Part {
    builders: Vec<Builder>,
    rows: usize,
    writer: ArrowWriter<File>,
    tmp: PathBuf,
    dest: PathBuf,
}

/// A dataset's files, one per date partition.
pub(crate) struct Table {
    dataset: &'static Dataset,
    schema: SchemaRef,
    /// `DIR/<dataset>`.
    root: PathBuf,
    /// The file name every partition's file gets (unique per export).
    file: String,
    parts: BTreeMap<String, Part>,
    /// Rows written, all partitions.
    pub(crate) rows: u64,
}

/// What went wrong writing: the file, and why.
pub(crate) type WriteError = (PathBuf, std::io::Error);

impl Table {
    /// The files of `dataset` under `dir`, each named `file`.
    pub(crate) fn new(dir: &Path, dataset: &'static Dataset, file: &str) -> Table {
        Table {
            dataset,
            schema: schema_of(dataset),
            root: dir.join(dataset.name),
            file: file.to_owned(),
            parts: BTreeMap::new(),
            rows: 0,
        }
    }

    /// The dataset's name.
    pub(crate) fn name(&self) -> &'static str {
        self.dataset.name
    }

    /// Adds a row to partition `date`; `row` holds a value per column, in order.
    pub(crate) fn push(&mut self, date: &str, row: &[Value<'_>]) -> Result<(), WriteError> {
        if !self.parts.contains_key(date) {
            let part = self.open(date)?;
            self.parts.insert(date.to_owned(), part);
        }
        let Some(part) = self.parts.get_mut(date) else {
            return Ok(());
        };
        let fits = row.len() == part.builders.len()
            && part.builders.iter_mut().zip(row).all(|(b, v)| b.push(*v));
        if !fits {
            // A row that does not fit its dataset is a bug of this crate, not of the input.
            let e = std::io::Error::other(format!(
                "internal error: a {} row does not fit its columns",
                self.dataset.name
            ));
            return Err((part.tmp.clone(), e));
        }
        part.rows += 1;
        self.rows += 1;
        if part.rows >= BATCH_ROWS {
            flush(&self.schema, part)?;
        }
        Ok(())
    }

    fn open(&self, date: &str) -> Result<Part, WriteError> {
        let folder = self.root.join(format!("{PARTITION}={date}"));
        let dest = folder.join(&self.file);
        let tmp = folder.join(format!(".{}.tmp", self.file));
        std::fs::create_dir_all(&folder).map_err(|e| (folder.clone(), e))?;
        let file = File::create(&tmp).map_err(|e| (tmp.clone(), e))?;
        let writer =
            ArrowWriter::try_new(file, self.schema.clone(), Some(properties(self.dataset)))
                .map_err(|e| (tmp.clone(), std::io::Error::other(e)))?;
        Ok(Part {
            builders: self
                .dataset
                .columns
                .iter()
                .map(|c| Builder::of(c.ty))
                .collect(),
            rows: 0,
            writer,
            tmp,
            dest,
        })
    }

    /// Completes every file: written, closed and renamed to its name. Returns the files.
    pub(crate) fn finish(&mut self) -> Result<Vec<PathBuf>, WriteError> {
        let mut done = Vec::new();
        while let Some((_, mut part)) = self.parts.pop_first() {
            if let Err(e) = flush(&self.schema, &mut part) {
                let _ = std::fs::remove_file(&part.tmp);
                return Err(e);
            }
            let Part {
                writer, tmp, dest, ..
            } = part;
            let closed = writer
                .into_inner()
                .map_err(std::io::Error::other)
                .and_then(|f| f.sync_all());
            if let Err(e) = closed.and_then(|()| std::fs::rename(&tmp, &dest)) {
                let _ = std::fs::remove_file(&tmp);
                return Err((tmp, e));
            }
            done.push(dest);
        }
        Ok(done)
    }

    /// Removes every file begun (after a failure).
    pub(crate) fn abandon(&mut self) {
        while let Some((_, part)) = self.parts.pop_first() {
            drop(part.writer);
            let _ = std::fs::remove_file(&part.tmp);
        }
    }
}

/// Writes what `part` gathered as one batch.
fn flush(schema: &SchemaRef, part: &mut Part) -> Result<(), WriteError> {
    if part.rows == 0 {
        return Ok(());
    }
    let columns: Vec<ArrayRef> = part.builders.iter_mut().map(Builder::finish).collect();
    part.rows = 0;
    let io = |e: parquet::errors::ParquetError| (part.tmp.clone(), std::io::Error::other(e));
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| (part.tmp.clone(), std::io::Error::other(e)))?;
    part.writer.write(&batch).map_err(io)?;
    Ok(())
}

/// zstd level 1 (as `record` writes: level 3 compresses these columns no better for twice the
/// time), and the export's metadata. Times and goroutine ids (columns named `*ts_ns`,
/// `wall_ns`, `*goid`) grow nearly steadily row after row: as deltas they take a third of
/// their dictionary-encoded size, and the whole export 2.4 times less (10 M synthetic events:
/// calls 17.8 → 7.3 bytes a row, requests 9.6 → 3.8).
fn properties(d: &Dataset) -> WriterProperties {
    let level = ZstdLevel::try_new(1).unwrap_or_default();
    let mut props = WriterProperties::builder();
    for c in d.columns {
        let steady = c.name.ends_with("ts_ns") || c.name == "wall_ns" || c.name.ends_with("goid");
        if c.ty == ExportType::Int64 && steady {
            let path = ColumnPath::from(c.name);
            props = props
                .set_column_dictionary_enabled(path.clone(), false)
                .set_column_encoding(path, Encoding::DELTA_BINARY_PACKED);
        }
    }
    props
        .set_compression(Compression::ZSTD(level))
        // A row group is held encoded in memory until it is written: 2^18 rows keep each
        // dataset's under ~50 MB, and are still large enough for engines to skip by.
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!(
            "quadtrace analyze export {}",
            env!("CARGO_PKG_VERSION")
        ))
        .set_key_value_metadata(Some(vec![
            KeyValue::new(meta::VERSION.to_owned(), EXPORT_VERSION.to_string()),
            KeyValue::new(meta::DATASET.to_owned(), d.name.to_owned()),
        ]))
        .build()
}
