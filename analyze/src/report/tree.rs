//! `analyze tree`: a request and everything it caused — the calls made for it and, where a call
//! is linked to the request it caused on another service (or the same), that request's own
//! calls, and so on — with their timings as a waterfall in the terminal, or as JSON. Answers
//! "which downstream calls made this slow request slow".
//!
//! A request is named `PID:GOID:START_NS`, the `pid`, `request_goid` and `request_ts_ns` that
//! `analyze calls` prints; `--slowest N` picks the N slowest requests that no recorded call
//! caused (the roots). It keeps the whole reconstruction in memory, like `replay`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::model::events::EventLog;
use crate::model::span::Period;
use crate::rebuild::attribute::Reconstruction;
use crate::rebuild::requests::{Request, RequestId};
use crate::report::callee::CalleeNames;
use crate::report::calls::{CallRow, Naming};
use crate::report::escape::terminal;
use crate::report::routes::Funcs;

/// How deep a tree is followed: links form no cycle in a real recording, but a crafted one
/// must not loop.
const MAX_DEPTH: usize = 32;

/// Width of the waterfall's bars, in characters.
const BAR: usize = 40;

/// Which requests to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// The request named `PID:GOID:START_NS`.
    Request(String),
    /// The N slowest roots.
    Slowest(usize),
}

/// A request and what it caused.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestNode {
    pub id: String,
    pub service: String,
    pub func: Option<String>,
    pub path: Option<String>,
    pub pid: i32,
    pub goid: i64,
    pub start_ns: i64,
    pub duration_ns: Option<i64>,
    pub status: Option<i32>,
    pub calls: Vec<CallNode>,
}

/// A call made for a request, and the request it caused when linked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallNode {
    pub callee: String,
    pub callee_func: Option<String>,
    pub method: Option<String>,
    pub callee_addr: Option<String>,
    pub start_ns: i64,
    pub duration_ns: Option<i64>,
    pub status: Option<i32>,
    pub attribution: &'static str,
    pub confidence: f64,
    pub caused: Option<Box<RequestNode>>,
}

/// The trees `pick` asks for, among the requests of `rec` that start inside `period`; what
/// is wrong with `pick` when it names no such request.
pub(crate) fn trees(
    log: &EventLog,
    rec: &Reconstruction,
    pick: &Pick,
    period: Period,
) -> Result<Vec<RequestNode>, String> {
    let inside = |r: &Request| {
        period == Period::ALL
            || log
                .wall_clock(r.proc, r.start_ns)
                .is_some_and(|w| period.contains(w))
    };
    let mut builder = Builder::new(log, rec);
    let roots: Vec<RequestId> = match pick {
        Pick::Request(id) => {
            let found: Vec<RequestId> = rec
                .requests
                .all_with_ids()
                .filter(|(_, r)| inside(r) && builder.id(r) == *id)
                .map(|(i, _)| i)
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "no request {id} (PID:GOID:START_NS, as the pid, request_goid and request_ts_ns columns of `analyze calls`)"
                ));
            }
            found
        }
        Pick::Slowest(n) => {
            let mut caused = vec![false; rec.requests.started()];
            for c in &rec.calls {
                if let Some(slot) = c.link.and_then(|RequestId(r)| caused.get_mut(r as usize)) {
                    *slot = true;
                }
            }
            let mut roots: Vec<(i64, RequestId)> = rec
                .requests
                .all_with_ids()
                .filter(|(RequestId(i), r)| {
                    !caused.get(*i as usize).copied().unwrap_or(false) && inside(r)
                })
                .filter_map(|(i, r)| Some((r.end_ns()? - r.start_ns, i)))
                .collect();
            roots.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            roots.into_iter().take(*n).map(|(_, i)| i).collect()
        }
    };
    let trees = roots
        .into_iter()
        .filter_map(|r| builder.request(r, 0))
        .collect();
    Ok(trees)
}

/// Builds trees from a reconstruction, naming as `analyze calls` does.
struct Builder<'a> {
    log: &'a EventLog,
    rec: &'a Reconstruction,
    naming: Naming<'a>,
    /// Calls by the request they were made for.
    calls_of: Vec<Vec<usize>>,
}

impl<'a> Builder<'a> {
    fn new(log: &'a EventLog, rec: &'a Reconstruction) -> Self {
        let mut calls_of = vec![Vec::new(); rec.requests.started()];
        for (i, c) in rec.calls.iter().enumerate() {
            let slot = c.attribution.request();
            if let Some(slot) = slot.and_then(|RequestId(r)| calls_of.get_mut(r as usize)) {
                slot.push(i);
            }
        }
        Builder {
            log,
            rec,
            naming: Naming {
                log,
                callees: CalleeNames::new(log, rec),
                funcs: Funcs::new(log, rec, false),
            },
            calls_of,
        }
    }

    fn pid(&self, r: &Request) -> i32 {
        self.log.process_info(r.proc).map_or(0, |p| p.pid)
    }

    fn id(&self, r: &Request) -> String {
        format!("{}:{}:{}", self.pid(r), r.goid, r.start_ns)
    }

    fn request(&mut self, id: RequestId, depth: usize) -> Option<RequestNode> {
        let rec = self.rec;
        let r = rec.requests.get(id)?;
        let text = |s| self.log.str(s).to_owned();
        let mut node = RequestNode {
            id: self.id(r),
            service: text(r.service),
            func: self.naming.funcs.caller(r).map(text),
            path: r.path.map(text),
            pid: self.pid(r),
            goid: r.goid,
            start_ns: r.start_ns,
            duration_ns: r.end_ns().map(|e| e - r.start_ns),
            status: r.status(),
            calls: Vec::new(),
        };
        let calls = self
            .calls_of
            .get(id.0 as usize)
            .cloned()
            .unwrap_or_default();
        for i in calls {
            let Some(call) = rec.calls.get(i) else {
                continue;
            };
            let linked = call.link.and_then(|l| rec.requests.get(l));
            let row: CallRow = self.naming.row(call, Some(r), linked);
            let caused = match call.link {
                Some(l) if depth < MAX_DEPTH => self.request(l, depth + 1).map(Box::new),
                _ => None,
            };
            node.calls.push(CallNode {
                callee: row.callee,
                callee_func: row.callee_func,
                method: row.method,
                callee_addr: row.callee_addr,
                start_ns: row.ts_ns,
                duration_ns: row.duration_ns,
                status: row.status,
                attribution: row.attribution,
                confidence: row.confidence,
                caused,
            });
        }
        Some(node)
    }
}

/// The trees as a waterfall: a line per request and call, indented by depth, with its start
/// after the root's, a bar over the root's duration, and its own duration. Strings from the
/// recording are made printable.
pub fn render_waterfall(trees: &[RequestNode]) -> String {
    let mut out = String::new();
    for root in trees {
        let span = root.duration_ns.unwrap_or(1).max(1);
        let mut lines: Vec<(String, i64, Option<i64>, String)> = Vec::new();
        walk(root, "", "", &mut lines);
        let width = lines.iter().map(|l| l.0.chars().count()).max().unwrap_or(0);
        let _ = writeln!(out, "request {}", root.id);
        for (label, start, duration, tail) in lines {
            let offset = start - root.start_ns;
            let bar = bar(offset, duration, span);
            let _ = writeln!(
                out,
                "{label:<width$}  {:>9}  {bar}  {:>9}  {tail}",
                ms(Some(offset)),
                ms(duration),
            );
        }
        out.push('\n');
    }
    out
}

/// A request's line and its calls', depth first; `lead` prefixes this line, `rest` the lines
/// under it.
fn walk(
    r: &RequestNode,
    lead: &str,
    rest: &str,
    lines: &mut Vec<(String, i64, Option<i64>, String)>,
) {
    let func = r.func.as_deref().or(r.path.as_deref()).unwrap_or("none");
    lines.push((
        format!("{lead}{} {}", terminal(&r.service), terminal(func)),
        r.start_ns,
        r.duration_ns,
        format!("served {}", status(r.status)),
    ));
    let n = r.calls.len();
    for (i, c) in r.calls.iter().enumerate() {
        let last = i + 1 == n;
        let (branch, under) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        let func = c.callee_func.as_deref().unwrap_or("none");
        lines.push((
            format!("{rest}{branch}→ {} {}", terminal(&c.callee), terminal(func)),
            c.start_ns,
            c.duration_ns,
            format!(
                "{} [{} {:.2}]",
                status(c.status),
                c.attribution,
                c.confidence
            ),
        ));
        if let Some(caused) = &c.caused {
            let deeper = format!("{rest}{under}");
            walk(
                caused,
                &format!("{deeper}└─ "),
                &format!("{deeper}   "),
                lines,
            );
        }
    }
}

fn status(s: Option<i32>) -> String {
    s.map_or_else(|| "-".to_owned(), |s| s.to_string())
}

fn ms(ns: Option<i64>) -> String {
    ns.map_or_else(|| "-".to_owned(), |ns| format!("{:.3} ms", ns as f64 / 1e6))
}

/// A bar of [`BAR`] characters: blank before `offset`, filled for `duration`, over `span`.
fn bar(offset: i64, duration: Option<i64>, span: i64) -> String {
    let cell = |ns: i64| ((ns.max(0) as f64 / span as f64) * BAR as f64).round() as usize;
    let from = cell(offset).min(BAR);
    let len = duration
        .map_or(1, |d| cell(d).max(1))
        .min(BAR - from.min(BAR - 1));
    let from = from.min(BAR - len);
    format!(
        "|{}{}{}|",
        " ".repeat(from),
        "█".repeat(len),
        " ".repeat(BAR - from - len)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebuild::attribute::reconstruct;
    use crate::test_support::LogBuilder;

    #[test]
    fn bars_fit_and_mark_their_part() {
        assert_eq!(bar(0, Some(100), 100).chars().count(), BAR + 2);
        assert_eq!(
            bar(50, Some(50), 100),
            format!("|{}{}|", " ".repeat(20), "█".repeat(20))
        );
        assert_eq!(
            bar(200, Some(50), 100).chars().count(),
            BAR + 2,
            "beyond the root"
        );
        assert_eq!(bar(10, None, 100).matches('█').count(), 1);
    }

    /// `front` /page calls `users` (linked over its connection), which calls a database; a
    /// second front request calls nothing.
    #[test]
    fn a_tree_follows_links_across_services() {
        let mut b = LogBuilder::new();
        b.listen(0, 2, "users", "0.0.0.0:8080", None)
            .server_start(1, 1, "front", 5, ":80", "/page")
            .client_start(2, 1, "front", 5, "10.0.0.2:8080", "/users/1")
            .connect(2, 1, "front", "10.0.0.1:40000", "10.0.0.2:8080", None)
            .server_start_from(3, 2, "users", 9, "/users/1", "10.0.0.1:40000")
            .client_start(4, 2, "users", 9, "db:5432", "/q")
            .client_end(6, 2, "users", 9, Some(200))
            .server_end(7, 2, "users", 9)
            .client_end(8, 1, "front", 5, Some(200))
            .server_end(9, 1, "front", 5)
            .server_start(20, 1, "front", 6, ":80", "/other")
            .server_end(21, 1, "front", 6);
        let log = b.build();
        let rec = reconstruct(&log);
        let mut builder = Builder::new(&log, &rec);
        let root = builder.request(RequestId(0), 0).expect("root");
        assert_eq!(root.service, "front");
        assert_eq!(root.calls.len(), 1);
        let users = root.calls[0].caused.as_deref().expect("linked");
        assert_eq!((users.service.as_str(), users.calls.len()), ("users", 1));
        assert_eq!(users.calls[0].callee, "db:5432");
        let text = render_waterfall(&[root]);
        assert!(text.starts_with("request 1:5:1000000\n"), "{text}");
        assert!(text.contains("└─ → users /users/1"), "{text}");
        assert!(text.contains("└─ users /users/1"), "{text}");
        assert!(text.contains("→ db:5432 /q"), "{text}");
    }
}
