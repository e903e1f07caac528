//! What every command has in common: bad input gets the same clear error whatever the command
//! (the reading is shared), and the before/after comparison of the testdata recordings has its
//! golden outputs like the other commands.

use super::*;

/// Each command, on `file`, with whatever else it needs.
fn commands(file: &str, out: &str) -> Vec<Vec<String>> {
    let f = file.to_owned();
    [
        vec!["quads", &f],
        vec!["calls", &f],
        vec!["info", &f],
        vec!["replay", &f],
        vec!["tree", &f],
        vec!["graph", &f],
        vec!["report", &f, "-o", out],
        vec!["diff", "--before", &f, "--after", &f],
        vec!["export", &f, "-o", out],
    ]
    .into_iter()
    .map(|args| args.into_iter().map(str::to_owned).collect())
    .collect()
}

/// The one line `analyze quads` prints for a bad file; every other command prints the same.
#[test]
fn every_command_refuses_bad_input_as_quads_does() {
    let fx = Fixture::new();
    let report = fx.path("report.html").to_string_lossy().into_owned();
    let noise = fx.path("noise.parquet");
    std::fs::write(
        &noise,
        b"PAR1 not really parquet at all, only its first bytes",
    )
    .expect("write");
    let foreign = fx.path("foreign.parquet");
    let df = Frame::new(vec![(
        "region",
        std::sync::Arc::new(arrow_array::StringArray::from(vec!["north"])) as arrow_array::ArrayRef,
    )]);
    write_frame(&foreign, &df, None);
    let missing = fx.path("missing.parquet");
    for bad in [&noise, &foreign, &missing] {
        let bad = bad.to_string_lossy().into_owned();
        let want = analyze(&["quads", &bad]);
        assert_eq!(want.status.code(), Some(1));
        let want = stderr(&want).to_owned();
        assert!(
            want.starts_with(&format!("error: {bad}")) || want.starts_with("error: cannot open"),
            "{want}"
        );
        for args in commands(&bad, &report) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = analyze(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            assert_eq!(stderr(&out), want, "{args:?}");
            assert_eq!(stdout(&out), "", "{args:?}");
        }
        // A failed report writes no file; a failed export leaves its directory empty.
        assert!(
            !Path::new(&report).exists()
                || std::fs::read_dir(&report).is_ok_and(|mut d| d.next().is_none()),
            "a failed command left {report} behind"
        );
    }
}

/// `analyze diff` of the two testdata recordings (http_demo before, gin_demo after) in every
/// format, against `testdata/recordings/diff.{txt,json,csv}`.
#[test]
fn golden_diff_in_every_format() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/recordings");
    for (format, ext) in [("table", "txt"), ("json", "json"), ("csv", "csv")] {
        let out = Command::new(env!("CARGO_BIN_EXE_analyze"))
            .args([
                "diff",
                "--format",
                format,
                "--before",
                "http_demo_go1.19_handle_x3.parquet",
                "--after",
                "gin_demo_go1.27_stripped_handle_x8_par4.parquet",
            ])
            .current_dir(&dir)
            .output()
            .expect("run analyze");
        assert!(out.status.success(), "{}", stderr(&out));
        matches_golden(stdout(&out), &dir.join(format!("diff.{ext}")));
    }
}
