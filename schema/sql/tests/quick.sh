#!/usr/bin/env bash
# The fast subset of tests/run.sh, for scripts/test.sh: the crafted recordings and a small
# synthetic one split across hosts booted apart, on DuckDB and in one Spark session (1.5 min
# on two cores shared with other work, most of it Spark's). Exit status 0: all equal.
#
# Usage: schema/sql/tests/quick.sh ANALYZE   (the analyze binary; uses the venv at
#        ${QUADTRACE_CACHE:-~/.cache/quadtrace}/venv, with duckdb, pyarrow and pyspark)
set -euo pipefail
if [[ $# -ne 1 ]]; then
  echo "usage: $0 ANALYZE" >&2
  exit 2
fi
ANALYZE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") QUICK=1 \
  exec "$(dirname "$0")/run.sh" --engine both
