#!/usr/bin/env bash
# The scale benchmark (make bench-scale, BENCHMARKS.md): makes many objects on
# qemu:///system, runs `virthost-bench --scale POOL` against them, and removes
# them again, also on failure or ^C (trap).
#
#   scripts/bench-scale.sh VIRTHOST-BENCH [ARGS...]
#
# Objects, all named vhs-PID-*: SCALE_DOMAINS shut-off machines (default
# 1000; TCG, 64 MiB, never started), a dir pool vhs-PID-pool under
# /var/lib/libvirt/images holding SCALE_VOLUMES raw volumes of 1 MiB (default
# 1000, made with vol-create-as), and SCALE_NETWORKS isolated networks
# (default 100, defined, not started: no bridge, no dnsmasq). They are made by
# one virsh process reading its commands from standard input.
# `scripts/clean-test-host.sh vhs-` removes what a killed run leaves.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
URI=qemu:///system
prefix=vhs-$$-
pool=${prefix}pool
dir=/var/lib/libvirt/images/$pool
DOMAINS=${SCALE_DOMAINS:-1000}
VOLUMES=${SCALE_VOLUMES:-1000}
NETWORKS=${SCALE_NETWORKS:-100}

die() { echo "bench-scale: $*" >&2; exit 1; }
say() { echo "bench-scale: $*" >&2; }

(( $# > 0 )) || die "usage: scripts/bench-scale.sh VIRTHOST-BENCH [ARGS...]"
(( EUID == 0 )) || die "run as root (defines objects on $URI)"
command -v virsh >/dev/null || die "virsh not found; run: scripts/host-deps.sh --hypervisor"
virsh -q -c "$URI" version >/dev/null 2>&1 || die "$URI does not answer (make libvirtd)"

work=$(mktemp -d "/tmp/${prefix}XXXX")
cleanup() {
    local rc=$?
    say "removing ${prefix}* ..."
    "$here/clean-test-host.sh" "$prefix" || rc=1
    rm -rf "$work" "$dir"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date +%s)
{
    for i in $(seq -w 1 "$DOMAINS"); do
        cat > "$work/d$i.xml" <<XML
<domain type='qemu'><name>${prefix}d$i</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os></domain>
XML
        echo "define $work/d$i.xml"
    done
    mkdir -p "$dir"
    echo "pool-create-as $pool dir --target $dir"
    for i in $(seq -w 1 "$VOLUMES"); do echo "vol-create-as $pool v$i.img 1M --format raw"; done
    for i in $(seq -w 1 "$NETWORKS"); do
        cat > "$work/n$i.xml" <<XML
<network><name>${prefix}n$i</name><bridge name='vhs$$n$i' stp='off'/></network>
XML
        echo "net-define $work/n$i.xml"
    done
} > "$work/commands"
say "making $DOMAINS machines, $VOLUMES volumes in $pool, $NETWORKS networks (prefix $prefix)..."
virsh -q -c "$URI" < "$work/commands" > "$work/virsh.log" 2>&1 || { tail -5 "$work/virsh.log" >&2; die "virsh failed"; }
say "made in $(( $(date +%s) - started )) s"

"$@" --connect "$URI" --scale "$pool"
