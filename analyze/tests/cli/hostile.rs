//! Strings from the internet through every output: paths, hosts and service names carrying
//! markup, script, ANSI escapes, newlines, quotes and commas. Each output escapes them for its
//! own format: terminals see control characters as escapes, JSON and CSV carry them intact
//! and parseable, DOT and Mermaid labels stay labels, SVG and HTML hold them as text only.

use super::*;

const MS: i64 = 1_000_000;
const SERVICE: &str = "svc\"<img src=x onerror=alert(1)>";
const PATH: &str = "/<script>alert(1)</script>\x1b[31m\ncallee: none,\"x\"";
const HOST: &str = "evil\x1b]0;pwned\x07:80";

fn recording(fx: &Fixture) -> String {
    let rows = vec![
        server_start(MS, 1, SERVICE, 5, ":80", PATH),
        client_start(2 * MS, 1, SERVICE, 5, HOST, PATH),
        client_end(3 * MS, 1, SERVICE, 5, 500),
        server_end(4 * MS, 1, SERVICE, 5),
    ];
    let kv = metadata(
        "host\x1b[2J<b>",
        &[
            (meta::BOOT_WALL_NS, "1796306400000000000"),
            (meta::TIME_RANGE_NS, "0 5000000"),
        ],
    );
    fx.recording("hostile.parquet", &rows, kv)
}

fn run(args: &[&str]) -> String {
    let out = analyze(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    assert!(
        !stderr(&out).contains('\x1b'),
        "{args:?}: raw ESC on stderr"
    );
    stdout(&out).to_owned()
}

/// No control character of the recording reaches the terminal raw; the escapes show it.
#[test]
fn terminals_see_escapes() {
    let fx = Fixture::new();
    let p = recording(&fx);
    for args in [
        vec!["quads", p.as_str()],
        vec!["calls", p.as_str()],
        vec!["info", p.as_str()],
        vec!["replay", p.as_str()],
        vec!["tree", p.as_str()],
        vec!["diff", "--before", p.as_str(), "--after", p.as_str()],
    ] {
        let out = run(&args);
        assert!(!out.contains('\x1b'), "{args:?}: raw ESC in {out}");
        assert!(!out.contains('\x07'), "{args:?}: raw BEL in {out}");
        assert!(
            out.contains("\\u{1b}"),
            "{args:?}: no visible escape in {out}"
        );
    }
    // The newline in the path cannot forge a line of the write-up's stream: the request made
    // a call, so no line says it made none.
    let replay = run(&["replay", &p]);
    assert!(!replay.lines().any(|l| l == "callee: none"), "{replay}");
    assert_eq!(
        replay.lines().filter(|l| l.starts_with("caller: ")).count(),
        1
    );
}

/// JSON and CSV carry the strings exactly, and stay parseable.
#[test]
fn json_and_csv_carry_them_intact() {
    let fx = Fixture::new();
    let p = recording(&fx);
    let quads: serde_json::Value =
        serde_json::from_str(&run(&["quads", &p, "-f", "json"])).expect("json");
    assert!(quads
        .as_array()
        .into_iter()
        .flatten()
        .any(|q| q["caller"] == SERVICE && q["caller_func"] == PATH));
    let calls: serde_json::Value =
        serde_json::from_str(&run(&["calls", &p, "-f", "json"])).expect("json");
    assert_eq!(calls[0]["callee_addr"], HOST);
    let csv = run(&["calls", &p, "-f", "csv"]);
    // The path's quote is doubled inside a quoted field; its newline stays inside the quotes.
    assert!(
        csv.contains("\"/<script>alert(1)</script>\x1b[31m\ncallee: none,\"\"x\"\"\""),
        "{csv}"
    );
}

/// The picture's formats keep names as labels, never as markup or syntax.
#[test]
fn graphs_keep_names_as_labels() {
    let fx = Fixture::new();
    let p = recording(&fx);
    let svg = run(&["graph", &p, "-f", "svg"]);
    assert!(!svg.contains("<img") && !svg.contains("<script"), "{svg}");
    assert!(svg.contains("&lt;img src=x onerror=alert(1)&gt;"), "{svg}");
    assert!(
        !svg.contains('\x1b') && !svg.contains('\x07'),
        "control characters in SVG"
    );
    let dot = run(&["graph", &p, "-f", "dot"]);
    for line in dot.lines() {
        assert_eq!(
            line.replace("\\\"", "").matches('"').count() % 2,
            0,
            "unbalanced quotes: {line}"
        );
    }
    assert!(!dot.contains('\x1b'), "{dot}");
    let mermaid = run(&["graph", &p, "-f", "mermaid"]);
    assert!(
        !mermaid.contains("<img") && !mermaid.contains('\x1b'),
        "{mermaid}"
    );
}

/// The report holds every string as text: no element or script from the recording.
#[test]
fn the_report_holds_them_as_text() {
    let fx = Fixture::new();
    let p = recording(&fx);
    let out = fx.path("report.html");
    let o = out.to_string_lossy().into_owned();
    run(&["report", &p, "-o", &o]);
    let html = std::fs::read_to_string(&out).expect("report");
    assert!(!html.contains("<img"), "an element from a recording");
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the report's own script"
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!html.contains('\x1b'));
}
