#!/usr/bin/env bash
# The main job: install what is needed, build quadtrace and the demo service, record the demo
# while it serves /handle, and print its service quadruples.
# Usage: scripts/demo.sh [http_demo|gin_demo] [REQUESTS]   (as root: recording needs BPF)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
DEMO=${1:-http_demo}
N=${2:-10}
OUT=${QUADTRACE_DEMO_OUT:-$REPO/out}

"$REPO/scripts/setup.sh" 1.19
"$REPO/scripts/build-demos.sh" 1.19 >/dev/null
(cd "$REPO" && cargo build -q --workspace)
mkdir -p "$OUT"

"$REPO/testdata/bin/go1.19/dwarf/$DEMO" >"$OUT/$DEMO.log" 2>&1 &
demo_pid=$!
trap 'kill $demo_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null http://0.0.0.0:9932/echo && break; sleep 0.1; done

"$QT_BIN/record" -p "$demo_pid" -o "$OUT/demo.parquet" --live &
record_pid=$!
sleep 2 # attaching takes a moment; requests before it are not seen
for _ in $(seq "$N"); do curl -s -o /dev/null http://0.0.0.0:9932/handle; done
kill -INT $record_pid
wait $record_pid

echo
echo "== analyze quads $OUT/demo.parquet"
"$QT_BIN/analyze" quads "$OUT/demo.parquet"
