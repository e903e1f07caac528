//! The decoder side of [`super::read_slices`]: polars decodes the file a slice at a time on one
//! thread while another turns the slice before into events, so that on two cores decoding,
//! conversion and reconstruction (the caller's thread) overlap rather than take turns.

use std::fs::File;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use polars::prelude::*;

use super::{check_pages, corrupt, guarded, ReadError, SLICE_ROWS};
use crate::events::{Event, EventLog};
use crate::guard;
use crate::load::load_events;

/// A slice of a file turned into events, or why it could not be.
pub(super) type Slice = Result<Vec<Event>, ReadError>;

/// A slice decoded by polars: its first row and its columns.
type Frame = Result<(usize, DataFrame), ReadError>;

/// What the decoder reads: `columns` of the file at `path`, of `rows` rows.
pub(super) struct Decode<'a> {
    pub(super) path: &'a Path,
    pub(super) columns: &'a [String],
    pub(super) rows: usize,
    pub(super) hostname: &'a str,
}

impl Decode<'_> {
    /// Decodes the file [`SLICE_ROWS`] rows at a time and sends each slice's events to `tx`,
    /// in a vector from `spare` when one came back; stops at the first error (sent too) or
    /// when the receiver is gone. Returns how many rows had an unknown kind.
    pub(super) fn run(
        &self,
        first: ParquetReader<File>,
        log: &mut EventLog,
        tx: &SyncSender<Slice>,
        spare: &Receiver<Vec<Event>>,
    ) -> u64 {
        std::thread::scope(|scope| {
            // A rendezvous: one decoded slice waits to be converted while the next is being
            // decoded, never more (each holds every column of a million rows).
            let (frames_tx, frames) = sync_channel(0);
            scope.spawn(move || self.decode(first, &frames_tx));
            let mut unknown = 0;
            // `frames` goes when the loop ends, which stops the decoding thread if it is
            // still going.
            for frame in frames {
                let slice = frame.and_then(|(offset, df)| {
                    let mut events = spare.try_recv().unwrap_or_default();
                    events.clear();
                    unknown += guard::catch(|| {
                        load_events(self.path, &df, offset, self.hostname, log, &mut events)
                    })
                    .map_err(|reason| corrupt(self.path, reason))??;
                    Ok(events)
                });
                let failed = slice.is_err();
                if tx.send(slice).is_err() || failed {
                    break;
                }
            }
            unknown
        })
    }

    /// Has polars decode each slice and sends it to `tx`; stops at the first error (sent too)
    /// or when the receiver is gone.
    fn decode(&self, first: ParquetReader<File>, tx: &SyncSender<Frame>) {
        let path = self.path;
        let mut first = Some(first);
        let mut footer = None;
        let mut checked = 0;
        for offset in (0..self.rows).step_by(SLICE_ROWS) {
            let frame = slice_reader(path, &mut first, &mut footer).and_then(|mut reader| {
                // Checked here rather than up front, so that the check overlaps the work on
                // the slices before.
                let rows = offset..offset + SLICE_ROWS;
                check_pages(path, &mut reader, self.columns, rows, &mut checked)?;
                guarded(path, || {
                    let mut df = reader
                        .with_columns(Some(self.columns.to_vec()))
                        .with_slice(Some((offset, SLICE_ROWS)))
                        .finish()?;
                    // Row groups decode into the same chunks in every column; this copies
                    // only if not.
                    df.align_chunks();
                    Ok((offset, df))
                })
            });
            let failed = frame.is_err();
            if tx.send(frame).is_err() || failed {
                break;
            }
        }
    }
}

/// The reader for the next slice: the one that read the footer first, then new ones that
/// reuse its footer.
pub(super) fn slice_reader(
    path: &Path,
    first: &mut Option<ParquetReader<File>>,
    footer: &mut Option<FileMetadataRef>,
) -> Result<ParquetReader<File>, ReadError> {
    if let Some(mut reader) = first.take() {
        *footer = Some(guarded(path, || reader.get_metadata().cloned())?);
        return Ok(reader);
    }
    let file = File::open(path).map_err(|source| ReadError::Open {
        path: path.to_owned(),
        source,
    })?;
    let mut reader = ParquetReader::new(file);
    if let Some(footer) = footer {
        reader.set_metadata(footer.clone());
    }
    Ok(reader)
}
