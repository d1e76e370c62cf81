#!/usr/bin/env bash
# Disk move and backup throughput of the agent against virsh on the same
# running guest and disk, in one run (BENCHMARKS.md "Disk moves and backups").
#
#   scripts/bench-diskjobs.sh BIN_DIR [ROUNDS] [SIZE_MIB]
#
# BIN_DIR holds release virthostd and virthost. Boots the test guest (TCG)
# with a SIZE_MIB (default 512) qcow2 disk filled with random bytes on the
# host, makes two dir pools, then ROUNDS (default 5) times, alternating:
#   move:   virsh blockcopy --transient-job --reuse-external --wait --pivot
#           into a pre-made qcow2 volume  vs  virthost disk move (same size,
#           pivot and definition update included), each to the other pool;
#   backup: virsh backup-begin (push, full, into a pre-made qcow2) waited
#           until domjobinfo --completed  vs  virthost backup start (full).
# Prints the median seconds, MiB/s and the agent/virsh throughput ratio.
# Everything is named vhd-PID and removed at the end, also on failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/guest-xml.sh"
bin=${1:?usage: scripts/bench-diskjobs.sh BIN_DIR [ROUNDS] [SIZE_MIB]}
rounds=${2:-5}
size=${3:-512}
URI=qemu:///system
id=$$
name=vhd-$id
dir=/var/lib/libvirt/images/$name
bridge=vhd-b$id
mac=$(printf '52:54:00:d7:%02x:%02x' $((id >> 8 & 255)) $((id & 255)))
sock=/tmp/$name.sock
v() { timeout 600 virsh -q -c "$URI" "$@"; }
vh() { "$bin/virthost" --socket "$sock" "$@"; }
say() { echo "bench-diskjobs: $*" >&2; }

agent_pid=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ -n $agent_pid ]] && kill "$agent_pid" 2>/dev/null || true
    v destroy "$name" >/dev/null 2>&1 || true
    v undefine "$name" --checkpoints-metadata >/dev/null 2>&1 || true
    v net-destroy "$name" >/dev/null 2>&1 || true
    for p in a b k; do
        for vol in $(v vol-list "$name-$p" 2>/dev/null | awk '{print $1}'); do v vol-delete "$vol" --pool "$name-$p" >/dev/null 2>&1 || true; done
        v pool-destroy "$name-$p" >/dev/null 2>&1 || true
        v pool-undefine "$name-$p" >/dev/null 2>&1 || true
    done
    rm -rf "$dir" "/tmp/$name-state" "$sock"
    exit "$rc"
}
trap cleanup EXIT INT TERM

mapfile -t img < <("$here/build-guest.sh")
mkdir -p "$dir"/{a,b,k}
cp "${img[0]}" "$dir/vmlinuz"
cp "${img[1]}" "$dir/initramfs.img"
write_guest_xml "$dir" "$name" "$bridge" "$mac"
for p in a b k; do
    v pool-define-as "$name-$p" dir --target "$dir/$p" >/dev/null
    v pool-start "$name-$p" >/dev/null
done
# The disk: random bytes (nothing compresses or is skipped as zero).
head -c $((size << 20)) /dev/urandom > "$dir/seed.raw"
qemu-img convert -f raw -O qcow2 "$dir/seed.raw" "$dir/a/disk.qcow2"
rm -f "$dir/seed.raw"
v pool-refresh "$name-a" >/dev/null
sed -i "s|</devices>|<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$dir/a/disk.qcow2'/><target dev='vda' bus='virtio'/></disk></devices>|" "$dir/domain.xml"
v net-create "$dir/network.xml" >/dev/null
v define "$dir/domain.xml" >/dev/null
v start "$name" >/dev/null
"$bin/virthostd" --connect "$URI" --socket "$sock" --socket-mode 0600 --state-dir "/tmp/$name-state" \
    --config /dev/null --log-level warning &
agent_pid=$!
for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.1; done

now() { date +%s.%N; }
current_pool() { v domblklist "$name" | awk '$1 == "vda" {print $2}' | sed -n "s|^$dir/\([ab]\)/.*|\1|p"; }
other() { [[ $1 == a ]] && echo b || echo a; }
declare -a vm am vb ab
for round in $(seq "$rounds"); do
    # virsh blockcopy into a volume made first, as the agent does.
    to=$(other "$(current_pool)")
    # qcow2 v3 as the agent makes it (libvirt's vol-create-as makes v2).
    path=$dir/$to/virsh-$round.qcow2
    qemu-img create -q -f qcow2 -o compat=1.1 "$path" "${size}M"
    v pool-refresh "$name-$to" >/dev/null
    t0=$(now)
    v blockcopy "$name" vda --xml <(echo "<disk type='file'><source file='$path'/><driver type='qcow2'/></disk>") \
        --reuse-external --transient-job --wait --pivot >/dev/null
    vm+=("$(echo "$(now) - $t0" | bc)")
    to=$(other "$to")
    t0=$(now)
    vh disk move "$name" vda --pool "$name-$to" --volume "agent-$round.qcow2" >/dev/null
    am+=("$(echo "$(now) - $t0" | bc)")

    path=$dir/k/virsh-bk-$round.qcow2
    qemu-img create -q -f qcow2 -o compat=1.1 "$path" "${size}M"
    v pool-refresh "$name-k" >/dev/null
    echo "<domainbackup mode='push'><disks><disk name='vda' backup='yes' type='file'><target file='$path'/><driver type='qcow2'/></disk></disks></domainbackup>" > "$dir/backup.xml"
    t0=$(now)
    v backup-begin "$name" "$dir/backup.xml" --reuse-external >/dev/null
    until v domjobinfo "$name" | grep -q "^Job type: *None"; do sleep 0.05; done
    vb+=("$(echo "$(now) - $t0" | bc)")
    t0=$(now)
    vh backup start "$name" --pool "$name-k" >/dev/null
    ab+=("$(echo "$(now) - $t0" | bc)")
    say "round $round: move virsh ${vm[-1]} s, agent ${am[-1]} s; backup virsh ${vb[-1]} s, agent ${ab[-1]} s"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
row() {
    local what=$1 virsh=$2 agent=$3
    awk -v w="$what" -v s="$size" -v v="$virsh" -v a="$agent" \
        'BEGIN { printf "%-8s %8.3f s %8.1f MiB/s %8.3f s %8.1f MiB/s %8.2f\n", w, v, s / v, a, s / a, v / a }'
}
echo
echo "Disk jobs on a running TCG guest, $size MiB qcow2 disk of random bytes, medians of $rounds (one run)"
printf '%-8s %10s %14s %10s %14s %8s\n' "job" "virsh" "" "agent" "" "agent/virsh"
row move "$(median "${vm[@]}")" "$(median "${am[@]}")"
row backup "$(median "${vb[@]}")" "$(median "${ab[@]}")"
