//! `record --live`: prints each request's quadruples as it finishes, in the original write-up's
//! form, so that a user sees the topology while recording.
//!
//! This is a best-effort view (same goroutine and goroutines spawned inside a request); the
//! recording, read by `analyze`, is the reference.

use std::collections::HashMap;
use std::io::Write;

use quadtrace_schema::{stream, EventKind};

use crate::raw_event::Event;

/// Forget spawn lineage beyond this many goroutines, so memory stays bounded on busy services.
const MAX_TRACKED_GOROUTINES: usize = 100_000;

struct Callee {
    method: String,
    host: String,
    path: String,
}

struct OpenRequest {
    service: String,
    path: String,
    callees: Vec<Callee>,
}

/// Tracks open requests per goroutine and prints them when they end.
#[derive(Default)]
pub struct LivePrinter {
    /// (pid, goid) → stack of requests open on that goroutine (handlers may nest).
    open: HashMap<(u32, u64), Vec<OpenRequest>>,
    /// (pid, goid) of a goroutine spawned inside a request → the goroutine serving that request.
    spawned_in: HashMap<(u32, u64), (u32, u64)>,
}

impl LivePrinter {
    fn owner(&self, key: (u32, u64)) -> Option<(u32, u64)> {
        if self.open.get(&key).is_some_and(|s| !s.is_empty()) {
            return Some(key);
        }
        let owner = *self.spawned_in.get(&key)?;
        self.open
            .get(&owner)
            .is_some_and(|s| !s.is_empty())
            .then_some(owner)
    }

    /// Feeds one event of a process named `service` (its own name, not its binary's: two pods
    /// of one binary print as two callers); writes finished requests to `out`.
    pub fn on_event(
        &mut self,
        ev: &Event<'_>,
        service: &str,
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        let key = (ev.pid, ev.goid);
        match ev.kind {
            EventKind::ServerStart => self.open.entry(key).or_default().push(OpenRequest {
                service: service.to_string(),
                path: ev.path.to_string(),
                callees: Vec::new(),
            }),
            EventKind::ClientStart => {
                if let Some(owner) = self.owner(key) {
                    if let Some(req) = self.open.get_mut(&owner).and_then(|s| s.last_mut()) {
                        let method = if ev.method.is_empty() {
                            "GET"
                        } else {
                            &ev.method
                        };
                        req.callees.push(Callee {
                            method: method.to_string(),
                            host: ev.host.to_string(),
                            path: ev.path.to_string(),
                        });
                    }
                }
            }
            EventKind::Spawn => {
                if let Some(owner) = self.owner((ev.pid, ev.parent_goid)) {
                    if self.spawned_in.len() >= MAX_TRACKED_GOROUTINES {
                        self.spawned_in.clear();
                    }
                    self.spawned_in.insert(key, owner);
                }
            }
            EventKind::ServerEnd => {
                let Some(stack) = self.open.get_mut(&key) else {
                    return Ok(());
                };
                let Some(req) = stack.pop() else {
                    return Ok(());
                };
                if stack.is_empty() {
                    self.open.remove(&key);
                }
                print_request(&req, out)?;
            }
            EventKind::ClientEnd
            | EventKind::ChanSend
            | EventKind::ChanRecv
            | EventKind::TimerArm
            | EventKind::Connect
            | EventKind::Listen
            | EventKind::ListenEnd => {}
        }
        Ok(())
    }
}

fn print_request(req: &OpenRequest, out: &mut impl Write) -> std::io::Result<()> {
    let callees: Vec<stream::Callee<'_>> = req
        .callees
        .iter()
        .map(|c| stream::Callee {
            method: &c.method,
            host: &c.host,
            url: &c.path,
        })
        .collect();
    out.write_all(stream::request_block(&req.service, &req.path, &callees).as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventKind, goid: u64, path: &'static str) -> Event<'static> {
        Event::sample(kind, 0, goid, path)
    }

    #[test]
    fn prints_the_demo_in_the_original_form() {
        let mut p = LivePrinter::default();
        let mut out = Vec::new();
        let mut spawn = ev(EventKind::Spawn, 9, "");
        spawn.parent_goid = 7;
        for e in [
            ev(EventKind::ServerStart, 7, "/handle"),
            spawn,
            ev(EventKind::ClientStart, 9, "/echo"),
            ev(EventKind::ServerStart, 8, "/echo"),
            ev(EventKind::ServerEnd, 8, ""),
            ev(EventKind::ClientEnd, 9, ""),
            ev(EventKind::ServerEnd, 7, ""),
        ] {
            p.on_event(&e, "http_demo", &mut out).expect("write");
        }
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "caller: http_demo\n  caller_path: /echo\ncallee: none\n\n\
             caller: http_demo\n  caller_path: /handle\ncallee:\n  method: GET\n  host: 0.0.0.0:9932\n  url: /echo\n\n"
        );
    }
}
