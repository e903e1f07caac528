#!/usr/bin/env bash
# Fleet roll-ups (issue 14, docs/FLEET.md): the quadruples of many hosts' recordings, printed as
# `analyze quads --format csv` prints them. Stage 1 groups the recordings by host (their
# quadtrace.hostname) and runs `analyze export` once per host; stage 2 runs schema/sql/ over the
# exports. With --engine duckdb both run on this machine (the exports in parallel, up to the
# cores); with --engine spark stage 1 runs on the executors, one task per host, with the analyze
# binary shipped to them, and stage 2 in Spark SQL.
#
# Usage: scripts/fleet.sh quads --engine duckdb|spark [--master URL] [--keep DIR] RECORDING...
#        scripts/fleet.sh quads --engine duckdb|spark [--master URL] --exported DIR
#        scripts/fleet.sh setup [--engine spark]   (installs, prints the venv's python)
#   --master URL   Spark master (default local[2])
#   --keep DIR     write the exports into DIR (new or empty) and keep them; on a Spark cluster
#                  it must be storage the driver and every executor see (a shared mount, or a
#                  URI: hdfs://, s3a://)
#   --exported DIR skip stage 1: roll up exports already in DIR
#   --jobs N       exports at once with --engine duckdb (default: the cores)
#   --stats FILE   the stages' figures as JSON (scripts/bench-fleet.sh)
# A recording that cannot be read (not Parquet, cut short, not a recording, pages that do not
# decode) is named on stderr and left out; the rest still roll up.
# Exit status: 0 ok; 1 error; 2 bad usage; 3 printed, but some recordings were skipped.
#
# Installs what it needs: pyarrow, numpy and duckdb (and pyspark for --engine spark) from PyPI
# into $QUADTRACE_CACHE/venv, Debian's Java 17 for Spark when there is no java. analyze:
# $QUADTRACE_ANALYZE, else the workspace's release build, else its debug build (built here with
# cargo when there is neither, in the debug profile that the tests build too).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"

die() { printf 'fleet: %s\n' "$*" >&2; exit 1; }
log() { printf 'fleet: %s\n' "$*" >&2; }

if [[ ${1:-} == -h || ${1:-} == --help || $# -eq 0 ]]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
fi

ENGINE=''
prev=''
for arg in "$@"; do
    [[ $prev == --engine ]] && ENGINE=$arg
    [[ $arg == --engine=* ]] && ENGINE=${arg#--engine=}
    prev=$arg
done

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# Java for Spark: Debian's 17 (what pyspark 3.5 and 4 run on).
if [[ $ENGINE == spark ]] && ! command -v java >/dev/null; then
    log "installing openjdk-17-jre-headless"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq >&2
    as_root apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >&2
fi

# The venv, one installer at a time (the test and a benchmark may start together).
VENV=$QUADTRACE_CACHE/venv
MODULES="pyarrow, numpy, duckdb"
PACKAGES=(pyarrow numpy duckdb)
if [[ $ENGINE == spark ]]; then
    MODULES+=", pyspark"
    PACKAGES+=(pyspark)
fi
if ! "$VENV/bin/python" -c "import $MODULES" 2>/dev/null; then
    mkdir -p "$QUADTRACE_CACHE"
    exec 9>"$QUADTRACE_CACHE/venv.lock"
    flock 9
    if ! "$VENV/bin/python" -c "import $MODULES" 2>/dev/null; then
        python3 -c 'import venv, ensurepip' 2>/dev/null || {
            log "installing python3-venv"
            export DEBIAN_FRONTEND=noninteractive
            as_root apt-get update -qq >&2
            as_root apt-get install -y -qq --no-install-recommends python3-venv >&2
        }
        log "installing ${PACKAGES[*]} into $VENV"
        [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
        "$VENV/bin/pip" install --disable-pip-version-check -q "${PACKAGES[@]}" >&2
    fi
    exec 9>&-
fi

if [[ $1 == setup ]]; then
    printf '%s\n' "$VENV/bin/python"
    exit 0
fi

ANALYZE=${QUADTRACE_ANALYZE:-$(built analyze)}
if [[ ! -x $ANALYZE ]]; then
    log "building analyze (cargo build -p quadtrace-analyze)"
    (cd "$REPO" && cargo build -q -p quadtrace-analyze)
    ANALYZE=$QT_BIN/analyze
fi

exec "$VENV/bin/python" "$REPO/scripts/fleet/main.py" --analyze "$ANALYZE" --repo "$REPO" "$@"
