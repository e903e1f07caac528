//! `analyze replay`: a recording played back as the original write-up's stream (the form
//! `record --live` prints), one block per server request in the order the requests ended,
//! each with the calls analyze attributed to it — so that a recording can be read the way the
//! write-up's `http.bt` printed live, with every kind of evidence rather than the goroutine
//! alone.
//!
//! It keeps the whole reconstruction (every request and call) to group calls by request, so
//! its memory follows the recording's length, unlike `quads` and `calls`.

use quadtrace_schema::stream::{request_block, Callee};

use crate::model::events::EventLog;
use crate::model::span::Period;
use crate::rebuild::attribute::Reconstruction;
use crate::rebuild::requests::RequestId;

/// The method a call without a recorded one is shown with, as the write-up did.
const DEFAULT_METHOD: &str = "GET";

/// The blocks, in the order their requests ended (unended ones last, by start).
pub(crate) fn blocks(log: &EventLog, rec: &Reconstruction, period: Period) -> Vec<String> {
    let mut calls_of: Vec<Vec<usize>> = vec![Vec::new(); rec.requests.started()];
    for (i, call) in rec.calls.iter().enumerate() {
        let slot = call
            .attribution
            .request()
            .and_then(|RequestId(r)| calls_of.get_mut(r as usize));
        if let Some(slot) = slot {
            slot.push(i);
        }
    }
    let inside = |proc, ts| {
        period == Period::ALL || log.wall_clock(proc, ts).is_some_and(|w| period.contains(w))
    };
    let mut requests: Vec<(RequestId, &crate::rebuild::requests::Request)> = rec
        .requests
        .all_with_ids()
        .filter(|(_, r)| inside(r.proc, r.start_ns))
        .collect();
    requests.sort_by_key(|(_, r)| (r.end_ns().unwrap_or(i64::MAX), r.start_ns));
    let text = |s| log.str(s);
    requests
        .iter()
        .map(|(RequestId(id), r)| {
            let calls = calls_of.get(*id as usize).map_or(&[][..], Vec::as_slice);
            let callees: Vec<Callee<'_>> = calls
                .iter()
                .filter_map(|&i| rec.calls.get(i))
                .map(|c| Callee {
                    method: c.method.map_or(DEFAULT_METHOD, text),
                    host: c.host.map_or("", text),
                    url: c.path.map_or("", text),
                })
                .collect();
            request_block(text(r.service), r.path.map_or("", text), &callees)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebuild::attribute::reconstruct;
    use crate::test_support::LogBuilder;

    /// The write-up's demo: /handle calls /echo on the same service, /echo calls nothing; a
    /// call on a goroutine the request spawned counts for it too.
    #[test]
    fn requests_play_back_with_their_calls_in_end_order() {
        let log = LogBuilder::new()
            .server_start(1, 10, "http_demo", 7, ":9932", "/handle")
            .spawn(2, 10, "http_demo", 7, 8)
            .client_start(3, 10, "http_demo", 8, "0.0.0.0:9932", "/echo")
            .server_start(4, 10, "http_demo", 9, ":9932", "/echo")
            .server_end(5, 10, "http_demo", 9)
            .client_end(6, 10, "http_demo", 8, Some(200))
            .server_end(7, 10, "http_demo", 7)
            .build();
        let text = blocks(&log, &reconstruct(&log), Period::ALL).concat();
        assert_eq!(
            text,
            "caller: http_demo\n  caller_path: /echo\ncallee: none\n\n\
             caller: http_demo\n  caller_path: /handle\ncallee:\n  method: GET\n  \
             host: 0.0.0.0:9932\n  url: /echo\n\n"
        );
    }
}
