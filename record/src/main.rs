//! `record`: attach uprobes to running Go programs and write their events to Parquet.

mod bss;
mod cli;
mod discovery;
mod gobin;
mod host;
mod live;
mod metadata;
mod privileges;
mod probes;
mod process;
mod raw_event;
mod recorded;
mod segments;
mod session;
mod sink;
mod skel;
mod sockets;
mod stats;
mod targets;
mod writer;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("record: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: cli::Args) -> anyhow::Result<()> {
    if let Some(bin) = &args.print_offsets {
        let bin = gobin::GoBinary::open(bin)?;
        // The table is generated from these rows: a row read back from the table itself would
        // only copy it, so only offsets read from DWARF are printed.
        if bin.offsets_source != gobin::OffsetsSource::Dwarf {
            anyhow::bail!(
                "{} has no DWARF; build it without -ldflags=-s -w to read its offsets",
                bin.path.display()
            );
        }
        println!(
            "{}\n{}",
            gobin::OFFSETS_TSV_HEADER,
            gobin::offsets_tsv_row(&bin)
        );
        return Ok(());
    }
    let cfg = args.into_config()?;
    let out = session::run(&cfg)?;
    let bytes = out.files.bytes;
    let per_event = if out.counts.total() > 0 {
        bytes as f64 / out.counts.total() as f64
    } else {
        0.0
    };
    let files = match out.files.files {
        1 => out.path.display().to_string(),
        n => format!(
            "{n} files, the last {} ({} kept)",
            out.path.display(),
            out.files.kept.len()
        ),
    };
    eprintln!(
        "record: {}; wrote {} events to {files} ({bytes} bytes, {per_event:.1} bytes/event)\n{}",
        out.reason,
        out.counts.total(),
        out.counts.summary()
    );
    if out.counts.lost() > 0 {
        eprintln!("record: warning: {} events were lost (ring buffer full); counts in the recording are low", out.counts.lost());
    }
    Ok(())
}
