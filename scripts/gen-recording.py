#!/usr/bin/env python3
"""Writes a synthetic quadtrace recording (schema 4, or 3) of N events, for benchmarking `analyze`.

Usage: scripts/gen-recording.py [--events N] [--concurrency C] [--schema 3|4]
                                [--segment-events S [--jobs J]] [--host NAME] OUT.parquet
       (default 50,000,000 events, schema 4; needs pyarrow and numpy)

With --host NAME the recording is of host NAME (`quadtrace.hostname`, "synthetic" without it),
so that a synthetic fleet is N recordings made with N names (scripts/bench-fleet.sh). The rows
are the same whatever the name; the host's own address in `quadtrace.processes` (10.0.0.1
without --host) is one of its own, 10.B.C.1 with B.C the number the name ends in plus one (host
7: 10.0.8.1; a name without digits: a hash of it), so that no address of one synthetic host is
another's. Pids and the network namespace's inode stay the same on every host, as the init
namespace's inode and low pids repeat across real machines: what tells processes apart is
(host, pid).

With --segment-events S the recording is written as `record --rotate-size` leaves it: segments
OUT-stem.00001.parquet, OUT-stem.00002.parquet, ... (record/src/segments.rs's names) of S events
each (the last holds the rest), segment k holding rows (k-1) S .. k S - 1 of the very rows the
one file would have, in the same order, with the metadata of a segment: `quadtrace.segment` = k,
its own `quadtrace.time_range_ns` (from where the previous one ended; the cut is placed at the
nominal time of its first row) and its own counts; the socket events only in the first, as
`record` writes them once. So `analyze quads OUT-stem.*.parquet` sees the one recording. Each
segment can be written on its own (the rows from any point on are the same whatever the start),
J at a time in worker processes. Memory stays small whatever N: rows are made a chunk of
--chunk-requests requests at a time (default 8192, about 290k rows) and written in row groups of
2^20 rows, as record writes them; a process holds about one row group and one chunk (a few
hundred MB).

The file has the columns, types, nullability and metadata of `record`'s recordings
(schema/README.md; the column table is read from there and checked against the one below), and
reads like four recorded services on one host:

  front (pid 1001, 127.0.0.1:8080) serves GET /page/<n>, route "GET /page/{id}"; each request
    - calls users   GET /users/<n>  on its own goroutine            (same_goroutine evidence)
    - spawns a goroutine that calls orders GET /orders              (spawned)
    - hands a job over a buffered channel to one of 8 pool workers,
      which calls audit POST /audit and answers on a reply channel  (channel)
    and every client call has the transport's two channel operations (read loop -> caller).
  users, orders, audit (pids 1002-1004) serve those calls; each spawns its connection goroutine.
  A ticker goroutine of front calls audit GET /health every 16 requests (attributed to none).

That is 35 events per request (4 spawns, 14 channel operations; 35.3 with the ticker), each
request 45 us long and C in flight (default 8), with goroutine ids, context and channel addresses
unique per request. With schema 4, the recording begins with the socket events `record` writes
when it first sees the processes (each service listening, and front's keep-alive connections:
C to each downstream service, one for the ticker; request n uses the n mod C-th), and each
downstream request carries the address of the front connection it came over (front's own
requests come from an unrecorded client), so that analyze links every call to the request it
caused and the quadruples are those of schema 3. Rows are
written in ts_ns order within each chunk of requests (chunks overlap by less than one request,
as a real recording's CPUs do). Deterministic: the same N gives the same file (and the same
chunk size the same rows).
"""

import argparse
import contextlib
import json
import multiprocessing
import os
import re
import sys
import time
import zlib

try:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
except ImportError as e:  # pragma: no cover
    sys.exit(f"gen-recording: {e}; install with: pip install pyarrow numpy")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name, arrow type, nullable: as in schema/src/lib.rs (checked against schema/README.md below).
COLUMNS = [
    ("ts_ns", pa.int64(), False), ("pid", pa.int32(), False), ("tid", pa.int32(), False),
    ("goid", pa.int64(), False), ("kind", pa.string(), False), ("service", pa.string(), False),
    ("method", pa.string(), True), ("host", pa.string(), True), ("path", pa.string(), True),
    ("listen_addr", pa.string(), True), ("status", pa.int32(), True), ("error", pa.bool_(), True),
    ("parent_goid", pa.int64(), True), ("ctx", pa.int64(), True),
    ("truncated", pa.bool_(), False), ("ctx1", pa.int64(), True), ("ctx2", pa.int64(), True),
    ("ctx3", pa.int64(), True), ("chan", pa.int64(), True), ("value", pa.int64(), True),
    ("qcount", pa.int32(), True), ("dataqsiz", pa.int32(), True), ("sendx", pa.int32(), True),
    ("recvx", pa.int32(), True), ("in_select", pa.bool_(), True), ("completed", pa.bool_(), True),
    ("route", pa.string(), True), ("remote_addr", pa.string(), True),
    ("local_addr", pa.string(), True), ("netns", pa.int64(), True),
    ("receiver_goid", pa.int64(), True),
]
# The schema version that added each column, when later than 1 (schema/src/lib.rs `since`).
SINCE = {"ctx1": 2, "ctx2": 2, "ctx3": 2, "chan": 2, "value": 2, "qcount": 2, "dataqsiz": 2,
         "sendx": 2, "recvx": 2, "in_select": 2, "completed": 2, "route": 3, "remote_addr": 4,
         "local_addr": 4, "netns": 4, "receiver_goid": 4}
README_TYPES = {"int64": pa.int64(), "int32": pa.int32(), "string": pa.string(), "bool": pa.bool_()}


def check_schema_readme():
    """Refuses to run if schema/README.md's column table no longer matches COLUMNS."""
    path = os.path.join(REPO, "schema", "README.md")
    with open(path, encoding="utf-8") as f:
        rows = re.findall(r"^\| `(\w+)` \| (\w+) \| (yes|no) \|", f.read(), re.M)
    documented = [(n, README_TYPES.get(t), nl == "yes") for n, t, nl in rows]
    if documented != COLUMNS:
        sys.exit(f"gen-recording: {path} lists other columns than this script; update COLUMNS")


def columns(schema):
    """The columns a `record` of that schema version wrote."""
    return [c for c in COLUMNS if SINCE.get(c[0], 1) <= schema]


SERVICES = {  # pid: (service, listen address)
    1001: ("front", "127.0.0.1:8080"),
    1002: ("users", "127.0.0.1:8081"),
    1003: ("orders", "127.0.0.1:8082"),
    1004: ("audit", "127.0.0.1:8083"),
}
KINDS = ["server_start", "server_end", "client_start", "client_end", "spawn", "chan_send",
         "chan_recv", "timer_arm", "connect", "listen", "listen_end"]
NETNS = 4026531840  # every process in the host's network namespace
# Where front's connections come from: to users, orders and audit C each (base + n mod C), and
# the ticker's own to audit (base + 3 C).
CONN_BASE = 40_000
SS, SE, CS, CE, SP, CSND, CRCV = range(7)
USERS = 5000   # distinct /users/<n> and /page/<n> paths
WORKERS = 8
TICK_EVERY = 16
REQUEST_NS = 45_000  # a front request's duration; requests start REQUEST_NS / concurrency apart

# One request's events: (t_us, pid, goroutine, kind, what). Goroutines: h (front handler), s
# (spawned by h), w (pool worker), r (front's connection read loop), u/o/a (downstream handlers).
# `what` names the strings and pointers the event carries; see columns_for().
TEMPLATE = [
    (0, 1001, "h", SP, "spawn_h"),
    (1, 1001, "h", SS, "front_in"),
    (3, 1001, "h", CS, "call_users"),
    (4, 1002, "u", SP, "spawn_u"),
    (5, 1002, "u", SS, "users_in"),
    (12, 1002, "u", SE, "users_out"),
    (13, 1001, "r", CSND, "resp_users"),
    (14, 1001, "h", CRCV, "resp_users"),
    (15, 1001, "h", CE, "ok"),
    (16, 1001, "s", SP, "spawn_s"),
    (17, 1001, "h", CSND, "job"),
    (18, 1001, "w", CRCV, "job"),
    (19, 1001, "s", CS, "call_orders"),
    (20, 1001, "w", CS, "call_audit"),
    (21, 1003, "o", SP, "spawn_o"),
    (22, 1003, "o", SS, "orders_in"),
    (23, 1004, "a", SP, "spawn_a"),
    (24, 1004, "a", SS, "audit_in"),
    (29, 1003, "o", SE, "orders_out"),
    (30, 1001, "r", CSND, "resp_orders"),
    (31, 1001, "s", CRCV, "resp_orders"),
    (32, 1001, "s", CE, "ok"),
    (33, 1004, "a", SE, "audit_out"),
    (34, 1001, "r", CSND, "resp_audit"),
    (35, 1001, "w", CRCV, "resp_audit"),
    (36, 1001, "w", CE, "ok"),
    (37, 1001, "w", CSND, "reply"),
    (38, 1001, "h", CRCV, "reply"),
    (39, 1001, "s", CSND, "done"),
    (40, 1001, "h", CRCV, "done"),
    (41, 1001, "h", CSND, "ack"),
    (42, 1001, "r", CRCV, "ack"),
    (43, 1001, "r", CSND, "close"),
    (44, 1001, "h", CRCV, "close"),
    (45, 1001, "h", SE, "front_out"),
]
TICK = [  # every TICK_EVERY requests, on front's ticker goroutine t and audit's handler b
    (2, 1001, "t", CS, "call_health"),
    (6, 1004, "b", SP, "spawn_b"),
    (7, 1004, "b", SS, "health_in"),
    (9, 1004, "b", SE, "health_out"),
    (11, 1001, "t", CE, "ok"),
]


class Dict:
    """A string column built as dictionary indices (decoded to plain utf8 when written)."""

    def __init__(self):
        self.values, self.index = [], {}

    def id(self, s):
        if s not in self.index:
            self.index[s] = len(self.values)
            self.values.append(s)
        return self.index[s]


def conn_addr(k):
    return f"127.0.0.1:{CONN_BASE + k}"


def build_chunk(first, units, conc, dicts, schema):
    """Events of requests first..first+units-1 plus their ticks, as a pyarrow Table (unsorted)."""
    u = np.arange(first, first + units, dtype=np.int64)
    ticks = u[u % TICK_EVERY == 0]
    period = REQUEST_NS // conc
    cols = {name: [] for name, _, _ in columns(schema)}
    masks = {name: [] for name, _, nullable in columns(schema) if nullable}

    def goid(g, reqs):
        return {
            "h": 10_000 + 3 * reqs, "s": 10_001 + 3 * reqs, "r": 50 + reqs % 4,
            "w": 100 + reqs % WORKERS, "u": 10_000 + reqs, "o": 10_000 + reqs,
            "a": 10_000 + 2 * reqs, "b": 10_001 + 2 * reqs, "t": np.full_like(reqs, 90),
        }[g]

    heap = 0xC0_0000_0000

    def ptr(reqs, slot):
        # Distinct, 16-byte aligned Go heap addresses per request and slot, scattered over 4 GiB
        # as a real heap's are (x -> x * odd mod 2^28 is a bijection, so no two collide).
        x = (reqs * 64 + slot) * 0x9E3779B1 % (1 << 28)
        return heap + x * 16

    def jitter(reqs, i):
        # Under 1 us, so a request's own events keep their order (template steps are 1 us).
        return (reqs * 2654435761 + i * 40503) % 900

    for template, reqs in ((TEMPLATE, u), (TICK, ticks)):
        n = len(reqs)
        if n == 0:
            continue
        for i, (t_us, pid, g, kind, what) in enumerate(template):
            def put(name, values, present=True):
                if name not in cols:  # a column this schema version predates
                    return
                cols[name].append(np.broadcast_to(values, (n,)))
                if name in masks:
                    masks[name].append(np.broadcast_to(not present, (n,)))

            service, listen = SERVICES[pid]
            put("ts_ns", 1_000_000_000 + reqs * period + t_us * 1000 + jitter(reqs, i))
            put("pid", np.int64(pid))
            put("tid", pid + (reqs * 7 + i) % 6)
            put("goid", goid(g, reqs))
            put("kind", np.int64(dicts["kind"].id(KINDS[kind])))
            put("service", np.int64(dicts["service"].id(service)))
            put("truncated", False)
            strings = {"method": None, "host": None, "path": None, "listen_addr": None,
                       "route": None, "remote_addr": None, "local_addr": None}
            ints = {"status": None, "error": None, "parent_goid": None, "ctx": None,
                    "ctx1": None, "ctx2": None, "ctx3": None, "chan": None, "value": None,
                    "qcount": None, "dataqsiz": None, "sendx": None, "recvx": None,
                    "in_select": None, "completed": None, "netns": None, "receiver_goid": None}
            if kind == SS:
                method, path = {
                    "front_in": ("GET", None), "users_in": ("GET", None),
                    "orders_in": ("GET", "/orders"), "audit_in": ("POST", "/audit"),
                    "health_in": ("GET", "/health"),
                }[what]
                strings.update(method=method, host=listen, listen_addr=listen)
                if what == "front_in":
                    strings["path"] = ("page", reqs % USERS)
                elif what == "users_in":
                    strings["path"] = ("users", reqs % USERS)
                else:
                    strings["path"] = path
                ints["ctx"] = ptr(reqs, {"front_in": 0, "users_in": 1, "orders_in": 2,
                                         "audit_in": 3, "health_in": 4}[what])
                # The client's address: the front connection the request came over.
                if what == "front_in":
                    strings["remote_addr"] = ("ids", [f"10.9.0.1:{50_000 + k}"
                                                      for k in range(conc)], reqs % conc)
                elif what == "health_in":
                    strings["remote_addr"] = conn_addr(3 * conc)
                else:
                    base = {"users_in": 0, "orders_in": conc, "audit_in": 2 * conc}[what]
                    strings["remote_addr"] = ("ids", [conn_addr(base + k) for k in range(conc)],
                                              reqs % conc)
            elif kind == SE:
                ints["status"] = np.int64(200)
                strings["route"] = {"front_out": "GET /page/{id}", "users_out": "GET /users/{id}",
                                    "orders_out": "GET /orders", "audit_out": "POST /audit",
                                    "health_out": "GET /health"}[what]
            elif kind == CS:
                target = {"call_users": 1002, "call_orders": 1003, "call_audit": 1004,
                          "call_health": 1004}[what]
                strings["host"] = SERVICES[target][1]
                strings["method"] = "POST" if what == "call_audit" else "GET"
                strings["path"] = {"call_users": ("users", reqs % USERS),
                                   "call_orders": "/orders", "call_audit": "/audit",
                                   "call_health": "/health"}[what]
                slot = {"call_users": 5, "call_orders": 6, "call_audit": 7, "call_health": 8}
                ints["ctx"] = ptr(reqs, slot[what])
                # users and orders calls carry the request's context; the pool worker and the
                # ticker use context.Background().
                parent = ptr(reqs, 0) if what in ("call_users", "call_orders") else np.int64(0)
                ints.update(ctx1=parent, ctx2=np.int64(0), ctx3=np.int64(0))
            elif kind == CE:
                ints.update(status=np.int64(200), error=False)
            elif kind == SP:
                ints["parent_goid"] = goid("h", reqs) if what == "spawn_s" else np.int64(1)
                ints["value"] = ptr(reqs, 9)
            else:  # channel operations
                chan_slot = {"resp_users": 10, "resp_orders": 11, "resp_audit": 12, "reply": 13,
                             "done": 14, "ack": 15, "close": 16}
                if what == "job":
                    # The pool's one job channel (buffer 64), paired FIFO by analyze.
                    ints["chan"] = np.int64(heap - 4096)
                    ints["value"] = ptr(reqs, 20)
                    ints["dataqsiz"] = np.int64(64)
                    if kind == CSND:
                        ints.update(qcount=np.int64(0), sendx=reqs % 64, recvx=reqs % 64)
                    else:
                        ints.update(qcount=np.int64(0), sendx=(reqs + 1) % 64,
                                    recvx=(reqs + 1) % 64)
                else:
                    ints["chan"] = ptr(reqs, chan_slot[what])
                    ints["value"] = ptr(reqs, 21) if what.startswith("resp") else np.int64(1)
                    ints["dataqsiz"] = np.int64(1 if what.startswith("resp") else 0)
                    ints.update(qcount=np.int64(0), sendx=np.int64(0), recvx=np.int64(0))
                ints["in_select"] = what in ("resp_users", "resp_orders", "resp_audit", "ack")
                if kind == CRCV:
                    ints["completed"] = True
            for name, v in strings.items():
                if v is None:
                    put(name, np.int64(0), present=False)
                elif isinstance(v, tuple) and v[0] == "ids":
                    _, values, index = v
                    ids = np.array([dicts[name].id(x) for x in values], dtype=np.int64)
                    put(name, ids[index])
                elif isinstance(v, tuple):
                    base, k = v
                    ids = np.array([dicts[name].id(f"/{base}/{i}") for i in range(USERS)],
                                   dtype=np.int64)
                    put(name, ids[k])
                else:
                    put(name, np.int64(dicts[name].id(v)))
            for name, v in ints.items():
                if v is None:
                    put(name, np.int64(0), present=False)
                else:
                    put(name, v)

    order = np.argsort(np.concatenate(cols["ts_ns"]), kind="stable")
    return table(schema, dicts, Sorted(cols, order), Sorted(masks, order))


class Sorted:
    """Columns as lists of pieces, each joined and put in `order` only when taken (pop), so that
    one column at a time is held twice, not the whole chunk."""

    def __init__(self, pieces, order):
        self.pieces, self.order = pieces, order

    def pop(self, name):
        return np.concatenate(self.pieces.pop(name))[self.order]


def table(schema, dicts, values_of, masks):
    """Columns of dictionary indices, numbers and null masks as a pyarrow Table."""
    arrays = []
    for name, ty, nullable in columns(schema):
        values = values_of.pop(name)
        mask = masks.pop(name) if nullable else None
        if ty == pa.string():
            d = dicts[name] if name in dicts else None
            idx = pa.array(values.astype(np.int32), mask=mask)
            arr = pa.DictionaryArray.from_arrays(idx, pa.array(d.values, pa.string()))
            arrays.append(arr.dictionary_decode())
        elif ty == pa.bool_():
            arrays.append(pa.array(values.astype(bool), mask=mask))
        else:
            dtype = np.int32 if ty == pa.int32() else np.int64
            arrays.append(pa.array(values.astype(dtype), type=ty, mask=mask))
    fields = pa.schema([pa.field(n, t, nullable=nl) for n, t, nl in columns(schema)])
    return pa.Table.from_arrays(arrays, schema=fields)


def socket_events(t0, conc, dicts):
    """What `record` writes when it first sees the four processes: their listening sockets and
    front's established connections, one row each, as a pyarrow Table (schema 4)."""
    rows = [(pid, "listen", addr, None) for pid, (_, addr) in SERVICES.items()]
    for i, target in enumerate((1002, 1003, 1004)):
        rows += [(1001, "connect", conn_addr(i * conc + k), SERVICES[target][1])
                 for k in range(conc)]
    rows.append((1001, "connect", conn_addr(3 * conc), SERVICES[1004][1]))
    n = len(rows)
    values = {name: np.zeros(n, dtype=np.int64) for name, _, _ in COLUMNS}
    masks = {name: np.ones(n, dtype=bool) for name, _, nullable in COLUMNS if nullable}
    for i, (pid, kind, local, remote) in enumerate(rows):
        values["ts_ns"][i] = t0 + 100 + i
        values["pid"][i] = values["tid"][i] = pid
        values["kind"][i] = dicts["kind"].id(kind)
        values["service"][i] = dicts["service"].id(SERVICES[pid][0])
        values["local_addr"][i] = dicts["local_addr"].id(local)
        values["netns"][i] = NETNS
        masks["local_addr"][i] = masks["netns"][i] = False
        if remote is not None:
            values["remote_addr"][i] = dicts["remote_addr"].id(remote)
            masks["remote_addr"][i] = False
    return table(4, dicts, values, masks)


def host_addr(name):
    """Host NAME's own address in its namespace (see the module doc): 10.B.C.1/16."""
    digits = re.search(r"(\d+)$", name)
    k = (int(digits.group(1)) if digits else zlib.crc32(name.encode())) % 0xFFFF + 1
    return f"10.{k >> 8}.{k & 0xFF}.1/16"


def metadata(events, t0, t1, schema, host=None):
    targets = [{
        "service": s, "exe": f"/srv/{s}/{s}", "go_version": "go1.22.5",
        "build_id": f"synthetic-{s}", "offsets_source": "dwarf", "pids": [pid],
        "listeners": {str(pid): [addr]},
    } for pid, (s, addr) in SERVICES.items()]
    services = ",".join(s for s, _ in SERVICES.values())
    return {
        "quadtrace.schema_version": str(schema),
        "quadtrace.recorder_version": "gen-recording.py",
        "quadtrace.hostname": host if host is not None else "synthetic",
        "quadtrace.kernel": "synthetic",
        "quadtrace.boot_wall_ns": str(1_796_000_000_000_000_000),
        "quadtrace.time_range_ns": f"{t0} {t1}",
        "quadtrace.targets": json.dumps(targets),
        "quadtrace.target_binary": ",".join(t["exe"] for t in targets),
        "quadtrace.build_id": ",".join(t["build_id"] for t in targets),
        "quadtrace.go_version": ",".join(t["go_version"] for t in targets),
        "quadtrace.service": services,
        "quadtrace.probes": "synthetic",
        "quadtrace.offsets_source": "dwarf",
        "quadtrace.lost_events": json.dumps({k: 0 for k in KINDS}),
        "quadtrace.lost_total": "0",
        "quadtrace.malformed_records": "0",
        "quadtrace.synthetic_events": str(events),
    } | ({"quadtrace.processes": json.dumps([{
        "pid": pid, "ns_pid": pid, "service": s, "service_source": "exe",
        "exe": f"/srv/{s}/{s}", "build_id": f"synthetic-{s}", "go_version": "go1.22.5",
        "pod_hostname": None, "container_id": None, "netns": NETNS,
        "addrs": ["127.0.0.1/8", "10.0.0.1/24" if host is None else host_addr(host)],
    } for pid, (s, _) in SERVICES.items()])} if schema >= 4 else {})


ROW_GROUP = 1 << 20  # rows per row group, as `record` writes them ("about a million")


def new_dicts():
    dicts = {name: Dict() for name, ty, _ in COLUMNS if ty == pa.string()}
    for name in dicts:
        dicts[name].id("")  # index 0: masked (null) entries point here
    return dicts


def chunk_start(c, chunk_requests):
    """Rows of the requests before chunk c (and of their ticks)."""
    r = c * chunk_requests
    return len(TEMPLATE) * r + len(TICK) * -(-r // TICK_EVERY)


def stream(first_row, args):
    """The recording's rows from row `first_row` on, as pyarrow Tables, without end: the socket
    events (schema 4), then the requests a chunk at a time. Which rows come in which order does
    not depend on where the stream is entered, so that a segment can be written on its own."""
    dicts = new_dicts()
    sockets = socket_events(1_000_000_000 - 1000, args.concurrency, dicts) \
        if args.schema >= 4 else None
    n_sockets = sockets.num_rows if sockets is not None else 0
    assert n_sockets == socket_rows(args)
    if first_row < n_sockets:
        yield sockets.slice(first_row)
        first_row = n_sockets
    row = first_row - n_sockets  # among the requests' rows
    ch = args.chunk_requests
    most = len(TEMPLATE) * ch + len(TICK) * (ch // TICK_EVERY + 1)  # rows of any chunk, at most
    c = row // most  # a lower bound of the row's chunk
    while chunk_start(c + 1, ch) <= row:
        c += 1
    skip = row - chunk_start(c, ch)
    while True:
        chunk = build_chunk(c * ch, ch, args.concurrency, dicts, args.schema)
        yield chunk.slice(skip) if skip else chunk
        skip = 0
        c += 1


def socket_rows(args):
    """How many socket events the recording begins with (see socket_events)."""
    return len(SERVICES) + 3 * args.concurrency + 1 if args.schema >= 4 else 0


def nominal_ts(row, args):
    """About when row `row` of the recording happened (for a segment's time range: where
    `record` would have rotated): requests start REQUEST_NS / C apart, with 35 + 5/16 rows each
    (give or take the jitter and the requests in flight)."""
    period = REQUEST_NS // args.concurrency
    per = len(TEMPLATE) * TICK_EVERY + len(TICK)  # rows of TICK_EVERY requests
    # A row is on average this far into its request.
    offset = (TICK_EVERY * sum(e[0] for e in TEMPLATE) + sum(e[0] for e in TICK)) * 1000 // per
    return 1_000_000_000 + offset + max(0, row - socket_rows(args)) * TICK_EVERY * period // per


def write_file(path, first_row, rows, meta, args, progress=False):
    """Writes rows first_row .. first_row + rows - 1 of the recording to `path` (through
    PATH.inprogress, as `record` does), in row groups of ROW_GROUP rows."""
    cols = columns(args.schema)
    schema = pa.schema([pa.field(n, t, nullable=nl) for n, t, nl in cols], metadata=meta)
    tmp = path + ".inprogress"
    writer = pq.ParquetWriter(
        tmp, schema, compression="zstd", compression_level=3,
        use_dictionary=[n for n, t, _ in cols if n != "ts_ns"],
        column_encoding={"ts_ns": "DELTA_BINARY_PACKED"},
        write_statistics=True,
    )
    written, pending, held = 0, [], 0
    for table in stream(first_row, args):
        table = table.slice(0, min(table.num_rows, rows - written - held))
        pending.append(table)
        held += table.num_rows
        # Whole row groups while enough rows are held; the rest at the end.
        while held >= ROW_GROUP or (held > 0 and written + held == rows):
            group = pa.concat_tables(pending)
            n = min(ROW_GROUP, held)
            writer.write_table(group.slice(0, n), row_group_size=n)
            rest = group.slice(n)
            pending, held, written = ([rest] if rest.num_rows else []), held - n, written + n
            if progress:
                print(f"gen-recording: {written}/{rows} events", file=sys.stderr, end="\r")
        if written == rows:
            break
    writer.close()
    os.replace(tmp, path)


def segment_path(base, number):
    """`dir/rec.parquet`, 7 -> `dir/rec.00007.parquet`: the names `record --rotate-*` gives
    (record/src/segments.rs)."""
    stem, ext = os.path.splitext(base)
    return f"{stem}.{number:05}{ext}"


def write_segment(job):
    """One segment (a worker's task): (args, number, first row, rows, time range)."""
    args, number, first_row, rows, (t_from, t_to) = job
    path = segment_path(args.out, number)
    meta = metadata(rows, t_from, t_to, args.schema, args.host) | {"quadtrace.segment": str(number)}
    write_file(path, first_row, rows, meta, args)
    return path, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--events", type=int, default=50_000_000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--chunk-requests", type=int, default=8192)
    ap.add_argument("--schema", type=int, default=4, choices=(3, 4))
    ap.add_argument("--segment-events", type=int, default=0,
                    help="rotate: segments of this many events (OUT.00001.parquet, ...)")
    ap.add_argument("--jobs", type=int, default=1, help="segments written at once")
    ap.add_argument("--rate", type=float, default=0,
                    help="front requests per second (default: back to back, REQUEST_NS / "
                         "concurrency apart, ~178 k/s; a busy service is ~10 k/s)")
    ap.add_argument("--host", metavar="NAME",
                    help="the recording host's name (default: synthetic); see above")
    args = ap.parse_args()
    if args.host is not None and not args.host:
        sys.exit("gen-recording: --host must not be empty")
    if args.rate < 0:
        sys.exit("gen-recording: --rate must be > 0")
    if args.rate:
        # Requests start 1/rate apart: the period is REQUEST_NS / concurrency everywhere, and
        # segment jobs are forked after this, so they see it too.
        global REQUEST_NS
        REQUEST_NS = max(1, round(1e9 / args.rate)) * args.concurrency
    if args.events <= 0 or args.concurrency <= 0 or args.chunk_requests <= 0:
        sys.exit("gen-recording: --events, --concurrency and --chunk-requests must be > 0")
    if args.segment_events < 0 or args.jobs <= 0:
        sys.exit("gen-recording: --segment-events must be >= 0 and --jobs > 0")
    check_schema_readme()

    # The recording "starts" 1 us before the first event and "stops" 100 us after the last
    # request can have started.
    period = REQUEST_NS // args.concurrency
    t0 = 1_000_000_000 - 1000
    t1 = 1_000_000_000 + (args.events // len(TEMPLATE) + 1) * period + 100_000
    started = time.monotonic()
    if not args.segment_events:
        meta = metadata(args.events, t0, t1, args.schema, args.host)
        write_file(args.out, 0, args.events, meta, args, progress=True)
        outputs = [args.out]
    else:
        # As `record --rotate-size` would have cut it: segment k holds rows
        # (k-1) S .. k S - 1 of the one recording, its time range from where the last one ended.
        s = args.segment_events
        n = -(-args.events // s)
        bounds = [t0] + [nominal_ts(k * s, args) for k in range(1, n)] + [t1]
        jobs = [(args, k + 1, k * s, min(s, args.events - k * s), (bounds[k], bounds[k + 1]))
                for k in range(n)]
        outputs = []
        with contextlib.ExitStack() as stack:
            if args.jobs == 1 or n == 1:
                done = map(write_segment, jobs)
            else:
                ctx = multiprocessing.get_context("fork")
                done = stack.enter_context(ctx.Pool(min(args.jobs, n))).imap(write_segment, jobs)
            for path, rows in done:
                outputs.append(path)
                print(f"gen-recording: {path} ({rows} events), {len(outputs)}/{n} segments, "
                      f"{time.monotonic() - started:.0f} s", file=sys.stderr)
    size = sum(os.path.getsize(p) for p in outputs)
    print(f"gen-recording: wrote {args.events} events to {len(outputs)} file(s) "
          f"({args.out if len(outputs) == 1 else segment_path(args.out, 1) + ' ...'}): "
          f"{size} bytes, {size / args.events:.2f} bytes/event, "
          f"{time.monotonic() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
