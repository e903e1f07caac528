#!/usr/bin/env bash
# Benchmark: probe hits per gRPC call, from the kernel's BPF run counters (as bench-hits.sh):
# testdata/grpc_demo as the Cart server and as a client, both recorded, making in turn
#   unary      N unary AddItem calls,
#   watch      S server-streaming calls of K messages each,
#   chat       S bidi-streaming calls of K messages each way.
# Counters are read before and after each phase of one recording, and the hits of each phase
# are divided by its calls, per class of probe (gRPC server, gRPC client, spawn, channel). The
# client's own spawns and channel operations (its -c workers) are the demo's, not gRPC's.
# Needs root.
#
# Usage: scripts/bench-grpc-hits.sh [N] [S] [K]       (default 500 50 100)
# Environment:
#   BENCH_DEMO    grpc_demo binary (default testdata/bin/go1.19/stripped/grpc_demo; copied)
#   BENCH_PORT    loopback port of the server (default 19530)
#   BENCH_RECORD  record binary (default: the release build if there is one, else debug)
#   BENCH_TSV     append "section<TAB>metric<TAB>value<TAB>target" rows here (scripts/bench.sh)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"

die() { printf 'bench-grpc-hits: %s\n' "$*" >&2; exit 1; }
N=${1:-500}
S=${2:-50}
K=${3:-100}
DEMO=${BENCH_DEMO:-testdata/bin/go1.19/stripped/grpc_demo}
PORT=${BENCH_PORT:-19530}
RECORD=${BENCH_RECORD:-$(built record)}
[[ $(id -u) == 0 ]] || die "needs root (uprobes, bpf_stats)"
[[ -x $DEMO ]] || die "no $DEMO (scripts/build-demos.sh 1.19)"
[[ -x $RECORD ]] || die "no $RECORD (cargo build -p quadtrace-record)"

WORK=$(mktemp -d /tmp/bench-grpc-hits.XXXXXX)
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
cart='' rec=''
cleanup() {
    [[ -n $rec ]] && kill -INT "$rec" 2>/dev/null && wait "$rec" 2>/dev/null || true
    [[ -n $cart ]] && kill "$cart" 2>/dev/null && wait "$cart" 2>/dev/null || true
    sysctl -q kernel.bpf_stats_enabled="$old_stats"
    rm -rf "$WORK"
}
trap cleanup EXIT
sysctl -q kernel.bpf_stats_enabled=1
cp "$DEMO" "$WORK/cart"
cp "$DEMO" "$WORK/client"
ADDR=127.0.0.1:$PORT

GRPC_ADDR=$ADDR "$WORK/cart" -mode cart >/dev/null 2>&1 &
cart=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
: >"$WORK/rec.log"
"$RECORD" -p "$cart" --exe "$WORK/client" -o "$WORK/rec.parquet" 2>"$WORK/rec.log" &
rec=$!
for _ in $(seq 300); do grep -q "recording to" "$WORK/rec.log" && break; sleep 0.1; done
grep -q "recording to" "$WORK/rec.log" || die "record did not start: $(cat "$WORK/rec.log")"

# The counters of this record's programs (the prog_id of each of its file descriptors).
snapshot() {
    bpftool prog show --json >"$WORK/$1.json"
    grep -h '^prog_id:' /proc/"$rec"/fdinfo/* 2>/dev/null | awk '{print $2}' >"$WORK/$1.ids" || true
}
client() {
    "$WORK/client" -mode client -target "$ADDR" -c 1 -timeout 10s -duration 120s -strict "$@" \
        >"$WORK/client.out" 2>&1 || die "the client failed: $(cat "$WORK/client.out")"
}
snapshot start
client -n "$N" -streams 0
snapshot unary
client -n 0 -streams "$S" -kinds watch -k "$K"
snapshot watch
client -n 0 -streams "$S" -kinds chat -k "$K"
snapshot chat
kill -INT "$rec"
wait "$rec"
rec=''

python3 - "$WORK" "$N" "$S" "$K" "${BENCH_TSV:-}" <<'PY'
import json, sys
work, n, s, k, tsv = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]


def site_class(name):
    if name.startswith("grpc_server"):
        return "grpc server"
    if name.startswith(("grpc_client", "grpc_stream", "grpc_call")):
        return "grpc client"
    if name.startswith("spawn"):
        return "spawn"
    if name.startswith(("chan_", "select_")):
        return "channel"
    if name.startswith(("server_", "client_", "gin_", "h2c_")):
        return "http"
    return "other"


def counts(snap):
    ids = {int(x) for x in open(f"{work}/{snap}.ids").read().split()}
    out = {}
    for p in json.load(open(f"{work}/{snap}.json")):
        if p["id"] in ids and p.get("type") == "kprobe":
            cls = site_class(p["name"])
            out[cls] = out.get(cls, 0) + p.get("run_cnt", 0)
    return out


phases = [("unary", "unary AddItem", n), ("watch", f"server-streaming of {k} messages", s),
          ("chat", f"bidi-streaming of {k} messages each way", s)]
rows = []
before = counts("start")
print(f"uprobe hits per gRPC call (cart server + client, both recorded; kernel BPF run counters)")
print(f"  {'phase':<40} {'calls':>6} {'grpc server':>12} {'grpc client':>12} {'grpc total':>11}"
      f" {'spawn':>7} {'channel':>8}")
for snap, label, calls in phases:
    after = counts(snap)
    d = {c: after.get(c, 0) - before.get(c, 0) for c in set(after) | set(before)}
    per = lambda c: d.get(c, 0) / calls
    grpc = per("grpc server") + per("grpc client")
    print(f"  {label:<40} {calls:>6} {per('grpc server'):>12.2f} {per('grpc client'):>12.2f}"
          f" {grpc:>11.2f} {per('spawn'):>7.2f} {per('channel'):>8.2f}")
    rows.append(("grpc", f"gRPC probe hits per call, {label}", f"{grpc:.2f}",
                 "4 (unary), 5 (streaming), 0 per message"))
    before = after
if tsv:
    with open(tsv, "a") as f:
        for r in rows:
            f.write("\t".join(r) + "\n")
PY
