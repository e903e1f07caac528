//! The decoder side of [`super::read_slices`]: arrow-rs decodes the file a slice at a time on
//! one thread while another turns the slice before into events, so that on two cores decoding,
//! conversion and reconstruction (the caller's thread) overlap rather than take turns.

use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;

use super::{check_pages, corrupt, guarded, Opened, ReadError, SLICE_ROWS};
use crate::model::events::{Event, EventLog};
use crate::read::guard;
use crate::read::load::load_events;
use crate::util::phases::{self, Role};

/// A slice of a file turned into events, or why it could not be.
pub(super) type Slice = Result<Vec<Event>, ReadError>;

/// A slice decoded: its first row in the file and its columns.
type Frame = Result<(usize, RecordBatch), ReadError>;

/// What the decoder reads: `columns` of the open file at `path`, slice by slice.
pub(super) struct Decode<'a> {
    pub(super) path: &'a Path,
    pub(super) opened: &'a Opened,
    pub(super) columns: &'a [&'static str],
    pub(super) slices: &'a [(usize, Range<usize>)],
    pub(super) hostname: &'a str,
    /// Added to every `ts_ns`: the host's move onto the set's timeline.
    pub(super) offset: i64,
}

impl Decode<'_> {
    /// Decodes the file a slice at a time and sends each slice's events to `tx`, in a vector
    /// from `spare` when one came back; stops at the first error (sent too) or when the
    /// receiver is gone. Returns how many rows had an unknown kind.
    pub(super) fn run(
        &self,
        log: &mut EventLog,
        tx: &SyncSender<Slice>,
        spare: &Receiver<Vec<Event>>,
    ) -> u64 {
        let cpu = phases::thread_cpu_ns();
        let unknown = std::thread::scope(|scope| {
            // One decoded slice may wait to be converted while the next is being decoded,
            // never more (see `read_slices`).
            let (frames_tx, frames) = sync_channel(1);
            scope.spawn(move || {
                let cpu = phases::thread_cpu_ns();
                self.decode(&frames_tx);
                phases::add_cpu(Role::Decode, cpu);
            });
            let mut unknown = 0;
            // `frames` goes when the loop ends, which stops the decoding thread if it is
            // still going.
            for frame in frames {
                let slice = frame.and_then(|(first_row, batch)| {
                    let mut events = spare.try_recv().unwrap_or_default();
                    events.clear();
                    unknown += guard::catch(|| {
                        load_events(
                            self.path,
                            &batch,
                            first_row,
                            self.hostname,
                            log,
                            &mut events,
                        )
                    })
                    .map_err(|reason| corrupt(self.path, reason))??;
                    if self.offset != 0 {
                        for e in &mut events {
                            e.ts_ns = e.ts_ns.saturating_add(self.offset);
                        }
                    }
                    Ok(events)
                });
                let failed = slice.is_err();
                if tx.send(slice).is_err() || failed {
                    break;
                }
            }
            unknown
        });
        phases::add_cpu(Role::Convert, cpu);
        unknown
    }

    /// Decodes each slice and sends it to `tx`; stops at the first error (sent too) or when
    /// the receiver is gone.
    fn decode(&self, tx: &SyncSender<Frame>) {
        let path = self.path;
        let mut slices = self.slices.iter().peekable();
        while let Some((group, _)) = slices.peek() {
            let group = *group;
            // Checked here rather than up front, so that the check overlaps the work on the
            // slices before.
            let reader = check_pages(path, self.opened, self.columns, group)
                .and_then(|()| slice_reader(path, self.opened, self.columns, group));
            let mut batches = match reader {
                Ok(reader) => reader,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            while let Some((_, rows)) = slices.next_if(|(g, _)| *g == group) {
                // Decoding happens in `next`, which a damaged page may make panic.
                let frame = match guarded(path, || batches.next().transpose()) {
                    Ok(Some(batch)) if batch.num_rows() == rows.len() => Ok((rows.start, batch)),
                    Ok(Some(batch)) => Err(corrupt(
                        path,
                        format!(
                            "row group {group} gave {} rows where its footer says {}",
                            batch.num_rows(),
                            rows.len()
                        ),
                    )),
                    Ok(None) => Err(corrupt(
                        path,
                        format!("row group {group} ended before the rows its footer counts"),
                    )),
                    Err(e) => Err(e),
                };
                let failed = frame.is_err();
                if tx.send(frame).is_err() || failed {
                    return;
                }
            }
        }
    }
}

/// A reader of `columns` of row group `group` of the open file, whose batches are the group's
/// slices (see [`super::slices`]).
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
