#!/usr/bin/env bash
# Holds the SQL of schema/sql/ to `analyze quads` on both engines:
#  - the crafted recordings of tests/crafted.py (naming by address, route votes, unended
#    requests, carriers, status 101, calls without an end, hosts booted hours apart, hosts
#    without a clock), links checked call by call against `analyze calls`;
#  - the demo recordings, each alone and together;
#  - synthetic recordings of 300k and 2M events (the latter past the 16,384 durations where
#    analyze's histogram floor starts), and both split into one recording per service as from
#    four hosts, two of which booted hours before the others (every call linked across hosts:
#    checked call by call against `analyze calls`).
# With QUICK=1 (tests/quick.sh) two cases: the crafted naming and routes recordings as one
# fleet, and a synthetic recording of 30k events split across hosts booted apart (1.5 min on
# two busy cores). All cases run in one DuckDB and one Spark session.
#
# Usage: schema/sql/tests/run.sh [--engine duckdb|spark|both]   (default both)
# Needs: the analyze binary (ANALYZE, default the release build under CARGO_TARGET_DIR or
# target/), the venv at ${QUADTRACE_CACHE:-~/.cache/quadtrace}/venv (duckdb, pyarrow, numpy,
# pyspark; PY to use another python) and Java 17 for Spark.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
PY=${PY:-${QUADTRACE_CACHE:-$HOME/.cache/quadtrace}/venv/bin/python}
ANALYZE=${ANALYZE:-${CARGO_TARGET_DIR:-$REPO/target}/release/analyze}
QUICK=${QUICK:-0}
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

# analyze links as many calls over recordings FILE... as over ONE, the same calls on one host
# (the summary line on stderr says how many).
linked_as() {
  local one=$1; shift
  local want got
  want=$("$ANALYZE" quads --format csv "$one" 2>&1 >/dev/null | grep ' calls linked ' || true)
  got=$("$ANALYZE" quads --format csv "$@" 2>&1 >/dev/null | grep ' calls linked ' || true)
  if [[ $got != "$want" ]]; then
    echo "FAIL analyze linked otherwise across hosts ($got) than on one ($want)"
    exit 1
  fi
  echo "ok   across hosts booted apart as on one: $got"
}

# A synthetic recording of N events, and the same split into four hosts, front and orders
# booted an hour and two before the others: analyze links as many calls across them as on one
# host (all but a call cut off by the recording's end).
synthetic() {
  local n=$1
  "$PY" "$REPO/scripts/gen-recording.py" --events "$n" "$W/syn$n.parquet" >/dev/null 2>&1
  "$PY" "$REPO/schema/sql/tests/split_hosts.py" --shift front=1 --shift orders=2 \
    "$W/syn$n.parquet" "$W/split$n"
  linked_as "$W/syn$n.parquet" "$W/split$n"/*.parquet
  if [[ ${2:-} != only-split ]]; then
    add "syn$n" "$W/syn$n.parquet"
    LINKS=1 add "split$n" "$W/split$n"/*.parquet
  fi
}

"$PY" "$REPO/schema/sql/tests/crafted.py" "$W/crafted"
if [[ $QUICK == 1 ]]; then
  # Two cases, as each costs Spark some 20 s: the crafted naming and routes hosts as one
  # fleet (crafted.py's ORDERED), and the split synthetic recording.
  LINKS=1 add crafted "$W"/crafted/{naming,routes}/*.parquet
  synthetic 30000 only-split
  LINKS=1 add split30000 "$W"/split30000/*.parquet
else
  for d in "$W"/crafted/*/; do
    LINKS=1 add "crafted-$(basename "$d")" "$d"*.parquet
  done
  for f in "$REPO"/testdata/recordings/*.parquet; do add "$(basename "$f" .parquet)" "$f"; done
  add demos "$REPO"/testdata/recordings/*.parquet
  for n in 300000 2000000; do synthetic $n; done
fi
"$PY" "$REPO/scripts/fleet/sql_check.py" --edges "$@" "${cases[@]}"
