#!/usr/bin/env python3
"""Scores how accurately `analyze calls` attributes the calls of testdata/patterns.

Used by scripts/bench-accuracy.sh; standard library only.

  accuracy.py score CALLS.json --mode channels --concurrency 8 \\
      (--requests-per-pattern 200 [--patterns same,go,...] | --requests 1800) \\
      [--caller patterns] [--pid PID] [--stats-before S0.json --stats-after S1.json] \\
      [--progs P1.json (--prog-ids IDS | --progs-before P0.json)] \\
      [--record-log LOG] [--loadgen-log LOG | --loadgen-line LINE] [--out ROWS.jsonl]
      -> one JSON object (one run), appended to --out or printed on stdout
      (CALLS.json may also be given as --calls; --progs-after is --progs)
  Expected calls per pattern: from /stats snapshots when given, else from
  --requests-per-pattern (N per pattern, 3N for fanout).
  accuracy.py report RESULTS.jsonl [--check]
      -> prints the tables; with --check exits 1 unless every run meets the thresholds
  accuracy.py selftest
      -> scores a hand-made sample and checks the numbers

Ground truth: the patterns service answers GET /p/<pattern>/<id> by calling
GET <downstream>/down/<pattern>/<id> (fanout: three times), so a call whose callee_path is
/down/<pattern>/<id> is correctly attributed iff its caller_path is /p/<pattern>/<id>.
A call counts as attributed iff caller_path is not null. ticker calls belong to no request.
  precision = correct / attributed        recall = correct / calls
"""

import argparse
import json
import re
import sys
from collections import Counter

# Thresholds of --check: (min precision %, min recall %), per pattern.
EXACT = ("same", "go", "gowait", "nested", "fanout")  # no channel evidence needed
HANDOFF = ("select", "pool", "poolctx", "timer", "prepool")  # need the channel (or timer) evidence
THRESHOLDS = {p: (100.0, 100.0) for p in EXACT}
THRESHOLDS.update({p: (99.0, 95.0) for p in HANDOFF})
# Workers blocked before record attached: the sends name them, so even their first jobs count
# (before that, each of the 8 lost its first: recall 96%). At concurrency 64 a first job may go
# to the worker another send named (the name is read before the send takes the lock): 98.5%.
THRESHOLDS["prepool"] = (98.0, 98.0)
# Modes in which each pattern's thresholds apply: with --no-channels the handoff patterns
# are expected to lose attribution, so only the goroutine-lineage ones (and ticker) are held.
CHECKED_MODES = {p: ("channels", "no-channels") for p in EXACT}
CHECKED_MODES.update({p: ("channels",) for p in HANDOFF})
CHECKED_MODES["ticker"] = ("channels", "no-channels")


def parse_down(path):
    """'/down/<pattern>/<id>' -> (pattern, id), else None."""
    if not isinstance(path, str):
        return None
    parts = path.split("/")
    if len(parts) != 4 or parts[0] != "" or parts[1] != "down" or not parts[2] or not parts[3]:
        return None
    return parts[2], parts[3]


def score_calls(calls, caller="patterns", pid=None):
    """Per-pattern counts from the `analyze calls --format json` array."""
    per = {}
    skipped = Counter()
    for c in calls:
        if c.get("caller") != caller or (pid is not None and c.get("pid") != pid):
            skipped["other caller"] += 1
            continue
        parsed = parse_down(c.get("callee_path"))
        if parsed is None:
            skipped["other callee_path"] += 1
            continue
        pattern, ident = parsed
        s = per.setdefault(pattern, {"calls": 0, "attributed": 0, "correct": 0, "kinds": Counter()})
        s["calls"] += 1
        s["kinds"][str(c.get("attribution"))] += 1
        caller_path = c.get("caller_path")
        if caller_path is None:
            continue
        s["attributed"] += 1
        if pattern != "ticker" and caller_path == f"/p/{pattern}/{ident}":
            s["correct"] += 1
    for s in per.values():
        s["kinds"] = dict(sorted(s["kinds"].items(), key=lambda kv: (-kv[1], kv[0])))
        s["precision"] = 100.0 * s["correct"] / s["attributed"] if s["attributed"] else None
        s["recall"] = 100.0 * s["correct"] / s["calls"] if s["calls"] else None
    return per, dict(skipped)


def score_links(calls, caller="patterns", pid=None):
    """How many of the service's calls to the downstream are linked to the request they caused
    (`link`), and how many of those links name the right one: the downstream request's raw path
    is the path called (each call's path holds a unique id)."""
    out = {"calls": 0, "linked": 0, "correct": 0}
    for c in calls:
        if c.get("caller") != caller or (pid is not None and c.get("pid") != pid):
            continue
        if parse_down(c.get("callee_path")) is None:
            continue
        out["calls"] += 1
        if c.get("link"):
            out["linked"] += 1
            out["correct"] += c.get("linked_path") == c.get("callee_path")
    return out


def stats_delta(before, after):
    """Calls finished per pattern between two /stats snapshots of the patterns service."""
    b, a = before.get("calls", {}), after.get("calls", {})
    return {k: a.get(k, 0) - b.get(k, 0) for k in a}


def probe_hits(before, after):
    """run_cnt per program name, for the BPF programs loaded after `before` was taken."""
    old = {p["id"] for p in before}
    hits = Counter()
    for p in after:
        if p["id"] in old:
            continue
        hits[p.get("name", f"id{p['id']}")] += p.get("run_cnt", 0)
    return dict(hits)


def load_json(path):
    with open(path) as f:
        return json.load(f)


PATTERNS = "same,go,gowait,nested,fanout,select,pool,poolctx,timer,prepool"


def cmd_score(a):
    path = a.calls or a.calls_pos
    if not path:
        sys.exit("accuracy: score needs the calls JSON file")
    calls = load_json(path)
    if not isinstance(calls, list):
        sys.exit(f"accuracy: {path}: expected a JSON array of calls")
    per, skipped = score_calls(calls, a.caller, a.pid)
    patterns = [p for p in a.patterns.split(",") if p]
    requests = a.requests
    if requests is None:
        if a.requests_per_pattern is None:
            sys.exit("accuracy: score needs --requests or --requests-per-pattern")
        requests = a.requests_per_pattern * len(patterns)
    run = {
        "mode": a.mode,
        "concurrency": a.concurrency,
        "requests": requests,
        "patterns": per,
        "skipped": skipped,
        "links": score_links(calls, a.caller, a.pid),
    }

    def expect(pattern, n):
        per.setdefault(pattern, {"calls": 0, "attributed": 0, "correct": 0, "kinds": {},
                                 "precision": None, "recall": None})["expected"] = n

    if a.stats_before and a.stats_after:
        for pattern, n in stats_delta(load_json(a.stats_before), load_json(a.stats_after)).items():
            if pattern != "ticker":  # ticks go on outside the recording window too
                expect(pattern, n)
    elif a.requests_per_pattern is not None:
        for pattern in patterns:
            expect(pattern, a.requests_per_pattern * (3 if pattern == "fanout" else 1))
    if a.progs:
        after = load_json(a.progs)
        if a.prog_ids:
            ids = {int(x) for x in open(a.prog_ids).read().split()}
            hits = probe_hits([p for p in after if p["id"] not in ids], after)
        elif a.progs_before:
            hits = probe_hits(load_json(a.progs_before), after)
        else:
            sys.exit("accuracy: --progs needs --prog-ids or --progs-before")
        run["probe_hits"] = hits
        run["hits_per_request"] = sum(hits.values()) / requests if requests else None
    if a.record_log:
        m = re.search(r"wrote (\d+) events", open(a.record_log, errors="replace").read())
        if m:
            run["events"] = int(m.group(1))
    line = a.loadgen_line
    if a.loadgen_log:
        line = open(a.loadgen_log, errors="replace").read()
    if line:
        m = re.search(r"req/s=([\d.]+)", line)
        if m:
            run["loadgen_rps"] = float(m.group(1))
    out = json.dumps(run, sort_keys=True)
    if a.out:
        with open(a.out, "a") as f:
            f.write(out + "\n")
    else:
        print(out)


def pct(x):
    return "-" if x is None else f"{x:.1f}%"


def failures(run):
    """--check failures of one run, as strings."""
    out = []
    mode, conc, per = run["mode"], run["concurrency"], run["patterns"]
    for pattern, modes in CHECKED_MODES.items():
        if mode not in modes:
            continue
        s = per.get(pattern)
        where = f"{mode} c={conc} {pattern}"
        if s is None or s["calls"] == 0:
            out.append(f"{where}: no calls recorded")
            continue
        if pattern == "ticker":
            if s["attributed"]:
                out.append(f"{where}: {s['attributed']} of {s['calls']} ticker calls attributed to a request")
            continue
        if "expected" in s and s["calls"] != s["expected"]:
            out.append(f"{where}: {s['calls']} calls recorded, the service made {s['expected']}")
        min_p, min_r = THRESHOLDS[pattern]
        p = s["precision"] if s["precision"] is not None else 0.0
        r = s["recall"] if s["recall"] is not None else 0.0
        if p < min_p or r < min_r:
            out.append(f"{where}: precision {pct(s['precision'])} (need {min_p:g}%), "
                       f"recall {pct(s['recall'])} (need {min_r:g}%)")
    return out


ORDER = ["same", "go", "gowait", "nested", "fanout", "select", "pool", "poolctx", "timer", "prepool", "ticker"]


def cmd_report(a):
    runs = [json.loads(line) for line in open(a.results) if line.strip()]
    print(f"{'mode':<11} {'conc':>4} {'pattern':<8} {'calls':>6} {'expect':>6} {'attrib':>6} "
          f"{'correct':>7} {'precision':>9} {'recall':>7}  kinds")
    for run in runs:
        per = run["patterns"]
        names = [p for p in ORDER if p in per] + sorted(p for p in per if p not in ORDER)
        for pattern in names:
            s = per[pattern]
            kinds = " ".join(f"{k}:{v}" for k, v in s["kinds"].items())
            correct, prec, rec = s["correct"], pct(s["precision"]), pct(s["recall"])
            if pattern == "ticker":  # belongs to no request: only 'attrib' (must be 0) matters
                correct, prec, rec = "-", "-", "-"
            print(f"{run['mode']:<11} {run['concurrency']:>4} {pattern:<8} {s['calls']:>6} "
                  f"{s.get('expected', '-'):>6} {s['attributed']:>6} {correct:>7} {prec:>9} "
                  f"{rec:>7}  {kinds}")
        if run.get("skipped"):
            print(f"{'':<11} {'':>4} (not scored: {run['skipped']})")
    print()
    print(f"{'mode':<11} {'conc':>4} {'requests':>8} {'hits/req':>8} {'events/req':>10} "
          f"{'loadgen req/s':>13}  hits per program")
    for run in runs:
        n = run["requests"]
        hpr = run.get("hits_per_request")
        ev = run.get("events")
        progs = " ".join(f"{k}:{v}" for k, v in sorted(run.get("probe_hits", {}).items()) if v)
        print(f"{run['mode']:<11} {run['concurrency']:>4} {n:>8} "
              f"{('-' if hpr is None else f'{hpr:.1f}'):>8} "
              f"{('-' if ev is None or not n else f'{ev / n:.1f}'):>10} "
              f"{run.get('loadgen_rps', '-'):>13}  {progs}")
    print("(hits and events cover both recorded processes, the service and its downstream, "
          "and the ticker; divided by inbound requests)")
    print()
    print(f"{'mode':<11} {'conc':>4} {'calls':>6} {'linked':>7} {'share':>7} {'correct':>7} "
          f"{'precision':>9}  (calls to the downstream linked to the request they caused)")
    for run in runs:
        links = run.get("links") or {}
        n, linked, correct = links.get("calls", 0), links.get("linked", 0), links.get("correct", 0)
        share = pct(100.0 * linked / n if n else None)
        prec = pct(100.0 * correct / linked if linked else None)
        print(f"{run['mode']:<11} {run['concurrency']:>4} {n:>6} {linked:>7} {share:>7} "
              f"{correct:>7} {prec:>9}")
    if a.check:
        fails = [f for run in runs for f in failures(run)]
        print()
        if fails:
            print("CHECK FAILED:")
            for f in fails:
                print(f"  {f}")
            sys.exit(1)
        print(f"CHECK OK ({len(runs)} runs)")


def cmd_selftest(_a):
    def call(pattern, ident, caller_path, attribution, pid=100, caller="patterns"):
        return {"ts_ns": 1, "pid": pid, "goid": 7, "caller": caller, "caller_path": caller_path,
                "caller_func": caller_path or "none", "method": "GET", "callee": "patterns",
                "callee_addr": "127.0.0.1:9941", "callee_path": f"/down/{pattern}/{ident}",
                "callee_func": f"/down/{pattern}/{ident}", "status": 200, "duration_ns": 5,
                "attribution": attribution, "confidence": 1.0 if caller_path else None,
                "request_goid": 3 if caller_path else None,
                "request_ts_ns": 0 if caller_path else None}

    sample = [
        call("same", "a1", "/p/same/a1", "same_goroutine"),
        call("same", "a2", "/p/same/a2", "same_goroutine"),
        call("fanout", "b1", "/p/fanout/b1", "spawned"),
        call("fanout", "b1", "/p/fanout/b1", "spawned"),
        call("fanout", "b1", "/p/fanout/b2", "spawned"),  # wrong id
        call("pool", "c1", "/p/pool/c1", "channel"),
        call("pool", "c2", None, "none"),  # missed
        call("pool", "c3", "/p/select/c3", "channel"),  # wrong pattern
        call("pool", "c4", "/p/pool/c4", "channel"),
        call("ticker", "0", None, "none"),
        call("ticker", "1", "/p/same/a1", "spawned"),  # wrongly attributed
        call("same", "zz", "/p/same/zz", "same_goroutine", pid=200),  # other pid
        call("same", "yy", "/p/same/yy", "same_goroutine", caller="loadgen"),  # other caller
        dict(call("same", "x", None, "none"), callee_path="/stats"),  # not a /down/ call
        dict(call("same", "x", None, "none"), callee_path=None),
    ]
    per, skipped = score_calls(json.loads(json.dumps(sample)), "patterns", 100)
    assert per["same"] == {"calls": 2, "attributed": 2, "correct": 2, "precision": 100.0,
                           "recall": 100.0, "kinds": {"same_goroutine": 2}}, per["same"]
    f = per["fanout"]
    assert (f["calls"], f["attributed"], f["correct"]) == (3, 3, 2), f
    assert abs(f["precision"] - 200 / 3) < 1e-9 and abs(f["recall"] - 200 / 3) < 1e-9, f
    p = per["pool"]
    assert (p["calls"], p["attributed"], p["correct"]) == (4, 3, 2), p
    assert abs(p["precision"] - 200 / 3) < 1e-9 and p["recall"] == 50.0, p
    assert p["kinds"] == {"channel": 3, "none": 1}, p
    t = per["ticker"]
    assert (t["calls"], t["attributed"], t["correct"]) == (2, 1, 0), t
    assert skipped == {"other caller": 2, "other callee_path": 2}, skipped
    # Without a pid filter the pid-200 call counts.
    per2, _ = score_calls(sample, "patterns", None)
    assert per2["same"]["calls"] == 3, per2["same"]
    # Thresholds.
    run = {"mode": "channels", "concurrency": 8, "requests": 10, "patterns": per}
    per["same"]["expected"] = 3
    fails = failures(run)
    assert any("same: 2 calls recorded, the service made 3" in x for x in fails), fails
    assert any("fanout: precision 66.7%" in x for x in fails), fails
    assert any("pool: precision 66.7% (need 99%), recall 50.0% (need 95%)" in x for x in fails), fails
    assert any("1 of 2 ticker calls attributed" in x for x in fails), fails
    assert any("go: no calls recorded" in x for x in fails), fails
    run["mode"] = "no-channels"
    assert not any(" pool:" in x for x in failures(run)), failures(run)
    # Probe hits: only programs that appeared after the 'before' listing count.
    hits = probe_hits([{"id": 1, "name": "other", "run_cnt": 5}],
                      [{"id": 1, "name": "other", "run_cnt": 9},
                       {"id": 2, "name": "client_start", "run_cnt": 4},
                       {"id": 3, "name": "client_start", "run_cnt": 1},
                       {"id": 4, "name": "chan_send"}])
    assert hits == {"client_start": 5, "chan_send": 0}, hits
    assert stats_delta({"calls": {"same": 2}}, {"calls": {"same": 5, "go": 1}}) == {"same": 3, "go": 1}
    assert parse_down("/down/pool/k1") == ("pool", "k1")
    assert parse_down("/down/pool/") is None and parse_down("/down/pool/a/b") is None
    print("accuracy.py selftest: ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("score")
    s.add_argument("calls_pos", nargs="?", metavar="CALLS.json")
    s.add_argument("--calls")
    s.add_argument("--mode", required=True)
    s.add_argument("--concurrency", type=int, required=True)
    s.add_argument("--requests", type=int, help="inbound requests sent")
    s.add_argument("--requests-per-pattern", type=int)
    s.add_argument("--patterns", default=PATTERNS, help="patterns loadgen was given")
    s.add_argument("--caller", default="patterns")
    s.add_argument("--pid", type=int)
    s.add_argument("--stats-before")
    s.add_argument("--stats-after")
    s.add_argument("--progs", "--progs-after", dest="progs", help="bpftool prog show --json, before stopping record")
    s.add_argument("--prog-ids", help="file: ids of record's BPF programs, whitespace-separated")
    s.add_argument("--progs-before", help="bpftool prog show --json, before starting record")
    s.add_argument("--record-log")
    s.add_argument("--loadgen-log")
    s.add_argument("--loadgen-line")
    s.add_argument("--out", help="append the JSON line to this file")
    s.set_defaults(fn=cmd_score)
    r = sub.add_parser("report")
    r.add_argument("results")
    r.add_argument("--check", action="store_true")
    r.set_defaults(fn=cmd_report)
    t = sub.add_parser("selftest")
    t.set_defaults(fn=cmd_selftest)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
