#!/usr/bin/env python3
"""Writes small crafted recordings (schema 4, the columns and metadata of schema/README.md),
each case a directory of one recording per host, to hold the roll-up SQL of schema/sql/ to
`analyze quads` where the synthetic recordings never go: the naming of callees by address
(rule 5 of schema/EXPORT.md), route votes and their ties (rule 1), the funcs of requests whose
end was not recorded (rule 2), carrier and status-101 requests, calls without a recorded end,
and calls dialling a host by its name.

Events are written on one clock for all hosts (`t`, seconds of wall-clock time from BASE_NS);
each host booted `shift` hours before BASE_NS, so its `ts_ns` read `t + shift` hours and its
`quadtrace.boot_wall_ns` is BASE_NS - `shift` hours: hosts' monotonic clocks never agree, their
wall clocks do. A host with `clock=False` says no clock (no `quadtrace.boot_wall_ns`): its ts_ns
is `t` itself, as is every other such host's.

Usage: crafted.py OUTDIR [CASE...]   (writes OUTDIR/CASE/<host>.parquet; the checks by default)

Cases:
  naming   rule 5 across three hosts booted hours apart: exact fits (a named listener, a
           wildcard one by its namespace's IP or its host's name, plain, qualified or
           upper-case, loopback in the caller's namespace), likely ones (loopback, the caller's
           namespace unknown), loose ones (here before elsewhere), several services fitting
           alike (not named), unix sockets (only the caller's host), listeners' time ranges
           (listen/listen_end, one reported within 5 s of its recording's start, one known
           only by its end, a call at the very ns one stops and another starts)
  routes   rules 1 and 2 and counting, a caller and a server on hosts booted apart: route
           votes tied (a route over none, the least by bytes, a non-ASCII one), a winner that
           is "no route" for one method, requests without a recorded end (their funcs, their
           calls), status 101 requests, an h2c carrier and the gRPC request it carried, calls
           without a recorded end (linked, named by address, beside ended ones), failed
           calls and requests, a call to the caller's own host by its name
  noclock  two hosts whose recordings say no clock: the monotonic times as they are, for
           links and listener ranges alike
  change-tie  (not a check) a call at the very ns one listener stops and another begins, which
           `analyze quads` names by the order of the files (see change_tie)
  late-link   (not a check) the routes case and a later host: `analyze` loses a link (see
           late_link)
"""

import json
import importlib.util
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

BASE_NS = 1_796_306_520_000_000_000
S = 1_000_000_000
HOUR_NS = 3600 * S

# The recording columns (schema/README.md), in order: gen-recording.py's, which checks them
# against the schema's table.
_spec = importlib.util.spec_from_file_location(
    "gen_recording", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                  "..", "..", "..", "scripts", "gen-recording.py"))
_gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_gen)
COLUMNS = _gen.COLUMNS


def ns(t):
    """Seconds (int or float, to the µs) as ns."""
    return round(t * 1_000_000) * 1000 if isinstance(t, float) else t * S


class Host:
    """One host's recording: its processes (pid -> service, netns, addrs) and events."""

    def __init__(self, name, shift=0, start=0, end=1000, clock=True, origin=0):
        self.name, self.shift, self.clock, self.origin = name, shift, clock, origin
        self.start, self.end = start, end
        self.procs = {}
        self.unix = {}
        self.rows = []
        self.goids = 100

    def proc(self, pid, service, netns=None, addrs=(), listed=True):
        """A process; listed: in `quadtrace.processes` (else its namespace is unknown unless
        its socket events say)."""
        self.procs[pid] = (service, netns, list(addrs), listed)
        return pid

    def ts(self, t):
        """The host's ts_ns of `t`."""
        return ns(t) + self.origin * S + (self.shift * HOUR_NS if self.clock else 0)

    def goid(self):
        self.goids += 1
        return self.goids

    def ev(self, t, pid, kind, **cols):
        row = dict(cols, ts_ns=self.ts(t), pid=pid,
                   tid=pid, kind=kind, service=self.procs[pid][0], truncated=False)
        row.setdefault("goid", 0)
        self.rows.append(row)

    def listen(self, t, pid, addr, end=None, netns=None):
        """pid listens on addr from t (None: only its end is recorded) until end (None: on)."""
        netns = netns if netns is not None else self.procs[pid][1]
        if t is not None:
            self.ev(t, pid, "listen", local_addr=addr, netns=netns)
        if end is not None:
            self.ev(end, pid, "listen_end", local_addr=addr, netns=netns)

    def listen_unix(self, pid, socket):
        """A unix-domain listener, which only the metadata (`/proc`) tells."""
        self.unix.setdefault(pid, []).append(socket)

    def connect(self, t, pid, local, remote):
        self.ev(t, pid, "connect", local_addr=local, remote_addr=remote,
                netns=self.procs[pid][1])

    def serve(self, t, pid, path, end=None, method="GET", route=None, status=200,
              remote=None, listen=":80", goid=None, grpc_error=None):
        """A server request from t to end (None: its end not recorded); its goroutine."""
        g = goid or self.goid()
        self.ev(t, pid, "server_start", goid=g, method=method, host="example", path=path,
                listen_addr=listen, remote_addr=remote, ctx=g * 16)
        if end is not None:
            self.ev(end, pid, "server_end", goid=g, status=status, route=route,
                    error=grpc_error if method == "GRPC" else False)
        return g

    def call(self, t, pid, goid, dialled, path, end=None, method="GET", status=200,
             error=False):
        """A client call on goroutine goid from t to end (None: its end not recorded)."""
        self.ev(t, pid, "client_start", goid=goid, method=method, host=dialled, path=path,
                ctx=goid * 16 + 1, ctx1=goid * 16, ctx2=0, ctx3=0)
        if end is not None:
            self.ev(end, pid, "client_end", goid=goid, status=None if error else status,
                    error=error)

    def write(self, path):
        self.rows.sort(key=lambda r: r["ts_ns"])
        data = {n: pa.array([r.get(n) for r in self.rows], type=t) for n, t, _ in COLUMNS}
        services = sorted({s for s, _, _, _ in self.procs.values()})
        targets = [{
            "service": s, "exe": f"/srv/{s}", "go_version": "go1.22.5",
            "build_id": f"crafted-{s}", "offsets_source": "dwarf",
            "pids": [p for p, v in self.procs.items() if v[0] == s],
            "listeners": {str(p): a for p, a in self.unix.items() if self.procs[p][0] == s},
        } for s in services]
        processes = [{
            "pid": p, "ns_pid": p, "service": s, "service_source": "exe", "exe": f"/srv/{s}",
            "build_id": f"crafted-{s}", "go_version": "go1.22.5", "pod_hostname": None,
            "container_id": None, "netns": netns, "addrs": addrs,
        } for p, (s, netns, addrs, listed) in sorted(self.procs.items()) if listed]
        meta = {
            "quadtrace.schema_version": "4",
            "quadtrace.recorder_version": "crafted.py",
            "quadtrace.hostname": self.name,
            "quadtrace.kernel": "crafted",
            "quadtrace.time_range_ns": f"{self.ts(self.start)} {self.ts(self.end)}",
            "quadtrace.targets": json.dumps(targets),
            "quadtrace.service": ",".join(services),
            "quadtrace.processes": json.dumps(processes),
            "quadtrace.lost_events": "{}",
            "quadtrace.lost_total": "0",
            "quadtrace.malformed_records": "0",
        }
        if self.clock:
            meta["quadtrace.boot_wall_ns"] = str(BASE_NS - self.shift * HOUR_NS)
        schema = pa.schema([pa.field(n, t, nullable=nl) for n, t, nl in COLUMNS], metadata=meta)
        pq.write_table(pa.table(data, schema=schema), path, compression="zstd")


def naming():
    """Rule 5: client (node-a) calls by address, nothing linked; servers on three hosts."""
    a = Host("node-a", shift=0, start=0, end=400)
    b = Host("node-b", shift=1, start=20, end=400)       # booted an hour before node-a
    c = Host("Node-C.cluster.local", shift=3, start=0, end=400)
    d = Host("NÖDE-D", shift=2, start=0, end=400)         # upper case beyond ASCII

    client = a.proc(101, "client", 1001, ["10.1.0.1/24"])
    a.proc(102, "delta", 1001, ["10.1.0.1/24"])
    a.proc(103, "eps", 1003, ["10.1.0.3/24"])
    nons = a.proc(104, "nons", listed=False)
    a.proc(105, "iota", 1005)
    a.proc(106, "kappa", 1001)
    a.proc(107, "zeta", 1001)
    a.proc(108, "eta", 1008)
    a.listen(1, 102, "127.0.0.1:8004")
    a.listen(1, 103, ":8004")
    a.listen(1, 105, ":8006")
    a.listen_unix(106, "unix:/run/k.sock")
    a.listen(1, 107, "127.0.0.1:8005")
    a.listen(1, 108, "127.0.0.1:8005")

    b.proc(201, "alpha", 2001, ["10.2.0.1/24"])
    b.proc(202, "gamma", 2002, ["10.2.0.2/24", "fd00::2/64"])
    b.proc(203, "theta", 2003)
    b.proc(204, "mu", 2004, ["10.2.0.4/24"])
    b.proc(205, "nu", 2005, ["10.2.0.5/24"])
    b.proc(206, "lambda", 2006)
    b.proc(207, "omicron", 2007)
    b.proc(208, "pi", 2008)
    b.proc(209, "mu2", 2009)
    b.listen(21, 201, "10.2.0.1:8001")
    b.listen(21, 202, "[::]:8002")
    b.listen(21, 203, ":8006")
    b.listen(21, 203, "0.0.0.0:8007")
    b.listen(100, 204, ":8009", end=200)
    b.listen(200, 205, ":8009")
    b.listen(300, 205, ":8009")                       # the same socket reported again
    b.listen_unix(206, "unix:/run/k.sock")
    b.listen(21, 207, ":8008")
    b.listen(24, 208, ":8010")                        # within 5 s of node-b's start (20 s)
    b.proc(210, "phi", 2010, ["10.2.0.10/24"])        # pods on one node, one port each
    b.proc(211, "chi", 2011, ["10.2.0.11/24"])
    b.proc(212, "phi", 2012, ["10.2.0.12/24"])
    b.listen(21, 210, ":8013")
    b.listen(21, 211, ":8013")
    b.listen(21, 210, ":8014")
    b.listen(21, 212, ":8014")
    b.listen(None, 209, ":8011", end=60)              # known only by its end
    b.listen(120, 209, ":8011", end=155)

    c.proc(301, "beta", 3001)
    c.proc(302, "rho", 3002)
    c.proc(303, "sigma", 3003, ["10.3.0.3/24"])
    c.listen(1, 301, ":8001")
    c.listen(1, 302, ":8008")
    c.listen(1, 303, ":8003")
    c.proc(304, "upsilon", 3004)
    c.listen(1, 304, ":8012")                          # loosely, for any name

    d.proc(410, "tau", 4001)
    d.listen(1, 410, ":8012")

    # (t, caller, dialled, path): each on a goroutine of its own, made for no request; a few
    # from inside a request of client's.
    calls = [
        (30, client, "10.2.0.1:8001", "/a"),          # alpha exact; beta only loose
        (31, client, "10.2.0.2:8002", "/g"),          # gamma by its namespace's IP
        (32, client, "[fd00::2]:8002", "/g6"),        # gamma by its IPv6 address
        (33, client, "10.9.9.9:8002", "/g"),          # gamma's addresses known: none fits
        (34, client, "node-b:8002", "/g"),            # gamma by its host's name
        (35, client, "NODE-B.example.com.:8002", "/g"),  # qualified, upper case, dot
        (36, client, "svc-g:8002", "/g"),             # a name: loosely, elsewhere
        (37, client, "node-c:8003", "/s"),            # sigma: the host's first label
        (38, client, "node-c.cluster.local:8003", "/s"),
        (39, client, "localhost:8004", "/d"),         # delta exact (client's namespace)
        (40, client, "[::1]:8004", "/d"),
        (41, client, "127.0.0.1:8005", "/z"),         # zeta exact, eta another namespace
        (42, client, "0.0.0.0:8005", "/z"),
        (43, nons, "localhost:8005", "/z"),           # namespace unknown: both likely
        (44, nons, "localhost:8004", "/d"),           # delta and eps likely
        (45, client, "svc-i:8006", "/i"),             # iota here beats theta elsewhere
        (46, client, "10.7.7.7:8006", "/i"),          # an IP no namespace holds: loosely
        (47, client, "svc-t:8007", "/t"),             # theta, loosely elsewhere
        (48, client, "svc-o:8008", "/o"),             # omicron and rho alike: not named
        (49, client, "unix:/run/k.sock", "/k"),       # kappa; lambda's is another host's
        (50, client, "unix:///run/k.sock", "/k"),
        (51, client, "unix:/run/other.sock", "/k"),
        (52, client, "svc-m:8009", "/m"),             # before mu listens
        (150, client, "svc-m:8009", "/m"),            # mu
        (199.999, client, "node-b:8009", "/m"),       # mu, still
        (200, client, "svc-m:8009", "/m"),            # mu stopped, nu began: nu
        (250, client, "svc-m:8009", "/m"),            # nu
        (15, client, "svc-p:8010", "/p"),             # before node-b's recording began
        (22, client, "svc-p:8010", "/p"),             # pi, taken as listening since 20 s
        (30.5, client, "svc-x:8011", "/x"),           # mu2, since before anything
        (70, client, "svc-x:8011", "/x"),             # none
        (130, client, "svc-x:8011", "/x"),            # mu2 again
        (53, client, "10.2.0.2:8001", "/a"),          # alpha is another IP's: beta loosely
        (54, client, "nÖde-d:8012", "/n"),            # tau by its host's name (ASCII case)
        (55, client, "NÖDE-D:8012", "/n"),
        (56, client, "node-b:8009", "/m"),            # by host name, before mu
        (160, client, "node-b:8009", "/m"),           # by host name: mu
        (57, client, "", "/e"),                       # an empty host: loopback, port 80
        (58, client, "no-such:9999", "/q"),
        (59, client, "node-b:8013", "/c"),            # phi and chi by the host's name: not named
        (59.1, client, "10.2.0.11:8013", "/c"),       # chi by its pod's IP
        (59.2, client, "node-b:8014", "/c"),          # two pods of phi: phi
    ]
    for t, pid, dialled, path in calls:
        g = a.goid()
        a.call(t, pid, g, dialled, path, end=t + 0.002)
    # Inside requests of client's: caller_func is the request's route or path.
    g = a.serve(60, client, "/front", end=61, route="GET /front")
    a.call(60.1, client, g, "node-b:8002", "/g", end=60.2)
    a.call(60.3, client, g, "svc-o:8008", "/o", end=60.5, status=503)
    g = a.serve(62, client, "/plain", end=63)
    a.call(62.1, client, g, "localhost:8004", "/d", end=62.2, error=True)
    return [a, b, c, d]


def routes():
    """Rules 1 and 2, counting: front (rt-a) calls svc (rt-b, booted five hours before). From
    1000 s on: after the other cases, so that these and the naming case's hosts can be given to
    analyze together (see ORDERED)."""
    a = Host("rt-a", shift=0, start=0, end=100, origin=1000)
    b = Host("rt-b", shift=5, start=0, end=100, origin=1000)
    front = a.proc(401, "front", 4001, ["10.4.0.1/24"])
    svc = b.proc(501, "svc", 5001, ["10.5.0.1/24"])
    b.listen(1, svc, ":9000")
    unrec = iter(range(50000, 60000))

    def served(t, path, route=None, method="GET", end=True, status=200):
        """A request of svc from an unrecorded client."""
        return b.serve(t, svc, path, end=t + 0.004 if end else None, method=method,
                       route=route, status=status, remote=f"10.99.0.1:{next(unrec)}",
                       listen=":9000")

    # Votes. GET /t1: R/b twice, R/a twice: R/a. GET /t2: none once, R/x once: R/x.
    for i, r in enumerate(["R/b", "R/a", "R/b", "R/a"]):
        served(2 + i * 0.01, "/t1", r)
    served(3, "/t2", None)
    served(3.01, "/t2", "R/x")
    # /t3: GET none twice, R/y once (winner: no route); POST R/z three times.
    for i, r in enumerate([None, "R/y", None]):
        served(4 + i * 0.01, "/t3", r)
    for i in range(3):
        served(4.1 + i * 0.01, "/t3", "R/z", method="POST")
    # GET /t4: a non-ASCII route against an ASCII one, tied: the least by bytes (R/z4).
    served(5, "/t4", "R/é")
    served(5.01, "/t4", "R/z4")
    # Requests whose end was not recorded: their funcs by the votes.
    served(6, "/t1", end=False)                      # R/a
    served(6.01, "/t3", method="PUT", end=False)      # any method: R/z
    served(6.02, "/t3", end=False)                   # GET's winner is no route: /t3
    served(6.03, "/t2", method="DELETE", end=False)  # any method: R/x
    served(6.04, "/t9", end=False)                   # never ended: /t9
    # Status 101 (not counted when it calls nothing), failures.
    served(7, "/ws", status=101)
    served(7.01, "/t5", "R/5", status=500)
    served(7.02, "/t5", "R/5", status=503)
    served(7.03, "/t5", "R/5")

    # front's own requests and their calls to svc.
    port = iter(range(40000, 41000))

    def linked(t, g, path, method="GET", end=0.003, dialled="rt-b:9000", status=200,
               error=False, route=None, served_end=0.002):
        """A call of front's on goroutine g that svc serves over a new connection."""
        local = f"10.4.0.1:{next(port)}"
        a.call(t, front, g, dialled, path, method=method,
               end=None if end is None else t + end, status=status, error=error)
        a.connect(t + 0.0001, front, local, "10.5.0.1:9000")
        b.serve(t + 0.0005, svc, path, method=method, route=route, remote=local,
                listen=":9000", end=None if served_end is None else t + served_end)

    g = a.serve(10, front, "/page", end=11, route="GET /page")
    linked(10.1, g, "/l1", route="R/l1")
    linked(10.2, g, "/l2", end=None, route="R/l2")           # no end recorded: still linked
    a.call(10.3, front, g, "rt-b:9000", "/t2", end=None)      # unlinked, no end: by address
    a.call(10.4, front, g, "rt-b:9000", "/t3", end=10.41)     # GET /t3: no route won
    a.call(10.5, front, g, "rt-b:9000", "/t3")                # and without an end
    a.call(10.6, front, g, "rt-b:9000", "/t3", method="PUT", end=10.61)   # by path: R/z
    a.call(10.7, front, g, "rt-b:9000", "/t4", end=10.71, error=True)
    a.call(10.8, front, g, "rt-b:9000", "/t9", end=10.81, status=502)
    a.call(10.9, front, g, "rt-a:80", "/self", end=10.91)      # front's host, by name
    a.call(10.95, front, g, "rt-a", "/self", end=10.96)        # no port: 80
    # front's requests whose end was not recorded take their route by the votes, and so do
    # their calls' caller_func.
    g = a.serve(12, front, "/page")
    a.call(12.1, front, g, "rt-b:9000", "/t1", end=12.11)
    g = a.serve(13, front, "/other")
    a.call(13.1, front, g, "rt-b:9000", "/t1", end=13.11)
    # A request switching protocols that called something: its call counts, it does not.
    g = a.serve(14, front, "/upgrade", end=14.5, status=101)
    linked(14.1, g, "/l1", route="R/l1")
    # An h2c carrier: svc's HTTP request POST /pkg.S/M carries the gRPC request of the same
    # path; front's gRPC call is linked to the carrier (the one with the client's address).
    g = a.serve(15, front, "/rpc", end=16, route="GET /rpc")
    local = f"10.4.0.1:{next(port)}"
    a.call(15.1, front, g, "10.5.0.1:9000", "/pkg.S/M", method="GRPC", end=15.2, status=0)
    a.connect(15.1001, front, local, "10.5.0.1:9000")
    carrier = b.serve(15.101, svc, "/pkg.S/M", method="POST", remote=local, listen=":9000")
    b.serve(15.102, svc, "/pkg.S/M", method="GRPC", end=15.15, status=0, listen=":9000")
    b.ev(15.16, svc, "server_end", goid=carrier, status=200, error=False)
    # A gRPC request failing (status 13), called by nobody recorded.
    b.serve(16, svc, "/pkg.S/N", method="GRPC", end=16.01, status=13, grpc_error=True,
            listen=":9000")
    # A request that called nothing and whose end was not recorded: GET /page by the votes.
    a.serve(16.5, front, "/page")
    # Made for no request: front's own.
    g = a.goid()
    a.call(17, front, g, "rt-b:9000", "/t1", end=17.01)
    g = a.goid()
    linked(17.1, g, "/l1", route="R/l1", served_end=None)      # its request never ended
    return [a, b]


def noclock():
    """Two hosts without a clock: a call linked across by the monotonic times, and one named
    by a listener whose range is on the other host's monotonic clock."""
    a = Host("nc-a", start=0, end=100, clock=False)
    b = Host("nc-b", start=0, end=100, clock=False)
    front = a.proc(601, "front", 6001, ["10.6.0.1/24"])
    back = b.proc(701, "back", 7001, ["10.7.0.1/24"])
    b.listen(1, back, ":9000")
    b.listen(30, back, ":9100", end=40)
    g = a.serve(10, front, "/p", end=11, route="GET /p")
    a.call(10.1, front, g, "nc-b:9000", "/b", end=10.2)
    a.connect(10.101, front, "10.6.0.1:40000", "10.7.0.1:9000")
    b.serve(10.102, back, "/b", end=10.15, route="GET /b", remote="10.6.0.1:40000",
            listen=":9000")
    for t in (20, 35, 45):
        a.call(t, front, a.goid(), "nc-b:9100", "/c", end=t + 0.01)
    return [a, b]


def change_tie():
    """Not a check: where `analyze quads` disagrees with itself (kept to show it). old
    listens on :8009 until 20 s, new from 20 s (node-y); client (node-x) calls it at 15 s and
    at the very ns of the change. `analyze calls` names the second call new (a listener holds
    from its start up to but not at its end); `analyze quads node-x.parquet node-y.parquet`
    counts it as old, `analyze quads node-y.parquet node-x.parquet` as new: its streaming
    count puts a call in the epoch of the listener events read before it, and names the
    group by its first call's time."""
    x = Host("node-x", shift=0, start=0, end=100)
    y = Host("node-y", shift=1, start=0, end=100)
    client = x.proc(801, "client", 8001, ["10.8.0.1/24"])
    y.proc(901, "old", 9001)
    y.proc(902, "new", 9002)
    y.listen(10, 901, ":8009", end=20)
    y.listen(20, 902, ":8009")
    for t in (15, 20):
        x.call(t, client, x.goid(), "svc:8009", "/m", end=t + 0.001)
    return [x, y]


def late_link():
    """Not a check: where `analyze` loses a link (kept to show it). The routes case, and a host
    whose only event, a listener beginning, comes 300 s after them. `analyze quads` over the
    routes hosts alone links 5 calls; with this one too, 4: front's call GET /l2, which has no
    recorded end, is counted at the end of the events, and by then the request it caused, which
    ended, was let go (180 s after its end, since no call was made *for* it); `analyze calls`
    shows it unlinked as well."""
    later = Host("later", shift=0, start=0, end=1500)
    later.proc(990, "later", 9990)
    later.listen(1300, 990, ":7000")
    return routes() + [later]


CASES = {"naming": naming, "routes": routes, "noclock": noclock, "change-tie": change_tie,
         "late-link": late_link}
DEFAULT = ["naming", "routes", "noclock"]
# The cases that may be given to analyze together, as one fleet (their pids, ports and
# addresses apart), routes last in time: its call without an end that is linked to a request
# must be counted less than 180 s after that request ended, or `analyze` (which lets an ended
# request go 180 s after its end unless a call was made *for* it) counts the call as unlinked.
ORDERED = ["naming", "routes"]


def main():
    out, names = sys.argv[1], sys.argv[2:] or DEFAULT
    for name in names:
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        for host in CASES[name]():
            host.write(os.path.join(d, host.name + ".parquet"))


if __name__ == "__main__":
    main()
