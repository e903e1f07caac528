#!/usr/bin/env bash
# Records Debian's own Go services (stripped, no DWARF) on loopback and prints their quadruples:
# prometheus scraping node_exporter directly and through blackbox_exporter's /probe every second,
# caddy reverse-proxying /node/* to node_exporter, and curl driving /probe and /node/metrics.
# Needs root and the packages of scripts/setup.sh. Usage: scripts/thirdparty.sh [SECONDS] [REQUESTS]
# Ports (127.0.0.1): node_exporter 19100, blackbox_exporter 19115, caddy 19080, prometheus 19090.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
QT_BIN=${QUADTRACE_BIN:-$QT_BIN}   # another build of record/analyze, if given
CONF="$REPO/testdata/thirdparty"
SECONDS_TO_RECORD=${1:-4}   # of scrapes, after the requests
REQUESTS=${2:-10}

[[ $(id -u) -eq 0 ]] || { echo "thirdparty: needs root (BPF)" >&2; exit 1; }
for b in prometheus prometheus-node-exporter prometheus-blackbox-exporter caddy; do
    command -v "$b" >/dev/null || { echo "thirdparty: $b missing: run scripts/setup.sh" >&2; exit 1; }
done
if [[ ! -x $QT_BIN/record || ! -x $QT_BIN/analyze ]]; then
    (cd "$REPO" && cargo build -q -p quadtrace-record -p quadtrace-analyze)
fi

TMP=$(mktemp -d /tmp/quadtrace-thirdparty.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [[ -n ${KEEP:-} ]] || rm -rf "$TMP"
}
trap cleanup EXIT

wait_http() { # URL: until it answers 200, at most 20 s
    for _ in $(seq 200); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$1") == 200 ]] && return 0
        sleep 0.1
    done
    echo "thirdparty: $1 did not answer; logs in $TMP" >&2
    KEEP=1
    exit 1
}

prometheus-node-exporter --web.listen-address=127.0.0.1:19100 --collector.disable-defaults \
    --collector.loadavg --collector.meminfo --collector.time >"$TMP/node_exporter.log" 2>&1 &
PIDS+=($!)
prometheus-blackbox-exporter --config.file="$CONF/blackbox.yml" \
    --web.listen-address=127.0.0.1:19115 >"$TMP/blackbox_exporter.log" 2>&1 &
PIDS+=($!)
XDG_DATA_HOME="$TMP" XDG_CONFIG_HOME="$TMP" HOME="$TMP" \
    caddy run --config "$CONF/Caddyfile" --adapter caddyfile >"$TMP/caddy.log" 2>&1 &
PIDS+=($!)
wait_http http://127.0.0.1:19100/metrics
wait_http http://127.0.0.1:19115/
wait_http http://127.0.0.1:19080/node/metrics
# prometheus last, so that its first scrapes find the targets up.
prometheus --config.file="$CONF/prometheus.yml" --web.listen-address=127.0.0.1:19090 \
    --storage.tsdb.path="$TMP/prometheus" >"$TMP/prometheus.log" 2>&1 &
PIDS+=($!)
wait_http http://127.0.0.1:19090/-/ready
# Its first scrapes come seconds after it is ready (target discovery is throttled).
for _ in $(seq 150); do
    up=$(curl -s 'http://127.0.0.1:19090/api/v1/query?query=up')
    [[ $up == *'"job":"node"'* && $up == *'"job":"blackbox"'* ]] && break
    sleep 0.2
done
PROM=${PIDS[3]}

OUT="$TMP/thirdparty.parquet"
args=()
for p in "${PIDS[@]}"; do args+=(-p "$p"); done
# A request in flight when recording starts or stops is seen in part, which makes counts
# inexact. Prometheus (its scrapes come by the clock) is stopped while record starts and stops,
# after a pause that lets its scrapes in flight finish.
kill -STOP "$PROM"; sleep 0.3
"$QT_BIN/record" "${args[@]}" -o "$OUT" 2>"$TMP/record.log" &
REC=$!
for _ in $(seq 300); do grep -q "recording to" "$TMP/record.log" && break; sleep 0.1; done
kill -CONT "$PROM"
grep -q "recording to" "$TMP/record.log" || { cat "$TMP/record.log" >&2; KEEP=1; exit 1; }
for _ in $(seq "$REQUESTS"); do
    curl -s -o /dev/null 'http://127.0.0.1:19115/probe?module=http_2xx&target=http://127.0.0.1:19100/metrics'
    curl -s -o /dev/null http://127.0.0.1:19080/node/metrics
done
sleep "$SECONDS_TO_RECORD"
kill -STOP "$PROM"; sleep 0.3
kill -INT "$REC"
wait "$REC" || { cat "$TMP/record.log" >&2; KEEP=1; exit 1; }
tail -n 3 "$TMP/record.log" >&2
"$QT_BIN/analyze" quads "$OUT"
if [[ -n ${CALLS:-} ]]; then "$QT_BIN/analyze" calls "$OUT"; fi
if [[ -n ${KEEP:-} ]]; then cp "$OUT" /tmp/thirdparty.parquet; echo "kept $TMP, copy in /tmp/thirdparty.parquet" >&2; fi
