#!/usr/bin/env bash
# Benchmark of the fleet roll-ups (issue 14, docs/FLEET.md): synthetic fleets of N hosts, each
# host one recording of BENCH_FLEET_EVENTS events (scripts/gen-recording.py --host host-001 ...,
# at BENCH_RATE front requests per second), rolled up by scripts/fleet.sh on DuckDB and on Spark
# local[2]. Prints one table, a column per fleet size:
#   stage 1 (local, one `analyze export` per host, --jobs the cores): wall seconds, CPU seconds
#     (user + system of the exports), events/s per core (events over CPU seconds);
#   rows and bytes out per million events in, per dataset and in total (and the recordings'
#     own bytes per million events, to compare);
#   stage 2 on DuckDB: seconds (views, SQL, fetching the quadruples);
#   Spark local[2]: seconds to start, stage 1 on the executors (wall), stage 2 in Spark SQL;
#   `analyze quads` over all the recordings at once: seconds, and whether each engine's CSV is
#     the same as its CSV (ok / DIFF).
# Figures, not pass/fail; it fails only when a step fails.
#
# Usage: scripts/bench-fleet.sh [HOSTS...]    (default 10 100)
# Environment:
#   BENCH_FLEET_EVENTS  events per host (default 300000: a fleet of 100 is 30 M events, ~180 MB)
#   BENCH_RATE          front requests per second of each host's synthetic service (default
#                       10000, i.e. ~350 k events/s, a busy node; see bench-analyze.sh)
#   BENCH_GEN_JOBS      recordings generated at once (default: the cores)
#   BENCH_ANALYZE       analyze binary (default: the release build if there is one, else debug)
#   BENCH_SPARK         1 (default): also Spark local[2]; 0: DuckDB only
# Recordings are cached in $QUADTRACE_CACHE/bench/fleet-EVENTS-rRATE/ (the first N hosts of the
# largest fleet serve every smaller one) and made again when the generator changes.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"

die() { printf 'bench-fleet: %s\n' "$*" >&2; exit 1; }
log() { printf 'bench-fleet: %s\n' "$*" >&2; }

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
fi
SIZES=("$@")
((${#SIZES[@]})) || SIZES=(10 100)
for n in "${SIZES[@]}"; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "not a number of hosts: $n"; done
EVENTS=${BENCH_FLEET_EVENTS:-300000}
RATE=${BENCH_RATE:-10000}
JOBS=${BENCH_GEN_JOBS:-$(nproc)}
SPARK=${BENCH_SPARK:-1}
[[ $EVENTS =~ ^[1-9][0-9]*$ ]] || die "BENCH_FLEET_EVENTS must be > 0"
ANALYZE=${BENCH_ANALYZE:-$(built analyze)}
[[ -x $ANALYZE ]] || die "no $ANALYZE (cargo build --release -p quadtrace-analyze)"
PROFILE=release
[[ $ANALYZE == */debug/* ]] && PROFILE="debug (NOT representative)"
export QUADTRACE_ANALYZE=$ANALYZE
engine=duckdb
[[ $SPARK == 1 ]] && engine=spark
PY=$(scripts/fleet.sh setup --engine "$engine")

DIR=$QUADTRACE_CACHE/bench/fleet-$EVENTS-r$RATE
mkdir -p "$DIR"
WORK=$(mktemp -d /tmp/bench-fleet.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# The largest fleet's recordings; a host's file is made again when the generator is newer.
most=$(printf '%s\n' "${SIZES[@]}" | sort -n | tail -1)
todo=()
for ((i = 1; i <= most; i++)); do
    f=$DIR/host-$(printf %03d "$i").parquet
    [[ -s $f && ! scripts/gen-recording.py -nt $f ]] || todo+=("$i")
done
if ((${#todo[@]})); then
    log "generating ${#todo[@]} host(s) of $EVENTS events into $DIR ($JOBS at once)"
    t=$SECONDS
    printf '%s\n' "${todo[@]}" | xargs -P "$JOBS" -I{} sh -c \
        'h=$(printf host-%03d "$1"); "$2" scripts/gen-recording.py --events "$3" --rate "$4" \
             --host "$h" "$5/$h.parquet" 2>/dev/null' _ {} "$PY" "$EVENTS" "$RATE" "$DIR"
    log "generated in $((SECONDS - t)) s"
fi

log "analyze: $ANALYZE ($PROFILE); $(nproc) cores"
for n in "${SIZES[@]}"; do
    files=()
    for ((i = 1; i <= n; i++)); do files+=("$DIR/host-$(printf %03d "$i").parquet"); done
    cat "${files[@]}" >/dev/null  # the page cache: every step reads them warm
    log "$n hosts: analyze quads over all at once"
    t0=$(date +%s.%N)
    "$ANALYZE" quads --format csv "${files[@]}" >"$WORK/$n.want" 2>/dev/null
    t1=$(date +%s.%N)
    echo "$t0 $t1" | awk '{printf "%.3f\n", $2 - $1}' >"$WORK/$n.analyze_s"
    stat -c %s "${files[@]}" | awk '{s += $1} END {printf "%.0f\n", s}' >"$WORK/$n.bytes"

    log "$n hosts: fleet.sh --engine duckdb"
    rm -rf "$WORK/export"
    scripts/fleet.sh quads --engine duckdb --keep "$WORK/export" --stats "$WORK/$n.duckdb.json" \
        "${files[@]}" >"$WORK/$n.duckdb.csv"
    cmp -s "$WORK/$n.want" "$WORK/$n.duckdb.csv" && echo ok >"$WORK/$n.duckdb.same" ||
        echo DIFF >"$WORK/$n.duckdb.same"
    if [[ $SPARK == 1 ]]; then
        log "$n hosts: fleet.sh --engine spark --master local[2]"
        scripts/fleet.sh quads --engine spark --master 'local[2]' --stats "$WORK/$n.spark.json" \
            "${files[@]}" >"$WORK/$n.spark.csv"
        cmp -s "$WORK/$n.want" "$WORK/$n.spark.csv" && echo ok >"$WORK/$n.spark.same" ||
            echo DIFF >"$WORK/$n.spark.same"
    fi
done

"$PY" - "$WORK" "$PROFILE" "$EVENTS" "$RATE" "${SIZES[@]}" <<'PY'
import json, os, sys
work, profile, rate, sizes = sys.argv[1], sys.argv[2], sys.argv[4], sys.argv[5:]
events = int(sys.argv[3])
DATASETS = ("calls", "requests", "listeners", "addresses", "connects")


def read(path, default=None):
    try:
        with open(path) as f:
            return json.load(f) if path.endswith(".json") else f.read().strip()
    except OSError:
        return default


rows = {}
def put(metric, value):
    rows.setdefault(metric, []).append(value)


for n in sizes:
    d = read(f"{work}/{n}.duckdb.json", {})
    s = read(f"{work}/{n}.spark.json", {})
    ev = d.get("events", 0)
    m = ev / 1e6 if ev else float("nan")
    put("hosts", n)
    put("events in (M)", f"{m:.1f}")
    put("recordings: bytes / M events", f"{int(read(f'{work}/{n}.bytes', 0)) / m:,.0f}")
    put("stage 1 local: wall s", f"{d.get('stage1_s', 0):.1f}")
    put("stage 1 local: CPU s (exports)", f"{d.get('stage1_cpu_s', 0):.1f}")
    cpu = d.get("stage1_cpu_s") or float("nan")
    put("stage 1: M events/s per core", f"{ev / cpu / 1e6:.2f}")
    sizes_of = d.get("datasets", {})
    tr = tb = 0
    for name in DATASETS:
        files, r, b = sizes_of.get(name, [0, 0, 0])
        tr, tb = tr + r, tb + b
        put(f"  {name}: rows / M events", f"{r / m:,.0f}")
        put(f"  {name}: bytes / M events", f"{b / m:,.0f}")
    put("export total: rows / M events", f"{tr / m:,.0f}")
    put("export total: bytes / M events", f"{tb / m:,.0f}")
    put("stage 2 DuckDB: s", f"{d.get('stage2_s', 0):.2f}")
    if s:
        put("Spark local[2]: start s", f"{s.get('spark_start_s', 0):.1f}")
        put("Spark local[2]: stage 1 wall s", f"{s.get('stage1_s', 0):.1f}")
        put("Spark local[2]: stage 2 s", f"{s.get('stage2_s', 0):.1f}")
    put("analyze quads, all at once: s", read(f"{work}/{n}.analyze_s", "-"))
    put("quadruples", str(d.get("quads", "-")))
    put("DuckDB CSV = analyze quads", read(f"{work}/{n}.duckdb.same", "-"))
    if s:
        put("Spark CSV = analyze quads", read(f"{work}/{n}.spark.same", "-"))

print(f"fleet roll-ups: {events:,} events per host at {rate} front requests/s; analyze {profile};"
      f" {os.cpu_count()} cores")
w0 = max(len(k) for k in rows)
w = [max(len(str(v[i])) for v in rows.values()) for i in range(len(sizes))]
for k, vals in rows.items():
    print(k.ljust(w0) + "".join("  " + str(v).rjust(w[i]) for i, v in enumerate(vals)))
PY
