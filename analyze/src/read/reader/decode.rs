//! The decoder side of [`super::read_slices`]: on one thread, arrow-rs decodes the file a slice
//! at a time and each slice is turned into events, while the caller's thread reconstructs from
//! the slice before. Two threads for two cores: decoding and conversion on threads of their
//! own (three in all) took 20 % more processor time for the same work, each thread's caches
//! emptied by the others, and the run 10 % longer (measured at 50 M events: decoding 3.2 s and
//! conversion 2.6 s apart, 4.7 s together; wall time 6.3-6.5 s against 5.7-5.9 s). A few
//! costly columns are decoded apart, by whichever of the two threads is free (see
//! [`super::shared`]).

use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender};

use arrow_array::RecordBatch;

use super::shared::{self, SharedColumns};
use super::{check_pages, corrupt, next_slice, slice_reader, Opened, ReadError};
use crate::model::events::{Event, EventLog};
use crate::read::guard;
use crate::read::load::Converter;
use crate::util::phases::{self, Role};

/// A slice of a file turned into events, or why it could not be.
pub(super) type Slice = Result<Vec<Event>, ReadError>;

/// What the decoder reads: `columns` of the open file at `path`, slice by slice.
pub(super) struct Decode<'a> {
    pub(super) path: &'a Path,
    pub(super) opened: &'a Opened,
    pub(super) columns: &'a [&'static str],
    pub(super) slices: &'a [(usize, Range<usize>)],
    pub(super) hostname: &'a str,
    /// Added to every `ts_ns`: the host's move onto the set's timeline.
    pub(super) offset: i64,
    /// The columns decoded apart, by whichever thread is free (see [`SharedColumns`]).
    pub(super) shared: Option<&'a SharedColumns<'a>>,
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
        let mut unknown = 0;
        let mut converter = Converter::default();
        // Processor time by role, for `QUADTRACE_PHASES`: a clock reading between the two.
        let mut cpu = phases::thread_cpu_ns();
        let path = self.path;
        let own = match self.shared {
            Some(shared) => shared.own(self.columns),
            None => self.columns.to_vec(),
        };
        let mut slices = self.slices.iter().peekable();
        while let Some((group, _)) = slices.peek() {
            let group = *group;
            // Checked here rather than up front, so that a damaged group further on does not
            // hold back the slices before it.
            let reader = check_pages(path, self.opened, &own, group)
                .and_then(|()| slice_reader(path, self.opened, &own, group));
            let mut batches = match reader {
                Ok(reader) => reader,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    break;
                }
            };
            while let Some((_, rows)) = slices.next_if(|(g, _)| *g == group) {
                let decoded = next_slice(path, group, rows, &mut batches);
                let decoded = match self.shared {
                    Some(shared) => decoded.and_then(|own| {
                        let shared = shared.take()?;
                        shared::joined(&own, &shared).map_err(|reason| corrupt(path, reason))
                    }),
                    None => decoded,
                };
                cpu = phases::add_cpu(Role::Decode, cpu);
                let slice = decoded.and_then(|batch| {
                    self.convert(&mut converter, &batch, rows.start, log, spare, &mut unknown)
                });
                cpu = phases::add_cpu(Role::Convert, cpu);
                let failed = slice.is_err();
                if tx.send(slice).is_err() || failed {
                    return unknown;
                }
            }
        }
        unknown
    }

    /// The events of a decoded slice whose first row is the file's `first_row`, in a vector
    /// from `spare` when one came back; rows of an unknown kind are added to `unknown`.
    fn convert(
        &self,
        converter: &mut Converter,
        batch: &RecordBatch,
        first_row: usize,
        log: &mut EventLog,
        spare: &Receiver<Vec<Event>>,
        unknown: &mut u64,
    ) -> Result<Vec<Event>, ReadError> {
        let mut events = spare.try_recv().unwrap_or_default();
        events.clear();
        *unknown += guard::catch(|| {
            converter.load_events(self.path, batch, first_row, self.hostname, log, &mut events)
        })
        .map_err(|reason| corrupt(self.path, reason))??;
        if self.offset != 0 {
            for e in &mut events {
                e.ts_ns = e.ts_ns.saturating_add(self.offset);
            }
        }
        Ok(events)
    }
}
