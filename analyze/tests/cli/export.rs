//! `analyze export`: the datasets of schema/EXPORT.md as files, column by column (names and
//! types as the schema crate defines them, metadata, partitions), what their rows say of a
//! call linked on its host and of the addresses naming reads, files of several hosts side by
//! side in one directory, and failures that leave nothing behind.

use std::collections::BTreeMap;
use std::fs::File;

use arrow_array::{Array, BooleanArray, Int64Array, RecordBatch, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use quadtrace_schema::export::{self, ExportType, DATASETS, EXPORT_VERSION};

use super::links::{linked_rows, PROCESSES};
use super::*;

/// The recording of `links.rs`' node: frontend's call to a virtual IP linked to backend's
/// request, a call to orders by its pod IP, a call to a service nobody recorded.
fn linked(fx: &Fixture, host: &str, wall: bool) -> String {
    // The last call fails, to a name written in capitals with a trailing dot.
    let rows: Vec<Row> = linked_rows()
        .into_iter()
        .map(|r| match (r.kind, r.ts_ns) {
            ("client_start", 1_700) => {
                client_start(1_700, 10, "frontend", 5, "Api.Example.com.:443", "/x")
            }
            ("client_end", 1_800) => client_error(1_800, 10, "frontend", 5),
            _ => r,
        })
        .collect();
    // 2026-12-03T14:02:00Z, the recording's ts_ns = 0.
    let boot = "1796306520000000000";
    let mut extra = vec![
        ("quadtrace.processes", PROCESSES),
        (meta::TIME_RANGE_NS, "0 3000"),
    ];
    if wall {
        extra.push((meta::BOOT_WALL_NS, boot));
    }
    fx.recording(&format!("{host}.parquet"), &rows, metadata(host, &extra))
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("under dir");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// A dataset's rows, all files of it, with the files' key-value metadata.
fn read(dir: &Path, dataset: &str) -> (Vec<RecordBatch>, Vec<BTreeMap<String, String>>) {
    let mut batches = Vec::new();
    let mut metas = Vec::new();
    for f in files(&dir.join(dataset)) {
        let file = File::open(dir.join(dataset).join(&f)).expect("open");
        let b = ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet");
        let kv = b
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .into_iter()
            .flatten()
            .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
            .collect();
        metas.push(kv);
        batches.extend(b.build().expect("reader").map(|b| b.expect("batch")));
    }
    (batches, metas)
}

fn strings<'a>(b: &'a RecordBatch, col: &str) -> Vec<Option<&'a str>> {
    let a = b.column_by_name(col).expect(col);
    let a = a.as_any().downcast_ref::<StringArray>().expect(col);
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect()
}

fn ints(b: &RecordBatch, col: &str) -> Vec<Option<i64>> {
    let a = b.column_by_name(col).expect(col);
    let a = a.as_any().downcast_ref::<Int64Array>().expect(col);
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect()
}

fn bools(b: &RecordBatch, col: &str) -> Vec<Option<bool>> {
    let a = b.column_by_name(col).expect(col);
    let a = a.as_any().downcast_ref::<BooleanArray>().expect(col);
    (0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect()
}

#[test]
fn every_dataset_has_its_columns_types_metadata_and_partition() {
    let fx = Fixture::new();
    let rec = linked(&fx, "node-a", true);
    let dir = fx.path("out");
    let out = analyze(&["export", &rec, "-o", &dir.to_string_lossy()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "analyze: exported 3 calls, 2 requests, 3 listeners, 3 addresses, 1 connects to {} \
             (5 files)\n",
            dir.display()
        )
    );
    assert_eq!(stdout(&out), "");
    let written = files(&dir);
    assert_eq!(written.len(), 5, "{written:?}");
    for d in DATASETS {
        let prefix = format!("{}/date=2026-12-03/node-a-", d.name);
        assert!(
            written
                .iter()
                .any(|f| f.starts_with(&prefix) && f.ends_with(".parquet")),
            "no {prefix}… in {written:?}"
        );
        let (batches, metas) = read(&dir, d.name);
        let schema = batches[0].schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let want: Vec<&str> = d.columns.iter().map(|c| c.name).collect();
        assert_eq!(names, want, "{}", d.name);
        for (f, c) in schema.fields().iter().zip(d.columns) {
            let ty = match c.ty {
                ExportType::Int64 => "Int64",
                ExportType::Float64 => "Float64",
                ExportType::Utf8 => "Utf8",
                ExportType::Bool => "Boolean",
                ExportType::Minute => "Timestamp(Microsecond, None)",
            };
            assert_eq!(format!("{:?}", f.data_type()), ty, "{}.{}", d.name, c.name);
            assert_eq!(f.is_nullable(), c.nullable, "{}.{}", d.name, c.name);
        }
        assert_eq!(
            metas[0].get(export::meta::VERSION),
            Some(&EXPORT_VERSION.to_string())
        );
        assert_eq!(
            metas[0].get(export::meta::DATASET).map(String::as_str),
            Some(d.name)
        );
    }
    // Nothing half-written is left: no temporary files.
    assert!(written.iter().all(|f| !f.contains(".tmp")), "{written:?}");
}

#[test]
fn calls_say_their_request_link_and_address_as_naming_reads_it() {
    let fx = Fixture::new();
    let rec = linked(&fx, "node-a", true);
    let dir = fx.path("out");
    let out = analyze(&["export", &rec, "-o", &dir.to_string_lossy()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let (calls, _) = read(&dir, "calls");
    let c = &calls[0];
    assert_eq!(ints(c, "ts_ns"), [Some(1_100), Some(1_500), Some(1_700)]);
    assert_eq!(
        ints(c, "wall_ns")[0],
        Some(1_796_306_520_000_000_000 + 1_100)
    );
    assert_eq!(strings(c, "caller"), [Some("frontend"); 3]);
    assert_eq!(ints(c, "req_goid"), [Some(5); 3]);
    assert_eq!(ints(c, "req_ts_ns"), [Some(1_000); 3]);
    assert_eq!(strings(c, "req_path"), [Some("/a"); 3]);
    assert_eq!(bools(c, "req_ended"), [Some(true); 3]);
    // Linked on its host: backend's request; the others are left to naming.
    assert_eq!(ints(c, "link_pid"), [Some(20), None, None]);
    assert_eq!(ints(c, "link_goid"), [Some(7), None, None]);
    assert_eq!(ints(c, "link_ts_ns"), [Some(1_200), None, None]);
    assert_eq!(strings(c, "dial_kind"), [Some("named"); 3]);
    assert_eq!(
        strings(c, "dial_host"),
        [
            Some("198.19.0.10"),
            Some("10.1.0.30"),
            Some("api.example.com")
        ]
    );
    assert_eq!(
        strings(c, "dial_ip"),
        [Some("198.19.0.10"), Some("10.1.0.30"), None]
    );
    assert_eq!(
        strings(c, "dial_port"),
        [Some("80"), Some("8080"), Some("443")]
    );
    assert_eq!(bools(c, "failed"), [Some(false), Some(false), Some(true)]);
    assert_eq!(ints(c, "status"), [Some(200), Some(200), None]);
    assert_eq!(ints(c, "netns"), [Some(100); 3]);

    let (requests, _) = read(&dir, "requests");
    let r = &requests[0];
    assert_eq!(strings(r, "service"), [Some("frontend"), Some("backend")]);
    assert_eq!(strings(r, "route"), [None, Some("GET /b/{id}")]);
    assert_eq!(bools(r, "called"), [Some(true), Some(false)]);
    assert_eq!(strings(r, "remote_addr"), [None, Some("10.1.0.10:40000")]);
    assert_eq!(ints(r, "duration_ns"), [Some(1_000), Some(100)]);

    let (listeners, _) = read(&dir, "listeners");
    let l = &listeners[0];
    // From the socket events, with their times; frontend's from its server's `Addr`, for the
    // whole recording.
    assert_eq!(
        strings(l, "service"),
        [Some("backend"), Some("orders"), Some("frontend")]
    );
    assert_eq!(strings(l, "kind"), [Some("any"); 3]);
    assert_eq!(
        strings(l, "port"),
        [Some("8080"), Some("8080"), Some("8000")]
    );
    assert_eq!(ints(l, "netns"), [Some(200), Some(300), Some(100)]);
    assert_eq!(ints(l, "to_ns"), [None, None, None]);
    // Reported at the recording's start: listening since then.
    assert_eq!(ints(l, "from_ns"), [Some(0), Some(0), None]);
    let boot = 1_796_306_520_000_000_000;
    assert_eq!(ints(l, "from_wall_ns"), [Some(boot), Some(boot), None]);

    let (addresses, _) = read(&dir, "addresses");
    assert_eq!(
        strings(&addresses[0], "ip"),
        [Some("10.1.0.10"), Some("10.1.0.20"), Some("10.1.0.30")]
    );
    let (connects, _) = read(&dir, "connects");
    assert_eq!(
        strings(&connects[0], "local_addr"),
        [Some("10.1.0.10:40000")]
    );
    assert_eq!(bools(&connects[0], "loopback"), [Some(false)]);
}

#[test]
fn hosts_share_a_directory_and_an_export_again_replaces_its_own_files() {
    let fx = Fixture::new();
    let a = linked(&fx, "node-a", true);
    let b = linked(&fx, "node-b", true);
    let dir = fx.path("fleet");
    let d = dir.to_string_lossy().into_owned();
    for rec in [&a, &b, &a] {
        let out = analyze(&["export", rec, "-o", &d]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let written = files(&dir);
    assert_eq!(written.len(), 10, "{written:?}");
    let (calls, _) = read(&dir, "calls");
    let hosts: Vec<Option<&str>> = calls.iter().flat_map(|b| strings(b, "host")).collect();
    assert_eq!(hosts.iter().filter(|h| **h == Some("node-a")).count(), 3);
    assert_eq!(hosts.iter().filter(|h| **h == Some("node-b")).count(), 3);
}

#[test]
fn a_recording_without_a_clock_goes_to_the_unknown_date() {
    let fx = Fixture::new();
    let rec = linked(&fx, "node-a", false);
    let dir = fx.path("out");
    let out = analyze(&["export", &rec, "-o", &dir.to_string_lossy()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = files(&dir);
    assert!(
        written.iter().all(|f| f.contains("/date=unknown/")),
        "{written:?}"
    );
    let (calls, _) = read(&dir, "calls");
    assert_eq!(ints(&calls[0], "wall_ns"), [None, None, None]);
}

#[test]
fn an_output_that_is_a_file_is_refused_and_left_alone() {
    let fx = Fixture::new();
    let rec = linked(&fx, "node-a", true);
    let file = fx.path("taken");
    std::fs::write(&file, "mine").expect("write");
    let out = analyze(&["export", &rec, "-o", &file.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("error: {} is not a directory\n", file.display())
    );
    assert_eq!(std::fs::read_to_string(&file).ok().as_deref(), Some("mine"));
}

#[test]
fn a_host_that_only_listened_has_its_listeners_under_the_date_it_began() {
    let fx = Fixture::new();
    let rows = vec![socket(10, 20, "backend", "listen", "[::]:8080", None, 200)];
    let kv = metadata(
        "quiet",
        &[
            (meta::TIME_RANGE_NS, "0 3000"),
            (meta::BOOT_WALL_NS, "1796306520000000000"),
        ],
    );
    let rec = fx.recording("quiet.parquet", &rows, kv);
    let dir = fx.path("out");
    let out = analyze(&["export", &rec, "-o", &dir.to_string_lossy()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = files(&dir);
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(
        written[0].starts_with("listeners/date=2026-12-03/quiet-"),
        "{written:?}"
    );
}
