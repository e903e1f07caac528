#!/usr/bin/env bash
# Benchmark: what tracing costs the demo, side by side in one run. `wrk` drives GET /handle of
# one http_demo process (each request is served and calls /echo on the same process, so it is
# two server requests and one client call) for DURATION seconds per run, at the same
# concurrency, in four modes:
#   none        no tracing
#   bpftrace    the design's origin, testdata/bpftrace/http.bt (three probes, register ABI)
#   record      record -p PID (all probes, channels included)
#   record-nc   record -p PID --no-channels
# ROUNDS times, each round in another order (rotated), so drift (other load on the machine,
# the demo warming up) does not favour one mode. Prints each run, then per mode the mean
# requests/s and its ratio to `none`. Requests/s are of this machine only; compare the ratios.
# Needs root, wrk and bpftrace.
#
# Usage: scripts/bench-overhead.sh [DURATION] [ROUNDS]      (default 10 2)
# Environment:
#   BENCH_DEMO     demo binary with .symtab (default testdata/bin/go1.19/dwarf/http_demo;
#                  copied, so the probes hit only this run's process)
#   BENCH_PORT     loopback port (default 19520)
#   BENCH_CONNS    wrk connections (default 16)    BENCH_THREADS  wrk threads (default 1)
#   BENCH_MODES    modes to run (default "none bpftrace record record-nc")
#   BENCH_RECORD   record binary (default: the release build if there is one, else debug)
#   BENCH_TSV      append "section<TAB>metric<TAB>value<TAB>target" rows here (scripts/bench.sh)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"

die() { printf 'bench-overhead: %s\n' "$*" >&2; exit 1; }
log() { printf 'bench-overhead: %s\n' "$*" >&2; }
DUR=${1:-10}
ROUNDS=${2:-2}
DEMO=${BENCH_DEMO:-testdata/bin/go1.19/dwarf/http_demo}
PORT=${BENCH_PORT:-19520}
CONNS=${BENCH_CONNS:-16}
THREADS=${BENCH_THREADS:-1}
read -r -a MODES <<<"${BENCH_MODES:-none bpftrace record record-nc}"
RECORD=${BENCH_RECORD:-$(built record)}
[[ $(id -u) == 0 ]] || die "needs root (uprobes)"
command -v wrk >/dev/null || die "no wrk (apt-get install wrk, or scripts/setup.sh)"
[[ " ${MODES[*]} " != *" bpftrace "* ]] || command -v bpftrace >/dev/null ||
    die "no bpftrace (apt-get install bpftrace, or scripts/setup.sh)"
[[ -x $DEMO ]] || die "no $DEMO (scripts/build-demos.sh 1.19)"
[[ -x $RECORD ]] || die "no $RECORD (cargo build -p quadtrace-record)"

WORK=$(mktemp -d /tmp/bench-overhead.XXXXXX)
demo='' tracer=''
cleanup() {
    [[ -n $tracer ]] && kill -INT "$tracer" 2>/dev/null && wait "$tracer" 2>/dev/null || true
    [[ -n $demo ]] && kill "$demo" 2>/dev/null && wait "$demo" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
# http.bt names its target ./http_demo, as the original did: it runs from WORK.
cp "$DEMO" "$WORK/http_demo"
URL=http://127.0.0.1:$PORT/handle
DEMO_ADDR=127.0.0.1:$PORT DEMO_DOWNSTREAM=http://127.0.0.1:$PORT "$WORK/http_demo" \
    >"$WORK/demo.log" 2>&1 &
demo=$!
for _ in $(seq 50); do curl -sf -o /dev/null "$URL" && break; sleep 0.1; done
curl -sf -o /dev/null "$URL" || die "demo did not answer on $URL: $(cat "$WORK/demo.log")"
log "demo $DEMO pid $demo on 127.0.0.1:$PORT; record is $RECORD"
log "warm-up: wrk 2s"
wrk -t"$THREADS" -c"$CONNS" -d2s "$URL" >/dev/null

# Waits up to 30 s for a line matching $2 in file $1.
wait_for() {
    local i
    for ((i = 0; i < 300; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$tracer" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# start_tracer MODE RUN: starts what MODE traces with; sets $tracer ('' for none).
start_tracer() {
    local out=$WORK/$2
    case $1 in
        none) tracer='' ;;
        bpftrace)
            (cd "$WORK" && exec bpftrace "$REPO/testdata/bpftrace/http.bt") >"$out.bt" 2>"$out.err" &
            tracer=$!
            wait_for "$out.bt" "Attaching" || die "bpftrace did not attach: $(cat "$out.err")"
            ;;
        record | record-nc)
            local args=(-p "$demo" -o "$out.parquet")
            [[ $1 == record-nc ]] && args+=(--no-channels)
            "$RECORD" "${args[@]}" 2>"$out.err" &
            tracer=$!
            wait_for "$out.err" "recording to" || die "record did not start: $(cat "$out.err")"
            ;;
        *) die "unknown mode $1" ;;
    esac
}

# stop_tracer MODE RUN: stops it, waits until it has exited (record writes its file), and
# sets $note to what it says about its own losses.
stop_tracer() {
    local out=$WORK/$2
    note=''
    [[ -n $tracer ]] || return 0
    kill -INT "$tracer"
    wait "$tracer" || true
    tracer=''
    case $1 in
        bpftrace)
            note="printed $(grep -c '^caller:' "$out.bt" || true) caller blocks"
            local lost
            lost=$( (grep -ho 'Lost [0-9]* events' "$out.bt" "$out.err" || true) | awk '{s += $2} END {print s + 0}')
            note+=", lost $lost"
            ;;
        record*)
            note=$(grep -o 'wrote [0-9]* events' "$out.err" || echo "no 'wrote' line")
            note+=", lost $(awk '$1 == "lost" {print $2}' "$out.err")"
            ;;
    esac
}

RESULTS=$WORK/results.tsv
: >"$RESULTS"
n=${#MODES[@]}
printf '%-6s %-10s %10s %9s  %s\n' round mode 'req/s' 'non-2xx' 'tracer'
for ((r = 0; r < ROUNDS; r++)); do
    for ((k = 0; k < n; k++)); do
        mode=${MODES[$(((k + r) % n))]}
        run=r$r-$mode
        start_tracer "$mode" "$run"
        wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" "$URL" >"$WORK/$run.wrk" 2>&1 || true
        stop_tracer "$mode" "$run"
        kill -0 "$demo" 2>/dev/null || die "the demo died during $run (see $WORK/demo.log)"
        rps=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/$run.wrk")
        [[ -n $rps ]] || die "wrk printed no Requests/sec: $(cat "$WORK/$run.wrk")"
        bad=$(awk '/Non-2xx/ {print $NF} /Socket errors/ {print "sock:" $0}' "$WORK/$run.wrk" | paste -sd' ')
        printf '%-6s %-10s %10.1f %9s  %s\n' "$((r + 1))" "$mode" "$rps" "${bad:-0}" "$note"
        printf '%s\t%s\n' "$mode" "$rps" >>"$RESULTS"
        sleep 1
    done
done

python3 - "$RESULTS" "$DUR" "$CONNS" "${BENCH_TSV:-}" "${MODES[@]}" <<'PY'
import statistics, sys
results, dur, conns, tsv, modes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
runs = {}
for line in open(results):
    mode, rps = line.split("\t")
    runs.setdefault(mode, []).append(float(rps))
names = {"none": "no tracing", "bpftrace": "bpftrace http.bt (3 probes)",
         "record": "record", "record-nc": "record --no-channels"}
base = statistics.mean(runs["none"]) if "none" in runs else None
print(f"\n{'mode':<30} {'req/s (mean)':>12} {'min':>9} {'max':>9} {'vs none':>8}")
rows = []
for m in modes:
    v = runs.get(m)
    if not v:
        continue
    mean = statistics.mean(v)
    ratio = f"{mean / base:.3f}" if base else "-"
    print(f"{names[m]:<30} {mean:>12.1f} {min(v):>9.1f} {max(v):>9.1f} {ratio:>8}")
    rows.append(("overhead", f"req/s /handle, {names[m]} (wrk -c{conns}, {dur}s x{len(v)})",
                 f"{mean:.0f}", ""))
    if base and m != "none":
        rows.append(("overhead", f"req/s ratio to no tracing, {names[m]}", ratio, ""))
if tsv:
    with open(tsv, "a") as f:
        for r in rows:
            f.write("\t".join(r) + "\n")
PY
