# Sourced by the scripts: one build cache outside the clone, shared by every script and CI run,
# so the workspace (arrow-rs, parquet and libbpf above all) is compiled once per machine, in one profile.
export QUADTRACE_CACHE="${QUADTRACE_CACHE:-$HOME/.cache/quadtrace}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$QUADTRACE_CACHE/target}"
export PATH="$HOME/.cargo/bin:$PATH"
QT_BIN="$CARGO_TARGET_DIR/debug"

# The release build of a workspace binary (record, analyze) if there is one, else the debug one:
# what the benchmarks run unless told otherwise.
built() {
    local bin=$CARGO_TARGET_DIR/release/$1
    [[ -x $bin ]] || bin=$CARGO_TARGET_DIR/debug/$1
    printf '%s\n' "$bin"
}
