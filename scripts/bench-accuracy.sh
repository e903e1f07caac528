#!/usr/bin/env bash
# Benchmark: how accurately `analyze calls` attributes each outgoing call of testdata/patterns
# to the inbound request that caused it, per concurrency pattern and load concurrency, and the
# probe hits per inbound request with and without `record --no-channels`. Needs root.
#
# Usage: scripts/bench-accuracy.sh [--check] [CONCURRENCY...]     (default: 1 8 64)
#
# For each CONCURRENCY and each mode (record with channel probes, then with --no-channels),
# on a fresh pair of processes (patterns -downstream on 127.0.0.1:9941, patterns on
# 127.0.0.1:9940):
#   record -p <patterns> -p <downstream>; loadgen sends ACCURACY_N requests per pattern at that
#   concurrency; wait ACCURACY_SETTLE s for the asynchronous calls; read the BPF run counters
#   (kernel.bpf_stats_enabled, restored on exit); stop record with SIGINT;
#   analyze calls --format json; score it with scripts/accuracy.py.
# Then prints one table row per (concurrency, mode, pattern) and one per run (probe hits).
#
# --check: exit 1 unless same/go/gowait/nested/fanout have 100% precision and recall (in every
# mode: they need no channel evidence), select/pool/poolctx/timer >= 99% precision and >= 95%
# recall with the channel probes (not checked with --no-channels), every call made was recorded,
# and (in every mode) no ticker call is attributed. Thresholds: scripts/accuracy.py.
#
# Environment:
#   PATTERNS_BIN        default testdata/bin/go1.27.3/dwarf/patterns
#   LOADGEN_BIN         default: loadgen next to PATTERNS_BIN
#   PATTERNS_ADDR       default 127.0.0.1:9940
#   PATTERNS_DOWNSTREAM default 127.0.0.1:9941
#   ACCURACY_N          requests per pattern and run, default 200
#   ACCURACY_SETTLE     seconds between the last response and stopping record, default 1
#   ACCURACY_NO_CHANNELS  0: skip the --no-channels runs (default 1)
#   ACCURACY_KEEP       1: keep the work directory (recordings, JSON, logs) and print its path
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"

die() { printf 'bench-accuracy: %s\n' "$*" >&2; exit 1; }
log() { printf 'bench-accuracy: %s\n' "$*" >&2; }

CHECK=0
CONCS=()
for arg in "$@"; do
    case $arg in
        --check) CHECK=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *[!0-9]*|'') die "not a concurrency: $arg (usage: $0 [--check] [CONCURRENCY...])" ;;
        *) ((arg > 0)) || die "concurrency must be > 0"; CONCS+=("$arg") ;;
    esac
done
((${#CONCS[@]})) || CONCS=(1 8 64)

PATTERNS_BIN=${PATTERNS_BIN:-testdata/bin/go1.27.3/dwarf/patterns}
LOADGEN_BIN=${LOADGEN_BIN:-$(dirname "$PATTERNS_BIN")/loadgen}
export PATTERNS_ADDR=${PATTERNS_ADDR:-127.0.0.1:9940}
export PATTERNS_DOWNSTREAM=${PATTERNS_DOWNSTREAM:-127.0.0.1:9941}
N=${ACCURACY_N:-200}
SETTLE=${ACCURACY_SETTLE:-1}
PATTERN_LIST=same,go,gowait,nested,fanout,select,pool,poolctx,timer,prepool
MODES=(channels)
[[ ${ACCURACY_NO_CHANNELS:-1} == 0 ]] || MODES+=(no-channels)
[[ $(id -u) == 0 ]] || die "needs root (uprobes, bpf_stats)"

python3 scripts/accuracy.py selftest >/dev/null
scripts/build-demos.sh >/dev/null
cargo build -q --workspace
[[ -x $PATTERNS_BIN ]] || die "no $PATTERNS_BIN"
[[ -x $LOADGEN_BIN ]] || die "no $LOADGEN_BIN"

WORK=$(mktemp -d /tmp/bench-accuracy.XXXXXX)
pat='' down='' rec=''
old_stats=$(sysctl -n kernel.bpf_stats_enabled)

# Waits up to $2 tenths of a second for process $1 to exit; 0 if it did.
wait_exit() {
    local i
    for ((i = 0; i < $2; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

stop_record() {
    [[ -n $rec ]] || return 0
    kill -INT "$rec" 2>/dev/null || true
    wait_exit "$rec" 600 || { log "record did not stop in 60 s; killing it"; kill -KILL "$rec" 2>/dev/null || true; }
    local status=0
    wait "$rec" 2>/dev/null || status=$?
    rec=''
    return "$status"
}

stop_pair() {
    local p
    for p in $pat $down; do kill "$p" 2>/dev/null || true; done
    for p in $pat $down; do
        wait_exit "$p" 50 || kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    pat='' down=''
}

cleanup() {
    local status=$?
    stop_record || true
    stop_pair
    sysctl -q kernel.bpf_stats_enabled="$old_stats" || true
    if [[ ${ACCURACY_KEEP:-0} == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

up() { curl -s -o /dev/null --max-time 1 "http://$1/stats"; }

for a in "$PATTERNS_ADDR" "$PATTERNS_DOWNSTREAM"; do
    ! up "$a" || die "$a is already serving: stop whatever listens there, or set PATTERNS_ADDR/PATTERNS_DOWNSTREAM"
done

start_pair() {
    local i
    "$PATTERNS_BIN" -downstream 2>>"$WORK/downstream.log" &
    down=$!
    "$PATTERNS_BIN" 2>>"$WORK/patterns.log" &
    pat=$!
    for ((i = 0; i < 100; i++)); do
        up "$PATTERNS_ADDR" && up "$PATTERNS_DOWNSTREAM" && return 0
        { kill -0 "$pat" && kill -0 "$down"; } 2>/dev/null || break
        sleep 0.1
    done
    cat "$WORK/patterns.log" "$WORK/downstream.log" >&2
    die "patterns did not come up on $PATTERNS_ADDR and $PATTERNS_DOWNSTREAM"
}

sysctl -q kernel.bpf_stats_enabled=1
ROWS="$WORK/rows.jsonl"
: >"$ROWS"
bench_start=$SECONDS
log "$PATTERNS_BIN, $N requests per pattern, concurrency ${CONCS[*]}, modes ${MODES[*]}"

for c in "${CONCS[@]}"; do
    for mode in "${MODES[@]}"; do
        run_start=$SECONDS
        tag="c$c-$mode"
        start_pair
        sysctl -q kernel.bpf_stats_enabled=1
        curl -s --max-time 5 "http://$PATTERNS_ADDR/stats" >"$WORK/$tag.stats0.json"
        rec_args=(-p "$pat" -p "$down" -o "$WORK/$tag.parquet")
        [[ $mode == no-channels ]] && rec_args+=(--no-channels)
        t0=$(date +%s.%N)
        "$QT_BIN/record" "${rec_args[@]}" 2>"$WORK/$tag.record.log" &
        rec=$!
        ready=0
        for ((i = 0; i < 600; i++)); do
            grep -q "recording to" "$WORK/$tag.record.log" && { ready=1; break; }
            kill -0 "$rec" 2>/dev/null || break
            sleep 0.1
        done
        ((ready)) || { cat "$WORK/$tag.record.log" >&2; die "$tag: record did not start"; }
        t_up=$(date +%s.%N)

        line=$("$LOADGEN_BIN" -url-base "http://$PATTERNS_ADDR" -patterns "$PATTERN_LIST" \
            -n "$N" -c "$c" -id-prefix "c$c${mode:0:1}-") || die "$tag: loadgen failed: $line"
        sleep "$SETTLE"
        # The counters, while record's programs are still loaded. The sysctl is global: if
        # something else (another benchmark's exit trap) turned it off meanwhile, the counts
        # are short, so they are left out of this run's row.
        prog_args=(--progs "$WORK/$tag.progs.json" --prog-ids "$WORK/$tag.prog_ids")
        if [[ $(sysctl -n kernel.bpf_stats_enabled) != 1 ]]; then
            log "$tag: kernel.bpf_stats_enabled was turned off during the run (by another process?): no probe hits for it"
            sysctl -q kernel.bpf_stats_enabled=1
            prog_args=()
        fi
        bpftool prog show --json >"$WORK/$tag.progs.json"
        # record's own programs (this bpftool lists no pids): the prog_id of each BPF fd it holds.
        { grep -hs '^prog_id:' /proc/"$rec"/fdinfo/* || true; } | awk '{print $2}' | sort -u >"$WORK/$tag.prog_ids"
        t1=$(date +%s.%N)
        stop_record || { cat "$WORK/$tag.record.log" >&2; die "$tag: record failed"; }
        t_stop=$(date +%s.%N)

        # Ground truth from the service itself: the calls it made (the expected counts), and
        # that every one succeeded.
        curl -s --max-time 5 "http://$PATTERNS_ADDR/stats" >"$WORK/$tag.stats1.json"
        grep -q '"errors":{}' "$WORK/$tag.stats1.json" ||
            log "$tag: the service's downstream calls had errors: $(cat "$WORK/$tag.stats1.json")"
        stop_pair

        "$QT_BIN/analyze" calls --format json "$WORK/$tag.parquet" >"$WORK/$tag.calls.json" \
            2>"$WORK/$tag.analyze.log" || { cat "$WORK/$tag.analyze.log" >&2; die "$tag: analyze calls failed"; }
        python3 scripts/accuracy.py score "$WORK/$tag.calls.json" --concurrency "$c" --mode "$mode" \
            --requests-per-pattern "$N" "${prog_args[@]}" \
            --stats-before "$WORK/$tag.stats0.json" --stats-after "$WORK/$tag.stats1.json" \
            --record-log "$WORK/$tag.record.log" --loadgen-line "$line" --out "$ROWS"
        log "$tag: ${line#loadgen: }; record up in $(awk "BEGIN{printf \"%.1f\", $t_up - $t0}") s, stopped in $(awk "BEGIN{printf \"%.1f\", $t_stop - $t1}") s; run $((SECONDS - run_start)) s"
    done
done

log "done in $((SECONDS - bench_start)) s"
report_args=("$ROWS")
((CHECK)) && report_args+=(--check)
python3 scripts/accuracy.py report "${report_args[@]}"
