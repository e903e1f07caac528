//! Offline analysis of quadtrace recordings: rebuild server requests, goroutine lineage and
//! client calls from raw events, and count the service quadruples
//! `[caller, caller_func, callee, callee_func]`.
//!
//! The pipeline is one-way: [`reader`] loads files into an [`events::EventLog`],
//! [`attribute::reconstruct`] pairs requests and attributes calls in one time-ordered pass
//! (evidence from [`lineage`], [`contexts`], [`channels`] and [`timers`]), in which calls are
//! also linked to the server requests they caused ([`links`]) and listeners gathered
//! ([`sockets`]); [`counter::count_quads`] names callees ([`callee`]) and funcs ([`routes`])
//! and counts, with error counts and latency percentiles ([`stats`], [`durations`]), or
//! [`calls::call_rows`] lists the calls, and [`output`] formats.
//!
//! The source follows that way, a folder per layer, each using only the layers before it:
//! `util` and `model` (shared by all, using nothing of the crate), `read`, `rebuild`, `report`,
//! and `pipeline`, which ties reading, reconstruction and reports together; this file holds
//! the public functions. `layers_test.rs` checks the order, and that no modules import each
//! other in a circle.
//!
//! `analyze quads` ([`analyze_files_with`]) streams: files are read a slice at a time into the
//! pass, which counts calls and requests as it is done with them and lets them go (the
//! counter, `attribute::retire`), so its memory follows the traffic live at one moment, not
//! the recording's length.
//!
//! ```no_run
//! use std::path::PathBuf;
//! use quadtrace_analyze::{quads_for_files, render, Format};
//!
//! let quads = quads_for_files(&[PathBuf::from("rec.parquet")])?;
//! print!("{}", render(&quads, Format::Table));
//! # Ok::<(), quadtrace_analyze::AnalyzeError>(())
//! ```

#[cfg(test)]
mod layers_test;
mod model;
mod pipeline;
mod read;
mod rebuild;
mod report;
#[cfg(test)]
pub(crate) mod test_support;
mod util;

use std::path::PathBuf;

use pipeline::stream::warn_partial;
use pipeline::{passes, stream};
use util::phases;

// The public modules, at the crate's root as they were before the layers.
pub use model::{events, span};
pub use read::reader;
pub use rebuild::{
    attribute, channels, client, contexts, evidence, goroutines, handoff, lineage, links, requests,
    sockets, stack, timers,
};
pub use report::{
    callee, calls, counter, diff, durations, escape, export, graph, html, info, output, quads,
    routes, stats, tree,
};

pub use attribute::{Attribution, ClientCall, Reconstruction};
pub use callee::LinkSummary;
pub use calls::CallRow;
pub use evidence::Evidence;
pub use output::{render, render_calls, Format};
pub use pipeline::AnalyzeError;
pub use quads::{Quad, QuadOptions};
pub use reader::{ReadError, Warning};
pub use span::{Bound, Span};
/// For a program about to analyze large recordings (the `analyze` binary calls it first):
/// tunes the allocator to reuse what decoding frees (see its doc).
pub use util::hint::reuse_freed_memory;

/// The result of analyzing a set of recordings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    /// The quadruples, highest count first.
    pub quads: Vec<Quad>,
    /// Their callers and callees (the topology's edges), with the figures of their calls.
    pub edges: Vec<counter::EdgeFigures>,
    /// Things the user should know (lost events, skipped rows), in input order.
    pub warnings: Vec<Warning>,
    /// How many calls were linked to the requests they caused, when the recordings have
    /// socket events.
    pub links: Option<LinkSummary>,
}

/// The client calls of a set of recordings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallsAnalysis {
    /// Every client call, in time order, with its attribution and link.
    pub calls: Vec<CallRow>,
    /// As in [`Analysis`].
    pub warnings: Vec<Warning>,
    /// As in [`Analysis`].
    pub links: Option<LinkSummary>,
}

/// Loads every recording into one time-ordered event log.
///
/// Events keep their process identity: (the recording's host name, pid), so files from several
/// machines combine without mixing up processes.
pub fn load(paths: &[PathBuf]) -> Result<(events::EventLog, Vec<Warning>), AnalyzeError> {
    if paths.is_empty() {
        return Err(AnalyzeError::NoInput);
    }
    let mut phases = phases::Phases::start();
    let mut log = events::EventLog::new();
    let mut warnings = Vec::new();
    let timeline = reader::timeline::Timeline::of(paths);
    for path in paths {
        reader::read_recording_on(path, &mut log, &mut warnings, &timeline)?;
    }
    phases.done("read");
    log.sort();
    phases.done("sort");
    Ok((log, warnings))
}

/// Analyzes a set of recordings: quadruples plus warnings.
pub fn analyze_files(paths: &[PathBuf]) -> Result<Analysis, AnalyzeError> {
    analyze_files_above(paths, 0.0)
}

/// Like [`analyze_files`], counting a call as attributed only when its confidence is at least
/// `min_confidence` (below it, the call counts as made outside any request).
pub fn analyze_files_above(
    paths: &[PathBuf],
    min_confidence: f64,
) -> Result<Analysis, AnalyzeError> {
    let options = QuadOptions {
        min_confidence,
        ..QuadOptions::default()
    };
    analyze_files_with(paths, options, Span::default())
}

/// Analyzes a set of recordings, counting quadruples as `options` say, of the calls and
/// requests that start inside `span`.
pub fn analyze_files_with(
    paths: &[PathBuf],
    options: QuadOptions,
    span: Span,
) -> Result<Analysis, AnalyzeError> {
    let period = period(paths, span)?;
    let mut phases = phases::Phases::start();
    let (log, counted, mut warnings) = stream::read_and_count(paths, options, period)?;
    phases.done("read+rebuild");
    warn_partial(&counted.requests, &mut warnings);
    let finished = counted.counter.finish_keeping_names(&log, &counted.sockets);
    let (quads, edges, links) = (finished.quads, finished.edges, finished.links);
    phases.done("count");
    Ok(Analysis {
        quads,
        edges,
        warnings,
        links,
    })
}

/// The quadruples of a set of recordings, highest count first (warnings dropped; see
/// [`analyze_files`]).
pub fn quads_for_files(paths: &[PathBuf]) -> Result<Vec<Quad>, AnalyzeError> {
    analyze_files(paths).map(|a| a.quads)
}

/// Every client call of a set of recordings, in time order, with its attribution; and the
/// warnings.
pub fn calls_for_files(paths: &[PathBuf]) -> Result<(Vec<CallRow>, Vec<Warning>), AnalyzeError> {
    analyze_calls(paths).map(|a| (a.calls, a.warnings))
}

/// Every client call of a set of recordings, with the warnings and how many calls were linked.
pub fn analyze_calls(paths: &[PathBuf]) -> Result<CallsAnalysis, AnalyzeError> {
    let (log, rec, mut warnings) = stream::read_and_reconstruct(paths)?;
    warn_partial(&rec.requests, &mut warnings);
    let (calls, links) = calls::call_rows_linked(&log, &rec);
    Ok(CallsAnalysis {
        calls,
        warnings,
        links,
    })
}

/// Writes every client call of a set of recordings that starts inside `span` to `out` in
/// `format`, row by row as they are done with, in time order (see [`passes`]); returns the
/// warnings and how many calls were linked.
pub fn write_calls_for_files(
    paths: &[PathBuf],
    span: Span,
    format: Format,
    out: impl std::io::Write + Send,
) -> Result<(Vec<Warning>, Option<LinkSummary>), AnalyzeError> {
    let period = period(paths, span)?;
    let mut writer = output::CallWriter::new(format, out).map_err(AnalyzeError::Write)?;
    let done = passes::two_passes(paths, period, &mut |row, _| writer.row(row))?;
    writer.finish().map_err(AnalyzeError::Write)?;
    Ok((done.warnings, done.links))
}

/// Exports the recordings (one host's, typically) as the flat datasets of `schema/EXPORT.md`
/// under `dir` (created when missing), the calls and requests that start inside `span`: what
/// was written, and the warnings. A failure leaves none of the export's files behind.
pub fn export_files(
    paths: &[PathBuf],
    span: Span,
    dir: &std::path::Path,
) -> Result<(report::export::ExportSummary, Vec<Warning>), AnalyzeError> {
    if paths.is_empty() {
        return Err(AnalyzeError::NoInput);
    }
    let period = period(paths, span)?;
    if dir.exists() && !dir.is_dir() {
        return Err(AnalyzeError::Usage(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| AnalyzeError::write_to(dir, &e))?;
    pipeline::export::export(paths, period, dir)
}

/// What is in a set of recordings (see [`info`]), events counted inside `span`.
pub fn info_for_files(paths: &[PathBuf], span: Span) -> Result<info::Info, AnalyzeError> {
    gather_info(paths, period(paths, span)?)
}

/// What is in the recordings (see [`info`]), events counted inside `period`.
fn gather_info(paths: &[PathBuf], period: span::Period) -> Result<info::Info, AnalyzeError> {
    if paths.is_empty() {
        return Err(AnalyzeError::NoInput);
    }
    Ok(info::gather(paths, period)?)
}

/// Writes the recordings to `out` as the original write-up's stream (see [`report::replay`]), the
/// requests that start inside `span`; returns the warnings.
pub fn replay_files(
    paths: &[PathBuf],
    span: Span,
    mut out: impl std::io::Write,
) -> Result<Vec<Warning>, AnalyzeError> {
    let period = period(paths, span)?;
    let (log, rec, mut warnings) = stream::read_and_reconstruct(paths)?;
    warn_partial(&rec.requests, &mut warnings);
    for block in report::replay::blocks(&log, &rec, period) {
        out.write_all(block.as_bytes())
            .map_err(AnalyzeError::Write)?;
    }
    out.flush().map_err(AnalyzeError::Write)?;
    Ok(warnings)
}

/// The request trees `pick` asks for (see [`tree`]), among the requests that start inside
/// `span`; and the warnings.
pub fn trees_for_files(
    paths: &[PathBuf],
    pick: &tree::Pick,
    span: Span,
) -> Result<(Vec<tree::RequestNode>, Vec<Warning>), AnalyzeError> {
    let period = period(paths, span)?;
    let (log, rec, mut warnings) = stream::read_and_reconstruct(paths)?;
    warn_partial(&rec.requests, &mut warnings);
    let trees = tree::trees(&log, &rec, pick, period).map_err(AnalyzeError::Usage)?;
    Ok((trees, warnings))
}

/// Compares the quadruples of the `before` recordings with those of the `after` ones (see
/// [`diff`]), each side counted over its span within its own recordings (the same recording
/// may be both sides, in two spans), its counts turned into rates over that side's length;
/// the rows and both sides' warnings.
pub fn diff_files(
    (before, before_span): (&[PathBuf], Span),
    (after, after_span): (&[PathBuf], Span),
    thresholds: &diff::Thresholds,
) -> Result<(Vec<diff::Compared>, Vec<Warning>), AnalyzeError> {
    let before_len = seconds(before, before_span)?;
    let after_len = seconds(after, after_span)?;
    let options = QuadOptions::default();
    let b = analyze_files_with(before, options, before_span)?;
    let a = analyze_files_with(after, options, after_span)?;
    let rows = diff::compare(
        diff::Side {
            quads: &b.quads,
            seconds: before_len,
        },
        diff::Side {
            quads: &a.quads,
            seconds: after_len,
        },
        thresholds,
    );
    let mut warnings = b.warnings;
    warnings.extend(a.warnings);
    Ok((rows, warnings))
}

/// How long the recordings in `paths` cover within `span`, in seconds: from their earliest
/// start to their latest stop, by wall clock when they all say it (else by each host's own
/// clock, which a span needs anyway); 0 when they do not say.
fn seconds(paths: &[PathBuf], span: Span) -> Result<f64, AnalyzeError> {
    let period = period(paths, span)?;
    let mut clocks = Vec::new();
    for path in paths {
        clocks.push(reader::clock(path)?);
    }
    let walls = clocks.iter().all(|c| c.boot_wall_ns.is_some());
    let at = |c: &reader::Clock, t: Option<i64>| {
        let zero = if walls {
            c.boot_wall_ns.unwrap_or(0)
        } else {
            0
        };
        t.map(|t| zero.saturating_add(t))
    };
    let start = clocks.iter().filter_map(|c| at(c, c.start_ns)).min();
    let stop = clocks.iter().filter_map(|c| at(c, c.stop_ns)).max();
    let (Some(start), Some(stop)) = (start, stop) else {
        return Ok(0.0);
    };
    let (start, stop) = (start.max(period.since), stop.min(period.until));
    Ok(stop.saturating_sub(start).max(0) as f64 / 1e9)
}

/// The service topology of the recordings over `span` (see [`graph`]), with the warnings
/// and how many calls were linked.
pub fn topology_for_files(
    paths: &[PathBuf],
    span: Span,
) -> Result<(graph::Topology, Vec<Warning>, Option<LinkSummary>), AnalyzeError> {
    let analysis = analyze_files_with(paths, QuadOptions::default(), span)?;
    let topology = report::topology::topology(&analysis.quads, &analysis.edges);
    Ok((topology, analysis.warnings, analysis.links))
}

/// Writes the HTML report of the recordings (see [`report::incident`]) over `span` to `out`; returns
/// the warnings.
pub fn write_report(
    paths: &[PathBuf],
    span: Span,
    mut out: impl std::io::Write,
) -> Result<Vec<Warning>, AnalyzeError> {
    let period = period(paths, span)?;
    let info = gather_info(paths, period)?;
    let mut fold = report::incident::Fold::new(period, &info);
    let done = passes::two_passes(paths, period, &mut |row, facts| {
        fold.add(&row, facts);
        Ok(())
    })?;
    let page = fold.page(&info, done.quads, &done.edges, done.links, &done.warnings);
    out.write_all(page.as_bytes())
        .and_then(|()| out.flush())
        .map_err(AnalyzeError::Write)?;
    Ok(done.warnings)
}

/// `span` in wall-clock time. Every recording must say when its clock began for a span to
/// place its events; an offset counts from the earliest start of them all.
fn period(paths: &[PathBuf], span: Span) -> Result<span::Period, AnalyzeError> {
    if !span.is_set() {
        return Ok(span::Period::ALL);
    }
    let mut first_start: Option<i64> = None;
    for path in paths {
        let clock = reader::clock(path)?;
        let Some(boot) = clock.boot_wall_ns else {
            return Err(AnalyzeError::Usage(format!(
                "{} does not say when its clock began (no {}), so --since/--until cannot place its events",
                path.display(),
                quadtrace_schema::meta::BOOT_WALL_NS
            )));
        };
        if let Some(start) = clock.start_ns {
            let wall = boot.saturating_add(start);
            first_start = Some(first_start.map_or(wall, |f| f.min(wall)));
        }
    }
    span.resolve(first_start).map_err(AnalyzeError::Usage)
}
