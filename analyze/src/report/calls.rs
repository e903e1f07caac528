//! Client calls as rows for `analyze calls`: one per `client_start`, with its end, the request
//! it was made for, and why.

use serde::Serialize;

use crate::model::events::EventLog;
use crate::rebuild::attribute::Reconstruction;
use crate::rebuild::client::ClientCall;
use crate::rebuild::requests::Request;
use crate::report::callee::{CalleeNames, LinkSummary};
use crate::report::routes::Funcs;

/// What the `link` column says of a call linked by its connection's address pair.
pub const LINK_CONNECTION: &str = "connection";

/// One client call, with every name resolved. Field order is the output's column order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRow {
    /// When the call started (monotonic ns, as recorded).
    pub ts_ns: i64,
    /// The calling process.
    pub pid: i32,
    /// The calling goroutine.
    pub goid: i64,
    /// The calling service.
    pub caller: String,
    /// Raw path of the request the call was made for.
    pub caller_path: Option<String>,
    /// The request's route when known, else its raw path.
    pub caller_func: Option<String>,
    /// HTTP method.
    pub method: Option<String>,
    /// The service called, or the address when no recording saw it serve.
    pub callee: String,
    /// The `host:port` called.
    pub callee_addr: Option<String>,
    /// Raw path called.
    pub callee_path: Option<String>,
    /// The route the callee served the call under when known, else the raw path called.
    pub callee_func: Option<String>,
    /// Status received (none on a transport error or without an end).
    pub status: Option<i32>,
    /// Time from start to end, when the end was seen.
    pub duration_ns: Option<i64>,
    /// The kind of evidence: `same_goroutine`, `spawned`, `context`, `channel` or `none`.
    pub attribution: &'static str,
    /// How sure, 0 to 1.
    pub confidence: f64,
    /// The goroutine that served the request.
    pub request_goid: Option<i64>,
    /// When the request started.
    pub request_ts_ns: Option<i64>,
    /// How the call is tied to the server request it caused: `connection` (by the address
    /// pair of the connection it went over); none when it is not.
    pub link: Option<&'static str>,
    /// The process that served the request it caused.
    pub linked_pid: Option<i32>,
    /// The goroutine that served it.
    pub linked_goid: Option<i64>,
    /// When that request started.
    pub linked_ts_ns: Option<i64>,
    /// That request's raw path, as its server saw it.
    pub linked_path: Option<String>,
}

/// What a call's row does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallFacts {
    /// The wall-clock time it started at, when its recording says.
    pub(crate) wall_ns: Option<i64>,
    /// It got a 5xx or a transport error (see [`crate::report::stats::call_failed`]).
    pub(crate) failed: bool,
}

/// The column names, in order (the keys of [`CallRow`] in JSON).
pub const CALL_COLUMNS: [&str; 22] = [
    "ts_ns",
    "pid",
    "goid",
    "caller",
    "caller_path",
    "caller_func",
    "method",
    "callee",
    "callee_addr",
    "callee_path",
    "callee_func",
    "status",
    "duration_ns",
    "attribution",
    "confidence",
    "request_goid",
    "request_ts_ns",
    "link",
    "linked_pid",
    "linked_goid",
    "linked_ts_ns",
    "linked_path",
];

/// Every call of `rec`, in time order.
pub fn call_rows(log: &EventLog, rec: &Reconstruction) -> Vec<CallRow> {
    call_rows_linked(log, rec).0
}

/// Like [`call_rows`], with how the calls' callees were named when the recordings had socket
/// events.
pub fn call_rows_linked(
    log: &EventLog,
    rec: &Reconstruction,
) -> (Vec<CallRow>, Option<LinkSummary>) {
    let mut rows = Vec::with_capacity(rec.calls.len());
    let links = for_each_call_row(log, rec, |row| rows.push(row));
    (rows, links)
}

/// Hands every call of `rec` to `each` as a row, in time order, one at a time (a recording's
/// millions of rows are never held together); then says how the callees were named.
pub fn for_each_call_row(
    log: &EventLog,
    rec: &Reconstruction,
    mut each: impl FnMut(CallRow),
) -> Option<LinkSummary> {
    let mut naming = Naming {
        log,
        callees: CalleeNames::new(log, rec),
        funcs: Funcs::new(log, rec, false),
    };
    for call in &rec.calls {
        let request = call.attribution.request().and_then(|r| rec.requests.get(r));
        let linked = call.link.and_then(|r| rec.requests.get(r));
        each(naming.row(call, request, linked));
    }
    naming.summary()
}

/// What names the calls of a set of recordings: who listened where and when, and the routes
/// the servers served their paths under, learned from all of them.
pub(crate) struct Naming<'a> {
    pub(crate) log: &'a EventLog,
    pub(crate) callees: CalleeNames<'a>,
    pub(crate) funcs: Funcs,
}

impl Naming<'_> {
    /// `call` as a row, made for `request` (none: for no request) and linked to `linked`, the
    /// request it caused. Calls are named in time order: a name first dialled as an address
    /// may turn out later to be a recorded server's.
    pub(crate) fn row(
        &mut self,
        call: &ClientCall,
        request: Option<&Request>,
        linked: Option<&Request>,
    ) -> CallRow {
        let log = self.log;
        let string = |s| log.str(s).to_owned();
        let pid = |proc| log.process_info(proc).map_or(0, |p| p.pid);
        let resolved = self.callees.resolve(call, linked, &self.funcs);
        let linked = linked.filter(|_| resolved.link.is_some());
        CallRow {
            ts_ns: call.ts_ns,
            pid: pid(call.proc),
            goid: call.goid,
            caller: string(call.service),
            caller_path: request.and_then(|r| r.path).map(string),
            caller_func: request.and_then(|r| self.funcs.caller(r)).map(string),
            method: call.method.map(string),
            callee: self.callees.name(resolved.id).to_owned(),
            callee_addr: call.host.map(string),
            callee_path: call.path.map(string),
            callee_func: resolved.func.map(string),
            status: call.status,
            duration_ns: call.end_ns.map(|end| end.saturating_sub(call.ts_ns)),
            attribution: call.attribution.evidence(),
            confidence: call.attribution.confidence,
            request_goid: request.map(|r| r.goid),
            request_ts_ns: request.map(|r| r.start_ns),
            link: linked.map(|_| LINK_CONNECTION),
            linked_pid: linked.map(|r| pid(r.proc)),
            linked_goid: linked.map(|r| r.goid),
            linked_ts_ns: linked.map(|r| r.start_ns),
            linked_path: linked.and_then(|r| r.path).map(string),
        }
    }

    /// How the calls named so far were named (see [`CalleeNames::summary`]).
    pub(crate) fn summary(&self) -> Option<LinkSummary> {
        self.callees.summary()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebuild::attribute::reconstruct;
    use crate::test_support::LogBuilder;

    #[test]
    fn rows_resolve_names_requests_and_ends() {
        let log = LogBuilder::new()
            .server_start(1, 10, "front", 7, ":80", "/page")
            .client_start(2, 10, "front", 7, "localhost:80", "/api")
            .client_end(4, 10, "front", 7, Some(201))
            .server_end(5, 10, "front", 7)
            .client_start(6, 10, "front", 9, "db.example:5432", "/q")
            .build();
        let rows = call_rows(&log, &reconstruct(&log));
        let ms = 1_000_000;
        assert_eq!(
            rows[0],
            CallRow {
                ts_ns: 2 * ms,
                pid: 10,
                goid: 7,
                caller: "front".into(),
                caller_path: Some("/page".into()),
                caller_func: Some("/page".into()),
                method: Some("GET".into()),
                callee: "front".into(),
                callee_addr: Some("localhost:80".into()),
                callee_path: Some("/api".into()),
                callee_func: Some("/api".into()),
                status: Some(201),
                duration_ns: Some(2 * ms),
                attribution: "same_goroutine",
                confidence: 1.0,
                request_goid: Some(7),
                request_ts_ns: Some(ms),
                link: None,
                linked_pid: None,
                linked_goid: None,
                linked_ts_ns: None,
                linked_path: None,
            }
        );
        assert_eq!(rows[1].callee, "db.example:5432");
        assert_eq!(rows[1].attribution, "none");
        assert_eq!(rows[1].caller_path, None);
        assert_eq!(rows[1].request_goid, None);
        assert_eq!(rows[1].duration_ns, None);
    }

    #[test]
    fn json_keys_are_the_columns_in_order() {
        let log = LogBuilder::new()
            .client_start(1, 10, "a", 1, "b:1", "/x")
            .build();
        let rows = call_rows(&log, &reconstruct(&log));
        let json = serde_json::to_string(&rows).unwrap_or_default();
        let mut at = 0;
        for key in CALL_COLUMNS {
            let pos = json[at..].find(&format!("\"{key}\":"));
            assert!(pos.is_some(), "{key} missing or out of order in {json}");
            at += pos.unwrap_or(0);
        }
    }
}
