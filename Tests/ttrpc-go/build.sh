#!/usr/bin/env bash
# Build the Go ttrpc test client: Tests/ttrpc-go/build.sh OUTDIR
#
# Offline, from Debian packages only (golang-go, golang-github-containerd-ttrpc-dev,
# gogoprotobuf, protobuf-compiler): GOPATH mode against /usr/share/gocode.
# The virthost.v1 Go types are generated from proto/ into .cache/ttrpc-go
# (not committed) with protoc-gen-gogofast, since ttrpc 1.1.1 marshals with
# gogo/protobuf. Only the files the client uses are generated (common, host,
# network): gogo 1.3.2 predates proto3 `optional`, which other files use.
# Idempotent; a second run with nothing changed only asks go build (cached).
# Prints the binary's path.
set -euo pipefail

die() { echo "ttrpc-go/build.sh: $*" >&2; exit 1; }

(( $# == 1 )) || die "usage: $0 OUTDIR"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

for tool in go protoc protoc-gen-gogofast; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install golang-go protobuf-compiler gogoprotobuf)"
done
[[ -d /usr/share/gocode/src/github.com/containerd/ttrpc ]] ||
    die "containerd/ttrpc sources missing (apt-get install golang-github-containerd-ttrpc-dev)"

cache="$root/.cache/ttrpc-go"
gopath="$cache/gopath"
pbdir="$gopath/src/vhpb"
maindir="$gopath/src/vhttrpc"
protos=(virthost/v1/common.proto virthost/v1/host.proto virthost/v1/network.proto)

# Regenerate only when a proto file or this script changed.
stamp=$(cd "$root/proto" && cat "${protos[@]}" "$here/build.sh" | sha256sum | cut -c1-16)
if [[ ! -f "$pbdir/.stamp" || "$(cat "$pbdir/.stamp")" != "$stamp" ]]; then
    rm -rf "$pbdir"
    mkdir -p "$pbdir"
    maps="Mgoogle/protobuf/timestamp.proto=github.com/gogo/protobuf/types"
    for p in "${protos[@]}"; do maps+=",M$p=vhpb"; done
    # The include for google/protobuf/*.proto comes with protobuf-compiler/libprotobuf-dev.
    protoc -I"$root/proto" -I/usr/include --gogofast_out="$maps,paths=source_relative:$pbdir" "${protos[@]}"
    # source_relative keeps virthost/v1/; the package is flat.
    mv "$pbdir"/virthost/v1/*.pb.go "$pbdir"/
    rm -rf "$pbdir/virthost"
    echo "$stamp" >"$pbdir/.stamp"
fi

mkdir -p "$maindir"
cmp -s "$here/main.go" "$maindir/main.go" || cp "$here/main.go" "$maindir/main.go"

cd "$maindir"
GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOPROXY=off GOFLAGS= \
    GOCACHE="$cache/go-build" go build -o "$out/ttrpc-client" .
echo "$out/ttrpc-client"
