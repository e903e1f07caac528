//! `analyze export` in two passes (see [`crate::report::export`]): the first learns the names
//! and who listened where, the second hands calls, requests and connections to a writing
//! thread as the reconstruction lets them go. Both read the same files in the same order, so
//! they give the same symbols to the same strings, which is checked; a failure on either side
//! removes every file the export began.

use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use crate::model::span::Period;
use crate::pipeline::passes::{first_pass, FirstPass};
use crate::pipeline::stream;
use crate::pipeline::AnalyzeError;
use crate::read::reader::Warning;
use crate::report::callee::listener_rows;
use crate::report::export::handover::{Handover, Item};
use crate::report::export::{part_name, Export, ExportSummary};
use crate::util::phases;

/// Batches of items in flight between the pass and the writer.
const IN_FLIGHT: usize = 4;

/// Exports the calls and requests of `paths` that start inside `period` (and every connection
/// and listener) under `dir`: what was written, and the warnings.
pub(crate) fn export(
    paths: &[PathBuf],
    period: Period,
    dir: &Path,
) -> Result<(ExportSummary, Vec<Warning>), AnalyzeError> {
    let mut phases = phases::Phases::start();
    let FirstPass {
        log,
        counter,
        sockets,
        warnings,
    } = first_pass(paths, period)?;
    phases.done("first pass");
    let listeners = listener_rows(&log, &sockets, counter.servers());
    drop(counter);
    let write = |(path, e): (PathBuf, std::io::Error)| AnalyzeError::write_to(&path, &e);
    let mut out = Export::new(dir, &part_name(paths, &log), &log, &sockets);
    let (tx, rx) = sync_channel::<Vec<Item>>(IN_FLIGHT);
    let (written, second) = std::thread::scope(|scope| {
        let out = &mut out;
        let writer = scope.spawn(move || {
            // After a failure the rest is taken and dropped, so that the pass is never left
            // waiting.
            let mut failed = None;
            for batch in rx {
                for item in &batch {
                    if failed.is_none() {
                        failed = out.item(item).err();
                    }
                }
            }
            failed.map_or(Ok(()), Err)
        });
        let second = stream::read_and_hand_over(paths, Handover::new(tx), "exporting", period).map(
            |(second_log, counted, _)| {
                // Whatever the pass still held is handed over as it ends.
                drop(counted);
                second_log
            },
        );
        let written = writer.join().unwrap_or_else(|_| {
            Err((
                dir.to_path_buf(),
                std::io::Error::other("the writer stopped"),
            ))
        });
        (written, second)
    });
    phases.done("second pass");
    let checked = second.and_then(|second_log| {
        written.map_err(write)?;
        if log.same_names(&second_log) {
            Ok(())
        } else {
            Err(AnalyzeError::Internal(
                "the two passes over the recordings read different names".to_owned(),
            ))
        }
    });
    if let Err(e) = checked {
        out.abandon();
        return Err(e);
    }
    let summary = out.finish(&listeners).map_err(write)?;
    Ok((summary, warnings))
}
