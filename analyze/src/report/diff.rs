//! `analyze diff`: the quadruples of a window before a change (a deploy, an incident) against
//! those of a window after it, so that the on-call engineer sees which edges appeared,
//! disappeared or behave differently.
//!
//! In: each window's quadruples ([`Quad`](crate::report::quads::Quad)s, as `analyze quads` counts
//! them) and its length in seconds. Out: one [`Compared`] row per quadruple present on either side,
//! keyed by its four names, with a [`Status`]: `added` (only after), `removed` (only before),
//! `changed` or `unchanged`; and the rows rendered as a table, JSON or CSV ([`render`]).
//!
//! # What counts as changed
//!
//! A quadruple seen on both sides is `changed` when at least one of three figures moved
//! ([`Changed`] says which); each must pass every test [`Thresholds`] sets, whose defaults are
//! in parentheses:
//!
//! - **rate**, calls per second over the window, so that windows of different lengths compare
//!   fairly: at least `min_calls` (20) calls on each side; the rate moved by `factor` (1.5)
//!   either way (up by half, or down by a third); by at least `min_rate_change_per_s` (one call
//!   a minute); and the after count lies at least `min_z` (3) standard deviations from what the
//!   before rate predicts (under equal rates, the after window's share of the calls is binomial
//!   with its share of the time).
//! - **error_rate**, failed calls over calls: at least `min_calls` on each side; moved by
//!   `factor` (any errors after none count as moved by it); by at least `min_error_rate_change` (0.01, one call in
//!   a hundred); and at least `min_z` standard errors apart (two-proportion test).
//! - **p99**: at least `min_calls_p99` (100) calls on each side, the fewest for which the
//!   nearest-rank p99 is not the slowest call, so one outlier cannot move it; moved by `factor`;
//!   and by at least `min_p99_change_ns` (5 ms).
//!
//! Why all of these: a factor alone flags noise on small counts (20 calls against 30 in equal
//! windows is chance) and trifles (p99 from 1 ms to 2 ms); a significance test alone flags a
//! 2% move of a busy edge; the floors keep out moves too small to matter at any count;
//! `min_calls` keeps the normal approximations of the tests honest. p99 gets no test of
//! its own (a quadruple carries no spread), hence its larger minimum. The median is reported,
//! never judged: a move that matters shows in p99 or the rates first.
//!
//! A side whose length is not a positive number has no call rate, which is then not judged
//! (the error rate and p99 still are).
//! A quadruple listed twice on one side (the same names from recordings analyzed apart) is
//! added up; its percentiles are then the larger of the two, an upper bound of the true one.
//!
//! # Output
//!
//! Every format has a row per quadruple, most significant first (see [`compare`]). JSON: the
//! four names (null for "none", as `analyze quads` writes them), `status`, `before` and `after`
//! (`{count, errors, p50_ms, p99_ms}`, null on the side a quadruple is missing from) and
//! `changed` (the names of the figures that moved). CSV: [`DIFF_COLUMNS`], empty fields where a
//! side is missing, `changed` as `rate;p99`. Table: each figure as `before -> after`, with call
//! rates next to counts and control characters in names escaped.

mod compare;
mod csv;
mod figures;
#[cfg(test)]
mod fixture;
mod json;
mod judge;
mod table;

pub use compare::{compare, Compared, Side, Status};
pub use csv::DIFF_COLUMNS;
pub use figures::Figures;
pub use judge::{Changed, Thresholds};

use crate::report::output::Format;

/// Renders compared quadruples in `format`; the result ends with a newline. A table lists the
/// changed, added and removed quadruples first (see [`compare`]), whatever the order of `rows`.
pub fn render(rows: &[Compared], format: Format) -> String {
    match format {
        Format::Table => table::render(rows),
        Format::Json => json::render(rows),
        Format::Csv => csv::render(rows),
    }
}
