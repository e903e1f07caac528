//! `analyze info`: what is in a set of recordings, per file and in total — for a file a
//! colleague sent: hosts, services with their Go versions and binaries, the time range in wall
//! clock, events by kind, events lost, probes, schema version and segment numbers. Only the
//! footer and two columns are read, so it is quick on any size.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use quadtrace_schema::meta;
use serde::Serialize;
use serde_json::Value;

use crate::model::span::{wall, Period};
use crate::read::reader::{self, boot_wall_ns, time_range, Census, ReadError};
use crate::report::escape::terminal;
use crate::report::output::{self, Format};

/// A service of a recording: one recorded binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub service: String,
    pub go_version: Option<String>,
    pub binary: Option<String>,
    pub build_id: Option<String>,
    /// Where its struct offsets came from: dwarf, descriptors or table.
    pub offsets_source: Option<String>,
    pub pids: Vec<i64>,
}

/// One recording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileInfo {
    pub path: String,
    pub host: Option<String>,
    pub kernel: Option<String>,
    pub schema_version: Option<String>,
    pub recorder_version: Option<String>,
    /// Its number in a rotated recording; none for a recording in one file.
    pub segment: Option<u32>,
    /// When recording began and stopped, wall clock (RFC 3339, UTC).
    pub from: Option<String>,
    pub to: Option<String>,
    pub seconds: Option<f64>,
    /// Rows of the file.
    pub rows: usize,
    /// Rows by kind (inside the span, when one is given).
    pub events: BTreeMap<String, u64>,
    pub lost_events: u64,
    pub malformed_records: u64,
    pub probes: Vec<String>,
    pub services: Vec<Service>,
    #[serde(skip)]
    start_wall: Option<i64>,
    #[serde(skip)]
    stop_wall: Option<i64>,
}

impl FileInfo {
    /// When recording began, wall-clock ns, when the file says.
    pub fn start_wall(&self) -> Option<i64> {
        self.start_wall
    }

    /// When recording stopped, wall-clock ns, when the file says.
    pub fn stop_wall(&self) -> Option<i64> {
        self.stop_wall
    }
}

/// Every recording together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Total {
    pub files: usize,
    pub hosts: Vec<String>,
    pub services: Vec<String>,
    pub segments: Vec<u32>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub rows: usize,
    pub events: BTreeMap<String, u64>,
    pub lost_events: u64,
}

/// What `analyze info` says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Info {
    pub files: Vec<FileInfo>,
    pub total: Total,
}

/// The info of every recording in `paths`; events counted inside `period`.
pub(crate) fn gather(paths: &[PathBuf], period: Period) -> Result<Info, ReadError> {
    let files = paths
        .iter()
        .map(|p| file_info(p, period))
        .collect::<Result<Vec<_>, _>>()?;
    let mut total = Total {
        files: files.len(),
        hosts: set(files.iter().filter_map(|f| f.host.clone())),
        services: set(files
            .iter()
            .flat_map(|f| f.services.iter().map(|s| s.service.clone()))),
        segments: set(files.iter().filter_map(|f| f.segment)),
        from: None,
        to: None,
        rows: files.iter().map(|f| f.rows).sum(),
        events: BTreeMap::new(),
        lost_events: files.iter().map(|f| f.lost_events).sum(),
    };
    for f in &files {
        for (kind, n) in &f.events {
            *total.events.entry(kind.clone()).or_default() += n;
        }
    }
    total.from = files.iter().filter_map(|f| f.start_wall).min().map(wall);
    total.to = files.iter().filter_map(|f| f.stop_wall).max().map(wall);
    Ok(Info { files, total })
}

fn set<T: Ord>(items: impl Iterator<Item = T>) -> Vec<T> {
    items.collect::<BTreeSet<_>>().into_iter().collect()
}

fn file_info(path: &Path, period: Period) -> Result<FileInfo, ReadError> {
    let Census {
        metadata,
        rows,
        kinds,
    } = reader::census(path, period)?;
    let get = |key: &str| metadata.get(key).map(str::to_owned);
    let number = |key: &str| {
        metadata
            .get(key)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let boot = boot_wall_ns(&metadata);
    let range = time_range(&metadata);
    let at = |ns: Option<i64>| boot.zip(ns).map(|(b, t)| b.saturating_add(t));
    let (start_wall, stop_wall) = (at(range.map(|r| r.0)), at(range.map(|r| r.1)));
    Ok(FileInfo {
        path: path.display().to_string(),
        host: get(meta::HOSTNAME),
        kernel: get(meta::KERNEL),
        schema_version: get(meta::SCHEMA_VERSION),
        recorder_version: get(meta::RECORDER_VERSION),
        segment: metadata
            .get(meta::SEGMENT)
            .and_then(|v| v.trim().parse().ok()),
        from: start_wall.map(wall),
        to: stop_wall.map(wall),
        seconds: range.map(|(a, b)| b.saturating_sub(a) as f64 / 1e9),
        rows,
        events: kinds,
        lost_events: number(meta::LOST_TOTAL),
        malformed_records: number(meta::MALFORMED),
        probes: metadata
            .get(meta::PROBES)
            .map(|p| {
                p.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        services: services(metadata.get(meta::TARGETS), metadata.get(meta::PROCESSES)),
        start_wall,
        stop_wall,
    })
}

/// The recorded services: per service name (each process's, from `quadtrace.processes`, as
/// its events carry it) and binary, with their pids; from `quadtrace.targets` alone (a name per
/// binary) when the recording lists no processes. Where the offsets came from is the binary's.
/// Malformed entries are skipped (they only inform).
fn services(targets: Option<&str>, processes: Option<&str>) -> Vec<Service> {
    let array = |json: Option<&str>| match json.and_then(|t| serde_json::from_str(t).ok()) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let text = |t: &Value, key: &str| t[key].as_str().map(str::to_owned);
    let binaries: Vec<Service> = array(targets)
        .iter()
        .filter_map(|t| {
            Some(Service {
                service: text(t, meta::target::SERVICE)?,
                go_version: text(t, meta::target::GO_VERSION),
                binary: text(t, meta::target::EXE),
                build_id: text(t, meta::target::BUILD_ID),
                offsets_source: text(t, meta::target::OFFSETS_SOURCE),
                pids: t[meta::target::PIDS]
                    .as_array()
                    .map(|p| p.iter().filter_map(Value::as_i64).collect())
                    .unwrap_or_default(),
            })
        })
        .collect();
    let mut services: Vec<Service> = Vec::new();
    for p in array(processes) {
        let (Some(service), Some(pid)) = (
            text(&p, meta::process::SERVICE),
            p[meta::process::PID].as_i64(),
        ) else {
            continue;
        };
        let binary = text(&p, meta::process::EXE);
        let build_id = text(&p, meta::process::BUILD_ID);
        let of_binary = binaries
            .iter()
            .find(|b| b.pids.contains(&pid) || (b.binary.is_some() && b.binary == binary));
        let same = |s: &&mut Service| s.service == service && s.binary == binary;
        match services.iter_mut().find(same) {
            Some(known) => known.pids.push(pid),
            None => services.push(Service {
                service,
                go_version: text(&p, meta::process::GO_VERSION)
                    .or_else(|| of_binary.and_then(|b| b.go_version.clone())),
                binary,
                build_id,
                offsets_source: of_binary.and_then(|b| b.offsets_source.clone()),
                pids: vec![pid],
            }),
        }
    }
    if services.is_empty() {
        return binaries;
    }
    services
}

/// `info` as text (for people; every string from a recording made printable), JSON, or CSV
/// (one row per file).
pub fn render_info(info: &Info, format: Format) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(info).unwrap_or_default() + "\n",
        Format::Csv => csv(info),
        Format::Table => text(info),
    }
}

fn or_dash(s: &Option<String>) -> String {
    s.as_deref()
        .map_or_else(|| "-".to_owned(), |s| terminal(s).into_owned())
}

fn kinds_line(events: &BTreeMap<String, u64>) -> String {
    let total: u64 = events.values().sum();
    let each: Vec<String> = events
        .iter()
        .map(|(k, n)| format!("{} {n}", terminal(k)))
        .collect();
    format!("{total} ({})", each.join(", "))
}

fn text(info: &Info) -> String {
    let mut out = String::new();
    // An empty key: a blank line between files.
    let mut line = |key: &str, value: String| match key {
        "" => out.push('\n'),
        _ => out.push_str(&format!("  {key:<10} {value}\n").replace(" \n", "\n")),
    };
    for f in &info.files {
        line("file", terminal(&f.path).into_owned());
        line(
            "host",
            format!("{} (kernel {})", or_dash(&f.host), or_dash(&f.kernel)),
        );
        line(
            "schema",
            format!(
                "{} (recorder {}){}",
                or_dash(&f.schema_version),
                or_dash(&f.recorder_version),
                f.segment
                    .map_or(String::new(), |s| format!(", segment {s}"))
            ),
        );
        line(
            "time",
            format!(
                "{} .. {}{}",
                or_dash(&f.from),
                or_dash(&f.to),
                f.seconds.map_or(String::new(), |s| format!(" ({s:.1} s)"))
            ),
        );
        line("events", kinds_line(&f.events));
        line(
            "lost",
            format!(
                "{} events lost, {} records malformed",
                f.lost_events, f.malformed_records
            ),
        );
        for s in &f.services {
            let pids: Vec<String> = s.pids.iter().map(i64::to_string).collect();
            line(
                "service",
                format!(
                    "{}: {} {} (offsets from {}; pids {})",
                    terminal(&s.service),
                    or_dash(&s.go_version),
                    or_dash(&s.binary),
                    or_dash(&s.offsets_source),
                    pids.join(" ")
                ),
            );
        }
        line("probes", terminal(&f.probes.join(", ")).into_owned());
        line("", String::new());
    }
    let t = &info.total;
    let list = |v: &[String]| terminal(&v.join(", ")).into_owned();
    line("total", format!("{} file(s)", t.files));
    line("hosts", list(&t.hosts));
    line("services", list(&t.services));
    if !t.segments.is_empty() {
        let segments: Vec<String> = t.segments.iter().map(u32::to_string).collect();
        line("segments", segments.join(" "));
    }
    line(
        "time",
        format!("{} .. {}", or_dash(&t.from), or_dash(&t.to)),
    );
    line("events", kinds_line(&t.events));
    line("lost", format!("{} events lost", t.lost_events));
    out
}

fn csv(info: &Info) -> String {
    let columns = [
        "path",
        "host",
        "schema_version",
        "segment",
        "from",
        "to",
        "rows",
        "events",
        "lost_events",
        "services",
    ];
    let rows = info.files.iter().map(|f| {
        let services: Vec<&str> = f.services.iter().map(|s| s.service.as_str()).collect();
        vec![
            f.path.clone(),
            f.host.clone().unwrap_or_default(),
            f.schema_version.clone().unwrap_or_default(),
            f.segment.map(|s| s.to_string()).unwrap_or_default(),
            f.from.clone().unwrap_or_default(),
            f.to.clone().unwrap_or_default(),
            f.rows.to_string(),
            f.events.values().sum::<u64>().to_string(),
            f.lost_events.to_string(),
            services.join(" "),
        ]
    });
    output::csv(&columns, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One binary run as three services (a container image on three pods): three services,
    /// each with the binary's Go version and offsets' source.
    #[test]
    fn services_are_named_per_process_with_their_binary() {
        let targets = r#"[{"service": "app", "exe": "/app", "go_version": "go1.27.3",
            "offsets_source": "dwarf", "pids": [1, 2, 3]}]"#;
        let processes = r#"[{"pid": 1, "service": "front", "exe": "/app"},
            {"pid": 2, "service": "mid", "exe": "/app"},
            {"pid": 3, "service": "back", "exe": "/app"},
            {"pid": 4, "service": "back", "exe": "/app"}, {"broken": true}]"#;
        let got = services(Some(targets), Some(processes));
        let names: Vec<(&str, &[i64])> = got
            .iter()
            .map(|s| (s.service.as_str(), s.pids.as_slice()))
            .collect();
        assert_eq!(
            names,
            [
                ("front", &[1][..]),
                ("mid", &[2][..]),
                ("back", &[3, 4][..])
            ]
        );
        assert!(got
            .iter()
            .all(|s| s.go_version.as_deref() == Some("go1.27.3")
                && s.offsets_source.as_deref() == Some("dwarf")
                && s.binary.as_deref() == Some("/app")));
        // Without the processes' list, a service per binary.
        let got = services(Some(targets), None);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].service, "app");
    }
}
