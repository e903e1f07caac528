//! Bad input, one test per kind: a clear message naming the file and what is wrong (exit 1,
//! one line, nothing on stdout), or a sound partial answer; never a panic.
//!
//! Damaged files are made at test time from a real recording of `testdata/recordings/`.

use super::*;
use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int32Array, StringArray};

/// A real recording written by `record`.
pub fn real_recording() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/recordings/http_demo_go1.19_handle_x3.parquet");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Writes `bytes` as `name` in `fx`; returns the path.
fn file(fx: &Fixture, name: &str, bytes: &[u8]) -> String {
    let path = fx.path(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path.to_string_lossy().into_owned()
}

/// `analyze quads FILE` fails with one line that starts with `error: {prefix}`.
fn fails_starting(args: &[&str], prefix: &str) -> String {
    let out = analyze(args);
    let err = stderr(&out).to_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert_eq!(stdout(&out), "", "{args:?}");
    assert!(
        err.starts_with(&format!("error: {prefix}")),
        "{args:?}: {err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// Bytes that look random but are the same on every run (xorshift).
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn a_truncated_recording_says_it_has_no_footer() {
    let fx = Fixture::new();
    let real = real_recording();
    for len in [4, 5, 100, real.len() / 2, real.len() - 8, real.len() - 1] {
        let p = file(&fx, "cut.parquet", &real[..len]);
        fails_starting(
            &["quads", &p],
            &format!("{p} is truncated: it begins like a Parquet file but has no footer"),
        );
    }
}

/// `record` killed while writing leaves `NAME.inprogress`: no footer, or nothing at all.
#[test]
fn an_unfinished_inprogress_file_says_record_never_finished_it() {
    let fx = Fixture::new();
    let real = real_recording();
    for (name, bytes) in [
        ("rec.parquet.inprogress", &real[..real.len() / 3]),
        ("empty.parquet.inprogress", &real[..0]),
        ("header.parquet.inprogress", &real[..4]),
    ] {
        let p = file(&fx, name, bytes);
        let err = fails_starting(
            &["quads", &p],
            &format!("{p} is a recording that `record` never finished"),
        );
        assert!(err.contains("cannot be read"), "{err}");
    }
}

/// A `.inprogress` file whose footer is there (`record` closed it but was killed before the
/// rename) is a whole recording: it reads like the renamed one.
#[test]
fn a_complete_inprogress_file_reads() {
    let fx = Fixture::new();
    let real = real_recording();
    let done = file(&fx, "rec.parquet", &real);
    let unrenamed = file(&fx, "rec.parquet.inprogress", &real);
    let (a, b) = (analyze(&["quads", &done]), analyze(&["quads", &unrenamed]));
    assert!(b.status.success(), "{}", stderr(&b));
    assert_eq!(stdout(&a), stdout(&b));
}

/// Parquet written by something else: other columns, no quadtrace metadata.
#[test]
fn foreign_parquet_is_not_a_recording() {
    let fx = Fixture::new();
    let path = fx.path("sales.parquet");
    let df = Frame::new(vec![
        (
            "region",
            Arc::new(StringArray::from(vec!["north", "south"])) as ArrayRef,
        ),
        ("amount", Arc::new(Float64Array::from(vec![12.5, 7.0]))),
    ]);
    write_frame(&path, &df, None);
    let p = path.to_string_lossy();
    fails_starting(&["quads", &p], &format!("{p} is not a quadtrace recording"));
    // The same with quadtrace's metadata copied onto it: the first missing column is named.
    write_frame(&path, &df, Some(metadata("h1", &[])));
    fails_starting(&["quads", &p], &format!("{p}: column `ts_ns` is missing"));
}

/// A column of another type than the schema's, for each type; and a null where none may be.
#[test]
fn wrong_column_types_name_the_column_and_both_types() {
    let fx = Fixture::new();
    let rows = demo_rows();
    let n = rows.len();
    let cases: Vec<(&str, ArrayRef, &str)> = vec![
        (
            "kind",
            Arc::new(Int32Array::from(vec![1i32; n])),
            "is int32, expected string",
        ),
        (
            "ts_ns",
            Arc::new(StringArray::from(vec!["100"; n])),
            "is string, expected int64",
        ),
        (
            "status",
            Arc::new(BooleanArray::from(vec![Some(true); n])),
            "is bool, expected int32",
        ),
        (
            "goid",
            Arc::new(Float64Array::from(vec![1.5f64; n])),
            "is Float64, expected int64",
        ),
    ];
    for (name, column, what) in cases {
        let path = fx.path(&format!("wrong-{name}.parquet"));
        let df = frame(&rows, SCHEMA_VERSION).with_column(name, column);
        write_frame(&path, &df, Some(metadata("h1", &[])));
        let p = path.to_string_lossy();
        fails_starting(&["quads", &p], &format!("{p}: column `{name}` {what}"));
    }
    let path = fx.path("null-ts.parquet");
    let ts: Int64Array = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i != 2).then_some(r.ts_ns))
        .collect();
    let df = frame(&rows, SCHEMA_VERSION).with_column("ts_ns", Arc::new(ts));
    write_frame(&path, &df, Some(metadata("h1", &[])));
    let p = path.to_string_lossy();
    fails_starting(
        &["quads", &p],
        &format!("{p}: column `ts_ns` has a null in row 2"),
    );
}

/// Random bytes; random bytes between Parquet's magic numbers (a footer of garbage); an empty
/// file.
#[test]
fn random_bytes_are_not_parquet() {
    let fx = Fixture::new();
    let p = file(&fx, "noise.parquet", &noise(4096, 7));
    fails_starting(&["quads", &p], &format!("{p} is not a Parquet file ("));
    let mut framed = b"PAR1".to_vec();
    framed.extend(noise(4096, 11));
    framed.extend(b"PAR1");
    let p = file(&fx, "framed.parquet", &framed);
    let out = analyze(&["quads", &p]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with(&format!("error: {p}")),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    let p = file(&fx, "empty.parquet", b"");
    fails_starting(
        &["quads", &p],
        &format!("{p} is not a Parquet file (the file is empty)"),
    );
}

/// A recording whose footer is intact but whose pages were overwritten: the decoder
/// panics on such bytes; analyze reports the file as corrupt.
#[test]
fn damaged_pages_say_the_file_is_corrupt() {
    let fx = Fixture::new();
    let real = real_recording();
    let mut panicked = 0;
    // Every 16th byte of the first two thirds (the pages; the footer is at the end), zeroed.
    for at in (8..real.len() * 2 / 3).step_by(16) {
        let mut bytes = real.clone();
        bytes[at] = 0;
        let p = file(&fx, "damaged.parquet", &bytes);
        let out = analyze(&["quads", &p]);
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "byte {at}: {err}");
        match out.status.code() {
            Some(0) => {}
            Some(1) => {
                assert!(err.starts_with(&format!("error: {p}")), "byte {at}: {err}");
                assert_eq!(err.lines().count(), 1, "byte {at}: {err}");
                panicked += usize::from(err.contains("is corrupt"));
            }
            other => panic!("byte {at}: exit {other:?}: {err}"),
        }
    }
    assert!(
        panicked > 0,
        "no damage reached the decoder; pick other bytes"
    );
}

/// A data page header whose value count one written byte bends negative: a decoder would size a
/// buffer of about 2^61 bytes from it and abort the process; analyze checks page headers first
/// and names the column and page. Byte 601 of this recording is the value count in the header
/// of the `method` column's data page (its dictionary page is page 0); 0x41 reads as -33.
#[test]
fn a_page_header_with_a_negative_value_count_is_refused_before_decoding() {
    let fx = Fixture::new();
    let mut bytes = real_recording();
    assert_eq!(
        bytes.len(),
        5789,
        "the recording changed: find the header byte again"
    );
    bytes[601] = 0x41;
    let p = file(&fx, "negative-count.parquet", &bytes);
    let err = fails_starting(&["quads", &p], &p);
    assert!(
        err.contains("column method, row group 0: page 1: its value count is negative (-33)"),
        "{err}"
    );
}

/// Rows out of time order in a file give the answer of the same rows in order.
#[test]
fn rows_out_of_order_read_as_sorted() {
    let fx = Fixture::new();
    let rows = demo_rows();
    let mut shuffled = rows.clone();
    shuffled.reverse();
    shuffled.swap(1, 5);
    let sorted = fx.recording("sorted.parquet", &rows, metadata("h1", &[]));
    let unsorted = fx.recording("unsorted.parquet", &shuffled, metadata("h1", &[]));
    for cmd in ["quads", "calls"] {
        let (a, b) = (analyze(&[cmd, &sorted]), analyze(&[cmd, &unsorted]));
        assert!(b.status.success(), "{}", stderr(&b));
        assert_eq!(stdout(&a), stdout(&b), "{cmd}");
    }
}

/// A rotated recording: a request starts in one segment and ends, after its call, in the next.
fn segments() -> (Vec<Row>, Vec<Row>) {
    const S: &str = "front";
    let first = vec![
        server_start(1_000, 10, S, 5, ":80", "/page"),
        client_start(1_100, 10, S, 5, "back:8080", "/data"),
    ];
    let second = vec![
        client_end(2_100, 10, S, 5, 200),
        client_start(2_200, 10, S, 5, "cache:6379", "/get"),
        client_end(2_300, 10, S, 5, 200),
        server_end(2_400, 10, S, 5),
    ];
    (first, second)
}

#[test]
fn a_request_split_across_segments_pairs_up() {
    let fx = Fixture::new();
    let (first, second) = segments();
    let a = fx.recording("rec-000.parquet", &first, metadata("h1", &[]));
    let b = fx.recording("rec-001.parquet", &second, metadata("h1", &[]));
    let whole: Vec<Row> = first.iter().chain(&second).cloned().collect();
    let one = fx.recording("rec.parquet", &whole, metadata("h1", &[]));
    let want = analyze(&["quads", &one, "-f", "csv"]);
    assert_eq!(
        stdout(&want),
        "\
caller,caller_func,callee,callee_func,count,errors,p50_ms,p99_ms
front,/page,back:8080,/data,1,0,0.001,0.001
front,/page,cache:6379,/get,1,0,0.0001,0.0001
"
    );
    // In either order on the command line.
    for args in [[&a, &b], [&b, &a]] {
        let out = analyze(&["quads", args[0], args[1], "-f", "csv"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stderr(&out), "");
        assert_eq!(stdout(&out), stdout(&want));
    }
}

/// The second segment alone: its request started before the recording did. Its end pairs with
/// nothing and is ignored, the calls it made count as made outside any request, and a warning
/// says so.
#[test]
fn a_request_started_before_the_recording_is_a_partial_answer() {
    let fx = Fixture::new();
    let (_, second) = segments();
    let b = fx.recording("rec-001.parquet", &second, metadata("h1", &[]));
    let out = analyze(&["quads", &b, "-f", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "\
caller,caller_func,callee,callee_func,count,errors,p50_ms,p99_ms
front,none,cache:6379,/get,1,0,0.0001,0.0001
"
    );
    assert_eq!(
        stderr(&out),
        "warning: 1 request had started before the recording began: it is not counted, and \
         the calls it made count as made outside any request\n"
    );
    let calls = analyze(&["calls", &b, "-f", "csv"]);
    assert!(calls.status.success(), "{}", stderr(&calls));
    assert_eq!(stdout(&calls).lines().count(), 2, "{}", stdout(&calls));
}

/// One bad file among good ones: the error names the bad one.
#[test]
fn a_bad_file_among_good_ones_is_named() {
    let fx = Fixture::new();
    let real = real_recording();
    let good = file(&fx, "good.parquet", &real);
    let bad = file(&fx, "bad.parquet", &real[..real.len() / 2]);
    fails_starting(&["quads", &good, &bad], &format!("{bad} is truncated"));
    fails_starting(&["calls", &bad, &good], &format!("{bad} is truncated"));
}

/// The real recording with its footer rewritten by `bend` (the data pages left as they are).
fn with_footer(bend: impl FnOnce(&mut polars_parquet_format::FileMetaData)) -> Vec<u8> {
    use polars_parquet_format::thrift::protocol::{TCompactInputProtocol, TCompactOutputProtocol};
    let real = real_recording();
    let n = real.len();
    let footer_len = u32::from_le_bytes(real[n - 8..n - 4].try_into().expect("4 bytes")) as usize;
    let footer_start = n - 8 - footer_len;
    let mut footer_bytes = &real[footer_start..n - 8];
    let mut input = TCompactInputProtocol::new(&mut footer_bytes, usize::MAX);
    let mut footer = polars_parquet_format::FileMetaData::read_from_in_protocol(&mut input)
        .expect("the recording's footer");
    bend(&mut footer);
    let mut bytes = real[..footer_start].to_vec();
    let mut written = Vec::new();
    footer
        .write_to_out_protocol(&mut TCompactOutputProtocol::new(&mut written))
        .expect("write footer");
    bytes.extend_from_slice(&written);
    bytes.extend_from_slice(&(written.len() as u32).to_le_bytes());
    bytes.extend_from_slice(b"PAR1");
    bytes
}

/// Row counts in the footer that the pages do not hold (a bent varint can make one huge) are
/// refused before anything is sized or looped over by them.
#[test]
fn footer_row_counts_that_the_pages_do_not_hold_are_refused() {
    let fx = Fixture::new();
    // The footer as written reads back as the same recording.
    let same = file(&fx, "same.parquet", &with_footer(|_| {}));
    assert_eq!(analyze(&["quads", &same]).status.code(), Some(0));
    for (name, bend) in [
        (
            "file-rows",
            (|f| f.num_rows = 1 << 50) as fn(&mut polars_parquet_format::FileMetaData),
        ),
        ("group-rows", |f| f.row_groups[0].num_rows = 1 << 50),
        ("chunk-values", |f| {
            if let Some(meta) = f.row_groups[0].columns[3].meta_data.as_mut() {
                meta.num_values = 1 << 40;
            }
        }),
        // All bent alike: the footer agrees with itself, the pages do not.
        ("all", |f| {
            f.num_rows = 1 << 40;
            f.row_groups[0].num_rows = 1 << 40;
            for column in &mut f.row_groups[0].columns {
                if let Some(meta) = column.meta_data.as_mut() {
                    meta.num_values = 1 << 40;
                }
            }
        }),
    ] {
        let p = file(&fx, &format!("{name}.parquet"), &with_footer(bend));
        let err = fails_starting(&["quads", &p], &p);
        assert!(err.contains("is corrupt"), "{name}: {err}");
    }
}
