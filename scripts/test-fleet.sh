#!/usr/bin/env bash
# The fleet roll-up's test (issue 14), run by scripts/test.sh; needs no root. scripts/fleet.sh
# must print what `analyze quads --format csv` prints over the same recordings given at once, on
# both engines (DuckDB, and Spark local[2] with the export on its executors):
#   1. testdata/recordings as they are (two recordings of one host, "vm": one export);
#   2. (DuckDB and Spark) the fleet: those two as hosts vm-a and vm-b (copies with another
#      quadtrace.hostname), three small synthetic hosts (scripts/gen-recording.py --host), one
#      of them rotated into three segments, and four bad files: text named .parquet, a
#      recording cut short, Parquet that is not a recording, and a recording of host-3 whose
#      footer is sound but whose pages are zeros (only the export finds that; it is in
#      host-3's group with good files, so the host is exported again without it). Each bad
#      file must be named on stderr, no good one, and the exit status be 3.
# Usage: scripts/test-fleet.sh   (analyze: $QUADTRACE_ANALYZE, else the debug build of the
#                                 workspace, which `cargo test` has just built)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"

export QUADTRACE_ANALYZE=${QUADTRACE_ANALYZE:-$QT_BIN/analyze}
ANALYZE=$QUADTRACE_ANALYZE
[[ -x $ANALYZE ]] || { echo "test-fleet: no $ANALYZE (cargo build -p quadtrace-analyze)" >&2; exit 1; }
PY=$(scripts/fleet.sh setup --engine spark)
WORK=$(mktemp -d /tmp/test-fleet.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILED=0
fail() { printf 'test-fleet: FAIL: %s\n' "$*" >&2; FAILED=1; }
started=$SECONDS

# The inputs.
mkdir -p "$WORK/in"
for h in 1 2 3; do
    extra=()
    [[ $h != 2 ]] || extra=(--segment-events 8000)
    "$PY" scripts/gen-recording.py --events 20000 --concurrency 4 --host "host-$h" \
        "${extra[@]}" "$WORK/in/host-$h.parquet" 2>/dev/null
done
"$PY" - "$WORK/in" testdata/recordings/*.parquet <<'PY'
import os, struct, sys
import pyarrow as pa, pyarrow.parquet as pq
out, fixtures = sys.argv[1], sys.argv[2:]
# The fixtures, as two hosts.
for f, host in zip(fixtures, ("vm-a", "vm-b")):
    table = pq.read_table(f)
    meta = dict(pq.ParquetFile(f).metadata.metadata) | {b"quadtrace.hostname": host.encode()}
    pq.write_table(table.replace_schema_metadata(meta), os.path.join(out, f"{host}.parquet"),
                   compression="zstd")  # as record writes; analyze reads no snappy
# The bad ones.
with open(os.path.join(out, "notes.parquet"), "w") as f:
    f.write("not a recording\n")
good = open(os.path.join(out, "host-1.parquet"), "rb").read()
open(os.path.join(out, "cut-short.parquet"), "wb").write(good[: len(good) // 2])
pq.write_table(pa.table({"x": [1, 2, 3]}), os.path.join(out, "foreign.parquet"))
data = bytearray(open(os.path.join(out, "host-3.parquet"), "rb").read())
footer = struct.unpack("<I", data[-8:-4])[0]
end = len(data) - 8 - footer
data[4:end] = bytes(end - 4)
open(os.path.join(out, "host-3.zeroed.parquet"), "wb").write(data)
PY
BAD=("$WORK/in/notes.parquet" "$WORK/in/cut-short.parquet" "$WORK/in/foreign.parquet"
     "$WORK/in/host-3.zeroed.parquet")
GOOD=("$WORK/in/vm-a.parquet" "$WORK/in/vm-b.parquet" "$WORK/in/host-1.parquet"
      "$WORK/in/host-2".*.parquet "$WORK/in/host-3.parquet")

# check NAME EXPECTED-STATUS WANT.csv [BAD...] -- FLEET-ARGS...: runs fleet.sh, compares.
check() {
    local name=$1 want_rc=$2 want=$3 rc f
    shift 3
    local bad=()
    while [[ $1 != -- ]]; do bad+=("$1"); shift; done
    shift
    local t=$SECONDS
    set +e
    scripts/fleet.sh quads "$@" >"$WORK/$name.csv" 2>"$WORK/$name.err"
    rc=$?
    set -e
    if [[ $rc != "$want_rc" ]]; then
        fail "$name: exit status $rc, not $want_rc"
        sed 's/^/    /' "$WORK/$name.err" >&2
    fi
    if ! cmp -s "$want" "$WORK/$name.csv"; then
        fail "$name: not what analyze quads --format csv prints:"
        diff "$want" "$WORK/$name.csv" | head -20 >&2 || true
    fi
    for f in "${bad[@]}"; do
        grep -qF "fleet: skipped $f: " "$WORK/$name.err" || fail "$name: $f not reported skipped"
    done
    for f in "${GOOD[@]}"; do
        ! grep -qF "skipped $f:" "$WORK/$name.err" || fail "$name: $f reported skipped"
    done
    printf 'test-fleet: %-22s %s rows, exit %s, %ss\n' "$name" \
        "$(($(wc -l <"$WORK/$name.csv") - 1))" "$rc" "$((SECONDS - t))" >&2
}

"$ANALYZE" quads --format csv testdata/recordings/*.parquet >"$WORK/fixtures.want" 2>/dev/null
"$ANALYZE" quads --format csv "${GOOD[@]}" >"$WORK/fleet.want" 2>/dev/null
# Every inputs' order: shuffled, so that nothing depends on it.
mapfile -t ALL < <(printf '%s\n' "${GOOD[@]}" "${BAD[@]}" | sort -R)

check fixtures-duckdb 0 "$WORK/fixtures.want" -- --engine duckdb testdata/recordings/*.parquet
check fleet-duckdb 3 "$WORK/fleet.want" "${BAD[@]}" -- --engine duckdb "${ALL[@]}"
check fleet-spark 3 "$WORK/fleet.want" "${BAD[@]}" -- --engine spark --master 'local[2]' "${ALL[@]}"

if ((FAILED)); then
    echo "test-fleet: FAILED ($((SECONDS - started)) s)" >&2
    exit 1
fi
echo "test-fleet: ok ($((SECONDS - started)) s)" >&2
