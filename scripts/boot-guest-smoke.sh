#!/usr/bin/env bash
# Boot the test guest (scripts/build-guest.sh) once with plain virsh and prove
# the image: qemu-ga answers, guest-exec works, and a live NIC and disk
# hotplug/unplug are seen from inside the guest. No network traffic: the NIC
# sits on an isolated bridge without <ip>, the guest configures no address.
#
#   scripts/boot-guest-smoke.sh          (root; starts libvirtd if needed)
#   VHT_SMOKE_KEEP=1 scripts/boot-guest-smoke.sh   keep the guest after a failure
#
# Everything it creates is named vht-smoke-PID (links vht-s[bta]PID) and is
# removed by a trap, also on failure; scripts/clean-test-host.sh vht- catches
# what a killed run leaves.
#
# Kernel, initramfs, disk and console log go to /var/lib/libvirt/images/NAME/:
# qemu runs as libvirt-qemu, which must reach them. That directory is where
# libvirt expects images (its parent is o+x), it does not depend on the
# permissions of the repository's path, libvirt's DAC relabelling (chown of
# kernel/initrd/disk for the run) happens on per-run copies instead of the
# shared cache, and teardown is a single rm -rf.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/guest-xml.sh"
URI=qemu:///system
id=$$
name=vht-smoke-$id
dir=/var/lib/libvirt/images/$name
bridge=vht-sb$id     # Linux limits link names to 15 chars: 6 + pid (<= 7 digits)
tap1=vht-st$id
tap2=vht-sa$id
mac1=$(printf '52:54:00:a1:%02x:%02x' $((id >> 8 & 255)) $((id & 255)))
mac2=$(printf '52:54:00:a2:%02x:%02x' $((id >> 8 & 255)) $((id & 255)))
disk_serial=VHTSMOKE$id
disk_sectors=$((64 * 1024 * 1024 / 512))

die()  { echo "boot-guest-smoke: FAIL: $*" >&2; exit 1; }
say()  { echo "boot-guest-smoke: $*"; }
v()    { timeout 120 virsh -q -c "$URI" "$@"; }
now()  { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

(( EUID == 0 )) || die "run as root (defines domains on $URI, creates files for libvirt-qemu)"
for t in virsh jq truncate; do
    command -v "$t" >/dev/null || die "$t not found; run: scripts/host-deps.sh --hypervisor"
done

"$here/start-libvirtd.sh"
mapfile -t img < <("$here/build-guest.sh")
[[ ${#img[@]} == 2 && -s ${img[0]} && -s ${img[1]} ]] || die "build-guest.sh did not produce vmlinuz and initramfs.img"

made_dom=0 made_net=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if (( rc != 0 )); then
        echo "--- last lines of the guest console ($dir/console.log):" >&2
        tail -n 30 "$dir/console.log" >&2 2>/dev/null || true
        echo "--- qemu log: /var/log/libvirt/qemu/$name.log (kept)" >&2
        if [[ ${VHT_SMOKE_KEEP:-0} == 1 ]]; then
            echo "--- VHT_SMOKE_KEEP=1: $name left running; remove with scripts/clean-test-host.sh vht-" >&2
            exit "$rc"
        fi
    fi
    if (( made_dom )); then
        v destroy "$name" >/dev/null 2>&1 || true
        v undefine "$name" >/dev/null 2>&1 || echo "boot-guest-smoke: could not undefine $name" >&2
    fi
    if (( made_net )); then
        v net-destroy "$name" >/dev/null 2>&1 || true
        v net-undefine "$name" >/dev/null 2>&1 || echo "boot-guest-smoke: could not undefine network $name" >&2
    fi
    rm -rf "$dir"
    (( rc != 0 )) || rm -f "/var/log/libvirt/qemu/$name.log"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # run the EXIT trap on ^C / kill too

mkdir -p -m 0755 "$dir"
install -m 0644 "${img[0]}" "$dir/vmlinuz"
install -m 0644 "${img[1]}" "$dir/initramfs.img"
truncate -s 64M "$dir/disk1.raw"

write_guest_xml "$dir" "$name" "$bridge" "$mac1" "$tap1"

v net-define "$dir/network.xml" >/dev/null; made_net=1
v net-start "$name" >/dev/null
v define "$dir/domain.xml" >/dev/null; made_dom=1

# --- agent helpers -------------------------------------------------------------------
ga() { v qemu-agent-command "$name" --timeout "${2:-10}" "$1"; }
# guest-exec PATH ARGS... with output capture; prints stdout, fails on exit != 0.
gexec() {
    local req pid st i a args=()
    # One --arg per argument: jq 1.6 would parse a "-c" after --args as its own option.
    for a in "${@:2}"; do args+=("$(jq -n --arg a "$a" '$a')"); done
    req=$(jq -nc --arg p "$1" --argjson a "[$(IFS=,; echo "${args[*]}")]" \
        '{execute: "guest-exec", arguments: {path: $p, arg: $a, "capture-output": true}}')
    pid=$(ga "$req" | jq -r .return.pid)
    for ((i = 0; i < 100; i++)); do
        st=$(ga "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}")
        [[ $(jq -r .return.exited <<<"$st") == true ]] && break
        sleep 0.1
    done
    [[ $(jq -r .return.exited <<<"$st") == true ]] || { echo "guest-exec $*: still running after 10 s" >&2; return 1; }
    jq -j '.return["out-data"] // "" | @base64d' <<<"$st"   # -j: no extra newline
    [[ $(jq -r .return.exitcode <<<"$st") == 0 ]] || { echo "guest-exec $*: $st" >&2; return 1; }
}
ifaces() { ga '{"execute":"guest-network-get-interfaces"}' |
           jq -r '.return[] | "\(.name) \(.["hardware-address"] // "-") \([.["ip-addresses"][]? | .["ip-address"]] | join(","))"'; }
blockdevs() { gexec /bin/sh -c 'for d in /sys/block/*; do echo "${d##*/} $(cat $d/size) $(cat $d/serial 2>/dev/null)"; done'; }
# wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds.
wait_for() {
    local limit=$1 what=$2 t0; shift 2; t0=$(now)
    until "$@" >/dev/null 2>&1; do
        awk -v a="$t0" -v b="$(now)" -v l="$limit" 'BEGIN { exit !(b - a > l) }' && die "$what: not within ${limit}s"
        [[ $(v domstate "$name" 2>/dev/null) == running ]] || die "$what: domain is $(v domstate "$name" 2>&1)"
        sleep 0.2
    done
    echo "$(since "$t0")"
}

# --- boot ----------------------------------------------------------------------------
t0=$(now)
v start "$name" >/dev/null
say "virsh start returned after $(since "$t0") s"
wait_for 180 "agent ready (guest-ping)" ga '{"execute":"guest-ping"}' 2 >/dev/null
say "agent ready $(since "$t0") s after virsh start"
grep -q 'virthost-guest: agent started' "$dir/console.log" || die "console log lacks 'agent started'"

# --- agent commands -----------------------------------------------------------------------
blk=$(gexec /bin/ls /sys/block)
say "guest-exec ls /sys/block: ${blk:-(empty: the domain has no disk)}"
say "guest-network-get-interfaces:"; ifaces | sed 's/^/    /'
ifaces | grep "^eth0 $mac1 " >/dev/null || die "eth0 with $mac1 not seen inside the guest"
for c in guest-get-osinfo guest-get-users guest-get-host-name; do
    say "$c: $(ga "{\"execute\":\"$c\"}" | jq -c .return)"
done
[[ $(ga '{"execute":"guest-get-osinfo"}' | jq -r .return.id) == virthost-testguest ]] || die "unexpected guest-get-osinfo id"

# --- NIC hotplug ---------------------------------------------------------------------------
# grep without -q: with pipefail an early grep exit could fail the producer (SIGPIPE).
has_mac() { ifaces | grep " $1 " >/dev/null; }
lacks_mac() { ! has_mac "$1"; }
v attach-interface "$name" network "$name" --mac "$mac2" --model virtio --target "$tap2" --live >/dev/null
# (wait_for's result goes through an assignment so that its failure stops the script)
secs=$(wait_for 60 "hot-added NIC $mac2 inside the guest" has_mac "$mac2")
say "NIC $mac2 attached; seen inside after $secs s:"
ifaces | sed 's/^/    /'

# --- disk hotplug --------------------------------------------------------------------------
# The guest names disks in probe order (a hot-added vdb may be vda inside): match size+serial.
has_disk() { blockdevs | grep " $disk_sectors $disk_serial\$" >/dev/null; }
lacks_disk() { ! has_disk; }
v attach-disk "$name" "$dir/disk1.raw" vdb --live --targetbus virtio \
    --driver qemu --subdriver raw --serial "$disk_serial" >/dev/null
secs=$(wait_for 60 "hot-added disk inside the guest" has_disk)
say "disk vdb attached; seen inside after $secs s:"
blockdevs | sed 's/^/    /'
gdev=$(blockdevs | awk -v s="$disk_serial" '$3 == s { print $1 }')

# --- survey of other agent commands (reported, not fatal) ------------------------------------
survey() {
    local out
    if out=$(ga "$1" 2>&1); then say "  ok   $1 -> $(jq -c .return <<<"$out" 2>/dev/null | cut -c1-300)"
    else say "  FAIL $1 -> $(tr '\n' ' ' <<<"$out")"; fi
}
say "agent command survey:"
survey '{"execute":"guest-info"}'
survey '{"execute":"guest-get-time"}'
survey '{"execute":"guest-get-fsinfo"}'
survey '{"execute":"guest-fsfreeze-status"}'
# A real filesystem makes get-fsinfo/fsfreeze meaningful (tmpfs/rootfs are skipped).
gexec /bin/sh -c "mke2fs -q /dev/$gdev && mount /dev/$gdev /mnt && echo hello >/mnt/f && sync" >/dev/null ||
    die "mke2fs/mount of the hot-added disk /dev/$gdev failed in the guest"
say "  (made and mounted an ext2 filesystem on /dev/$gdev at /mnt)"
survey '{"execute":"guest-get-fsinfo"}'
survey '{"execute":"guest-fsfreeze-freeze"}'
survey '{"execute":"guest-fsfreeze-status"}'
survey '{"execute":"guest-fsfreeze-thaw"}'
survey '{"execute":"guest-fsfreeze-status"}'
gexec /bin/umount /mnt >/dev/null || die "umount /mnt in the guest failed"

# --- unplug ----------------------------------------------------------------------------------
t1=$(now)
v detach-interface "$name" network --mac "$mac2" --live >/dev/null
ret=$(since "$t1")
secs=$(wait_for 30 "NIC $mac2 removed inside" lacks_mac "$mac2")
say "detach-interface returned after $ret s; NIC gone inside after another $secs s"
t1=$(now)
v detach-disk "$name" vdb --live >/dev/null
ret=$(since "$t1")
secs=$(wait_for 30 "disk removed inside" lacks_disk)
say "detach-disk returned after $ret s; disk gone inside after another $secs s"
if v domiflist "$name" | grep -i "$mac2" >/dev/null; then die "$mac2 still in domiflist"; fi
if v domblklist "$name" | grep '^ *vdb ' >/dev/null; then die "vdb still in domblklist"; fi

say "PASS ($name; teardown follows)"
