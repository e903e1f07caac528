//! The whole page: every section there, every hostile string from a recording escaped
//! wherever it lands, nothing that would reach the network.

use super::*;
use crate::report::quads::Quad;

/// Strings a recording may carry, meant to break out of HTML text, attributes, `<style>`,
/// `<title>` or a terminal.
const HOSTILE: [&str; 8] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "'><svg onload=alert(1)>",
    "</style><script>document.title='pwned'</script>",
    "</title><h1>pwned</h1>",
    "\x1b[31mred\x1b[0m",
    "line1\nline2\r\n",
    "a\\b{c}|d&amp;e\u{202e}f",
];

const T0: i64 = 1_714_561_200_000_000_000; // 2024-05-01 11:00:00 UTC
const MINUTE: i64 = 60_000_000_000;

/// A report with one hostile string in every field a recording fills.
pub(super) fn hostile_report(bad: &str) -> Report {
    let quad = |caller_func: Option<&str>, count, p99_ns| Quad {
        caller: bad.to_owned(),
        caller_func: caller_func.map(str::to_owned),
        callee: Some(bad.to_owned()),
        callee_func: Some(bad.to_owned()),
        count,
        errors: 1,
        p50_ns: Some(1_000_000),
        p99_ns,
    };
    Report {
        title: format!("quadtrace report: {bad}"),
        sources: vec![format!("{bad}.parquet host={bad}")],
        window: (T0, T0 + 30 * MINUTE),
        topology_svg: "<svg id=\"trusted-topology\" viewBox=\"0 0 10 10\"></svg>".to_owned(),
        quads: vec![quad(Some(bad), 5, Some(9_000_000)), quad(None, 50, None)],
        edges: vec![EdgeReport {
            caller: bad.to_owned(),
            callee: bad.to_owned(),
            minutes: (0..30)
                .map(|i| Minute {
                    start_ns: T0 + i * MINUTE,
                    calls: 100 + i as u64,
                    errors: i as u64 % 3,
                    p99_ns: Some(20_000_000 + i * 1_000_000),
                })
                .collect(),
            evidence: vec![("same_goroutine".to_owned(), 90), (bad.to_owned(), 10)],
            samples: vec![Sample {
                ts_ns: T0 + 5 * MINUTE,
                caller_func: Some(bad.to_owned()),
                callee_func: Some(bad.to_owned()),
                attribution: bad.to_owned(),
                confidence: 0.5,
                duration_ns: Some(3_000_000),
                status: Some(502),
            }],
        }],
        warnings: vec![format!("lost 12 events: {bad}")],
    }
}

#[test]
fn every_section_is_there() {
    let page = render(&hostile_report("svc"));
    for part in [
        "<!DOCTYPE html>",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';",
        "<title>quadtrace report: svc</title>",
        "<h1>quadtrace report: svc</h1>",
        "<time datetime=\"2024-05-01T11:00:00Z\">2024-05-01 11:00:00</time>",
        "<time datetime=\"2024-05-01T11:30:00Z\">2024-05-01 11:30:00</time> UTC",
        "(30 min)",
        "<li>svc.parquet host=svc</li>",
        "<section id=\"warnings\" class=\"warnings\"><h2>Warnings (1)</h2>",
        "<li>lost 12 events: svc</li>",
        "<section id=\"topology\">",
        "<svg id=\"trusted-topology\" viewBox=\"0 0 10 10\"></svg>",
        "<table id=\"quad-table\" class=\"sortable quads\">",
        "<table id=\"edge-table\" class=\"sortable overview\">",
        "<article class=\"edge\" id=\"edge-1\">",
        "<svg class=\"series\"",
        "<table class=\"evidence\">",
        "<table class=\"samples\">",
        "<td class=\"when\">11:05:00.000</td>",
    ] {
        assert!(page.contains(part), "{part} missing");
    }
    assert!(page.ends_with(&format!(
        "<script>{}</script>\n</body>\n</html>\n",
        policy::SCRIPT
    )));
    assert_eq!(page.matches("<script").count(), 1);
}

#[test]
fn an_empty_report_says_so() {
    let page = render(&Report::default());
    for part in [
        "<p>None: no events were lost",
        "No topology was drawn.",
        "No quadruples in the window.",
        "No edges in the window.",
    ] {
        assert!(page.contains(part), "{part} missing");
    }
}

#[test]
fn hostile_strings_appear_only_escaped() {
    for bad in HOSTILE {
        let page = render(&hostile_report(bad));
        let escaped = escape::text(bad);
        assert_ne!(escaped, bad);
        assert!(!page.contains(bad), "{bad:?} unescaped");
        // Title, h1, source, warning, 4 quad names per row (2 rows, minus a none), edge in
        // the overview and its heading (2 each), its chart's label, an evidence kind, a
        // sample's two funcs and attribution.
        assert!(
            page.matches(escaped.as_str()).count() >= 18,
            "{bad:?}: {} times",
            page.matches(escaped.as_str()).count()
        );
        // The payloads' words are there as text; their markup is not.
        for markup in ["<img", "<h1>pwned", "<svg onload", "\x1b", "\r", "\u{202e}"] {
            assert!(!page.contains(markup), "{markup:?} from {bad:?}");
        }
        assert_eq!(page.matches("<script").count(), 1, "{bad:?}");
        let head = page.split("</head>").next().unwrap_or_default();
        assert_eq!(head.matches("</style>").count(), 1, "{bad:?}");
        assert_eq!(head.matches("</title>").count(), 1, "{bad:?}");
        assert_eq!(page.matches("</head>").count(), 1, "{bad:?}");
        assert_eq!(page.matches("<svg").count(), 2, "{bad:?}");
    }
}

#[test]
fn a_newline_in_a_string_shows_as_an_escape() {
    let page = render(&hostile_report("line1\nline2"));
    assert!(page.contains("<li>lost 12 events: line1\\nline2</li>"));
    let page = render(&hostile_report("\x1b[31mred"));
    assert!(page.contains("<h1>quadtrace report: \\u{1b}[31mred</h1>"));
}

#[test]
fn nothing_points_outside_the_page() {
    // The script's own comments hold `//`; it is checked apart, for what could fetch.
    let script = policy::SCRIPT.to_ascii_lowercase();
    for fetching in [
        "http:",
        "https:",
        "\"//",
        "fetch(",
        "xmlhttprequest",
        "import(",
        "src",
    ] {
        assert!(!script.contains(fetching), "{fetching} in the script");
    }
    for bad in HOSTILE {
        let page = render(&hostile_report(bad)).replace(policy::SCRIPT, "");
        let page = page.to_ascii_lowercase();
        for url in [
            "http:", "https:", "//", "url(", "@import", "<img", "<link", "<iframe",
        ] {
            assert!(!page.contains(url), "{url} in the page for {bad:?}");
        }
    }
}
