//! Columns that either reading thread may decode. The decoder thread decodes and converts
//! every slice, and is the longer of the two; the thread that runs the pass waits on it. So a
//! few costly columns of each slice are decoded apart, by a reader of their own, and the pass's
//! thread decodes them a few slices ahead whenever it would otherwise wait for the next slice
//! ([`SharedColumns::help`]); what it has not decoded by the time the decoder thread gets
//! there, that thread decodes itself ([`SharedColumns::take`]). Decoding is the same work on
//! either thread; only who does it moves.
//!
//! Measured at 50 M events: the decoder thread took 4.8 s of processor time (decoding 2.7 s,
//! conversion 2.1 s) and the pass 4.0 s, in a run of 5.2 s.

use std::collections::VecDeque;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

use arrow_array::RecordBatch;
use arrow_schema::{FieldRef, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReader;
use quadtrace_schema::columns;

use super::{check_pages, corrupt, next_slice, slice_reader, Opened, ReadError};
use crate::util::phases::{self, Role};

/// The columns decoded apart: the four 64-bit columns with the most distinct values (goroutine
/// ids, contexts, channels, values), which cost the most to decode (a third of the decoding).
pub(super) const SHARED: [&str; 4] = [columns::GOID, columns::CTX, columns::CHAN, columns::VALUE];

/// How many slices past the decoder thread's the pass's thread decodes at most: each waits as
/// its decoded columns, 2 MB.
const AHEAD: usize = 4;

/// The columns of [`SHARED`] a file has, decoded slice by slice by whichever thread is free.
pub(super) struct SharedColumns<'a> {
    path: &'a Path,
    /// The file opened again: a handle of its own, whose reads do not move the decoder
    /// thread's (a cloned handle shares the file offset, which the readers seek).
    opened: Opened,
    columns: Vec<&'static str>,
    slices: &'a [(usize, Range<usize>)],
    state: Mutex<State>,
}

struct State {
    /// The next slice to decode.
    next: usize,
    /// Slices the decoder thread has taken.
    taken: usize,
    /// The reader of the row group being decoded, and its number.
    reader: Option<(usize, ParquetRecordBatchReader)>,
    /// The slices from `taken` to `next`, decoded.
    ready: VecDeque<Result<RecordBatch, ReadError>>,
}

impl<'a> SharedColumns<'a> {
    /// For the `slices` of the open file at `path`, which has `columns` (those of them in
    /// [`SHARED`] are decoded apart); none when it has none of them.
    pub(super) fn new(
        path: &'a Path,
        opened: &Opened,
        columns: &[&'static str],
        slices: &'a [(usize, Range<usize>)],
    ) -> Result<Option<Self>, ReadError> {
        let columns: Vec<&'static str> = columns
            .iter()
            .copied()
            .filter(|c| SHARED.contains(c))
            .collect();
        if columns.is_empty() {
            return Ok(None);
        }
        Ok(Some(SharedColumns {
            path,
            opened: opened.reopened(path)?,
            columns,
            slices,
            state: Mutex::new(State {
                next: 0,
                taken: 0,
                reader: None,
                ready: VecDeque::new(),
            }),
        }))
    }

    /// Which of the file's `columns` the decoder thread decodes itself.
    pub(super) fn own(&self, columns: &[&'static str]) -> Vec<&'static str> {
        let own = columns
            .iter()
            .copied()
            .filter(|c| !self.columns.contains(c));
        own.collect()
    }

    /// The next slice's columns, for the decoder thread (which takes every slice, in order):
    /// decoded already, or decoded now.
    pub(super) fn take(&self) -> Result<RecordBatch, ReadError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let batch = match state.ready.pop_front() {
            Some(batch) => batch,
            None => self.decode_next(&mut state),
        };
        state.taken += 1;
        batch
    }

    /// Decodes a slice ahead of the decoder thread, for the thread that runs the pass, when
    /// there is one to decode and the decoder thread is not decoding one itself right now;
    /// whether it did. Its processor time counts as decoding's, not the pass's.
    pub(super) fn help(&self) -> bool {
        let mut state = match self.state.try_lock() {
            Ok(state) => state,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return false,
        };
        if state.next >= self.slices.len() || state.next >= state.taken + AHEAD {
            return false;
        }
        let cpu = phases::thread_cpu_ns();
        let batch = self.decode_next(&mut state);
        state.ready.push_back(batch);
        phases::move_cpu(Role::Pass, Role::Decode, cpu);
        true
    }

    /// Decodes slice `state.next`. After an error, decodes nothing more (the decoder thread
    /// stops at it).
    fn decode_next(&self, state: &mut MutexGuard<'_, State>) -> Result<RecordBatch, ReadError> {
        let Some((group, rows)) = self.slices.get(state.next).cloned() else {
            return Err(corrupt(
                self.path,
                "more slices asked than the file has".into(),
            ));
        };
        let batch = self.decode(state, group, &rows);
        state.next = if batch.is_ok() {
            state.next + 1
        } else {
            self.slices.len()
        };
        batch
    }

    fn decode(
        &self,
        state: &mut State,
        group: usize,
        rows: &Range<usize>,
    ) -> Result<RecordBatch, ReadError> {
        let path = self.path;
        let reader = match &mut state.reader {
            Some((g, reader)) if *g == group => reader,
            slot => {
                check_pages(path, &self.opened, &self.columns, group)?;
                let reader = slice_reader(path, &self.opened, &self.columns, group)?;
                &mut slot.insert((group, reader)).1
            }
        };
        next_slice(path, group, rows, reader)
    }
}

/// One slice's columns: `own`'s, then `shared`'s (the same rows).
pub(super) fn joined(own: &RecordBatch, shared: &RecordBatch) -> Result<RecordBatch, String> {
    let fields: Vec<FieldRef> = own
        .schema()
        .fields()
        .iter()
        .chain(shared.schema().fields().iter())
        .cloned()
        .collect();
    let mut columns = own.columns().to_vec();
    columns.extend_from_slice(shared.columns());
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Array, Int64Array};
    use arrow_schema::{DataType, Field};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;

    use super::*;
    use crate::read::reader::{open, slices};

    /// A file of `groups` row groups of `rows` rows each, whose columns are `goid` (the row's
    /// number), `ctx` (ten times it) and `kind` (a column not shared).
    fn file(dir: &Path, groups: usize, rows: usize) -> std::path::PathBuf {
        let path = dir.join("shared.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new(columns::GOID, DataType::Int64, false),
            Field::new(columns::CTX, DataType::Int64, true),
            Field::new(columns::KIND, DataType::Int64, false),
        ]));
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(rows))
            .build();
        let out = std::fs::File::create(&path).expect("create");
        let mut writer = ArrowWriter::try_new(out, schema.clone(), Some(props)).expect("writer");
        let n = (groups * rows) as i64;
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(0..n)),
                Arc::new(Int64Array::from_iter_values((0..n).map(|i| i * 10))),
                Arc::new(Int64Array::from_iter_values((0..n).map(|_| 7))),
            ],
        )
        .expect("batch");
        writer.write(&batch).expect("write");
        writer.close().expect("close");
        path
    }

    /// Whichever thread decodes a slice, and however far ahead, the decoder thread takes every
    /// slice in order, whole, with only the shared columns.
    #[test]
    fn slices_decoded_ahead_or_on_demand_come_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = file(dir.path(), 3, 100_000);
        let opened = open(&path).expect("open");
        let slices = slices(opened.parquet());
        assert_eq!(slices.len(), 6, "two slices a group");
        let present = [columns::GOID, columns::CTX, columns::KIND];
        let shared = SharedColumns::new(&path, &opened, &present, &slices)
            .expect("opens")
            .expect("has shared columns");
        assert_eq!(shared.own(&present), [columns::KIND]);
        let check = |batch: Result<RecordBatch, ReadError>, slice: usize| {
            let batch = batch.expect("decodes");
            let rows = &slices[slice].1;
            assert_eq!(batch.num_columns(), 2);
            assert_eq!(batch.num_rows(), rows.len(), "slice {slice}");
            let goid = batch.column(0).as_any().downcast_ref::<Int64Array>();
            let goid = goid.expect("goid is Int64");
            assert_eq!(goid.value(0), rows.start as i64, "slice {slice}");
            assert_eq!(goid.value(goid.len() - 1), rows.end as i64 - 1);
        };
        // Two ahead, then taken; then ahead as far as allowed, across row groups.
        assert!(shared.help() && shared.help());
        check(shared.take(), 0);
        check(shared.take(), 1);
        check(shared.take(), 2);
        let mut ahead = 0;
        while shared.help() {
            ahead += 1;
        }
        assert_eq!(
            ahead, 3,
            "up to AHEAD past the slices taken, and no further than the file"
        );
        for slice in 3..6 {
            check(shared.take(), slice);
        }
        assert!(!shared.help(), "nothing left");
        assert!(shared.take().is_err(), "past the last slice");
        let own = slice_reader(&path, &opened, &shared.own(&present), 0).expect("reader");
        let own = own.into_iter().next().expect("a batch").expect("decodes");
        let joined = joined(&own, &shared_first(&path, &opened, &present, &slices));
        let joined = joined.expect("joins");
        let names: Vec<String> = joined
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, [columns::KIND, columns::GOID, columns::CTX]);
    }

    fn shared_first(
        path: &Path,
        opened: &Opened,
        present: &[&'static str],
        slices: &[(usize, Range<usize>)],
    ) -> RecordBatch {
        let shared = SharedColumns::new(path, opened, present, slices);
        let shared = shared.expect("opens").expect("has shared columns");
        shared.take().expect("decodes")
    }
}
