//! What the reconstruction's pass hands the export, as it lets calls, requests and connections
//! go: owned copies (symbols, not strings: the names are read from the first pass's log on the
//! writing thread), sent in batches so that the pass never waits on a row.

use std::sync::mpsc::SyncSender;

use crate::model::events::{Event, ProcId, Socket};
use crate::rebuild::attribute::{ClientCall, Counter};
use crate::rebuild::requests::{Request, RequestId, Requests};
use crate::report::quads::QuadOptions;

/// One thing to write.
#[derive(Debug, Clone)]
pub(crate) enum Item {
    /// A call, with the request it counts as made for and the one it caused (when linked
    /// and still kept), as `analyze quads` counts it.
    Call {
        call: ClientCall,
        request: Option<Request>,
        linked: Option<RequestKey>,
    },
    /// A request; `called`: some call counts as made for it.
    Request { request: Request, called: bool },
    /// A connection `proc` made at `ts_ns`.
    Connect {
        proc: ProcId,
        ts_ns: i64,
        socket: Socket,
    },
}

/// What identifies a request in the export: its process, goroutine and start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequestKey {
    pub(crate) proc: ProcId,
    pub(crate) goid: i64,
    pub(crate) start_ns: i64,
}

impl RequestKey {
    fn of(r: &Request) -> Self {
        RequestKey {
            proc: r.proc,
            goid: r.goid,
            start_ns: r.start_ns,
        }
    }
}

/// Items are sent this many at a time.
const BATCH: usize = 4096;

/// The pass's [`Counter`] when exporting: decides what counts as `analyze quads` does (with
/// its default options) and hands everything over.
#[derive(Debug, Default)]
pub(crate) struct Handover {
    options: QuadOptions,
    /// None once the receiver is gone (it failed): the rest is dropped.
    tx: Option<SyncSender<Vec<Item>>>,
    batch: Vec<Item>,
}

impl Handover {
    /// Handing over to `tx`.
    pub(crate) fn new(tx: SyncSender<Vec<Item>>) -> Self {
        Handover {
            options: QuadOptions::default(),
            tx: Some(tx),
            batch: Vec::with_capacity(BATCH),
        }
    }

    fn push(&mut self, item: Item) {
        if self.tx.is_none() {
            return;
        }
        self.batch.push(item);
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        if let Some(tx) = &self.tx {
            if !batch.is_empty() && tx.send(batch).is_err() {
                self.tx = None;
            }
        }
    }
}

impl Drop for Handover {
    fn drop(&mut self) {
        self.flush();
    }
}

impl Counter for Handover {
    fn request_of(&self, call: &ClientCall) -> Option<RequestId> {
        self.options.request_of(call)
    }

    /// As `QuadCounter::call`: a request no longer kept makes the call one made for none, and
    /// a linked request no longer kept leaves it to be named by address.
    fn call(
        &mut self,
        call: &ClientCall,
        requests: &Requests,
        _epoch: i64,
        counted: bool,
    ) -> Option<RequestId> {
        let made_for = self
            .request_of(call)
            .and_then(|r| Some((r, requests.get(r)?)));
        if counted {
            let linked = call.link.and_then(|r| requests.get(r)).map(RequestKey::of);
            self.push(Item::Call {
                call: call.clone(),
                request: made_for.map(|(_, r)| r.clone()),
                linked,
            });
        }
        made_for.map(|(id, _)| id)
    }

    fn request(&mut self, r: &Request, called: bool, counted: bool) {
        if counted {
            self.push(Item::Request {
                request: r.clone(),
                called,
            });
        }
    }

    fn connect(&mut self, e: &Event, s: &Socket) {
        self.push(Item::Connect {
            proc: e.proc,
            ts_ns: e.ts_ns,
            socket: *s,
        });
    }
}
