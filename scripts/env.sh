# Sourced by the scripts: one build cache outside the clone, shared by every script and CI run,
# so the workspace (polars above all) is compiled once per machine, in one profile.
export QUADTRACE_CACHE="${QUADTRACE_CACHE:-$HOME/.cache/quadtrace}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$QUADTRACE_CACHE/target}"
export PATH="$HOME/.cargo/bin:$PATH"
QT_BIN="$CARGO_TARGET_DIR/debug"
