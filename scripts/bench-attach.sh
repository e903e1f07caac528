#!/usr/bin/env bash
# Benchmark: how long `record` takes to attach to the largest Go binary here, Debian's
# prometheus (~50 MB, stripped): from its start until it says "recording to" (reading the
# binary, finding its functions, RETs and call sites by disassembly, loading and attaching the
# BPF programs, reading the process's sockets). Needs root.
#
# Usage: scripts/bench-attach.sh [RUNS]        (default 5; the median is reported)
# Environment:
#   BENCH_RECORD  record binary (default: the release build if there is one, else debug)
#   BENCH_PORT    loopback port of prometheus (default 19590)
#   BENCH_TSV     append "section<TAB>metric<TAB>value<TAB>target" rows here (scripts/bench.sh)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"

die() { printf 'bench-attach: %s\n' "$*" >&2; exit 1; }
RUNS=${1:-5}
PORT=${BENCH_PORT:-19590}
RECORD=${BENCH_RECORD:-$(built record)}
[[ $(id -u) == 0 ]] || die "needs root (uprobes)"
command -v prometheus >/dev/null || die "no prometheus (scripts/setup.sh installs it)"
[[ -x $RECORD ]] || die "no $RECORD (cargo build -p quadtrace-record)"

WORK=$(mktemp -d /tmp/bench-attach.XXXXXX)
prom=''
cleanup() {
    [[ -n $prom ]] && kill "$prom" 2>/dev/null && wait "$prom" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
printf 'global:\n  scrape_interval: 1h\nscrape_configs: []\n' >"$WORK/prometheus.yml"
prometheus --config.file="$WORK/prometheus.yml" --web.listen-address="127.0.0.1:$PORT" \
    --storage.tsdb.path="$WORK/data" >"$WORK/prometheus.log" 2>&1 &
prom=$!
for _ in $(seq 200); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/-/ready" && break
    sleep 0.1
done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/-/ready" || die "prometheus did not start: $(tail -3 "$WORK/prometheus.log")"

times=()
for run in $(seq "$RUNS"); do
    log="$WORK/record.$run.log"
    : >"$log"
    start=$(date +%s%N)
    "$RECORD" -p "$prom" -o "$WORK/r.$run.parquet" --duration 1 2>"$log" &
    rec=$!
    # Bounded: 30 s at most.
    for _ in $(seq 6000); do
        grep -q "recording to" "$log" && break
        kill -0 "$rec" 2>/dev/null || break
        sleep 0.005
    done
    end=$(date +%s%N)
    wait "$rec" || die "record failed: $(cat "$log")"
    grep -q "recording to" "$log" || die "record did not attach: $(cat "$log")"
    times+=($(((end - start) / 1000000)))
done
sites=$(grep -o 'prometheus (.*probes' "$WORK/record.1.log" | head -1)
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
echo "attach to prometheus ($(stat -c %s /usr/bin/prometheus) bytes; $sites): ${times[*]} ms; median $median ms"
if [[ -n ${BENCH_TSV:-} ]]; then
    printf 'attach\tattach time on prometheus (ms, median of %s), %s\t%s\t<= 1000\n' \
        "$RUNS" "$(basename "$(dirname "$RECORD")")" "$median" >>"$BENCH_TSV"
fi
