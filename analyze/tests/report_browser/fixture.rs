//! A report as an incident might give: four services, a burst of errors on one edge, a
//! background caller, a gap in the minutes; and hostile strings in every field a recording
//! fills, each built to change the page if it were ever taken as markup (by setting the
//! title, or a `data-pwned` attribute on `<body>`).

use quadtrace_analyze::html::{EdgeReport, Minute, Report, Sample};
use quadtrace_analyze::Quad;

/// 2024-05-01 11:00:00 UTC.
pub const T0: i64 = 1_714_561_200_000_000_000;
pub const MINUTE: i64 = 60_000_000_000;

/// The title; its payload would retitle the page.
pub const TITLE: &str =
    "quadtrace report: 3 recordings </title><script>document.title='pwned'</script>";

/// Payloads, each to be found in the page as text only.
pub const HOSTILE: [&str; 7] = [
    "<script>document.title='pwned'</script>",
    "\"><img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">",
    "'><svg onload=document.body.setAttribute('data-pwned','1')>",
    "</style><script>document.body.setAttribute('data-pwned','1')</script>",
    "/<script>document.title='pwned'</script>",
    "\x1b[31mred\x1b[0m\nnext line",
    "{{7*7}}|a\\b",
];

/// A quadruple from its names `(caller, caller_func, callee, callee_func)`, counts and
/// `(p50, p99)` in ms.
fn quad(
    names: (&str, Option<&str>, Option<&str>, Option<&str>),
    count: u64,
    errors: u64,
    ms: (Option<f64>, Option<f64>),
) -> Quad {
    let ns = |ms: f64| (ms * 1e6) as i64;
    let own = |s: Option<&str>| s.map(str::to_owned);
    Quad {
        caller: names.0.to_owned(),
        caller_func: own(names.1),
        callee: own(names.2),
        callee_func: own(names.3),
        count,
        errors,
        p50_ns: ms.0.map(ns),
        p99_ns: ms.1.map(ns),
    }
}

/// The quadruples, highest count first (as `analyze` gives them).
#[rustfmt::skip] // A table: one quadruple a line.
fn quads() -> Vec<Quad> {
    let [script, img, svg, style, path, ansi, braces] = HOSTILE;
    vec![
        quad(("cart", Some("/cart/{id}"), Some("inventory"), Some("/stock/{sku}")), 24_812, 4, (Some(2.1), Some(19.5))),
        quad(("frontend", Some("/checkout"), Some("cart"), Some("/cart/{id}")), 12_406, 3, (Some(4.2), Some(38.0))),
        quad(("frontend", Some("/checkout"), Some("payments"), Some("/charge")), 6_105, 212, (Some(11.8), Some(950.0))),
        quad(("payments", Some("/charge"), None, None), 6_101, 209, (Some(10.9), Some(940.0))),
        quad(("frontend", Some(path), Some("cart"), Some(img)), 1_204, 1_204, (Some(0.4), Some(1.1))),
        quad(("cart", None, Some("inventory"), Some("/healthz")), 360, 0, (Some(0.3), Some(0.9))),
        quad((script, Some(ansi), Some(svg), Some(style)), 42, 0, (None, None)),
        quad(("frontend", Some(braces), Some("api.example.invalid:443"), Some("/v1/rates")), 7, 7, (None, None)),
    ]
}

/// A per-minute series: `calls(i)`, `errors(i)`, `p99_ms(i)` for minute i of 30.
fn minutes(
    calls: impl Fn(i64) -> u64,
    errors: impl Fn(i64) -> u64,
    p99_ms: impl Fn(i64) -> Option<f64>,
    gap: std::ops::Range<i64>,
) -> Vec<Minute> {
    (0..30)
        .filter(|i| !gap.contains(i))
        .map(|i| Minute {
            start_ns: T0 + i * MINUTE,
            calls: calls(i),
            errors: errors(i),
            p99_ns: p99_ms(i).map(|ms| (ms * 1e6) as i64),
        })
        .collect()
}

fn sample(
    minute: i64,
    caller_func: &str,
    callee_func: &str,
    attribution: &str,
    duration_ms: f64,
    status: Option<i32>,
) -> Sample {
    Sample {
        ts_ns: T0 + minute * MINUTE + 17_345_000_000,
        caller_func: Some(caller_func.to_owned()),
        callee_func: Some(callee_func.to_owned()),
        attribution: attribution.to_owned(),
        confidence: if attribution == "same_goroutine" {
            1.0
        } else {
            0.9
        },
        duration_ns: Some((duration_ms * 1e6) as i64),
        status,
    }
}

fn edges() -> Vec<EdgeReport> {
    let [script, img, svg, style, path, ansi, braces] = HOSTILE;
    let burst = |i: i64| (12..18).contains(&i);
    vec![
        EdgeReport {
            caller: "frontend".into(),
            callee: "payments".into(),
            minutes: minutes(
                |i| 190 + (i as u64 * 7) % 23,
                |i| {
                    if burst(i) {
                        30 + (i as u64 % 4) * 2
                    } else {
                        u64::from(i % 9 == 0)
                    }
                },
                |i| {
                    Some(if burst(i) {
                        900.0 + i as f64 * 3.0
                    } else {
                        60.0 + (i % 5) as f64 * 6.0
                    })
                },
                0..0,
            ),
            evidence: vec![("same_goroutine".into(), 5_980), ("spawned".into(), 125)],
            samples: vec![
                sample(
                    13,
                    "/checkout",
                    "/charge",
                    "same_goroutine",
                    1_002.4,
                    Some(503),
                ),
                sample(14, "/checkout", "/charge", "same_goroutine", 5_000.0, None),
                sample(3, "/checkout", "/charge", "spawned", 48.2, Some(200)),
            ],
        },
        EdgeReport {
            caller: "cart".into(),
            callee: "inventory".into(),
            minutes: minutes(
                |i| 820 + (i as u64 * 13) % 57,
                |i| u64::from(i == 7),
                |i| Some(18.0 + (i % 7) as f64),
                20..22,
            ),
            evidence: vec![
                ("same_goroutine".into(), 20_100),
                ("context".into(), 4_712),
                ("none".into(), 360),
            ],
            samples: vec![sample(
                8,
                "/cart/{id}",
                "/stock/{sku}",
                "context",
                2.3,
                Some(200),
            )],
        },
        EdgeReport {
            caller: script.into(),
            callee: svg.into(),
            minutes: minutes(|i| (i as u64) % 3, |_| 0, |_| None, 0..0),
            evidence: vec![(style.into(), 40), ("none".into(), 2)],
            samples: vec![Sample {
                ts_ns: T0 + 9 * MINUTE,
                caller_func: Some(ansi.into()),
                callee_func: Some(img.into()),
                attribution: path.into(),
                confidence: 0.25,
                duration_ns: None,
                status: None,
            }],
        },
        EdgeReport {
            caller: "frontend".into(),
            callee: braces.into(),
            minutes: Vec::new(),
            evidence: Vec::new(),
            samples: Vec::new(),
        },
    ]
}

/// The topology, as quadtrace would draw it: trusted SVG.
fn topology() -> String {
    let node = |x: u32, y: u32, name: &str| {
        format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"130\" height=\"36\" rx=\"5\" fill=\"#eef3fa\" stroke=\"#2d5b94\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\" fill=\"#1c2430\">{name}</text>",
            x + 65,
            y + 23
        )
    };
    let arrow = |x1: u32, y1: u32, x2: u32, y2: u32| {
        format!("<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"#5b6472\" stroke-width=\"1.5\"/>")
    };
    format!(
        "<svg viewBox=\"0 0 640 150\" width=\"640\" height=\"150\">{}{}{}{}{}{}{}</svg>",
        arrow(150, 75, 250, 30),
        arrow(150, 75, 250, 120),
        arrow(380, 30, 480, 30),
        node(20, 57, "frontend"),
        node(250, 12, "cart"),
        node(250, 102, "payments"),
        node(480, 12, "inventory"),
    )
}

/// The whole report.
pub fn report() -> Report {
    let [script, img, ..] = HOSTILE;
    Report {
        title: TITLE.to_owned(),
        sources: vec![
            "frontend.parquet  host=web-1  2024-05-01 10:58:12 → 11:31:40 UTC".to_owned(),
            "cart.parquet  host=cart-7  2024-05-01 10:59:03 → 11:30:55 UTC".to_owned(),
            format!("{script}.parquet  host={img}"),
        ],
        window: (T0, T0 + 30 * MINUTE),
        topology_svg: topology(),
        quads: quads(),
        edges: edges(),
        warnings: vec![
            "cart-7: 1,204 events lost (the ring buffer was full); counts from cart are low".to_owned(),
            "frontend: 18 requests began before the recording; their calls are counted without a caller func".to_owned(),
            format!("web-1: unknown route {}", HOSTILE[4]),
        ],
    }
}
