//! Every call of a set of recordings, in time order and in bounded memory, for the commands
//! whose output follows calls one by one (`calls`, `report`): two passes over the files.
//!
//! The first counts the quadruples (inside the span looked at) and learns what names calls and
//! only all of the recordings tell (the routes servers served their paths under, who listened
//! where and when); the second reconstructs again and hands each call on as soon as it and the
//! requests it depends on are done with (see `attribute::rows`), named, from a thread of its
//! own. Both read the same files in the same order, so they give the same symbols to the same
//! strings, which is checked.

use std::path::PathBuf;

use crate::model::events::EventLog;
use crate::model::span::Period;
use crate::pipeline::stream::{self, warn_partial};
use crate::pipeline::AnalyzeError;
use crate::read::reader::Warning;
use crate::rebuild::attribute::{CallSink, Counted, DoneCall};
use crate::rebuild::sockets::Sockets;
use crate::report::callee::{CalleeNames, LinkSummary};
use crate::report::calls::{CallFacts, CallRow, Naming};
use crate::report::counter::{EdgeFigures, QuadCounter};
use crate::report::quads::{Quad, QuadOptions};
use crate::report::stats;
use crate::util::phases;

/// What the two passes give besides the calls.
pub(crate) struct TwoPasses {
    /// The quadruples of the calls and requests inside the period.
    pub(crate) quads: Vec<Quad>,
    /// Their callers and callees, with the figures of their calls.
    pub(crate) edges: Vec<EdgeFigures>,
    /// How the calls handed on were named, when the recordings could say.
    pub(crate) links: Option<LinkSummary>,
    pub(crate) warnings: Vec<Warning>,
}

/// What the first pass over the recordings leaves for the second: the log (the names), the
/// quadruples counted, the sockets (who listened where) and the warnings.
pub(crate) struct FirstPass {
    pub(crate) log: EventLog,
    pub(crate) counter: QuadCounter,
    pub(crate) sockets: Sockets,
    pub(crate) warnings: Vec<Warning>,
}

/// The first pass: reads `paths`, counting what starts inside `period`.
pub(crate) fn first_pass(paths: &[PathBuf], period: Period) -> Result<FirstPass, AnalyzeError> {
    let (log, counted, mut warnings) =
        stream::read_and_count(paths, QuadOptions::default(), period)?;
    warn_partial(&counted.requests, &mut warnings);
    // The first pass's requests (their table holds hundreds of MB of room) go before the
    // second pass needs its own.
    let Counted {
        counter,
        sockets,
        requests,
    } = counted;
    drop(requests);
    Ok(FirstPass {
        log,
        counter,
        sockets,
        warnings,
    })
}

/// Hands every call of `paths` that starts inside `period` to `each`, in time order, with
/// what its row does not say; stops at the first error `each` returns, which comes back as a
/// write error.
pub(crate) fn two_passes(
    paths: &[PathBuf],
    period: Period,
    each: &mut (dyn FnMut(CallRow, CallFacts) -> std::io::Result<()> + Send),
) -> Result<TwoPasses, AnalyzeError> {
    let mut phases = phases::Phases::start();
    let FirstPass {
        log,
        counter,
        sockets,
        mut warnings,
    } = first_pass(paths, period)?;
    phases.done("first pass");
    let finished = counter.finish_keeping_names(&log, &sockets);
    let mut naming = Naming {
        log: &log,
        callees: CalleeNames::from_parts(&log, &sockets, &finished.servers),
        funcs: finished.funcs,
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<DoneCall>>(4);
    let (handed, second) = std::thread::scope(|scope| {
        let naming = &mut naming;
        let log = &log;
        let writer = scope.spawn(move || {
            let mut out_of_order = 0u64;
            let mut last = None;
            // After a failure (a closed pipe) the rest is taken and dropped, so that the
            // reconstruction is never left waiting.
            let mut failed = None;
            for batch in rx {
                for done in batch {
                    if last.is_some_and(|l| done.id < l) {
                        out_of_order += 1;
                    }
                    last = Some(done.id);
                    if failed.is_none() {
                        let facts = CallFacts {
                            wall_ns: log.wall_clock(done.call.proc, done.call.ts_ns),
                            failed: stats::call_failed(&done.call),
                        };
                        let row =
                            naming.row(&done.call, done.request.as_ref(), done.linked.as_ref());
                        failed = each(row, facts).err();
                    }
                }
            }
            match failed {
                Some(e) => Err(e),
                None => Ok(out_of_order),
            }
        });
        let second = stream::read_and_emit(paths, CallSink::new(tx), period);
        let handed = writer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the writer stopped")));
        (handed, second)
    });
    phases.done("second pass");
    let (second_log, _) = second?;
    let out_of_order = handed.map_err(AnalyzeError::Write)?;
    if !log.same_names(&second_log) {
        return Err(AnalyzeError::Internal(
            "the two passes over the recordings read different names".to_owned(),
        ));
    }
    if out_of_order > 0 {
        warnings.push(Warning::CallsOutOfOrder {
            count: out_of_order,
        });
    }
    Ok(TwoPasses {
        quads: finished.quads,
        edges: finished.edges,
        links: naming.summary(),
        warnings,
    })
}
