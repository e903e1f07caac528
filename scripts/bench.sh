#!/usr/bin/env bash
# Runs every quadtrace benchmark and prints one table of figures at the end (figures, not
# pass/fail: targets are printed beside them, nothing fails on a miss). Needs root.
#
#   probes    uprobe hits per /handle request (and kernel tracepoint runs) and BPF run time per
#             hit, per program, by class (HTTP, spawn, channel, timer, tracepoint) and in total,
#             with and without --no-channels, and the demo recording's bytes/event
#             (scripts/bench-hits.sh)
#   overhead  requests/s of the demo under wrk with no tracing, bpftrace running the origin's
#             three-probe http.bt, record, record --no-channels; side by side, rounds rotated
#             (scripts/bench-overhead.sh)
#   attach    how long record takes to attach to Debian's prometheus, the largest Go binary
#             here (scripts/bench-attach.sh)
#   grpc      uprobe hits per unary and per streaming gRPC call of 100 messages, by class
#             (scripts/bench-grpc-hits.sh)
#   writer    events/s through decode -> Arrow -> Parquet on one CPU (taskset) from a synthetic
#             event source, and bytes/event (record/examples/writer_bench.rs)
#   analyze   analyze quads events/s and peak RSS on a synthetic recording
#             (scripts/gen-recording.py, scripts/bench-analyze.sh)
#
# Usage: scripts/bench.sh [--quick] [SECTION...]     (default: all six sections)
#   --quick   a short run: 200 requests, 3 s x 1 round of wrk, 1 M writer events, 5 M analyze
#             events (each can still be set below)
# Environment (defaults of a full run):
#   BENCH_REQUESTS=1000       /handle requests for the probe counts
#   BENCH_DURATION=10         seconds per wrk run       BENCH_ROUNDS=2  rounds of the four modes
#   BENCH_WRITER_EVENTS=5000000                         BENCH_ANALYZE_EVENTS=50000000
#   BENCH_PROFILE=release     cargo profile of record, writer_bench and analyze; `debug` skips the
#                             long release build, and the writer and analyze figures say so
#   BENCH_CPU=1               CPU the writer benchmark is pinned to
#   BENCH_ANALYZE_EVENTS may list several sizes, e.g. "10M 100M" (a row set each)
# plus those of the scripts above (BENCH_DEMO, BENCH_CONNS, BENCH_MEM_LIMIT, ...).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
log() { printf '\nbench: == %s ==\n' "$*" >&2; }

QUICK=0
SECTIONS=()
for arg in "$@"; do
    case $arg in
        --quick) QUICK=1 ;;
        probes | attach | grpc | overhead | writer | analyze) SECTIONS+=("$arg") ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $arg (usage: $0 [--quick] [probes|attach|grpc|overhead|writer|analyze]...)" ;;
    esac
done
((${#SECTIONS[@]})) || SECTIONS=(probes attach grpc overhead writer analyze)
has() { [[ " ${SECTIONS[*]} " == *" $1 "* ]]; }
if ((QUICK)); then
    : "${BENCH_REQUESTS:=200}" "${BENCH_DURATION:=3}" "${BENCH_ROUNDS:=1}"
    : "${BENCH_WRITER_EVENTS:=1000000}" "${BENCH_ANALYZE_EVENTS:=5000000}"
fi
REQUESTS=${BENCH_REQUESTS:-1000}
DURATION=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-2}
WRITER_EVENTS=${BENCH_WRITER_EVENTS:-5000000}
ANALYZE_EVENTS=${BENCH_ANALYZE_EVENTS:-50000000}
PROFILE=${BENCH_PROFILE:-release}
CPU=${BENCH_CPU:-1}
[[ $PROFILE == release || $PROFILE == debug ]] || die "BENCH_PROFILE is release or debug"
[[ $(id -u) == 0 ]] || die "needs root (uprobes, bpf_stats, memory cgroup)"

log "building (cargo $PROFILE profile)"
scripts/build-demos.sh 1.19 >/dev/null
cargo_flags=()
[[ $PROFILE == release ]] && cargo_flags+=(--release)
# Both packages in one build, as scripts/test.sh builds the workspace: built alone, analyze
# would get other features for the dependencies the two share, and arrow-rs and parquet would be built again.
cargo build -q "${cargo_flags[@]}" -p quadtrace-record -p quadtrace-analyze
cargo build -q "${cargo_flags[@]}" -p quadtrace-record --example writer_bench
BIN=$CARGO_TARGET_DIR/$PROFILE
export BENCH_RECORD=$BIN/record BENCH_ANALYZE=$BIN/analyze

WORK=$(mktemp -d /tmp/bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export BENCH_TSV=$WORK/results.tsv
: >"$BENCH_TSV"
started=$(date +%s)

if has probes; then
    log "probes: $REQUESTS /handle requests"
    scripts/bench-hits.sh "$REQUESTS" 8
fi
if has attach; then
    log "attach: record on prometheus"
    scripts/bench-attach.sh 5
fi
if has grpc; then
    log "grpc: unary and streaming calls of grpc_demo"
    scripts/bench-grpc-hits.sh
fi
if has overhead; then
    log "overhead: ${DURATION}s x $ROUNDS rounds per mode"
    scripts/bench-overhead.sh "$DURATION" "$ROUNDS"
fi
if has writer; then
    log "writer: $WRITER_EVENTS synthetic events on CPU $CPU"
    taskset -c "$CPU" "$BIN/examples/writer_bench" "$WRITER_EVENTS" "$WORK/writer.parquet" |
        tee "$WORK/writer.txt"
    tag="$WRITER_EVENTS events, one CPU"
    [[ $PROFILE == release ]] || tag+=", DEBUG build: not representative"
    awk -F'  +' -v tag="$tag" '
        /^events\/s decode/ {printf "writer\tdecode+Arrow+Parquet events/s (%s)\t%.2f M\t>= 2 M\n", tag, $2 / 1e6}
        /^events\/s with/   {w = sprintf("writer\tsame, counting the synthetic source\t%.2f M\t\n", $2 / 1e6)}
        /^bytes\/event/     {split($2, a, " "); b = sprintf("writer\tbytes/event on disk, synthetic demo-like events\t%s\t<= 16\n", a[1])}
        END {printf "%s%s", w, b}
    ' "$WORK/writer.txt" >>"$BENCH_TSV"
fi
if has analyze; then
    log "analyze: $ANALYZE_EVENTS synthetic events"
    read -ra analyze_sizes <<<"$ANALYZE_EVENTS"
    scripts/bench-analyze.sh "${analyze_sizes[@]}"
fi

printf '\nquadtrace benchmarks: %s, kernel %s, %s CPUs, %s build, %d s\n' \
    "$(date -u +%Y-%m-%dT%H:%MZ)" "$(uname -r)" "$(nproc)" "$PROFILE" "$(($(date +%s) - started))"
python3 - "$BENCH_TSV" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
w = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(("section", "metric", "value", "target"))]
line = lambda r: "| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |"
print(line(("section", "metric", "value", "target")))
print("|" + "|".join("-" * (x + 2) for x in w) + "|")
for r in rows:
    print(line(r))
PY
