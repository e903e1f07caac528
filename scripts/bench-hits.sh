#!/usr/bin/env bash
# Benchmark: probe hits per /handle request of the demo, and BPF run time per hit, per program
# and in total, from the kernel's BPF statistics (kernel.bpf_stats_enabled=1, restored on exit;
# bpftool prog show --json: run_cnt, run_time_ns), with and without `record --no-channels`;
# plus the Parquet bytes per event of each recording. Needs root.
#
# A hit's run time is the BPF program's own (not the uprobe trap around it: about 15 us per hit
# under nested virtualisation, about 1 us on bare metal), so compare hits per request across
# machines and run time per hit only between runs on one machine.
#
# Usage: scripts/bench-hits.sh [REQUESTS] [PARALLEL]        (default 1000 8)
# Environment:
#   BENCH_DEMO    demo binary (default testdata/bin/go1.19/dwarf/http_demo; copied, so probes
#                 on it hit only this run's process)
#   BENCH_PORT    loopback port of the demo (default 19510)
#   BENCH_RECORD  record binary (default: the release build if there is one, else debug)
#   BENCH_TSV     append "section<TAB>metric<TAB>value<TAB>target" rows here (scripts/bench.sh)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"

die() { printf 'bench-hits: %s\n' "$*" >&2; exit 1; }
N=${1:-1000}
PAR=${2:-8}
DEMO=${BENCH_DEMO:-testdata/bin/go1.19/dwarf/http_demo}
PORT=${BENCH_PORT:-19510}
RECORD=${BENCH_RECORD:-$(built record)}
[[ $(id -u) == 0 ]] || die "needs root (uprobes, bpf_stats)"
[[ -x $DEMO ]] || die "no $DEMO (scripts/build-demos.sh 1.19)"
[[ -x $RECORD ]] || die "no $RECORD (cargo build -p quadtrace-record)"

WORK=$(mktemp -d /tmp/bench-hits.XXXXXX)
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
demo='' rec=''
cleanup() {
    [[ -n $rec ]] && kill -INT "$rec" 2>/dev/null && wait "$rec" 2>/dev/null || true
    [[ -n $demo ]] && kill "$demo" 2>/dev/null && wait "$demo" 2>/dev/null || true
    sysctl -q kernel.bpf_stats_enabled="$old_stats"
    rm -rf "$WORK"
}
trap cleanup EXIT
sysctl -q kernel.bpf_stats_enabled=1
cp "$DEMO" "$WORK/http_demo"

for mode in channels no-channels; do
    DEMO_ADDR=127.0.0.1:$PORT DEMO_DOWNSTREAM=http://127.0.0.1:$PORT "$WORK/http_demo" \
        >/dev/null 2>&1 &
    demo=$!
    for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/echo" && break; sleep 0.1; done
    args=(-p "$demo" -o "$WORK/$mode.parquet")
    [[ $mode == no-channels ]] && args+=(--no-channels)
    "$RECORD" "${args[@]}" 2>"$WORK/$mode.log" &
    rec=$!
    for _ in $(seq 300); do grep -q "recording to" "$WORK/$mode.log" && break; sleep 0.1; done
    grep -q "recording to" "$WORK/$mode.log" || die "record did not start: $(cat "$WORK/$mode.log")"
    seq "$N" | xargs -P "$PAR" -I{} curl -sf -o /dev/null "http://127.0.0.1:$PORT/handle"
    # Read the counters while record's programs are still loaded.
    bpftool prog show --json >"$WORK/$mode.json"
    # Which programs are this record's: the prog_id of each of its file descriptors (other
    # recordings may run on this machine at the same time).
    grep -h '^prog_id:' /proc/"$rec"/fdinfo/* 2>/dev/null | awk '{print $2}' >"$WORK/$mode.ids" || true
    kill -INT "$rec"
    wait "$rec"
    rec=''
    kill "$demo"
    wait "$demo" 2>/dev/null || true
    demo=''
done

python3 - "$WORK" "$N" "${BENCH_TSV:-}" <<'PY'
import json, os, re, sys
work, n, tsv = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = []


def site_class(p):
    """What a program observes: HTTP, goroutine spawns, channels, timers, or kernel sockets."""
    name = p["name"]
    if p.get("type") != "kprobe":
        return "tracepoint"
    if name.startswith(("server_", "client_", "gin_", "h2c_")):
        return "http"
    if name.startswith("spawn"):
        return "spawn"
    if name.startswith(("chan_", "select_")):
        return "channel"
    return "timer" if name.startswith("timer") else "other"


for mode in ("channels", "no-channels"):
    ids = {int(x) for x in open(f"{work}/{mode}.ids").read().split()}
    progs = [p for p in json.load(open(f"{work}/{mode}.json")) if p["id"] in ids]
    if not progs:
        sys.exit(f"bench-hits: found no BPF program of record ({mode})")
    log = open(f"{work}/{mode}.log").read()
    events = int(re.search(r"wrote (\d+) events", log).group(1))
    lost = re.search(r"^\s*lost\s+(\d+)", log, re.M)
    size = os.path.getsize(f"{work}/{mode}.parquet")
    print(f"record{' --no-channels' if mode == 'no-channels' else ''}: {n} /handle requests")
    print(f"  {'program':<22} {'class':<11} {'hits':>9} {'per request':>12} {'ns per hit':>11}")
    # Uprobes ("kprobe" programs) trap in the target: each hit costs it ~15 us here, ~1 us on
    # bare metal. The socket and exec tracepoints ("tracing") run in the kernel for the whole
    # host (the load generator's own connections and curl processes too), with no trap.
    hits = ns = 0
    by_class = {}
    for p in sorted(progs, key=lambda p: -p.get("run_cnt", 0)):
        c, t = p.get("run_cnt", 0), p.get("run_time_ns", 0)
        cls = site_class(p)
        if p.get("type") == "kprobe":
            hits, ns = hits + c, ns + t
        by_class[cls] = by_class.get(cls, 0) + c
        if c:
            print(f"  {p['name']:<22} {cls:<11} {c:>9} {c / n:>12.2f} {t / c:>11.0f}")
    print(f"  {'uprobe hits':<34} {hits:>9} {hits / n:>12.2f} {ns / max(hits, 1):>11.0f}")
    print("  by class: " + ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(by_class.items())))
    print(f"  events {events} ({events / n:.2f} per request), lost {lost.group(1) if lost else '?'}, "
          f"parquet {size} bytes = {size / max(events, 1):.2f} bytes/event")
    label = "record" if mode == "channels" else "record --no-channels"
    rows += [("probes", f"uprobe hits per /handle request, {label}", f"{hits / n:.2f}", "<= 8"),
             ("probes", f"kernel tracepoint runs per /handle request (host-wide), {label}",
              f"{by_class.get('tracepoint', 0) / n:.2f}", ""),
             ("probes", f"BPF run time per hit (ns), {label}", f"{ns / max(hits, 1):.0f}", ""),
             ("probes", f"BPF run time per request (us), {label}", f"{ns / n / 1000:.1f}", ""),
             ("probes", f"demo recording bytes/event, {label}", f"{size / max(events, 1):.2f}",
              "<= 16")]
if tsv:
    with open(tsv, "a") as f:
        for r in rows:
            f.write("\t".join(r) + "\n")
PY
