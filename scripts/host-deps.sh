#!/usr/bin/env bash
# Install the Debian packages virthost needs on this host.
#
#   scripts/host-deps.sh                # build deps (libvirt headers, protobuf, ...)
#   scripts/host-deps.sh --hypervisor   # + real libvirtd/qemu and the guest builder's tools
#
# Idempotent: only packages that are not installed are passed to apt-get, and
# `apt-get update` runs only when something is missing. As non-root it prints
# what is missing and exits 1 instead of trying sudo.
set -euo pipefail

die() { echo "host-deps: $*" >&2; exit 1; }

hypervisor=0
for arg in "$@"; do
    case "$arg" in
        --hypervisor) hypervisor=1 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) die "unknown argument: $arg (usage: $0 [--hypervisor])" ;;
    esac
done

command -v dpkg-query >/dev/null || die "dpkg-query not found: this script supports Debian/Ubuntu only"

# Needed to build and unit-test the Swift package (CLibvirt module, XML, gRPC codegen).
pkgs=(libvirt-dev libxml2-dev pkg-config protobuf-compiler libprotobuf-dev libnl-route-3-dev libsqlite3-dev)
# make generate: the Go client's stubs (protoc-gen-go is the APIv2 generator).
pkgs+=(protoc-gen-go protoc-gen-go-grpc)
# make deb: dpkg-deb, dpkg-shlibdeps and dpkg-parsechangelog; strip and readelf.
pkgs+=(dpkg-dev binutils)
# python3-venv only matters where python3 exists but cannot make venvs (Debian splits it out).
if command -v python3 >/dev/null && ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    pkgs+=(python3-venv)
fi

if (( hypervisor )); then
    pkgs+=(
        # the real daemon, TCG qemu, and the agent whose binary goes into the test guest
        libvirt-daemon-system qemu-system-x86 qemu-utils qemu-guest-agent
        # isolated/NAT networks (libvirt spawns dnsmasq, programs iptables)
        dnsmasq-base iptables iproute2
        # fs/disk storage pools on loop devices (xfsprogs: fs pools formatted xfs;
        # util-linux: losetup, mount), and the storage backends Debian ships apart
        # (rbd, gluster pools can then be defined and reported as supported)
        parted e2fsprogs xfsprogs util-linux
        libvirt-daemon-driver-storage-rbd libvirt-daemon-driver-storage-gluster
        # scripts/build-guest.sh: busybox for the guest, cpio+compressors for the
        # initramfs, kmod for depmod/modprobe --show-depends on the unpacked kernel
        busybox-static cpio gzip zstd xz-utils kmod
        # scripts/boot-guest-smoke.sh builds/parses guest-agent JSON
        jq
        # package tests: systemd-analyze verify, systemd-socket-activate,
        # systemd-sysusers/-tmpfiles for the postinst, man to render pages,
        # strace to check the unit's system call and socket filters
        systemd man-db strace
        # Tests/ttrpc-go: containerd's Go ttrpc client built offline in GOPATH
        # mode, its message types generated with gogoprotobuf's protoc plugins
        golang-go golang-github-containerd-ttrpc-dev gogoprotobuf
        # clients/go: built and tested offline in GOPATH mode against these
        # sources. github.com/golang/protobuf must be v1.3 (-1-3-dev, which
        # grpc-dev picks by default): with v1.5, ttrpc 1.1.1 (gogo) panics
        # decoding any error that carries details.
        golang-google-grpc-dev golang-google-protobuf-dev golang-google-genproto-dev
        golang-github-golang-protobuf-1-3-dev
    )
fi

missing=()
for p in "${pkgs[@]}"; do
    # dpkg-query fails for never-seen packages and prints e.g. "deinstall ok config-files"
    # for removed ones, so only an exact "install ok installed" counts.
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

(( ${#missing[@]} == 0 )) && exit 0

if (( EUID != 0 )); then
    echo "host-deps: missing packages: ${missing[*]}" >&2
    echo "host-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# --no-install-recommends: qemu-system-x86 recommends a GTK GUI we never use;
# everything the tests need (iproute2, parted, dnsmasq-base) is listed explicitly.
log=$(mktemp /tmp/host-deps.XXXXXX.log)
# Keep success quiet but show the apt output when something goes wrong.
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "apt-get failed installing: ${missing[*]} (full log: $log)"
fi
rm -f "$log"
