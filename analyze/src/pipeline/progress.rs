//! Progress on stderr while recordings are read, for analyses that take more than a moment:
//! shown only when stderr is a terminal (a pipe or a file gets nothing, so scripts and CI see
//! clean output), and only once reading has gone on for a second.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long reading goes before the bar appears.
const QUIET_FOR: Duration = Duration::from_secs(1);

/// A bar of events read out of the recordings' rows.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    started: std::time::Instant,
    label: &'static str,
}

impl Progress {
    /// A bar labelled `label` ("reading", "pass 1/2"), hidden unless stderr is a terminal.
    pub(crate) fn new(label: &'static str) -> Self {
        Progress {
            bar: None,
            started: std::time::Instant::now(),
            label,
        }
    }

    /// `rows` more rows were read, of `total`.
    pub(crate) fn advance(&mut self, rows: usize, total: usize) {
        if self.bar.is_none()
            && self.started.elapsed() >= QUIET_FOR
            && std::io::stderr().is_terminal()
        {
            let bar = ProgressBar::with_draw_target(
                Some(total as u64),
                ProgressDrawTarget::stderr_with_hz(4),
            );
            let style = ProgressStyle::with_template(
                "{msg} [{bar:30}] {human_pos}/{human_len} events, {eta} left",
            );
            if let Ok(style) = style {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(self.label);
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.inc(rows as u64);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
