//! The command line: arguments, and running a command once they are parsed.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use quadtrace_analyze::info::render_info;
use quadtrace_analyze::tree::{render_waterfall, Pick};
use quadtrace_analyze::{
    analyze_files_with, diff, diff_files, export_files, info_for_files, render, replay_files,
    topology_for_files, trees_for_files, write_calls_for_files, write_report, Bound, Format,
    LinkSummary, QuadOptions, Span, Warning,
};

const EXAMPLES: &str = "\
EXAMPLES:
    Quadruples of one recording, as a table:
        analyze quads rec.parquet

    Several recordings (e.g. one per host) analyzed together, as JSON:
        analyze quads hostA.parquet hostB.parquet --format json

    Only calls attributed with confidence 0.9 or more count for their request:
        analyze quads rec.parquet --min-confidence 0.9

    One quadruple per raw path (/users/1, /users/2) rather than per route (/users/{id}):
        analyze quads rec.parquet --raw-paths

    The busiest edges, for a spreadsheet:
        analyze quads rec-*.parquet --format csv | head -20

    Every client call, with the request it was made for and why:
        analyze calls rec.parquet --format csv";

const CALLS_EXAMPLES: &str = "\
EXAMPLES:
    Every call, as a table:
        analyze calls rec.parquet

    Calls that nothing ties to a request, with DuckDB:
        analyze calls rec.parquet -f csv > calls.csv
        duckdb -c \"SELECT * FROM 'calls.csv' WHERE attribution = 'none'\"";

const EXPORT_EXAMPLES: &str = "\
EXAMPLES:
    One host's rotated recording, into a directory shared with other hosts' exports:
        analyze export node-a-*.parquet -o /data/fleet

    The calls of each minute, with DuckDB:
        duckdb -c \"SELECT minute, count(*) FROM read_parquet('/data/fleet/calls/*/*.parquet',
                    hive_partitioning = true) GROUP BY minute ORDER BY minute\"";

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
    /// [service, func, none, none] when it called nothing downstream; a call made outside any
    /// request yields [service, none, callee, func]. The callee is the service of the request
    /// the call caused when both ends were recorded (linked by the connection's address pair),
    /// else the service listening on the called address when the call started, else the
    /// address as written. A func is the route template that served the request (e.g.
    /// `GET /users/{id}`, `/users/:id`) when the recording has it, else the raw path. When the
    /// recordings have socket events, how many calls were linked is said on stderr.
    ///
    /// Columns: caller, caller_func, callee, callee_func, count, errors (calls that got a 5xx
    /// or a transport error; for a [service, func, none, none] quadruple, requests that
    /// answered 5xx), p50_ms and p99_ms (latency of the calls, or of the requests for a
    /// none-callee quadruple; exact nearest-rank percentiles; `-` in tables, empty in CSV and
    /// null in JSON when no call or request ended within the recording).
    #[command(after_help = EXAMPLES)]
    Quads(QuadsArgs),
    /// Lists every client call with the request it was made for, the evidence and a confidence.
    ///
    /// Evidence, strongest first: same_goroutine (the call ran on the request's goroutine),
    /// spawned (on a goroutine the request's goroutine started, or a timer callback it armed),
    /// context (the call's context is the request's, or derived from it), channel (the calling
    /// goroutine last received a value sent for the request), none. Columns: ts_ns, pid, goid,
    /// caller, caller_path, caller_func, method, callee, callee_addr, callee_path, callee_func,
    /// status, duration_ns, attribution, confidence, request_goid, request_ts_ns, link,
    /// linked_pid, linked_goid, linked_ts_ns, linked_path. The paths are raw; the funcs are route templates
    /// when known (see `quads`). link is `connection` when the call is linked to the server
    /// request it caused (whose pid, goroutine and start follow). Missing names are `none`
    /// (null in JSON); missing numbers and links are `-` in tables, empty in CSV.
    #[command(after_help = CALLS_EXAMPLES)]
    Calls(CallsArgs),
    /// Says what is in recordings, per file and in total: hosts, services with their Go
    /// versions and binaries, time range (wall clock, UTC), events by kind (inside the span,
    /// when one is given), events lost, probes, schema version and segment numbers. Reads
    /// only the footer and two columns.
    Info(InfoArgs),
    /// Reduces recordings (typically one host's rotated files) to flat Parquet datasets for
    /// fleet roll-ups in SQL on Spark, Trino or DuckDB: calls, requests, listeners,
    /// addresses and connects, Hive-partitioned by date (`DIR/calls/date=2026-12-03/…`),
    /// as schema/EXPORT.md documents column by column; schema/sql/ computes the quadruples
    /// of `quads` from them, across hosts. Files are written under a temporary name and
    /// renamed when complete; exporting the same files again replaces them.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),
    /// Plays recordings back as the original write-up's stream (as `record --live` prints it):
    /// a block per server request, in the order the requests ended, naming the caller and its
    /// path, then each call attributed to it (method, host, url), or `callee: none`. Keeps every
    /// request and call of the recordings in memory.
    Replay(ReplayArgs),
    /// Shows a request and everything it caused: the calls made for it and, where a call is
    /// linked to the request it caused (on another service or the same), that request's own
    /// calls, and so on; with their timings as a waterfall (start after the root, a bar over
    /// the root's duration, duration, status, evidence). A request is named PID:GOID:START_NS,
    /// the pid, request_goid and request_ts_ns columns of `analyze calls`. Keeps every request
    /// and call of the recordings in memory.
    Tree(TreeArgs),
    /// Compares two sets of recordings, before and after: every quadruple with its status,
    /// added, removed, changed or unchanged, and its figures on each side. One recording can
    /// be both, in two spans (--before-until +5m --after-since +5m).
    ///
    /// Counts become rates over each side's length (from its recordings' earliest start to
    /// their latest stop, within --since/--until), so windows of different lengths compare.
    /// A quadruple changed when, with at least 20 calls on each side, its call rate moved by
    /// x1.5 either way (and by at least one call a minute, beyond chance) or its error rate by
    /// x1.5 and at least a point (beyond chance); or, with at least 100 calls on each side,
    /// its p99 moved by x1.5 and at least 5 ms. JSON objects have the quadruple's keys,
    /// status, the figures that moved, and `before` and `after` ({count, errors, p50_ms,
    /// p99_ms}, null where absent).
    Diff(DiffArgs),
    /// Writes one self-contained HTML file about the recordings, to open in a browser, also
    /// on a laptop without network: the topology picture, the quadruples (a sortable table),
    /// per caller -> callee edge a per-minute series of calls, errors and p99 with its calls by
    /// evidence and a few sample calls (why the edge exists), and the recordings' warnings.
    /// Nothing in it loads anything from elsewhere, and nothing from a recording runs in it.
    Report(ReportArgs),
    /// Draws the service topology: a node per service (dashed: an address no recording saw
    /// serve), an arrow per caller -> callee with its calls, errors and p99. As DOT (for
    /// Graphviz), Mermaid (for Markdown pages) or SVG, laid out and drawn by analyze itself.
    Graph(GraphArgs),
}

/// Arguments of `analyze graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Recordings written by `record` (Parquet); several are analyzed together.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = GraphFormat::Svg)]
    pub format: GraphFormat,

    /// Write to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub span: SpanArgs,
}

/// The forms of `analyze graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// An SVG picture, laid out by analyze.
    Svg,
}

/// Arguments of `analyze report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Recordings written by `record` (Parquet); several are analyzed together.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The HTML file to write.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: PathBuf,

    #[command(flatten)]
    pub span: SpanArgs,
}

/// Arguments of `analyze diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Recordings of before (several are analyzed together).
    #[arg(long, required = true, num_args = 1.., value_name = "FILE")]
    pub before: Vec<PathBuf>,

    /// Recordings of after.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE")]
    pub after: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Before counts what starts at or after T (default: --since).
    #[arg(long, value_name = "T")]
    pub before_since: Option<Bound>,

    /// Before counts what starts before T (default: --until).
    #[arg(long, value_name = "T")]
    pub before_until: Option<Bound>,

    /// After counts what starts at or after T (default: --since).
    #[arg(long, value_name = "T")]
    pub after_since: Option<Bound>,

    /// After counts what starts before T (default: --until).
    #[arg(long, value_name = "T")]
    pub after_until: Option<Bound>,

    #[command(flatten)]
    pub span: SpanArgs,
}

/// Arguments of `analyze tree`.
#[derive(Debug, Args)]
pub struct TreeArgs {
    /// Recordings written by `record` (Parquet); several are analyzed together.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The request to show, as PID:GOID:START_NS.
    #[arg(long, value_name = "ID", conflicts_with = "slowest")]
    pub request: Option<String>,

    /// Show the N slowest requests that no recorded call caused (default 3 when no --request).
    #[arg(long, value_name = "N")]
    pub slowest: Option<usize>,

    /// Output format: a waterfall, or the trees as JSON.
    #[arg(long, short = 'f', value_enum, default_value_t = TreeFormat::Table)]
    pub format: TreeFormat,

    #[command(flatten)]
    pub span: SpanArgs,
}

/// The forms of `analyze tree`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TreeFormat {
    /// A waterfall per tree, for a terminal.
    Table,
    /// Nested objects: a request with its calls, each with the request it caused.
    Json,
}

/// Arguments of `analyze replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Recordings written by `record` (Parquet).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub span: SpanArgs,
}

/// Arguments of `analyze info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Recordings written by `record` (Parquet).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Output format (table: a block per file, then the total).
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,

    #[command(flatten)]
    pub span: SpanArgs,
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

    /// Count a call for its request only when attributed with at least this confidence (0 to
    /// 1); below it, the call counts as made outside any request.
    #[arg(long, value_name = "X", default_value_t = 0.0, value_parser = confidence)]
    pub min_confidence: f64,

    /// Name caller_func and callee_func by raw URL path rather than by route template.
    #[arg(long)]
    pub raw_paths: bool,

    #[command(flatten)]
    pub span: SpanArgs,
}

/// `--since` and `--until`, which every command takes.
#[derive(Debug, Args)]
pub struct SpanArgs {
    /// Count only calls and requests that start at or after T: wall-clock time in RFC 3339
    /// (2026-12-03T14:02:00Z, fractions and offsets allowed), or an offset from the start of
    /// the recordings (+30s, +2m, +1h30m). Each recording's own clock places its events.
    #[arg(long, value_name = "T")]
    pub since: Option<Bound>,

    /// Count only calls and requests that start before T (as --since).
    #[arg(long, value_name = "T")]
    pub until: Option<Bound>,
}

impl SpanArgs {
    fn span(&self) -> Span {
        Span {
            since: self.since,
            until: self.until,
        }
    }
}

/// Arguments of `analyze calls`.
#[derive(Debug, Args)]
pub struct CallsArgs {
    /// Recordings written by `record` (Parquet); several are analyzed together.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,

    #[command(flatten)]
    pub span: SpanArgs,
}

/// Arguments of `analyze export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Recordings written by `record` (Parquet), typically one host's.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The directory to write the datasets under (created when missing).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: PathBuf,

    #[command(flatten)]
    pub span: SpanArgs,
}

fn confidence(s: &str) -> Result<f64, String> {
    let x: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{s} is not between 0 and 1"))
    }
}

/// Runs the parsed command, writing results to stdout and warnings to stderr.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Quads(args) => {
            let options = QuadOptions {
                min_confidence: args.min_confidence,
                raw_paths: args.raw_paths,
            };
            let analysis = analyze_files_with(&args.files, options, args.span.span())?;
            warn(&analysis.warnings, analysis.links);
            print(&render(&analysis.quads, args.format))
        }
        Command::Calls(args) => {
            // Written from a thread of its own (see `write_calls_for_files`): `Stdout` is `Send`, its
            // lock is not; buffered, it is locked once per buffer.
            let stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
            let (warnings, links) =
                write_calls_for_files(&args.files, args.span.span(), args.format, stdout)?;
            warn(&warnings, links);
            Ok(())
        }
        Command::Replay(args) => {
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            let warnings = replay_files(&args.files, args.span.span(), stdout)?;
            warn(&warnings, None);
            Ok(())
        }
        Command::Tree(args) => {
            let pick = match (args.request, args.slowest) {
                (Some(id), _) => Pick::Request(id),
                (None, n) => Pick::Slowest(n.unwrap_or(3)),
            };
            let (trees, warnings) = trees_for_files(&args.files, &pick, args.span.span())?;
            warn(&warnings, None);
            match args.format {
                TreeFormat::Table => print(&render_waterfall(&trees)),
                TreeFormat::Json => print(&(serde_json::to_string_pretty(&trees)? + "\n")),
            }
        }
        Command::Diff(args) => {
            let thresholds = diff::Thresholds::default();
            let span = |since: Option<Bound>, until: Option<Bound>| Span {
                since: since.or(args.span.since),
                until: until.or(args.span.until),
            };
            let before = span(args.before_since, args.before_until);
            let after = span(args.after_since, args.after_until);
            let (rows, warnings) =
                diff_files((&args.before, before), (&args.after, after), &thresholds)?;
            warn(&warnings, None);
            print(&diff::render(&rows, args.format))
        }
        Command::Report(args) => {
            // Made whole before the file is touched: a failed report replaces no earlier one.
            let mut page = Vec::new();
            let warnings = write_report(&args.files, args.span.span(), &mut page)?;
            std::fs::write(&args.output, page)
                .with_context(|| format!("writing {}", args.output.display()))?;
            warn(&warnings, None);
            eprintln!("analyze: wrote {}", args.output.display());
            Ok(())
        }
        Command::Graph(args) => {
            let (topology, warnings, links) = topology_for_files(&args.files, args.span.span())?;
            warn(&warnings, links);
            let text = match args.format {
                GraphFormat::Dot => quadtrace_analyze::graph::dot(&topology),
                GraphFormat::Mermaid => quadtrace_analyze::graph::mermaid(&topology),
                GraphFormat::Svg => quadtrace_analyze::graph::svg(&topology),
            };
            match &args.output {
                Some(path) => std::fs::write(path, text)
                    .with_context(|| format!("writing {}", path.display())),
                None => print(&text),
            }
        }
        Command::Export(args) => {
            let (summary, warnings) = export_files(&args.files, args.span.span(), &args.output)?;
            warn(&warnings, None);
            let rows: Vec<String> = summary
                .rows
                .iter()
                .map(|(name, n)| format!("{n} {name}"))
                .collect();
            eprintln!(
                "analyze: exported {} to {} ({} files)",
                rows.join(", "),
                args.output.display(),
                summary.files.len()
            );
            Ok(())
        }
        Command::Info(args) => {
            let info = info_for_files(&args.files, args.span.span())?;
            print(&render_info(&info, args.format))
        }
    }
}

/// The warnings, then how many calls were linked (when the recordings could say), on stderr:
/// stdout stays the result alone.
fn warn(warnings: &[Warning], links: Option<LinkSummary>) {
    let mut err = std::io::stderr().lock();
    for w in warnings {
        // Failing to warn is no reason to withhold the result.
        let _ = writeln!(err, "warning: {w}");
    }
    if let Some(links) = links {
        let _ = writeln!(err, "analyze: {links}");
    }
}

fn print(out: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing to stdout")
}
