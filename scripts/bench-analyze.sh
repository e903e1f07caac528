#!/usr/bin/env bash
# Benchmark: `analyze quads` on synthetic recordings of one or more sizes (scripts/gen-recording.py:
# four services, same-goroutine, spawned, channel-handed and background calls; in schema 4 also
# the socket events and client addresses that link every call to the request it caused), timed,
# with its peak memory (maximum resident set size, /usr/bin/time -v), beside DuckDB decoding the
# same files. Prints one table, a row per size. Targets (issue 12): peak memory <= 1.5 GiB at
# any size, no more at 1 B events than at 100 M; >= 10 M events/s. Prints figures; never fails
# on them.
#
# Recordings: a size up to BENCH_SEGMENT_EVENTS (50 M) is one file, as `record` writes it
# without rotation, cached as $QUADTRACE_CACHE/bench/synthetic-EVENTS.parquet (schema 4) or
# synthetic-EVENTS-s3.parquet; a larger one is written as `record --rotate-size` leaves it,
# segments of BENCH_SEGMENT_EVENTS events, synthetic.00001.parquet, synthetic.00002.parquet, ...
# (each with quadtrace.segment = 1, 2, ... and its own counts and time range), cached in
# $QUADTRACE_CACHE/bench/synthetic-EVENTS[-s3]-by-SEGMENT/, and analyzed as one recording
# (`analyze quads DIR/synthetic.*.parquet`). The generator holds a few hundred MB whatever the
# size, and writes BENCH_GEN_JOBS segments at once. Everything is made again when the generator
# changes; how long making each took is printed under the table.
#
# Each size: the files are read once (cat, to the page cache: both tools then read warm), then
#   analyze  `analyze quads FILES --format csv`: wall time (events/s), peak RSS, and the
#            processor time of its reading threads by role (QUADTRACE_PHASES);
#   calls    `analyze calls FILES --format csv` (two passes, rows streamed): wall time, peak RSS;
#   DuckDB   (Python package, BENCH_DUCKDB_THREADS = 2 threads) decodes the very columns analyze
#            reads (its READ list in analyze/src/read/reader.rs, those the files have), from the
#            same files, and combines every value so that nothing is skipped:
#              SELECT count(*), bit_xor(hash(ts_ns, pid, goid, kind, ...)) FROM read_parquet([FILES])
#            timed around that query alone (connection made, threads set before); its row count
#            must be the size. The ratio is analyze's wall time over DuckDB's: what analyze costs
#            over decoding the same Parquet columns.
# Each runs under `timeout BENCH_TIMEOUT` in a memory cgroup of its own capped at BENCH_MEM_LIMIT,
# so a blow-up (or a run too long) is a row's status ("killed: over the 16G cap" when the cgroup's
# OOM killer fired) instead of pushing the machine out of memory. No root needed, except for the
# cap (skipped with a warning without it).
#
# Usage: scripts/bench-analyze.sh [SIZE...]             (default 50M)
#        scripts/bench-analyze.sh --check-segments [SIZE]   (default 2M)
#   SIZE: events, a plain integer or with a K, M or B suffix (10M, 1B); several give one row each.
#   --check-segments: makes SIZE events as one file and as 4 rotated segments, checks that the
#             rows are the same and that `analyze quads --format csv` and `analyze calls --format
#             csv` print the same for both; exits 1 when not. Nothing cached.
# Environment:
#   BENCH_ANALYZE         analyze binary (default: the release build if there is one, else debug)
#   BENCH_MEM_LIMIT       memory cap for analyze and DuckDB, bytes with an optional K/M/G suffix
#                         (default 16G)
#   BENCH_TIMEOUT         seconds each analyze and DuckDB run may take (default 3600)
#   BENCH_SCHEMA          schema version of the recordings, 3 or 4 (default 4; 3 for an analyze
#                         that predates schema 4)
#   BENCH_SEGMENT_EVENTS  events per segment of a rotated recording (default 50000000)
#   BENCH_RATE       front requests per second of the synthetic service (default 10000, i.e.
#                    350 k events/s; empty for back-to-back requests, ~178 k/s, ~6 M events/s):
#                    what analyze keeps depends on how much time the events span
#   BENCH_GEN_JOBS        segments generated at once (default 2; 1 on one CPU)
#   BENCH_DUCKDB_THREADS  DuckDB's threads (default 2)
#   BENCH_CALLS           1 (default): also time `analyze calls FILES --format csv` (its rows
#                         counted, not kept) and its peak memory; 0: quads and DuckDB only
#   BENCH_TSV             append "section<TAB>metric<TAB>value<TAB>target" rows here, a set per
#                         size (scripts/bench.sh)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"

die() { printf 'bench-analyze: %s\n' "$*" >&2; exit 1; }
log() { printf 'bench-analyze: %s\n' "$*" >&2; }

# 10M -> 10000000 (K, M, B: 10^3, 10^6, 10^9).
events_of() {
    local n mult
    [[ ${1^^} =~ ^([0-9]+)([KMB]?)$ ]] || return 1
    n=$((10#${BASH_REMATCH[1]}))
    case ${BASH_REMATCH[2]} in
        K) mult=1000 ;; M) mult=1000000 ;; B) mult=1000000000 ;; *) mult=1 ;;
    esac
    ((n > 0)) || return 1
    echo $((n * mult))
}

CHECK=0
SIZES=()
for arg in "$@"; do
    case $arg in
        --check-segments) CHECK=1 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) n=$(events_of "$arg") || die "not an event count: $arg (e.g. 50000000, 10M, 1B)"
           SIZES+=("$n") ;;
    esac
done
if ((CHECK)); then
    ((${#SIZES[@]} <= 1)) || die "--check-segments takes one size"
    ((${#SIZES[@]})) || SIZES=(2000000)
fi
((${#SIZES[@]})) || SIZES=(50000000)

LIMIT=${BENCH_MEM_LIMIT:-16G}
TIMEOUT=${BENCH_TIMEOUT:-3600}
SCHEMA=${BENCH_SCHEMA:-4}
SEGMENT=${BENCH_SEGMENT_EVENTS:-50000000}
# Front requests per second of the synthetic service: 10 k/s (350 k events/s, an hour a billion
# events, as a busy node records); empty: back to back (~178 k/s), as before.
RATE=${BENCH_RATE-10000}
RATE_ARGS=()
[[ -z $RATE ]] || RATE_ARGS=(--rate "$RATE")
JOBS=${BENCH_GEN_JOBS:-$(($(nproc) > 1 ? 2 : 1))}
THREADS=${BENCH_DUCKDB_THREADS:-2}
CALLS=${BENCH_CALLS:-1}
[[ $SCHEMA == 3 || $SCHEMA == 4 ]] || die "BENCH_SCHEMA must be 3 or 4, not $SCHEMA"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "BENCH_TIMEOUT is seconds, not $TIMEOUT"
[[ $SEGMENT =~ ^[0-9]+$ ]] && ((SEGMENT > 0)) || die "BENCH_SEGMENT_EVENTS must be > 0"
[[ $JOBS =~ ^[0-9]+$ ]] && ((JOBS > 0)) || die "BENCH_GEN_JOBS must be > 0"
[[ $THREADS =~ ^[0-9]+$ ]] && ((THREADS > 0)) || die "BENCH_DUCKDB_THREADS must be > 0"
ANALYZE=${BENCH_ANALYZE:-$(built analyze)}
[[ -x $ANALYZE ]] || die "no $ANALYZE (cargo build -p quadtrace-analyze)"
[[ -x /usr/bin/time ]] || die "no /usr/bin/time (apt-get install time)"
PROFILE=release
[[ $ANALYZE == */debug/* ]] && PROFILE="debug (NOT representative)"

# pyarrow, numpy and duckdb: from this Python, else from a venv of our own in the cache.
PY=python3
if ! $PY -c 'import pyarrow, numpy, duckdb' 2>/dev/null; then
    VENV=$QUADTRACE_CACHE/bench-venv
    if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import pyarrow, numpy, duckdb' 2>/dev/null; then
        log "installing pyarrow, numpy and duckdb into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q pyarrow numpy duckdb
    fi
    PY=$VENV/bin/python
fi

DIR=$QUADTRACE_CACHE/bench
mkdir -p "$DIR"
WORK=$(mktemp -d /tmp/bench-analyze.XXXXXX)
CG=''
cleanup() {
    if [[ -n $CG ]]; then rmdir "$CG" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# The columns analyze reads: its READ list (analyze/src/read/reader.rs names them by the
# schema crate's constants, whose values are their lowercase names); the list as of this
# writing when that cannot be read.
READ_COLUMNS=$(sed -n '/const READ: \[/,/\];/p' analyze/src/read/reader.rs 2>/dev/null |
    grep -o 'columns::[A-Z0-9_]*' | sed 's/columns:://' | tr 'A-Z' 'a-z' | paste -sd, || true)
if [[ -z $READ_COLUMNS ]]; then
    log "warning: no READ list in analyze/src/read/reader.rs; DuckDB reads the list this script knows"
    READ_COLUMNS=ts_ns,pid,goid,kind,service,method,host,path,listen_addr,status,error,parent_goid,ctx,ctx1,ctx2,ctx3,chan,value,qcount,dataqsiz,in_select,completed,route,remote_addr,local_addr,netns,receiver_goid
fi

# make_recording EVENTS PATH-OR-DIR [SEGMENT]: the recording, one file or rotated segments, made
# unless it is there and newer than the generator. Sets FILES (in order) and GEN (seconds it
# took, or "cached").
make_recording() {
    local events=$1 out=$2 segment=${3:-} started
    GEN=cached
    if [[ -z $segment ]]; then
        if [[ ! -s $out || scripts/gen-recording.py -nt $out ]]; then
            log "generating $out ($events events)"
            started=$(date +%s.%N)
            $PY scripts/gen-recording.py --events "$events" --schema "$SCHEMA" "${RATE_ARGS[@]}" "$out"
            GEN=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
        fi
        FILES=("$out")
        return
    fi
    # A directory of segments is complete once .complete is there.
    if [[ ! -e $out/.complete || scripts/gen-recording.py -nt $out/.complete ]]; then
        rm -rf "$out"
        mkdir -p "$out"
        log "generating $out: $events events in segments of $segment ($JOBS at once)"
        started=$(date +%s.%N)
        $PY scripts/gen-recording.py --events "$events" --schema "$SCHEMA" "${RATE_ARGS[@]}" \
            --segment-events "$segment" --jobs "$JOBS" "$out/synthetic.parquet"
        GEN=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
        touch "$out/.complete"
    fi
    FILES=("$out"/synthetic.*.parquet)
    [[ -e ${FILES[0]} ]] || die "no segments in $out"
}

# The memory cap: cgroup v1's memory controller, else v2's; a fresh cgroup per run, so that its
# OOM-kill counter is that run's.
limit_bytes=$(numfmt --from=iec "$LIMIT")
CGROOT=''
if [[ -w /sys/fs/cgroup/memory ]]; then
    CGROOT=/sys/fs/cgroup/memory
elif [[ -w /sys/fs/cgroup/cgroup.subtree_control ]] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
    CGROOT=/sys/fs/cgroup
else
    log "warning: no writable memory cgroup; analyze and DuckDB run without a memory cap"
fi
RUNS=0
cg_create() {
    CG=''
    [[ -n $CGROOT ]] || return 0
    RUNS=$((RUNS + 1))
    CG=$CGROOT/quadtrace-bench-$$-$RUNS
    mkdir "$CG"
    if [[ -e $CG/memory.limit_in_bytes ]]; then
        echo "$limit_bytes" >"$CG/memory.limit_in_bytes"
    else
        echo "$limit_bytes" >"$CG/memory.max"
    fi
}
cg_oom_kills() {
    [[ -n $CG ]] || { echo 0; return; }
    local f=$CG/memory.oom_control
    [[ -e $f ]] || f=$CG/memory.events
    awk '$1 == "oom_kill" {print $2; found = 1} END {if (!found) print 0}' "$f"
}

# run_capped NAME CMD...: runs CMD in a capped cgroup under timeout and /usr/bin/time -v, stdout
# to $WORK/NAME.out, stderr and time's report to $WORK/NAME.log. Sets SECS (wall), RSS_KB (peak)
# and STATUS (ok, or why not).
run_capped() {
    local name=$1 rc kills wall why
    shift
    cg_create
    set +e
    (
        [[ -n $CG ]] && echo "$BASHPID" >"$CG/cgroup.procs"
        exec /usr/bin/time -v timeout "$TIMEOUT" "$@"
    ) >"$WORK/$name.out" 2>"$WORK/$name.log"
    rc=$?
    set -e
    kills=$(cg_oom_kills)
    if [[ -n $CG ]]; then rmdir "$CG" 2>/dev/null || true; CG=''; fi
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/$name.log")
    RSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/$name.log")
    RSS_KB=${RSS_KB:-0}
    SECS=$(awk -v t="${wall:-0}" 'BEGIN {n = split(t, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s}')
    STATUS=ok
    if ((kills > 0)) || grep -q 'terminated by signal 9' "$WORK/$name.log"; then
        STATUS="killed (signal 9)"
        ((kills > 0)) && STATUS="killed: over the $LIMIT cap"
    elif grep -q 'exited with non-zero status 124' "$WORK/$name.log"; then
        STATUS="timed out after ${TIMEOUT}s"
    elif ((rc != 0)); then
        STATUS="failed (exit $rc)"
        why=$(grep -v -e '^\s' -e '^Command ' "$WORK/$name.log" | tail -3 | paste -sd' ' | cut -c1-160 || true)
        [[ -z $why ]] || STATUS+=": $why"
    fi
}

# DuckDB's decode: see the header. Prints "rows seconds hash columns" (not named duckdb.py, which
# would shadow the module).
cat >"$WORK/decode-duckdb.py" <<'PY'
import sys, time, duckdb
threads, columns, files = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3:]
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
# The columns analyze reads that the files have (a schema 3 file lacks the schema 4 ones).
have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({listed})").fetchall()}
cols = [c for c in columns if c in have]
query = (f"SELECT count(*), bit_xor(hash({', '.join(cols)})) FROM read_parquet({listed})")
print(f"{duckdb.__version__}, {threads} threads: "
      + (query if len(query) < 400 else query[:400] + " ..."), file=sys.stderr)
started = time.perf_counter()
rows, h = con.execute(query).fetchone()
print(rows, f"{time.perf_counter() - started:.3f}", h, len(cols))
PY

if ((CHECK)); then
    events=${SIZES[0]}
    seg=$(((events + 3) / 4))
    log "check: $events events as one file and as segments of $seg ($ANALYZE)"
    mkdir "$WORK/seg"
    $PY scripts/gen-recording.py --events "$events" --schema "$SCHEMA" "$WORK/one.parquet"
    $PY scripts/gen-recording.py --events "$events" --schema "$SCHEMA" --segment-events "$seg" \
        --jobs "$JOBS" "$WORK/seg/synthetic.parquet"
    segs=("$WORK"/seg/synthetic.*.parquet)
    ok=1
    $PY - "$WORK/one.parquet" "${segs[@]}" <<'PY' || ok=0
import sys
import pyarrow as pa, pyarrow.parquet as pq
one, segs = sys.argv[1], sys.argv[2:]
a = pq.read_table(one)
b = pa.concat_tables([pq.read_table(f) for f in segs])
for f in segs:
    m = pq.ParquetFile(f).metadata
    kv = m.metadata
    print(f"  {f.rsplit('/', 1)[1]}: {m.num_rows} rows, segment {kv[b'quadtrace.segment'].decode()},"
          f" time range {kv[b'quadtrace.time_range_ns'].decode()}", file=sys.stderr)
same = a.schema.equals(b.schema) and a.equals(b)
print(f"rows: one file {a.num_rows}, {len(segs)} segments {b.num_rows}: "
      + ("the same rows in the same order" if same else "DIFFERENT"))
sys.exit(0 if same else 1)
PY
    for cmd in quads calls; do
        "$ANALYZE" "$cmd" "$WORK/one.parquet" --format csv >"$WORK/one-$cmd.csv" 2>"$WORK/one-$cmd.err"
        "$ANALYZE" "$cmd" "${segs[@]}" --format csv >"$WORK/seg-$cmd.csv" 2>"$WORK/seg-$cmd.err"
        if cmp -s "$WORK/one-$cmd.csv" "$WORK/seg-$cmd.csv"; then
            echo "analyze $cmd --format csv: identical ($(($(wc -l <"$WORK/one-$cmd.csv") - 1)) rows)"
        else
            echo "analyze $cmd --format csv: DIFFERENT"
            diff "$WORK/one-$cmd.csv" "$WORK/seg-$cmd.csv" | head -20
            ok=0
        fi
        cmp -s "$WORK/one-$cmd.err" "$WORK/seg-$cmd.err" ||
            { echo "analyze $cmd: stderr differs:"; diff "$WORK/one-$cmd.err" "$WORK/seg-$cmd.err" | head -10; }
    done
    column -t -s, "$WORK/one-quads.csv"
    cat "$WORK/one-quads.err"
    ((ok)) && echo "segments check: ok" || { echo "segments check: FAILED"; exit 1; }
    exit 0
fi

log "analyze: $ANALYZE ($PROFILE); cap $LIMIT, timeout ${TIMEOUT}s; DuckDB $THREADS threads"
: >"$WORK/rows.tsv"
for events in "${SIZES[@]}"; do
    tag=''
    [[ $SCHEMA == 4 ]] || tag=-s$SCHEMA
    [[ -z $RATE ]] || tag=$tag-r$RATE
    if ((events <= SEGMENT)); then
        make_recording "$events" "$DIR/synthetic-$events$tag.parquet"
    else
        # A size's files take about 7.2 bytes an event: refuse to fill the disk.
        need=$((events * 15 / 2))
        free=$(($(df --output=avail -B1 "$DIR" | tail -1)))
        out=$DIR/synthetic-$events$tag-by-$SEGMENT
        if [[ ! -e $out/.complete ]] && ((need > free)); then
            printf '%s\t0\t0\t\t\tnot run: needs ~%s bytes on disk, %s free\t\t\t\tcached\n' \
                "$events" "$need" "$free" >>"$WORK/rows.tsv"
            continue
        fi
        make_recording "$events" "$out" "$SEGMENT"
    fi
    bytes=$(stat -c %s "${FILES[@]}" | awk '{s += $1} END {printf "%.0f\n", s}')
    log "$events events: ${#FILES[@]} file(s), $bytes bytes; reading them once (page cache)"
    cat "${FILES[@]}" >/dev/null

    log "$events events: analyze quads"
    # QUADTRACE_PHASES: analyze also prints the processor time of its reading roles.
    run_capped "analyze-$events" env QUADTRACE_PHASES=1 "$ANALYZE" quads "${FILES[@]}" --format csv
    a_secs=$SECS a_rss=$RSS_KB a_status=$STATUS
    a_cpu=$(sed -n 's/^phase read+rebuild .*decode \([0-9.]*\) s *convert \([0-9.]*\) s *pass \([0-9.]*\) s.*/\1 \2 \3/p' \
        "$WORK/analyze-$events.log" | tail -1)
    head -12 "$WORK/analyze-$events.out" | column -t -s, >&2 || true
    grep -v -e '^\s' -e '^Command ' -e '^phase ' -e '^kept at ' "$WORK/analyze-$events.log" | tail -3 >&2 || true

    c_secs='' c_rss=0 c_status='not run' c_rows=''
    if ((CALLS)); then
        # Rows to a counter, not to disk: a billion events make ~90 M rows, ~20 GB of CSV.
        log "$events events: analyze calls"
        run_capped "calls-$events" bash -c '"$0" calls "$@" --format csv | wc -l' \
            "$ANALYZE" "${FILES[@]}"
        c_secs=$SECS c_rss=$RSS_KB c_status=$STATUS
        read -r c_rows <"$WORK/calls-$events.out" || true
        c_rows=$((${c_rows:-1} - 1))
    fi

    log "$events events: DuckDB decode"
    run_capped "duckdb-$events" "$PY" "$WORK/decode-duckdb.py" "$THREADS" "$READ_COLUMNS" "${FILES[@]}"
    d_status=$STATUS d_rss=$RSS_KB
    read -r d_rows d_secs d_hash d_cols <"$WORK/duckdb-$events.out" || true
    ((events != SIZES[0])) || head -1 "$WORK/duckdb-$events.log" | sed 's/^/bench-analyze: DuckDB: /' >&2
    if [[ $d_status == ok && ${d_rows:-} != "$events" ]]; then
        d_status="read ${d_rows:-no} rows, not $events"
    fi
    [[ $d_status == ok ]] || d_secs=''
    log "$events events: DuckDB read ${d_rows:-?} rows of ${d_cols:-?} columns in ${d_secs:-?} s (hash ${d_hash:-?}, peak RSS $((d_rss / 1024)) MiB)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$events" "${#FILES[@]}" \
        "$bytes" "$a_secs" "$a_rss" "$a_status" "$d_secs" "$d_status" "$d_rss" "$GEN" \
        "$c_secs" "$c_rss" "$c_status" "$c_rows" "$a_cpu" >>"$WORK/rows.tsv"
done

$PY - "$WORK/rows.tsv" "$PROFILE" "$LIMIT" "$SEGMENT" "${BENCH_TSV:-}" <<'PY'
import sys
path, profile, limit, segment, tsv = sys.argv[1:6]
head = ("events", "files", "bytes on disk", "analyze s", "analyze M ev/s", "peak RSS MiB",
        "RSS MiB / M ev", "DuckDB s", "DuckDB M rows/s", "analyze/DuckDB", "calls s",
        "calls peak RSS MiB", "status")
table, notes, tsv_rows = [], [], []
for line in open(path):
    (events, files, size, a_secs, a_rss, a_status, d_secs, d_status, d_rss, gen,
     c_secs, c_rss, c_status, c_rows, a_cpu) = (line.rstrip("\n").split("\t") + [""] * 15)[:15]
    events, files, size = int(events), int(files), int(size)
    m = events / 1e6
    if not a_secs:  # not run
        table.append((f"{events:,}", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", a_status))
        continue
    a_secs, rss = float(a_secs), int(a_rss or 0) * 1024
    ok = a_status == "ok"
    rate = events / a_secs if ok and a_secs > 0 else None
    d = float(d_secs) if d_secs else None
    c_ok = c_status in ("ok", "not run")
    status = "ok" if ok and d_status == "ok" and c_ok else "; ".join(
        s for s in ((f"analyze {a_status} after {a_secs:.0f} s" if not ok else ""),
                    (f"DuckDB {d_status}" if d_status != "ok" else ""),
                    (f"calls {c_status}" if not c_ok else "")) if s)
    c_rss_b = int(c_rss or 0) * 1024
    at_least = ">= " if a_status.startswith("killed") else ""  # the peak when it was killed
    table.append((
        f"{events:,}", str(files), f"{size:,}", f"{a_secs:.1f}",
        f"{rate / 1e6:.2f}" if rate else "-", f"{at_least}{rss / 2**20:,.0f}",
        f"{at_least}{rss / 2**20 / m:.1f}", f"{d:.2f}" if d else "-",
        f"{events / d / 1e6:.1f}" if d else "-",
        f"{a_secs / d:.1f} x" if d and ok else "-",
        f"{float(c_secs):.1f}" if c_secs else "-",
        f"{c_rss_b / 2**20:,.0f}" if c_secs else "-", status))
    if c_secs and c_status == "ok":
        notes.append(f"  {events:,} events: analyze calls wrote {int(c_rows):,} rows in "
                     f"{float(c_secs):.1f} s ({events / float(c_secs) / 1e6:.2f} M events/s, two "
                     f"passes), peak RSS {c_rss_b / 2**30:.2f} GiB")
    if ok and len(a_cpu.split()) == 3:
        dec, conv, pas = map(float, a_cpu.split())
        notes.append(f"  {events:,} events: analyze's processor time: decoding {dec:.2f} s, "
                     f"conversion {conv:.2f} s, the pass {pas:.2f} s, {a_secs:.1f} s of wall "
                     f"time on two threads (one decodes and converts; the pass's decodes four "
                     f"columns whenever it would wait)")
    notes.append(f"  {events:,} events: peak RSS {at_least}{rss / 2**30:.2f} GiB (target <= 1.5 GiB), "
                 f"{at_least}{rss / size:.1f} x the files; "
                 f"{size / events:.2f} bytes/event; generation "
                 + (f"{float(gen):.0f} s ({events / float(gen) / 1e6:.2f} M events/s)"
                    if gen != "cached" else "cached (made earlier)"))
    tag = f"{m:g} M synthetic events" + ("" if profile == "release" else ", debug build")
    tsv_rows += [
        ("analyze", f"analyze quads events/s ({tag})",
         f"{rate / 1e6:.2f} M" if rate else a_status, ">= 10 M"),
        ("analyze", f"analyze peak RSS ({tag}; {size / 2**20:.0f} MiB on disk in {files} file(s))",
         f"{at_least}{rss / 2**30:.2f} GiB ({rss / size:.1f} x the files)", "<= 1.5 GiB"),
        ("analyze", f"analyze time / DuckDB decode of the same columns ({tag})",
         f"{a_secs / d:.1f} x" if d and ok else (a_status if not ok else d_status), ""),
    ]
w = [max(len(r[i]) for r in [head] + table) for i in range(len(head))]
line = lambda r: "| " + " | ".join(c.rjust(w[i]) if i < len(r) - 1 else c.ljust(w[i])
                                   for i, c in enumerate(r)) + " |"
print(f"analyze quads ({profile}) vs DuckDB decode; cap {limit}, segments of {int(segment):,} events")
print(line(head))
print("|" + "|".join("-" * (x + 2) for x in w) + "|")
for r in table:
    print(line(r))
print("\n".join(notes))
if tsv:
    with open(tsv, "a") as f:
        for r in tsv_rows:
            f.write("\t".join(r) + "\n")
PY
