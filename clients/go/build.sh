#!/usr/bin/env bash
# Builds and tests the Go client offline, from Debian's Go packages only:
#
#   clients/go/build.sh build OUTDIR     # go vet + builds examples/netlist into OUTDIR
#   clients/go/build.sh test [ARGS...]  # go test ./client/... against a real agent
#                                       # (VIRTHOST_BIN_DIR: where virthostd is)
#   clients/go/build.sh check           # both (make test): netlist into .cache/go-client/bin
#
# Why GOPATH mode: CI has no network for Go modules, and Debian ships Go
# libraries as source under /usr/share/gocode (golang-google-grpc-dev 1.33,
# golang-google-protobuf-dev 1.28, golang-github-golang-protobuf-1-5-dev,
# golang-github-containerd-ttrpc-dev 1.1.1, golang-google-genproto-dev).
# GO111MODULE=off with GOPATH=<ours>:/usr/share/gocode compiles against
# exactly those; the module is linked into our GOPATH under its import path.
# (-mod=vendor would need a vendor/modules.txt naming a version per module,
# which Debian's source trees do not record.) Module users outside CI just
# `go get github.com/virthost/virthost/clients/go` (go.mod lists the versions).
set -euo pipefail

die() { echo "clients/go/build.sh: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
command -v go >/dev/null || die "go not found (apt-get install golang-go)"
for dir in google.golang.org/grpc google.golang.org/protobuf github.com/golang/protobuf/ptypes/any \
           github.com/containerd/ttrpc google.golang.org/genproto/googleapis/rpc/errdetails; do
    [[ -d /usr/share/gocode/src/$dir ]] || die "/usr/share/gocode/src/$dir missing (scripts/host-deps.sh --hypervisor installs the Go packages)"
done

cache="$root/.cache/go-client"
gopath="$cache/gopath"
link="$gopath/src/github.com/virthost/virthost"
mkdir -p "$(dirname "$link")"
[[ -L "$link" && "$(readlink "$link")" == "$root" ]] || { rm -rf "$link"; ln -s "$root" "$link"; }
export GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOPROXY=off GOFLAGS= GOCACHE="$cache/go-build"
cd "$link/clients/go"

case "${1:-}" in
    build)
        (( $# == 2 )) || die "usage: $0 build OUTDIR"
        go vet ./client/ ./examples/... ./virthostv1/
        go build -o "$2/netlist" ./examples/netlist
        echo "$2/netlist" ;;
    test)
        shift
        go test -count=1 "$@" ./client/ ;;
    check)
        "$here/build.sh" build "$cache/bin" >/dev/null
        go test -count=1 -v ./client/ 2>&1 | grep -v '^=== RUN' ;;
    *) die "usage: $0 build OUTDIR | test [go test flags] | check" ;;
esac
