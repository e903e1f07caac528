//! The command line: arguments, and running a command once they are parsed.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use quadtrace_analyze::{analyze_files, render, Format};

const EXAMPLES: &str = "\
EXAMPLES:
    Quadruples of one recording, as a table:
        analyze quads rec.parquet

    Several recordings (e.g. one per host) analyzed together, as JSON:
        analyze quads hostA.parquet hostB.parquet --format json

    The busiest edges, for a spreadsheet:
        analyze quads rec-*.parquet --format csv | head -20";

/// Reconstructs service quadruples [caller, caller_func, callee, callee_func] from quadtrace
/// recordings, offline.
///
/// Recordings are Parquet files written by `record`; several (e.g. one per host) are analyzed
/// together, so that a call from one service is matched with the service that served it.
#[derive(Debug, Parser)]
#[command(name = "analyze", version, after_help = EXAMPLES)]
pub struct Cli {
    /// What to compute.
    #[command(subcommand)]
    pub command: Command,
}

/// A subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Counts service quadruples [caller, caller_func, callee, callee_func].
    ///
    /// Each server request yields one quadruple per client call made for it, or
    /// [service, path, none, none] when it called nothing downstream; a call made outside any
    /// request yields [service, none, callee, path]. The callee is the service that served the
    /// called address when one of the recordings saw it, else the address as written.
    #[command(after_help = EXAMPLES)]
    Quads(QuadsArgs),
}

/// Arguments of `analyze quads`.
#[derive(Debug, Args)]
pub struct QuadsArgs {
    /// Recordings written by `record` (Parquet); several are analyzed together.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Runs the parsed command, writing results to stdout and warnings to stderr.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Quads(args) => quads(&args),
    }
}

fn quads(args: &QuadsArgs) -> anyhow::Result<()> {
    let analysis = analyze_files(&args.files)?;
    {
        let mut err = std::io::stderr().lock();
        for w in &analysis.warnings {
            // Failing to warn is no reason to withhold the result.
            let _ = writeln!(err, "warning: {w}");
        }
    }
    let out = render(&analysis.quads, args.format);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing to stdout")
}
