//! The HTML report (`quadtrace_analyze::html`) in a real browser, headless Chromium: its
//! script runs under the page's own Content-Security-Policy, sorts the quadruple table as the
//! URL fragment asks, and no hostile string from a recording turns into markup.
//!
//! Needs Debian's `chromium` (scripts/setup.sh installs it). Without it the tests say why and
//! pass, except under `CI=true`, where a missing browser is a failure. To look at the page and
//! its screenshot, set `REPORT_BROWSER_KEEP=1`: their directory is kept and printed.

#[path = "report_browser/browser.rs"]
mod browser;
#[path = "report_browser/fixture.rs"]
mod fixture;

use std::path::Path;

use browser::{file_url, Browser};
use quadtrace_analyze::html::render;

/// The browser, or `None` (after saying why) when the test must skip.
fn browser_or_skip(test: &str) -> Option<Browser> {
    let found = Browser::find();
    if found.is_none() {
        let why = format!("{test}: skipped: chromium is not installed (apt-get install chromium)");
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{why} (a skip is a failure under CI=true)");
        }
        eprintln!("{why}");
    }
    found
}

/// A directory holding the fixture's page as `report.html`, removed after the test unless
/// `REPORT_BROWSER_KEEP` is set.
struct Page {
    /// Always `Some` until dropped.
    dir: Option<tempfile::TempDir>,
}

impl Page {
    fn write() -> Page {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("report.html"), render(&fixture::report())).expect("write");
        Page { dir: Some(dir) }
    }

    fn dir(&self) -> &Path {
        self.dir.as_ref().expect("not dropped").path()
    }

    fn url(&self, fragment: &str) -> String {
        file_url(&self.dir().join("report.html"), fragment)
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        if std::env::var_os("REPORT_BROWSER_KEEP").is_some() {
            if let Some(dir) = self.dir.take() {
                eprintln!("kept {}", dir.keep().display());
            }
        }
    }
}

/// Whether the script ran: the `<body>` tag itself has its mark (the script's text, also in
/// the DOM, mentions it too).
fn script_ran(dom: &str) -> bool {
    dom.split("<body")
        .nth(1)
        .and_then(|tag| tag.split('>').next())
        .is_some_and(|attrs| attrs.contains("data-ready=\"1\""))
}

/// The `<tbody>` rows of the table with `id`, each as its cells' sort values: a number's
/// `data-sort`, a name's text, `None` for a cell marked `data-none`.
fn table_rows(dom: &str, id: &str) -> Vec<Vec<Option<String>>> {
    let table = dom
        .split(&format!("<table id=\"{id}\""))
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or_else(|| panic!("no table {id} in the DOM"));
    let body = table.split("<tbody>").nth(1).unwrap_or_default();
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let (attrs, rest) = cell.split_once('>').unwrap_or_default();
                    if attrs.contains("data-none") {
                        None
                    } else if let Some(v) = attrs.split("data-sort=\"").nth(1) {
                        v.split('"').next().map(str::to_owned)
                    } else {
                        rest.split("</td>").next().map(str::to_owned)
                    }
                })
                .collect()
        })
        .collect()
}

/// The column `index` of `rows`, as numbers (`None` for none).
fn numbers(rows: &[Vec<Option<String>>], index: usize) -> Vec<Option<f64>> {
    rows.iter()
        .map(|r| r[index].as_ref().map(|v| v.parse().expect("a number")))
        .collect()
}

const COUNT: usize = 4;
const P99: usize = 8;
const CALLER_FUNC: usize = 1;

#[test]
fn the_script_runs_and_sorts_as_the_fragment_asks() {
    let Some(browser) = browser_or_skip("the_script_runs_and_sorts_as_the_fragment_asks") else {
        return;
    };
    let page = Page::write();
    let given = fixture::report().quads.len();

    let (dom, log) = browser.dump_dom(page.dir(), &page.url("sort=count-asc"));
    assert!(
        script_ran(&dom),
        "the script did not run (a stale hash in html/policy.rs?):\n{log}"
    );
    let rows = table_rows(&dom, "quad-table");
    assert_eq!(rows.len(), given);
    let counts = numbers(&rows, COUNT);
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert_eq!(counts.first(), Some(&Some(7.0)));
    assert!(dom.contains("data-key=\"count\" data-type=\"number\" aria-sort=\"ascending\""));

    // Ascending or descending, none comes last.
    for dir in ["asc", "desc"] {
        let (dom, _) = browser.dump_dom(page.dir(), &page.url(&format!("sort=p99_ms-{dir}")));
        let p99 = numbers(&table_rows(&dom, "quad-table"), P99);
        let known: Vec<f64> = p99.iter().map_while(|v| *v).collect();
        assert_eq!(known.len(), 6, "{dir}: {p99:?}");
        assert!(p99[6..].iter().all(Option::is_none), "{dir}: {p99:?}");
        let mut sorted = known.clone();
        sorted.sort_by(f64::total_cmp);
        if dir == "desc" {
            sorted.reverse();
        }
        assert_eq!(known, sorted, "{dir}");
    }

    // Names sort as text, none last.
    let (dom, _) = browser.dump_dom(page.dir(), &page.url("sort=caller_func-desc"));
    let funcs: Vec<Option<String>> = table_rows(&dom, "quad-table")
        .into_iter()
        .map(|r| r[CALLER_FUNC].clone())
        .collect();
    assert_eq!(funcs.last(), Some(&None), "{funcs:?}");
    assert!(
        funcs[..funcs.len() - 1].iter().all(Option::is_some),
        "{funcs:?}"
    );
    // How punctuation sorts is the browser's (Unicode collation); letters go Z to A.
    let at = |f: &str| funcs.iter().position(|x| x.as_deref() == Some(f));
    assert!(at("/checkout") < at("/charge"), "{funcs:?}");
    assert!(at("/charge") < at("/cart/{id}"), "{funcs:?}");
}

#[test]
fn no_hostile_string_becomes_markup() {
    let Some(browser) = browser_or_skip("no_hostile_string_becomes_markup") else {
        return;
    };
    let page = Page::write();
    let (dom, log) = browser.dump_dom(page.dir(), &page.url(""));
    assert!(script_ran(&dom), "{log}");
    // The title is the given one, its payload as text: nothing set document.title.
    let title = dom
        .split("<title>")
        .nth(1)
        .and_then(|t| t.split("</title>").next());
    assert_eq!(
        title,
        Some("quadtrace report: 3 recordings &lt;/title&gt;&lt;script&gt;document.title='pwned'&lt;/script&gt;")
    );
    assert!(!dom.contains("data-pwned=\""), "a payload ran");
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert_eq!(dom.matches("<img").count(), 0);
    assert_eq!(dom.matches("<h1").count(), 1);
    assert_eq!(dom.matches("<style").count(), 1);
    assert_eq!(
        dom.matches("<svg").count(),
        1 + 3,
        "the topology and three charts"
    );
    // Each payload is there as text, as the DOM serializes text.
    for bad in fixture::HOSTILE {
        let shown = bad
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('\x1b', "\\u{1b}")
            .replace('\n', "\\n");
        assert!(dom.contains(&shown), "{shown} not shown as text");
    }
}

#[test]
fn a_screenshot_shows_the_page() {
    let Some(browser) = browser_or_skip("a_screenshot_shows_the_page") else {
        return;
    };
    let page = Page::write();
    let png = page.dir().join("report.png");
    let log = browser.screenshot(page.dir(), &page.url(""), &png, (1280, 2000));
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot ({e}):\n{log}"));
    assert_eq!(bytes.get(..8), Some(&b"\x89PNG\r\n\x1a\n"[..]), "not a PNG");
    let dimension = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    assert_eq!(
        (dimension(16), dimension(20)),
        (1280, 2000),
        "IHDR width, height"
    );
    // A blank or failed page compresses to a few KB; this one has text, tables and charts.
    assert!(bytes.len() > 60_000, "{} bytes only", bytes.len());
}

/// `analyze report` end to end: the page it writes for the testdata recordings opens in the
/// browser with its script run, a row per quadruple `analyze quads` prints, the topology with
/// both demo services, a chart per edge, and a screenshot of it all.
#[test]
fn the_command_writes_a_page_the_browser_shows() {
    let Some(browser) = browser_or_skip("the_command_writes_a_page_the_browser_shows") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let recordings = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/recordings");
    let files: Vec<String> = [
        "http_demo_go1.19_handle_x3",
        "gin_demo_go1.27_stripped_handle_x8_par4",
    ]
    .iter()
    .map(|n| {
        recordings
            .join(format!("{n}.parquet"))
            .to_string_lossy()
            .into_owned()
    })
    .collect();
    let page = dir.path().join("report.html");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_analyze"))
            .args(args)
            .output()
            .expect("run analyze");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let mut args = vec!["report", "-o", page.to_str().expect("utf-8 path")];
    args.extend(files.iter().map(String::as_str));
    run(&args);
    let mut quads = vec!["quads", "--format", "csv"];
    quads.extend(files.iter().map(String::as_str));
    let quads = run(&quads).lines().count() - 1;

    let (dom, log) = browser.dump_dom(dir.path(), &file_url(&page, "sort=count-desc"));
    assert!(script_ran(&dom), "{log}");
    let rows = table_rows(&dom, "quad-table");
    assert_eq!(rows.len(), quads, "a row per quadruple");
    let counts = numbers(&rows, COUNT);
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    for service in ["http_demo", "gin_demo"] {
        assert!(
            dom.contains(&format!(">{service}</text>")),
            "{service} not in the topology"
        );
    }
    // The topology, and a chart for each of the two edges.
    let pictures = dom.matches("<svg").count();
    assert!(pictures >= 3, "{pictures} pictures");
    let png = dir.path().join("report.png");
    let log = browser.screenshot(dir.path(), &file_url(&page, ""), &png, (1280, 2000));
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot ({e}): {log}"));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 20_000,
        "{log}"
    );
}
