//! Command-line arguments, validated into a [`Config`] before any work starts.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Parser;

const EXAMPLES: &str = "\
EXAMPLES:
    # Record a running service for 30 s
    sudo record -p $(pidof http_demo) -o demo.parquet --duration 30

    # Record every process running a binary, including ones started later; stop with Ctrl-C
    sudo record --exe ./gin_demo -o gin.parquet

    # Watch the topology live while recording
    sudo record -p 1234 --live -o out.parquet

    # Then, offline:
    analyze quads demo.parquet";

/// Record HTTP calls and goroutine spawns of running Go programs with eBPF uprobes, into a
/// Parquet recording that `analyze` turns into service quadruples.
#[derive(Debug, Parser)]
#[command(name = "record", version, after_help = EXAMPLES)]
pub struct Args {
    /// Record this process (repeatable).
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pub pids: Vec<u32>,

    /// Record every process running this executable, including ones started later (repeatable).
    #[arg(long = "exe", value_name = "PATH")]
    pub exes: Vec<PathBuf>,

    /// Output Parquet file (written as FILE.inprogress until complete).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "quadtrace.parquet"
    )]
    pub output: PathBuf,

    /// Stop after this many seconds (default: until Ctrl-C, SIGTERM or every target exits).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,

    /// Service name for the recorded processes (default: the executable's file name).
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    /// Print each request's quadruples to stdout as it finishes.
    #[arg(long)]
    pub live: bool,

    /// Leave out the channel probes (chansend/chanrecv/select): lowest overhead, but calls
    /// handed to workers over channels can then not be attributed.
    #[arg(long)]
    pub no_channels: bool,

    /// Print the struct offsets record would use for BINARY as a TSV row, and exit
    /// (used by scripts/gen-offsets.sh).
    #[arg(long, value_name = "BINARY", hide = true, exclusive = true)]
    pub print_offsets: Option<PathBuf>,
}

/// A validated recording request.
#[derive(Debug, Clone)]
pub struct Config {
    pub pids: Vec<u32>,
    pub exes: Vec<PathBuf>,
    pub output: PathBuf,
    pub duration: Option<Duration>,
    pub service: Option<String>,
    pub live: bool,
    /// Attach the channel probes.
    pub channels: bool,
}

impl Args {
    pub fn into_config(self) -> Result<Config> {
        if self.pids.is_empty() && self.exes.is_empty() {
            bail!("nothing to record: give -p PID or --exe PATH (see --help)");
        }
        let duration = match self.duration {
            Some(s) if !(s.is_finite() && s > 0.0) => {
                bail!("--duration must be a positive number of seconds, got {s}")
            }
            Some(s) => Some(Duration::from_secs_f64(s)),
            None => None,
        };
        if let Some(name) = &self.service {
            if name.trim().is_empty() {
                bail!("--service must not be empty");
            }
        }
        if self.output.as_os_str().is_empty() || self.output.is_dir() {
            bail!("-o {}: give a file name", self.output.display());
        }
        Ok(Config {
            pids: self.pids,
            exes: self.exes,
            output: self.output,
            duration,
            service: self.service,
            live: self.live,
            channels: !self.no_channels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config> {
        Args::try_parse_from(std::iter::once("record").chain(args.iter().copied()))?.into_config()
    }

    #[test]
    fn validates_arguments() {
        let c =
            parse(&["-p", "1", "-p", "2", "-o", "x.parquet", "--duration", "1.5"]).expect("valid");
        assert_eq!(c.pids, vec![1, 2]);
        assert_eq!(c.duration, Some(Duration::from_millis(1500)));
        assert!(parse(&[]).is_err());
        assert!(parse(&["-p", "1", "--duration", "0"]).is_err());
        assert!(parse(&["-p", "x"]).is_err());
        assert!(parse(&["-p", "1", "--service", " "]).is_err());
    }
}
