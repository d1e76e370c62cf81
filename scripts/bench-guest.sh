#!/usr/bin/env bash
# Boot the test guest (scripts/build-guest.sh) on qemu:///system for the
# benchmark's guest-agent rows, run a command with the guest's name appended,
# then destroy and undefine the guest and its network, also on failure or ^C.
#
#   scripts/bench-guest.sh COMMAND ARGS...
#
# runs `COMMAND ARGS... --agent-domain vhb-PID --domain vhb-PID` once qemu-ga in
# the guest answers guest-ping, e.g.
#
#   scripts/bench-guest.sh .build/release/virthost-bench --connect qemu:///system
#
# The domain is the one of scripts/boot-guest-smoke.sh and
# Tests/EndToEndTests/TestGuest.swift: TCG, ACPI, direct kernel boot, a
# virtio-serial channel org.qemu.guest_agent.0, one virtio NIC on an isolated
# bridge without <ip> (no dnsmasq, no traffic). Everything it makes is named
# vhb-PID (bridge vhb-bPID, files in /var/lib/libvirt/images/vhb-PID);
# `scripts/clean-test-host.sh vhb-` removes what a killed run leaves.
# It does not start or restart libvirtd: it must already answer.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/guest-xml.sh"
URI=qemu:///system
id=$$
name=vhb-$id
dir=/var/lib/libvirt/images/$name
bridge=vhb-b$id      # link names: at most 15 characters
mac=$(printf '52:54:00:b7:%02x:%02x' $((id >> 8 & 255)) $((id & 255)))

die() { echo "bench-guest: $*" >&2; exit 1; }
say() { echo "bench-guest: $*" >&2; }
v()   { timeout 120 virsh -q -c "$URI" "$@"; }

(( $# > 0 )) || die "usage: scripts/bench-guest.sh COMMAND ARGS..."
(( EUID == 0 )) || die "run as root (defines a domain on $URI, creates files for libvirt-qemu)"
command -v virsh >/dev/null || die "virsh not found; run: scripts/host-deps.sh --hypervisor"
v version >/dev/null 2>&1 || die "$URI does not answer (make libvirtd)"
mapfile -t img < <("$here/build-guest.sh")
[[ ${#img[@]} == 2 && -s ${img[0]} && -s ${img[1]} ]] || die "build-guest.sh did not produce vmlinuz and initramfs.img"

made_dom=0 made_net=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if (( rc != 0 )) && [[ -s $dir/console.log ]]; then
        echo "--- last lines of the guest console ($dir/console.log):" >&2
        tail -n 20 "$dir/console.log" >&2 || true
    fi
    if (( made_dom )); then
        v destroy "$name" >/dev/null 2>&1 || true
        v undefine "$name" >/dev/null 2>&1 || echo "bench-guest: could not undefine $name" >&2
    fi
    if (( made_net )); then
        v net-destroy "$name" >/dev/null 2>&1 || true
        v net-undefine "$name" >/dev/null 2>&1 || echo "bench-guest: could not undefine network $name" >&2
    fi
    rm -rf "$dir"
    rm -f "/var/log/libvirt/qemu/$name.log"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # run the EXIT trap on ^C / kill too

mkdir -p -m 0755 "$dir"
install -m 0644 "${img[0]}" "$dir/vmlinuz"
install -m 0644 "${img[1]}" "$dir/initramfs.img"

write_guest_xml "$dir" "$name" "$bridge" "$mac"

v net-define "$dir/network.xml" >/dev/null; made_net=1
v net-start "$name" >/dev/null
v define "$dir/domain.xml" >/dev/null; made_dom=1
t0=$(date +%s)
v start "$name" >/dev/null
until v qemu-agent-command "$name" --timeout 2 '{"execute":"guest-ping"}' >/dev/null 2>&1; do
    (( $(date +%s) - t0 < 180 )) || die "qemu-ga in $name did not answer guest-ping within 180 s"
    [[ $(v domstate "$name" 2>/dev/null) == running ]] || die "$name is $(v domstate "$name" 2>&1)"
    sleep 0.5
done
say "$name: qemu-ga answers $(( $(date +%s) - t0 )) s after start"

# Not exec: the trap must run after the command.
"$@" --agent-domain "$name" --domain "$name"
