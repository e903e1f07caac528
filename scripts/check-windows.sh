#!/usr/bin/env bash
# Checks that analyze compiles for Windows (x86_64-pc-windows-gnu): installs the Rust target
# (rustup) and MinGW's C compiler (Debian's gcc-mingw-w64-x86-64; zstd's C sources need it)
# when missing, then `cargo check`s analyze and its tests for that target, in a target folder
# of its own under the build cache. Nothing is linked or run.
# Usage: scripts/check-windows.sh   (as root, for apt-get)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"

TARGET=x86_64-pc-windows-gnu
if ! rustup target list --installed | grep -qx "$TARGET"; then
    echo "check-windows: rustup target add $TARGET" >&2
    rustup target add "$TARGET" >&2
fi
if ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
    echo "check-windows: apt-get install gcc-mingw-w64-x86-64" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc-mingw-w64-x86-64 >/dev/null ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc-mingw-w64-x86-64 >/dev/null; }
fi
CARGO_TARGET_DIR=$QUADTRACE_CACHE/target-windows \
    cargo check -q --target "$TARGET" -p quadtrace-analyze --all-targets
echo "check-windows: analyze compiles for $TARGET"
