#!/usr/bin/env bash
# Installs everything quadtrace needs on a fresh Debian 12 machine (idempotent):
# Debian packages for the BPF build and the demos, the Go toolchains, and a Rust toolchain check.
# Usage: scripts/setup.sh [GO_VERSION...]   (Go versions as in scripts/install-go.sh)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO=sudo

# clang/llvm build the BPF object (libbpf-cargo); libelf, zlib and pkg-config build libbpf itself;
# bpftool regenerates bpf/vmlinux.h; curl drives the demo; golang-*-dev are the Go sources the demos
# build from (GOPATH mode); prometheus, its two exporters and
# caddy are the third-party Go services of testdata/thirdparty (run by hand on loopback);
# iproute2 and iptables make the pods' namespaces, veths and virtual IPs of record/tests/pods;
# chromium (headless) runs the HTML report's script and screenshots it in analyze/tests/report_browser.rs.
PACKAGES=(clang llvm libelf-dev zlib1g-dev pkg-config bpftool curl openssl make gcc
          golang-go golang-github-gin-gonic-gin-dev python3-venv
          golang-github-golang-protobuf-1-5-dev golang-google-protobuf-dev golang-google-grpc-dev  # grpc_demo; 1-5 by name, see install-go.sh
          prometheus prometheus-node-exporter prometheus-blackbox-exporter caddy wrk bpftrace  # wrk, bpftrace: scripts/bench-overhead.sh
          iproute2 iptables chromium)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
    [[ -x $HOME/.cargo/bin/cargo ]] || { echo "setup: no Rust toolchain (cargo) found; install it with rustup" >&2; exit 1; }
fi

# The BPF filesystem and tracefs are not needed (nothing is pinned), but uprobes are.
[[ -e /sys/bus/event_source/devices/uprobe ]] || echo "setup: warning: this kernel has no uprobe PMU; record cannot run here" >&2

"$REPO/scripts/install-go.sh" "$@" >/dev/null
