#!/usr/bin/env python3
"""Splits a recording of scripts/gen-recording.py (four services on one host, talking over
loopback) into one recording per process, as if each ran on a host of its own: hostname the
service's name, its own network namespace and IP (10.0.0.N), listening on every interface
(`:port`), called by host name (`users:8081`), its connections from its own IP. Then
`analyze quads` over the four files links calls across hosts through the connections, which is
what rule 4 of schema/EXPORT.md (schema/sql/cross_links.sql) is checked against.

With --shift SERVICE=HOURS (repeatable) that service's host booted HOURS earlier than the
recording's: its `ts_ns` (and `quadtrace.time_range_ns`) read HOURS more, its
`quadtrace.boot_wall_ns` HOURS less, so its wall-clock times are unchanged. Its monotonic
times then never agree with the other hosts': `analyze` still links every call (it moves each
host onto one timeline by its boot time), and the SQL must compare times on the wall clock.

Usage: split_hosts.py [--shift SERVICE=HOURS]... IN.parquet OUTDIR
       (writes OUTDIR/<service>.parquet)
"""

import argparse
import json
import os
import re

import pyarrow as pa
import pyarrow.parquet as pq

NETNS = 4026531840
HOUR_NS = 3_600_000_000_000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shift", action="append", default=[], metavar="SERVICE=HOURS")
    ap.add_argument("src")
    ap.add_argument("out")
    a = ap.parse_args()
    src, out = a.src, a.out
    shifts = {}
    for spec in a.shift:
        service, hours = spec.split("=")
        shifts[service] = int(float(hours) * HOUR_NS)
    os.makedirs(out, exist_ok=True)
    table = pq.read_table(src)
    meta = dict(table.schema.metadata)
    procs = json.loads(meta[b"quadtrace.processes"])
    targets = json.loads(meta[b"quadtrace.targets"])
    # Service of each port: a process listens on 127.0.0.1:808N.
    port_service = {}
    for t in targets:
        for addrs in t["listeners"].values():
            for a in addrs:
                port_service[a.rsplit(":", 1)[1]] = t["service"]
    ip_of = {p["pid"]: f"10.0.0.{p['pid'] - 1000}" for p in procs}
    ip_of_service = {p["service"]: ip_of[p["pid"]] for p in procs}

    def rewrite(column, value, pid, kind):
        if value is None:
            return None
        m = re.fullmatch(r"127\.0\.0\.1:(\d+)", value)
        if not m:
            return value
        port = m.group(1)
        service = port_service.get(port)
        if column == "host":  # the URL dialled: by name
            return f"{service}:{port}" if service else value
        if column == "listen_addr" or (column == "local_addr" and kind == "listen"):
            return f":{port}"
        if service:  # a connection's far end: the server's IP
            return f"{ip_of_service[service]}:{port}"
        # A connection's own end (a front connection): the connecting process's IP; the
        # server's request sees the same address.
        return f"{ip_of[1001]}:{port}"

    cols = {name: table.column(name).to_pylist() for name in table.column_names}
    for p in procs:
        pid = p["pid"]
        rows = [i for i, v in enumerate(cols["pid"]) if v == pid]
        netns = NETNS + pid - 1000
        data = {}
        for name in table.column_names:
            vals = [cols[name][i] for i in rows]
            if name in ("host", "listen_addr", "remote_addr", "local_addr"):
                kinds = [cols["kind"][i] for i in rows]
                vals = [rewrite(name, v, pid, k) for v, k in zip(vals, kinds)]
            elif name == "netns":
                vals = [None if v is None else netns for v in vals]
            elif name == "ts_ns":
                vals = [v + shifts.get(p["service"], 0) for v in vals]
            data[name] = pa.array(vals, type=table.schema.field(name).type)
        m = dict(meta)
        m[b"quadtrace.hostname"] = p["service"].encode()
        m[b"quadtrace.processes"] = json.dumps(
            [dict(p, netns=netns, addrs=["127.0.0.1/8", f"{ip_of[pid]}/24"])]).encode()
        mine = [t for t in targets if pid in t["pids"]]
        for t in mine:
            t["listeners"] = {k: [":" + a.rsplit(":", 1)[1] for a in v]
                              for k, v in t["listeners"].items()}
        m[b"quadtrace.targets"] = json.dumps(mine).encode()
        m[b"quadtrace.service"] = p["service"].encode()
        by = shifts.get(p["service"], 0)
        if by:
            boot = int(m[b"quadtrace.boot_wall_ns"])
            m[b"quadtrace.boot_wall_ns"] = str(boot - by).encode()
            t0, t1 = (int(t) for t in m[b"quadtrace.time_range_ns"].split())
            m[b"quadtrace.time_range_ns"] = f"{t0 + by} {t1 + by}".encode()
        schema = table.schema.with_metadata(m)
        pq.write_table(pa.table(data, schema=schema), os.path.join(out, p["service"] + ".parquet"),
                       compression="zstd")


if __name__ == "__main__":
    main()
