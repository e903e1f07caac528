//! Reading recordings straight into reconstruction, without holding every event at once.
//!
//! Reconstruction takes events in time order, and [`crate::read::load`] gets that order by sorting
//! every event of every file, which holds them all (tens of bytes each, ten times the file's
//! size) next to the reconstruction's own state. Recordings are nearly in order already: an
//! event is only ever a little late. So events are read a slice at a time into a buffer, and
//! those no later event can precede are handed on: an event may go once its time is at most
//! the earliest time of every slice still unread, which a first pass over the `ts_ns` column
//! alone gives. The order handed on is exactly [`EventLog::sort`]'s: by time, and in file order
//! among equal times (the buffer is sorted stably, and what is still unread comes later in
//! file order). A file whose times are all over the place just keeps more in the buffer.

use std::path::PathBuf;
use std::thread::ScopedJoinHandle;

use crate::model::events::{Event, EventLog, RecordingStart};
use crate::model::span::Period;
use crate::pipeline::progress::Progress;
use crate::pipeline::AnalyzeError;
use crate::read::guard;
use crate::read::reader::timeline::Timeline;
use crate::read::reader::{self, Slices, Warning};
use crate::rebuild::attribute::{
    CallSink, Counted, Counter, Reconstruction, Reconstructor, PREFETCH_AHEAD,
};
use crate::rebuild::requests::Requests;
use crate::report::counter::QuadCounter;
use crate::report::quads::QuadOptions;
use crate::util::phases::{self, Role};

/// For each slice that [`reader::read_slices`] will read from `paths`, in order, the earliest
/// time of all the slices after it; `i64::MIN` throughout (hold everything until the end)
/// when some file cannot be read so; how many rows the files hold (0 then); and how many
/// events at least will wait in the buffer at once ([`held_at_most_once`]).
fn later_min_ts(paths: &[PathBuf], timeline: &Timeline) -> (Vec<i64>, usize, usize) {
    let mut slices = Vec::new();
    for path in paths {
        match reader::slice_min_ts(path, timeline) {
            Some(file) => slices.extend(file.into_iter().map(|(m, n)| (m.unwrap_or(i64::MAX), n))),
            None => return (Vec::new(), 0, 0),
        }
    }
    let rows = slices.iter().map(|(_, n)| n).sum();
    let mut later = vec![i64::MAX; slices.len() + 1];
    for (i, (min, _)) in slices.iter().enumerate().rev() {
        later[i] = later[i + 1].min(*min);
    }
    // later[i] is the earliest time from slice i on; after slice i, what matters is i + 1.
    later.remove(0);
    let held = held_at_most_once(&slices, &later);
    (later, rows, held)
}

/// How many events at least wait in the buffer at once, for slices (earliest time, rows) read
/// in order with `bounds` (see [`later_min_ts`]): after each slice, every slice read so far
/// whose earliest event is later than the bound waits whole (those partly later wait in part,
/// not counted). Files read one after another that overlap in time (hosts recorded side by
/// side) hold all but the last of them; a recording read in order, a slice or so.
fn held_at_most_once(slices: &[(i64, usize)], bounds: &[i64]) -> usize {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    // The bounds only grow, so a slice let go once is never held again.
    let mut waiting = BinaryHeap::new();
    let (mut held, mut most) = (0usize, 0usize);
    for (&(min, rows), &bound) in slices.iter().zip(bounds) {
        waiting.push(Reverse((min, rows)));
        held += rows;
        while let Some(&Reverse((min, rows))) = waiting.peek() {
            if min > bound {
                break;
            }
            waiting.pop();
            held -= rows;
        }
        most = most.max(held);
    }
    most
}

/// Events held at once past which the user is told why memory grows, and what to do.
const HELD_NOTE_EVENTS: usize = 10_000_000;

/// What the user is told when at least `held` events of overlapping files will wait in memory.
fn held_note(held: usize) -> String {
    let bytes = held as f64 * std::mem::size_of::<Event>() as f64;
    format!(
        "analyze: note: these recordings overlap in time (hosts recorded side by side) and are \
         read one file after another, so at least {:.1} million events (~{:.1} GiB) wait in \
         memory for the later files; for long windows of many hosts, roll them up from \
         `analyze export` instead (docs/FLEET.md)",
        held as f64 / 1e6,
        bytes / f64::from(1u32 << 30)
    )
}

/// What the time pass (the first pass over the files, their `ts_ns` column alone; not the
/// first of `calls`' two passes, [`crate::pipeline::passes::first_pass`]) gives: the bounds of
/// [`later_min_ts`], the row count,
/// the events held at once at least, and when each recording began.
type TimePass = (Vec<i64>, usize, usize, Vec<i64>);

/// The time pass: [`later_min_ts`], and each file's start.
fn time_pass(paths: &[PathBuf], timeline: &Timeline) -> TimePass {
    let (bounds, rows, held) = later_min_ts(paths, timeline);
    let starts = paths
        .iter()
        .filter_map(|p| reader::recording_start_ns(p, timeline))
        .collect();
    (bounds, rows, held, starts)
}

/// Hands events on to reconstruction as soon as their turn is certain.
struct Merger<'scope, C, F> {
    /// The time pass, while it runs beside the decoding of the first slice.
    time_pass: Option<ScopedJoinHandle<'scope, TimePass>>,
    /// After slice `i`, events at or before `bounds[i]` may go.
    bounds: Vec<i64>,
    slices: usize,
    /// Made once the time pass has counted the rows, which size its tables.
    rec: Option<Reconstructor<C>>,
    /// Recordings begun before it was made.
    started: Vec<RecordingStart>,
    /// Makes the reconstruction for about `rows` events of recordings begun at `starts`,
    /// which says what becomes of requests and calls.
    make: F,
    /// Rows of all the files (from the time pass), and the bar that counts them.
    rows: usize,
    progress: Progress,
    /// The earliest time in the buffer.
    buffer_min: i64,
    /// Events left in the buffer when it was last sorted.
    left: usize,
    /// Whether the buffer is in time order (it is once sorted, and stays so while every new
    /// slice continues it).
    in_order: bool,
}

impl<C: Counter, F: FnMut(usize, Vec<i64>) -> Reconstructor<C>> Merger<'_, C, F> {
    /// The reconstruction, once the time pass is done (a time pass that panicked bounds
    /// nothing: everything is held until the end, as when a file cannot be read so).
    fn rec(&mut self) -> &mut Reconstructor<C> {
        if let Some(time_pass) = self.time_pass.take() {
            let (bounds, rows, held, starts) = time_pass.join().unwrap_or_default();
            // Once per run: `calls` and `export` read the files twice.
            static TOLD: std::sync::Once = std::sync::Once::new();
            if held >= HELD_NOTE_EVENTS {
                TOLD.call_once(|| eprintln!("{}", held_note(held)));
            }
            self.bounds = bounds;
            self.rows = rows;
            self.rec = Some((self.make)(rows, starts));
        }
        let make = &mut self.make;
        let rec = self.rec.get_or_insert_with(|| make(0, Vec::new()));
        for start in self.started.drain(..) {
            rec.recording(&start);
        }
        rec
    }

    /// Hands on what is left: the reconstruction is then complete.
    fn drain(&mut self, buffer: &mut Vec<Event>) -> Reconstructor<C> {
        self.put_in_order(buffer);
        self.hand_on(buffer);
        buffer.clear();
        self.rec();
        self.rec.take().unwrap_or_default()
    }

    /// Sorts the buffer into [`EventLog::sort`]'s order (stable, by time) unless it is in
    /// order already.
    fn put_in_order(&mut self, buffer: &mut [Event]) {
        if !self.in_order {
            buffer.sort_by_key(|e| e.ts_ns);
            self.in_order = true;
        }
    }

    /// Reconstructs from `events`, readying the tables a few events ahead.
    fn hand_on(&mut self, events: &[Event]) {
        let rec = self.rec();
        for (i, e) in events.iter().enumerate() {
            if let Some(ahead) = events.get(i + PREFETCH_AHEAD) {
                rec.prefetch(ahead);
            }
            rec.event(e);
        }
    }
}

impl<C: Counter, F: FnMut(usize, Vec<i64>) -> Reconstructor<C>> Slices for Merger<'_, C, F> {
    /// Told before any of the recording's events, and kept until the reconstruction is made:
    /// making it waits for the time pass, which runs beside the first slice's decoding.
    fn started(&mut self, start: RecordingStart) {
        match &mut self.rec {
            Some(rec) => rec.recording(&start),
            None => self.started.push(start),
        }
    }

    fn slice_done(&mut self, buffer: &mut Vec<Event>, rows: usize) {
        self.rec();
        self.progress.advance(rows, self.rows);
        // Past the slices counted (which never happens), nothing is certain before the end.
        let bound = self.bounds.get(self.slices).copied().unwrap_or(i64::MIN);
        self.slices += 1;
        // One look at the new events says their earliest time and whether the buffer is
        // still in order (the events before them were).
        let old = buffer.len().saturating_sub(rows);
        let mut last = old
            .checked_sub(1)
            .and_then(|i| buffer.get(i))
            .map_or(i64::MIN, |e| e.ts_ns);
        let mut new_min = i64::MAX;
        let mut in_order = true;
        for e in &buffer[old..] {
            new_min = new_min.min(e.ts_ns);
            in_order &= last <= e.ts_ns;
            last = e.ts_ns;
        }
        self.in_order &= in_order;
        self.buffer_min = self.buffer_min.min(new_min);
        // Files that overlap in time (hosts recorded side by side) let little go until the
        // last of them is read, and sorting the whole buffer at every slice made the time
        // grow with the square of the events. So the buffer is sorted only when something can
        // go and it has at least doubled since it was last left: each event is then sorted a
        // bounded number of times. Holding events longer changes nothing of the order handed
        // on (the bounds only grow); one recording read in order still lets almost every
        // slice go at once.
        if self.buffer_min > bound || buffer.len() < 2 * self.left {
            return;
        }
        self.put_in_order(buffer);
        let ready = buffer.partition_point(|e| e.ts_ns <= bound);
        self.hand_on(&buffer[..ready]);
        buffer.drain(..ready);
        self.buffer_min = buffer.first().map_or(i64::MAX, |e| e.ts_ns);
        self.left = buffer.len();
    }
}

/// Adds a warning when the reconstruction saw only part of some requests.
pub(crate) fn warn_partial(requests: &Requests, warnings: &mut Vec<Warning>) {
    let count = requests.unmatched_ends();
    if count > 0 {
        warnings.push(Warning::StartedBeforeRecording { count });
    }
}

/// Reads every recording and reconstructs its requests and calls: the log (strings, processes
/// and listeners; no events), the reconstruction and the warnings, as [`crate::read::load`] and
/// [`crate::rebuild::attribute::reconstruct`] would give them.
pub(crate) fn read_and_reconstruct(
    paths: &[PathBuf],
) -> Result<(EventLog, Reconstruction, Vec<Warning>), AnalyzeError> {
    let (log, rec, warnings) =
        read_into(paths, "reading", |rows, _| Reconstructor::for_rows(rows))?;
    Ok((log, rec.finish(), warnings))
}

/// Reads every recording and counts its quadruples that start inside `window` as `options`
/// say, letting requests and calls go once they are counted (bounded memory; see
/// `attribute::retire`): the log, what counting left and the warnings.
pub(crate) fn read_and_count(
    paths: &[PathBuf],
    options: QuadOptions,
    window: Period,
) -> Result<(EventLog, Counted<QuadCounter>, Vec<Warning>), AnalyzeError> {
    read_and_hand_over(paths, QuadCounter::new(options), "reading", window)
}

/// Reads every recording into a pass whose `counter` is handed each call and request that
/// starts inside `window` as it is done with (and each connection), letting them go (bounded
/// memory): the log, what the pass left and the warnings.
pub(crate) fn read_and_hand_over<C: Counter>(
    paths: &[PathBuf],
    counter: C,
    label: &'static str,
    window: Period,
) -> Result<(EventLog, Counted<C>, Vec<Warning>), AnalyzeError> {
    // The counter is taken when the reconstruction is made.
    let mut counter = Some(counter);
    let (log, rec, warnings) = read_into(paths, label, |rows, starts| {
        let counter = counter.take().unwrap_or_default();
        Reconstructor::counting_within(rows, counter, starts, window)
    })?;
    Ok((log, rec.finish_counting(), warnings))
}

/// Reads every recording and hands each call that starts inside `window` to `sink` as it is
/// done with, in time order, letting requests and calls go (bounded memory; see
/// `attribute::rows`): the log and the warnings.
pub(crate) fn read_and_emit(
    paths: &[PathBuf],
    sink: CallSink,
    window: Period,
) -> Result<(EventLog, Vec<Warning>), AnalyzeError> {
    // The sink is taken when the reconstruction is made.
    let mut sink = Some(sink);
    let (log, rec, warnings) =
        read_into(paths, "writing calls", |rows, starts| match sink.take() {
            Some(sink) => Reconstructor::emitting(rows, sink, starts, window),
            None => Reconstructor::for_rows(rows),
        })?;
    // Hands out the calls still kept, and closes the sink.
    drop(rec.finish_counting());
    Ok((log, warnings))
}

/// Reads every recording in `paths` into the reconstruction `make` gives (for about the
/// files' rows, of recordings begun at the times given), `label` on the progress bar: the log,
/// the reconstruction once every event went in, and the warnings.
fn read_into<C: Counter>(
    paths: &[PathBuf],
    label: &'static str,
    make: impl FnMut(usize, Vec<i64>) -> Reconstructor<C>,
) -> Result<(EventLog, Reconstructor<C>, Vec<Warning>), AnalyzeError> {
    if paths.is_empty() {
        return Err(AnalyzeError::NoInput);
    }
    let mut log = EventLog::new();
    let mut warnings = Vec::new();
    let mut buffer = Vec::new();
    let timeline = Timeline::of(paths);
    let timeline = &timeline;
    // The time pass (the `ts_ns` column alone) runs beside the decoding of the first slice,
    // which needs its bounds only once it is done.
    let rec = std::thread::scope(|scope| {
        let mut merger = Merger {
            time_pass: Some(
                scope.spawn(|| guard::catch(|| time_pass(paths, timeline)).unwrap_or_default()),
            ),
            bounds: Vec::new(),
            slices: 0,
            rec: None,
            started: Vec::new(),
            make,
            rows: 0,
            progress: Progress::new(label),
            buffer_min: i64::MAX,
            left: 0,
            in_order: true,
        };
        let cpu = phases::thread_cpu_ns();
        for path in paths {
            reader::read_slices(
                path,
                &mut log,
                &mut warnings,
                &mut buffer,
                &mut merger,
                timeline,
            )?;
        }
        let rec = merger.drain(&mut buffer);
        phases::add_cpu(Role::Pass, cpu);
        Ok::<_, AnalyzeError>(rec)
    })?;
    Ok((log, rec, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bounds [`later_min_ts`] gives for slices read in this order.
    fn bounds(slices: &[(i64, usize)]) -> Vec<i64> {
        (0..slices.len())
            .map(|i| {
                slices[i + 1..]
                    .iter()
                    .map(|(m, _)| *m)
                    .min()
                    .unwrap_or(i64::MAX)
            })
            .collect()
    }

    #[test]
    fn a_recording_read_in_order_holds_nothing_whole() {
        let one = [(0, 10), (10, 10), (20, 10), (30, 5)];
        assert_eq!(held_at_most_once(&one, &bounds(&one)), 0);
        // Its segments, one after another, neither.
        let segments = [(0, 10), (10, 10), (20, 10), (30, 10)];
        assert_eq!(held_at_most_once(&segments, &bounds(&segments)), 0);
    }

    #[test]
    fn hosts_side_by_side_hold_all_but_the_last_file() {
        // Two hosts over the same minute, three slices each, read host after host: the
        // first host's later slices wait for the second host's to be read.
        let a = [(0, 10), (20, 10), (40, 10)];
        let b = [(1, 7), (21, 7), (41, 7)];
        let both: Vec<(i64, usize)> = a.iter().chain(&b).copied().collect();
        assert_eq!(held_at_most_once(&both, &bounds(&both)), 20);
        // Three hosts: the first two's.
        let c = [(2, 5), (22, 5), (42, 5)];
        let all: Vec<(i64, usize)> = both.iter().chain(&c).copied().collect();
        assert_eq!(held_at_most_once(&all, &bounds(&all)), 20 + 14);
        assert!(held_note(12_345_678).contains("at least 12.3 million events"));
    }
}
