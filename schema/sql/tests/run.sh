#!/usr/bin/env bash
# Holds the SQL of schema/sql/ to `analyze quads` on both engines: the demo recordings (each
# alone, and together), synthetic recordings of 300k and 2M events (the latter past the
# 16,384 durations where analyze's histogram floor starts), and both split into one recording
# per service as from four hosts (every call linked across hosts: checked call by call against
# `analyze calls`). All cases run in one DuckDB and one Spark session.
#
# Usage: schema/sql/tests/run.sh [--engine duckdb|spark|both]   (default both)
# Needs: the analyze binary (ANALYZE, default the release build under
# CARGO_TARGET_DIR or target/), the venv at /root/.cache/quadtrace/venv (duckdb, pyarrow,
# numpy, pyspark) and Java 17 for Spark.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
PY=${PY:-/root/.cache/quadtrace/venv/bin/python}
ANALYZE=${ANALYZE:-${CARGO_TARGET_DIR:-$REPO/target}/release/analyze}
W=$(mktemp -d /tmp/quadtrace-sql.XXXXXX)
trap 'rm -rf "$W"' EXIT
cases=()

# One case: recordings FILE... exported one by one into $W/NAME.x, expected quads (and, with
# LINKS=1, the calls) from analyze over all of them.
add() {
  local name=$1; shift
  for f in "$@"; do "$ANALYZE" export "$f" -o "$W/$name.x" 2>/dev/null; done
  "$ANALYZE" quads --format csv "$@" > "$W/$name.csv" 2>/dev/null
  local spec="$W/$name.csv=$W/$name.x"
  if [[ ${LINKS:-0} == 1 ]]; then
    "$ANALYZE" calls --format csv "$@" > "$W/$name.calls.csv" 2>/dev/null
    spec+="=$W/$name.calls.csv"
  fi
  cases+=(--case "$spec")
}

for f in "$REPO"/testdata/recordings/*.parquet; do add "$(basename "$f" .parquet)" "$f"; done
add demos "$REPO"/testdata/recordings/*.parquet
for n in 300000 2000000; do
  "$PY" "$REPO/scripts/gen-recording.py" --events $n "$W/syn$n.parquet" >/dev/null 2>&1
  add "syn$n" "$W/syn$n.parquet"
  "$PY" "$REPO/schema/sql/tests/split_hosts.py" "$W/syn$n.parquet" "$W/split$n"
  LINKS=1 add "split$n" "$W/split$n"/*.parquet
done
"$PY" "$REPO/scripts/fleet/sql_check.py" --edges "$@" "${cases[@]}"
