//! Calls, requests, connections and listeners as rows of the export's datasets
//! (`schema/EXPORT.md`), column by column in the order `quadtrace_schema::export` defines.

use chrono::DateTime;
use quadtrace_schema::export::UNKNOWN_DATE;

use super::handover::RequestKey;
use super::table::Value::{self, Bool, Minute, Str, F64, I64};
use crate::model::events::{EventLog, ProcId, Socket, Sym};
use crate::rebuild::attribute::ClientCall;
use crate::rebuild::requests::Request;
use crate::rebuild::sockets::Sockets;
use crate::report::callee::{dial_place, machine, ListenerRow};
use crate::report::stats::{call_failed, request_failed};

/// Nanoseconds in a minute.
const MINUTE_NS: i64 = 60_000_000_000;

/// Where a row's time puts it: its wall clock, minute (µs) and date partition.
pub(crate) struct When {
    pub(crate) wall_ns: Option<i64>,
    minute_us: Option<i64>,
    pub(crate) date: String,
}

impl When {
    /// The place of `wall_ns` (none: the recording has no clock).
    pub(crate) fn of(wall_ns: Option<i64>) -> When {
        let minute_us = wall_ns.map(|w| w.div_euclid(MINUTE_NS) * (MINUTE_NS / 1000));
        let date = wall_ns.map_or_else(
            || UNKNOWN_DATE.to_owned(),
            |w| {
                DateTime::from_timestamp_nanos(w)
                    .format("%Y-%m-%d")
                    .to_string()
            },
        );
        When {
            wall_ns,
            minute_us,
            date,
        }
    }
}

/// What names the rows: the first pass's log (strings, processes, clocks) and sockets
/// (network namespaces).
pub(crate) struct Names<'a> {
    pub(crate) log: &'a EventLog,
    pub(crate) sockets: &'a Sockets,
}

impl<'a> Names<'a> {
    fn str(&self, s: Option<Sym>) -> Option<&'a str> {
        s.map(|s| self.log.str(s))
    }

    fn pid(&self, proc: ProcId) -> i64 {
        self.log.process_info(proc).map_or(0, |p| i64::from(p.pid))
    }

    fn host(&self, proc: ProcId) -> &'a str {
        machine(self.log, proc)
    }

    fn netns(&self, proc: ProcId) -> Option<i64> {
        self.sockets.netns(proc)
    }

    /// When something of `proc` at `ts_ns` happened.
    pub(crate) fn when(&self, proc: ProcId, ts_ns: i64) -> When {
        When::of(self.log.wall_clock(proc, ts_ns))
    }

    /// A `calls` row.
    pub(crate) fn call<'r>(
        &'r self,
        call: &ClientCall,
        request: Option<&Request>,
        linked: Option<RequestKey>,
        when: &When,
        dial: Option<&'r DialText>,
    ) -> Vec<Value<'r>> {
        let caller = request.map_or(call.service, |r| r.service);
        Vec::from([
            Str(Some(self.host(call.proc))),
            I64(Some(call.ts_ns)),
            I64(when.wall_ns),
            Minute(when.minute_us),
            I64(Some(self.pid(call.proc))),
            I64(Some(call.goid)),
            I64(self.netns(call.proc)),
            Str(Some(self.log.str(caller))),
            I64(request.map(|r| r.goid)),
            I64(request.map(|r| r.start_ns)),
            Str(request.and_then(|r| self.str(r.method))),
            Str(request.and_then(|r| self.str(r.path))),
            Str(request.and_then(|r| self.str(r.route))),
            Bool(request.map(|r| r.end_ns().is_some())),
            Str(self.str(call.method)),
            Str(self.str(call.path)),
            Str(self.str(call.host)),
            Str(dial.map(|d| d.kind)),
            Str(dial.map(|d| d.host.as_str())),
            Str(dial.and_then(|d| d.ip.as_deref())),
            Str(dial.and_then(|d| d.port.as_deref())),
            I64(call.status.map(i64::from)),
            Bool(Some(call_failed(call))),
            I64(duration(call.ts_ns, call.end_ns)),
            Str(Some(call.attribution.evidence())),
            F64(call.attribution.confidence),
            I64(linked.map(|k| self.pid(k.proc))),
            I64(linked.map(|k| k.goid)),
            I64(linked.map(|k| k.start_ns)),
        ])
    }

    /// How naming reads the address `call` dialled.
    pub(crate) fn dial(&self, call: &ClientCall) -> Option<DialText> {
        self.str(call.host).map(DialText::of)
    }

    /// A `requests` row.
    pub(crate) fn request(&self, r: &Request, called: bool, when: &When) -> Vec<Value<'a>> {
        Vec::from([
            Str(Some(self.host(r.proc))),
            I64(Some(r.start_ns)),
            I64(when.wall_ns),
            Minute(when.minute_us),
            I64(Some(self.pid(r.proc))),
            I64(Some(r.goid)),
            I64(self.netns(r.proc)),
            Str(Some(self.log.str(r.service))),
            Str(self.str(r.method)),
            Str(self.str(r.path)),
            Str(self.str(r.route)),
            Bool(Some(r.end_ns().is_some())),
            I64(duration(r.start_ns, r.end_ns())),
            I64(r.status().map(i64::from)),
            Bool(Some(request_failed(r))),
            Bool(Some(called)),
            Bool(Some(r.carrier)),
            Str(self.str(r.remote)),
            Str(self.str(r.listen_addr)),
        ])
    }

    /// A `connects` row; none for a connection whose own address was not recorded (nothing
    /// can be tied to it).
    pub(crate) fn connect(
        &self,
        proc: ProcId,
        ts_ns: i64,
        s: &Socket,
        when: &When,
    ) -> Option<Vec<Value<'a>>> {
        let local = s.local?;
        Some(Vec::from([
            Str(Some(self.host(proc))),
            I64(Some(ts_ns)),
            I64(when.wall_ns),
            Minute(when.minute_us),
            I64(Some(self.pid(proc))),
            I64(s.netns.or(self.netns(proc))),
            Str(Some(self.log.str(local))),
            Str(self.str(s.remote)),
            Bool(Some(s.loopback)),
        ]))
    }

    /// A `listeners` row.
    pub(crate) fn listener<'r>(
        &'r self,
        row: &'r ListenerRow,
        place: &'r ListenText,
    ) -> Vec<Value<'r>> {
        let l = &row.listener;
        let bound = |t: i64| (t != i64::MIN && t != i64::MAX).then_some(t);
        Vec::from([
            Str(Some(l.machine.as_str())),
            I64(l.netns),
            I64(Some(self.pid(row.proc))),
            Str(Some(l.service.as_str())),
            Str(Some(row.addr.as_str())),
            Str(Some(place.kind)),
            Str(place.host.as_deref()),
            Str(place.ip.as_deref()),
            Str(place.port.as_deref()),
            I64(bound(l.from_ns)),
            I64(bound(l.to_ns)),
            I64(bound(l.from_ns).and_then(|t| self.log.wall_clock(row.proc, t))),
            I64(bound(l.to_ns).and_then(|t| self.log.wall_clock(row.proc, t))),
        ])
    }
}

/// A dialled address as naming reads it, in text.
pub(crate) struct DialText {
    kind: &'static str,
    host: String,
    ip: Option<String>,
    port: Option<String>,
}

impl DialText {
    fn of(dialled: &str) -> DialText {
        let d = dial_place(dialled);
        DialText {
            kind: d.kind,
            host: d.host,
            ip: d.ip.map(|ip| ip.to_string()),
            port: d.port,
        }
    }
}

/// A listening address as naming reads it, in text.
pub(crate) struct ListenText {
    kind: &'static str,
    host: Option<String>,
    ip: Option<String>,
    port: Option<String>,
}

impl ListenText {
    /// How naming reads `addr`; none for an empty one, which names nothing.
    pub(crate) fn of(addr: &str) -> Option<ListenText> {
        let p = crate::report::callee::listen_place(addr)?;
        Some(ListenText {
            kind: p.kind,
            host: p.host,
            ip: p.ip.map(|ip| ip.to_string()),
            port: p.port,
        })
    }
}

/// From `start` to `end`, when the end was seen; never negative (as `analyze quads` measures).
fn duration(start: i64, end: Option<i64>) -> Option<i64> {
    end.map(|end| end.saturating_sub(start).max(0))
}
