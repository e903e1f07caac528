#!/usr/bin/env bash
# Re-records the small real recordings under testdata/recordings/ that analyze's golden tests
# read (each has a README there saying how it was made). Needs root. After running it, update
# the golden outputs with: UPDATE_GOLDEN=1 cargo test -p quadtrace-analyze --test cli golden
# and review the diff.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"
scripts/build-demos.sh 1.19 1.27.3 >/dev/null
cargo build -q --workspace
OUT=testdata/recordings
mkdir -p "$OUT"

# record_demo BINARY NAME REQUESTS PARALLEL: records BINARY while REQUESTS /handle requests are
# sent, PARALLEL at a time, into $OUT/NAME.parquet.
record_demo() {
    local bin=$1 name=$2 n=$3 par=$4
    "$bin" >/dev/null 2>&1 &
    local demo=$!
    for _ in $(seq 50); do curl -s -o /dev/null http://0.0.0.0:9932/echo && break; sleep 0.1; done
    "$QT_BIN/record" -p "$demo" -o "$OUT/$name.parquet" 2>"$OUT/$name.record.log" &
    local rec=$!
    for _ in $(seq 100); do grep -q "recording to" "$OUT/$name.record.log" && break; sleep 0.1; done
    seq "$n" | xargs -P "$par" -I{} curl -s -o /dev/null http://0.0.0.0:9932/handle
    kill -INT $rec
    wait $rec
    kill $demo
    wait $demo 2>/dev/null || true
    rm -f "$OUT/$name.record.log"
}

record_demo testdata/bin/go1.19/dwarf/http_demo http_demo_go1.19_handle_x3 3 1
record_demo testdata/bin/go1.27.3/stripped/gin_demo gin_demo_go1.27_stripped_handle_x8_par4 8 4
ls -l "$OUT"/*.parquet
