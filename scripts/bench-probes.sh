#!/usr/bin/env bash
# Benchmark: probe hits per /handle request, counted by the kernel's BPF run counters
# (kernel.bpf_stats_enabled), and the Parquet bytes per event of the recording.
# A hit's cost depends on the machine (about 15 µs under nested virtualisation, about 1 µs on
# bare metal), so hits per request is the figure to compare. Needs root.
# Usage: sudo scripts/bench-probes.sh [REQUESTS] [PARALLEL] [DEMO_BINARY]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"
N=${1:-500}
PAR=${2:-8}
BIN=${3:-testdata/bin/go1.19/dwarf/http_demo}
scripts/build-demos.sh 1.19 >/dev/null
cargo build -q --workspace
WORK=$(mktemp -d)
trap 'kill $demo 2>/dev/null || true; sysctl -q kernel.bpf_stats_enabled=$old_stats; rm -rf "$WORK"' EXIT

old_stats=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -q kernel.bpf_stats_enabled=1
"$BIN" >/dev/null 2>&1 &
demo=$!
for _ in $(seq 50); do curl -s -o /dev/null http://0.0.0.0:9932/echo && break; sleep 0.1; done
"$QT_BIN/record" -p "$demo" -o "$WORK/bench.parquet" 2>"$WORK/record.log" &
rec=$!
for _ in $(seq 100); do grep -q "recording to" "$WORK/record.log" && break; sleep 0.1; done

seq "$N" | xargs -P "$PAR" -I{} curl -s -o /dev/null http://0.0.0.0:9932/handle

# Read the counters while record's programs are still loaded.
bpftool prog show --json > "$WORK/progs.json"
kill -INT $rec
wait $rec

python3 - "$WORK/progs.json" "$N" "$WORK/record.log" "$WORK/bench.parquet" <<'PY'
import json, os, re, sys
progs, n, log, parquet = json.load(open(sys.argv[1])), int(sys.argv[2]), open(sys.argv[3]).read(), sys.argv[4]
# Every program of bpf/quadtrace.bpf.c (bpftool gives their full names from BTF).
names = [n for n in ["server_start", "server_start_xnet", "server_end", "server_end_h2",
         "server_end_xnet", "gin_route_found", "client_start", "client_end", "spawn_enter",
         "spawn_return", "timer_arm", "chan_send", "chan_recv_enter", "chan_recv1_return",
         "chan_recv2_return", "select_enter", "select_return"]]
hits = {p["name"]: p.get("run_cnt", 0) for p in progs if p.get("name") in names}
events = int(re.search(r"wrote (\d+) events", log).group(1))
size = os.path.getsize(parquet)
print(f"requests                 {n}")
for name in names:
    if not hits.get(name):
        continue
    print(f"  {name:<22} {hits.get(name, 0):>8}  {hits.get(name, 0) / n:6.2f} per request")
total = sum(hits.values())
print(f"probe hits per request   {total / n:.2f}")
print(f"events per request       {events / n:.2f}")
print(f"parquet bytes per event  {size / events:.2f}  ({size} bytes, {events} events)")
PY
