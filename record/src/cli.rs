//! Command-line arguments, validated into a [`Config`] before any work starts.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use clap::Parser;

use crate::process::ServiceFlags;
use crate::segments::Rotation;

const EXAMPLES: &str = "\
EXAMPLES:
    # Record a running service for 30 s
    sudo record -p $(pidof http_demo) -o demo.parquet --duration 30

    # Record every process running a binary, including ones started later; stop with Ctrl-C
    sudo record --exe ./gin_demo -o gin.parquet

    # Record every Go HTTP service on the host, in any container, and the ones that start later
    sudo record -a -o node.parquet --duration 60

    # Two pods of one binary on a node: name them apart by pid (they are otherwise named by
    # OTEL_SERVICE_NAME, their pod's workload, or the executable's file name)
    sudo record -p 4242 -p 4343 --service 4242=checkout --service 4343=cart -o pods.parquet

    # Watch the topology live while recording
    sudo record -p 1234 --live -o out.parquet

    # Leave it running during an incident: a new file every minute or 256 MB, the newest 60 kept
    # (rec.00001.parquet, rec.00002.parquet, ...; a kill -9 loses only the file in progress)
    sudo record -p 1234 -o rec.parquet --rotate-secs 60 --rotate-size 256M --max-files 60

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

    /// Record every Go program on the host that serves or calls HTTP with net/http, in any
    /// container, including programs started while recording (as `perf record -a`).
    #[arg(short = 'a', long = "all")]
    pub all: bool,

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

    /// Service name: NAME for every recorded process, PID=NAME for one process, EXE=NAME for
    /// the processes of one executable (its path or its file name); repeatable, the most
    /// specific applies. Without one, a process is named by OTEL_SERVICE_NAME or service.name
    /// in OTEL_RESOURCE_ATTRIBUTES in its environment, else by its Kubernetes workload (when
    /// its container's hostname is a pod name such as web-7f9b5c6d48-qz2wx), else by its
    /// executable's file name.
    #[arg(long, value_name = "[PID=|EXE=]NAME")]
    pub service: Vec<String>,

    /// Print each request's quadruples to stdout as it finishes.
    #[arg(long)]
    pub live: bool,

    /// Leave out the channel probes (chansend/chanrecv/select): lowest overhead, but calls
    /// handed to workers over channels can then not be attributed.
    #[arg(long)]
    pub no_channels: bool,

    /// Start a new file once the current one reaches this size (suffixes K, M, G: powers of
    /// 1024). Files are named FILE with a sequence number before the extension.
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub rotate_size: Option<u64>,

    /// Start a new file every N seconds.
    #[arg(long, value_name = "N")]
    pub rotate_secs: Option<f64>,

    /// With rotation, keep only the newest K completed files.
    #[arg(long, value_name = "K")]
    pub max_files: Option<usize>,

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
    /// `-a`: every Go HTTP program on the host.
    pub all: bool,
    pub output: PathBuf,
    pub duration: Option<Duration>,
    pub service: ServiceFlags,
    pub live: bool,
    /// Attach the channel probes.
    pub channels: bool,
    pub rotation: Rotation,
}

/// `512`, `64K`, `256M`, `1G` (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let shift = match unit.to_ascii_uppercase().trim_end_matches(['B', 'I']) {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => {
            return Err(format!(
                "{s:?}: use a number of bytes, optionally with K, M or G"
            ))
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 256M)"))?;
    n.checked_mul(1 << shift)
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("{s:?} is not a positive size"))
}

impl Args {
    pub fn into_config(self) -> Result<Config> {
        if self.pids.is_empty() && self.exes.is_empty() && !self.all {
            bail!("nothing to record: give -p PID, --exe PATH or -a (see --help)");
        }
        let duration = match self.duration {
            Some(s) if !(s.is_finite() && s > 0.0) => {
                bail!("--duration must be a positive number of seconds, got {s}")
            }
            Some(s) => Some(Duration::from_secs_f64(s)),
            None => None,
        };
        let service = ServiceFlags::parse(&self.service)?;
        let every = match self.rotate_secs {
            Some(s) if !(s.is_finite() && s > 0.0) => {
                bail!("--rotate-secs must be a positive number of seconds, got {s}")
            }
            Some(s) => Some(Duration::from_secs_f64(s)),
            None => None,
        };
        let rotation = Rotation {
            size: self.rotate_size,
            every,
            max_files: self.max_files,
        };
        if let Some(k) = self.max_files {
            if k == 0 {
                bail!("--max-files must be at least 1");
            }
            if !rotation.enabled() {
                bail!("--max-files needs --rotate-size or --rotate-secs");
            }
        }
        if self.output.as_os_str().is_empty() || self.output.is_dir() {
            bail!("-o {}: give a file name", self.output.display());
        }
        Ok(Config {
            pids: self.pids,
            exes: self.exes,
            all: self.all,
            output: self.output,
            duration,
            service,
            live: self.live,
            channels: !self.no_channels,
            rotation,
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

    #[test]
    fn service_forms() {
        let c = parse(&[
            "-p",
            "1",
            "-p",
            "2",
            "--service",
            "all",
            "--service",
            "2=two",
            "--service",
            "app=by-exe",
        ])
        .expect("valid");
        let exe = std::path::Path::new("/srv/app");
        assert_eq!(
            c.service.for_process(1, exe).map(|(n, _)| n),
            Some("by-exe")
        );
        assert_eq!(c.service.for_process(2, exe).map(|(n, _)| n), Some("two"));
        assert_eq!(
            c.service
                .for_process(1, std::path::Path::new("/bin/x"))
                .map(|(n, _)| n),
            Some("all")
        );
        assert_eq!(
            parse(&["-p", "1"]).expect("valid").service,
            ServiceFlags::default()
        );
        for bad in [
            &["--service", "2="][..],
            &["--service", "2x=a"],
            &["--service", "=a"],
            &["--service", "a", "--service", "b"],
            &["--service", "2=a", "--service", "2=b"],
        ] {
            let args: Vec<&str> = ["-p", "1"].iter().chain(bad).copied().collect();
            assert!(parse(&args).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rotation_arguments() {
        let c = parse(&["-p", "1", "--rotate-size", "64K", "--max-files", "3"]).expect("valid");
        assert_eq!(c.rotation.size, Some(64 * 1024));
        assert_eq!(c.rotation.max_files, Some(3));
        let c = parse(&["-p", "1", "--rotate-secs", "0.5"]).expect("valid");
        assert_eq!(c.rotation.every, Some(Duration::from_millis(500)));
        assert!(!parse(&["-p", "1"]).expect("valid").rotation.enabled());
        assert!(parse(&["-p", "1", "--max-files", "3"]).is_err());
        assert!(parse(&["-p", "1", "--rotate-secs", "0"]).is_err());
        assert!(parse(&["-p", "1", "--rotate-size", "0"]).is_err());
        assert!(parse(&["-p", "1", "--rotate-size", "12X"]).is_err());
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("2MiB"), Ok(2 << 20));
    }
}
