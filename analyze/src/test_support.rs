//! A compact way to write event sequences in unit tests.
//!
//! Times are in ms for readability ([`LogBuilder::new`]) or in ns where a bound is finer
//! ([`LogBuilder::in_ns`]). Events are on host "host" unless [`LogBuilder::on_host`] says
//! otherwise; the process is its pid there. Requests and calls use method GET unless
//! [`LogBuilder::method`] says otherwise; ends answer 200 unless told.

use crate::model::addr::{interface_ip, is_loopback_addr};
use crate::model::events::{ChanOp, Detail, Event, EventLog, Listed, Socket};

/// Builds an [`EventLog`].
pub struct LogBuilder {
    pub log: EventLog,
    unit_ns: i64,
    method: &'static str,
    host: &'static str,
}

impl ChanOp {
    /// An operation on channel `chan` carrying `value`, on an unbuffered channel.
    pub fn on(chan: i64, value: Option<i64>) -> Self {
        ChanOp {
            chan,
            value,
            qcount: Some(0),
            dataqsiz: Some(0),
            ..ChanOp::default()
        }
    }

    /// The queue state the probe saw.
    pub fn queue(mut self, qcount: i32, dataqsiz: i32) -> Self {
        self.qcount = Some(qcount);
        self.dataqsiz = Some(dataqsiz);
        self
    }

    /// A chosen `select` case.
    pub fn in_select(mut self) -> Self {
        self.in_select = true;
        self
    }
}

impl LogBuilder {
    /// Times in ms.
    pub fn new() -> Self {
        Self {
            log: EventLog::new(),
            unit_ns: 1_000_000,
            method: "GET",
            host: "host",
        }
    }

    /// Times in ns.
    pub fn in_ns() -> Self {
        Self {
            unit_ns: 1,
            ..Self::new()
        }
    }

    /// The host of the events added from now on.
    pub fn on_host(&mut self, host: &'static str) -> &mut Self {
        self.host = host;
        self
    }

    /// The method of the requests and calls started from now on.
    pub fn method(&mut self, method: &'static str) -> &mut Self {
        self.method = method;
        self
    }

    pub fn push(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        goid: i64,
        detail: Detail,
    ) -> &mut Self {
        let proc = self.log.process(self.host, pid);
        let service = self.log.intern(service);
        self.log.note_service(proc, service);
        let e = Event {
            ts_ns: t * self.unit_ns,
            goid,
            proc,
            service,
            detail,
        };
        self.log.push(e);
        self
    }

    pub fn server_start(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        goid: i64,
        listen: &str,
        path: &str,
    ) -> &mut Self {
        self.server_start_ctx(t, pid, service, goid, listen, path, 0)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn server_start_ctx(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        goid: i64,
        listen: &str,
        path: &str,
        ctx: i64,
    ) -> &mut Self {
        let detail = Detail::ServerStart {
            method: Some(self.log.intern(self.method)),
            host: None,
            path: Some(self.log.intern(path)),
            listen_addr: Some(self.log.intern(listen)),
            remote: None,
            ctx,
            grpc: false,
        };
        self.push(t, pid, service, goid, detail)
    }

    /// A request that came over a connection from `remote` (its `remote_addr`); its server's
    /// `Addr` is empty, so that only the socket events say where it listens.
    pub fn server_start_from(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        goid: i64,
        path: &str,
        remote: &str,
    ) -> &mut Self {
        let detail = Detail::ServerStart {
            method: Some(self.log.intern(self.method)),
            host: None,
            path: Some(self.log.intern(path)),
            listen_addr: Some(self.log.intern("")),
            remote: Some(self.log.intern(remote)),
            ctx: 0,
            grpc: false,
        };
        self.push(t, pid, service, goid, detail)
    }

    fn socket(&mut self, local: &str, remote: Option<&str>, netns: Option<i64>) -> Socket {
        Socket {
            local: Some(self.log.intern(local)),
            remote: remote.map(|r| self.log.intern(r)),
            netns,
            loopback: is_loopback_addr(local),
        }
    }

    /// Process `pid` owns a connection from `local` to `remote`, in network namespace `netns`.
    pub fn connect(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        local: &str,
        remote: &str,
        netns: Option<i64>,
    ) -> &mut Self {
        let s = self.socket(local, Some(remote), netns);
        self.push(t, pid, service, 0, Detail::Connect(s))
    }

    /// Process `pid` began listening on `addr`.
    pub fn listen(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        addr: &str,
        netns: Option<i64>,
    ) -> &mut Self {
        let s = self.socket(addr, None, netns);
        self.push(t, pid, service, 0, Detail::Listen(s))
    }

    /// Process `pid` stopped listening on `addr`.
    pub fn listen_end(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        addr: &str,
        netns: Option<i64>,
    ) -> &mut Self {
        let s = self.socket(addr, None, netns);
        self.push(t, pid, service, 0, Detail::ListenEnd(s))
    }

    /// What `quadtrace.processes` would say of process `pid`: its network namespace and that
    /// namespace's addresses.
    pub fn listed(&mut self, pid: i32, netns: i64, addrs: &[&str]) -> &mut Self {
        let listed = Listed {
            service: None,
            netns: Some(netns),
            addrs: addrs.iter().filter_map(|a| interface_ip(a)).collect(),
        };
        self.log.list_process(self.host, pid, listed);
        self
    }

    pub fn server_end(&mut self, t: i64, pid: i32, service: &str, goid: i64) -> &mut Self {
        self.server_end_with(t, pid, service, goid, Some(200), None)
    }

    /// An end with the status written and the route that served the request.
    pub fn server_end_with(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        goid: i64,
        status: Option<i32>,
        route: Option<&str>,
    ) -> &mut Self {
        let route = route.map(|r| self.log.intern(r));
        self.push(
            t,
            pid,
            service,
            goid,
            Detail::ServerEnd {
                status,
                route,
                failed: false,
            },
        )
    }

    pub fn client_start(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        goid: i64,
        host: &str,
        path: &str,
    ) -> &mut Self {
        self.client_start_ctx(t, pid, service, goid, host, path, [0; 4])
    }

    #[allow(clippy::too_many_arguments)]
    pub fn client_start_ctx(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        goid: i64,
        host: &str,
        path: &str,
        ctx: [i64; 4],
    ) -> &mut Self {
        let detail = Detail::ClientStart {
            method: Some(self.log.intern(self.method)),
            host: Some(self.log.intern(host)),
            path: Some(self.log.intern(path)),
            ctx,
        };
        self.push(t, pid, service, goid, detail)
    }

    /// A whole client call: its start, and its end right after.
    pub fn call(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        goid: i64,
        host: &str,
        path: &str,
    ) -> &mut Self {
        self.client_start(t, pid, service, goid, host, path)
            .client_end(t, pid, service, goid, Some(200))
    }

    pub fn client_end(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        goid: i64,
        status: Option<i32>,
    ) -> &mut Self {
        let error = false;
        self.push(t, pid, service, goid, Detail::ClientEnd { status, error })
    }

    /// A round trip that failed without a response.
    pub fn client_error(&mut self, t: i64, pid: i32, service: &str, goid: i64) -> &mut Self {
        let detail = Detail::ClientEnd {
            status: None,
            error: true,
        };
        self.push(t, pid, service, goid, detail)
    }

    pub fn spawn(&mut self, t: i64, pid: i32, service: &str, parent: i64, child: i64) -> &mut Self {
        let detail = Detail::Spawn {
            parent: Some(parent),
            value: None,
        };
        self.push(t, pid, service, child, detail)
    }

    /// A spawn whose new goroutine's function word is `value` (what a timer match compares).
    pub fn spawn_value(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        parent: i64,
        child: i64,
        value: i64,
    ) -> &mut Self {
        let detail = Detail::Spawn {
            parent: Some(parent),
            value: Some(value),
        };
        self.push(t, pid, service, child, detail)
    }

    pub fn send(&mut self, t: i64, pid: i32, service: &str, goid: i64, op: ChanOp) -> &mut Self {
        self.push(t, pid, service, goid, Detail::ChanSend(op))
    }

    /// A receive that got a value.
    pub fn recv(&mut self, t: i64, pid: i32, service: &str, goid: i64, op: ChanOp) -> &mut Self {
        let op = ChanOp {
            completed: true,
            ..op
        };
        self.push(t, pid, service, goid, Detail::ChanRecv(op))
    }

    /// A receive from a closed channel.
    pub fn recv_closed(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        goid: i64,
        op: ChanOp,
    ) -> &mut Self {
        let op = ChanOp {
            completed: false,
            value: None,
            ..op
        };
        self.push(t, pid, service, goid, Detail::ChanRecv(op))
    }

    pub fn timer_arm(
        &mut self,
        t: i64,
        pid: i32,
        service: &str,
        goid: i64,
        callback: i64,
    ) -> &mut Self {
        let detail = Detail::TimerArm {
            value: Some(callback),
        };
        self.push(t, pid, service, goid, detail)
    }

    pub fn build(&mut self) -> EventLog {
        let mut log = std::mem::take(&mut self.log);
        log.sort();
        log
    }
}
