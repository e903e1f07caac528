#!/usr/bin/env bash
# Benchmark: `analyze quads` on a synthetic recording of EVENTS events (scripts/gen-recording.py:
# four services, same-goroutine, spawned, channel-handed and background calls; in schema 4 also
# the socket events and client addresses that link every call to the request it caused), timed,
# with its peak memory (maximum resident set size, /usr/bin/time -v). Targets: >= 5 M events/s,
# peak memory under 10 x the file's size on disk. Prints figures; never fails on them.
#
# The recording is cached as $QUADTRACE_CACHE/bench/synthetic-EVENTS.parquet (schema 4) or
# synthetic-EVENTS-s3.parquet (out of git), made again when the generator changes. analyze runs in a memory cgroup capped at BENCH_MEM_LIMIT, so
# a blow-up is reported instead of pushing the machine out of memory. No root needed, except for
# the cap (skipped with a warning without it).
#
# Usage: scripts/bench-analyze.sh [EVENTS]           (default 50000000)
# Environment:
#   BENCH_ANALYZE    analyze binary (default: the release build if there is one, else debug)
#   BENCH_MEM_LIMIT  memory cap for analyze, bytes with an optional K/M/G suffix (default 16G)
#   BENCH_SCHEMA     schema version of the recording, 3 or 4 (default 4; 3 for an analyze that
#                    predates schema 4)
#   BENCH_TSV        append "section<TAB>metric<TAB>value<TAB>target" rows here (scripts/bench.sh)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"

die() { printf 'bench-analyze: %s\n' "$*" >&2; exit 1; }
log() { printf 'bench-analyze: %s\n' "$*" >&2; }
EVENTS=${1:-50000000}
[[ $EVENTS =~ ^[0-9]+$ ]] && ((EVENTS > 0)) || die "not an event count: $EVENTS"
LIMIT=${BENCH_MEM_LIMIT:-16G}
SCHEMA=${BENCH_SCHEMA:-4}
[[ $SCHEMA == 3 || $SCHEMA == 4 ]] || die "BENCH_SCHEMA must be 3 or 4, not $SCHEMA"
ANALYZE=${BENCH_ANALYZE:-}
if [[ -z $ANALYZE ]]; then
    ANALYZE=$CARGO_TARGET_DIR/release/analyze
    [[ -x $ANALYZE ]] || ANALYZE=$CARGO_TARGET_DIR/debug/analyze
fi
[[ -x $ANALYZE ]] || die "no $ANALYZE (cargo build -p quadtrace-analyze)"
[[ -x /usr/bin/time ]] || die "no /usr/bin/time (apt-get install time)"
PROFILE=release
[[ $ANALYZE == */debug/* ]] && PROFILE="debug (NOT representative)"

# pyarrow and numpy: from this Python, else from a venv of our own in the cache.
PY=python3
if ! $PY -c 'import pyarrow, numpy' 2>/dev/null; then
    VENV=$QUADTRACE_CACHE/bench-venv
    if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import pyarrow, numpy' 2>/dev/null; then
        log "installing pyarrow and numpy into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q pyarrow numpy
    fi
    PY=$VENV/bin/python
fi

DIR=$QUADTRACE_CACHE/bench
mkdir -p "$DIR"
FILE=$DIR/synthetic-$EVENTS.parquet
[[ $SCHEMA == 4 ]] || FILE=$DIR/synthetic-$EVENTS-s$SCHEMA.parquet
if [[ ! -s $FILE || scripts/gen-recording.py -nt $FILE ]]; then
    log "generating $FILE"
    $PY scripts/gen-recording.py --events "$EVENTS" --schema "$SCHEMA" "$FILE"
fi
SIZE=$(stat -c %s "$FILE")

WORK=$(mktemp -d /tmp/bench-analyze.XXXXXX)
CG=''
cleanup() {
    if [[ -n $CG ]]; then rmdir "$CG" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# The memory cap: cgroup v1's memory controller, else v2's.
limit_bytes=$(numfmt --from=iec "$LIMIT")
if [[ -w /sys/fs/cgroup/memory ]]; then
    CG=/sys/fs/cgroup/memory/quadtrace-bench-$$
    mkdir "$CG" && echo "$limit_bytes" >"$CG/memory.limit_in_bytes"
elif [[ -w /sys/fs/cgroup/cgroup.subtree_control ]] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
    CG=/sys/fs/cgroup/quadtrace-bench-$$
    mkdir "$CG" && echo "$limit_bytes" >"$CG/memory.max"
else
    log "warning: no writable memory cgroup; analyze runs without a memory cap"
fi

log "analyze quads on $FILE ($EVENTS events, $SIZE bytes; $ANALYZE, $PROFILE; cap $LIMIT)"
set +e
(
    [[ -n $CG ]] && echo "$BASHPID" >"$CG/cgroup.procs"
    exec /usr/bin/time -v "$ANALYZE" quads "$FILE" --format csv
) >"$WORK/quads.csv" 2>"$WORK/time.log"
rc=$?
set -e
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time.log")
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.log")
cpu=$(awk -F': ' '/Percent of CPU/ {print $2}' "$WORK/time.log")
secs=$(awk -v t="$wall" 'BEGIN {n = split(t, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s}')
status=ok
if ((rc != 0)); then
    status="analyze failed (exit $rc): $(grep -v '^\s' "$WORK/time.log" | head -3 | paste -sd' ')"
    grep -q 'signal 9' "$WORK/time.log" && status="killed (signal 9): over the $LIMIT memory cap?"
fi

head -12 "$WORK/quads.csv" | column -t -s, >&2 || true
$PY - "$EVENTS" "$SIZE" "$secs" "$rss_kb" "$cpu" "$status" "$PROFILE" "${BENCH_TSV:-}" <<'PY'
import sys
events, size, secs, rss_kb, cpu, status, profile, tsv = sys.argv[1:9]
events, size, secs, rss = int(events), int(size), float(secs), int(rss_kb) * 1024
rate = events / secs if secs > 0 else 0
print(f"analyze quads, {profile}: {status}")
print(f"  events            {events}")
print(f"  file              {size} bytes ({size / events:.2f} bytes/event)")
print(f"  wall time         {secs:.1f} s (CPU {cpu})")
print(f"  events/s          {rate / 1e6:.2f} M   (target >= 5 M)")
print(f"  peak RSS          {rss / 2**20:.0f} MiB = {rss / size:.1f} x the file   (target < 10 x)")
if tsv:
    tag = f"{events / 1e6:g} M synthetic events" + ("" if profile == "release" else ", debug build")
    rows = [("analyze", f"analyze quads events/s ({tag})",
             f"{rate / 1e6:.2f} M" if status == "ok" else status, ">= 5 M"),
            ("analyze", f"analyze peak RSS / file size ({size / 2**20:.0f} MiB on disk)",
             f"{rss / size:.1f} x ({rss / 2**20:.0f} MiB)", "< 10 x")]
    with open(tsv, "a") as f:
        for r in rows:
            f.write("\t".join(r) + "\n")
PY
