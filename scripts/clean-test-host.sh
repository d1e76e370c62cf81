#!/usr/bin/env bash
# Remove what a crashed real-hypervisor test run left behind on this host.
#
#   scripts/clean-test-host.sh [-v] [PREFIX]     (default PREFIX: vht-)
#
# Everything whose name starts with PREFIX on qemu:///system: domains
# (destroy + undefine with snapshot/checkpoint metadata, managed save, nvram),
# networks (destroy + undefine), storage pools (delete volumes, destroy,
# undefine); volumes named PREFIX* in any other active pool; then, with or
# without libvirtd: host links and network namespaces named PREFIX*, mounts and loop
# devices whose path/backing file contains PREFIX, and files/directories
# directly under /tmp and /var/lib/libvirt/images (and domain logs under
# /var/log/libvirt/qemu) whose name contains PREFIX.
#
# Do not run it while a test run with the same PREFIX is active: it removes
# that run's objects too. Quiet on success (-v lists what was removed); exits
# 1 if something could not be removed.
set -euo pipefail

URI=qemu:///system
verbose=0
if [[ ${1:-} == -v ]]; then verbose=1; shift; fi
PREFIX=${1:-vht-}

die() { echo "clean-test-host: $*" >&2; exit 1; }
# A short or odd prefix would match the host's own objects ("" matches all).
[[ $PREFIX =~ ^[A-Za-z0-9][A-Za-z0-9._-]{2,}$ ]] ||
    die "refusing prefix '$PREFIX': need 3+ chars of [A-Za-z0-9._-]"

failed=0
say()  { (( verbose )) && echo "clean-test-host: $*"; return 0; }
warn() { echo "clean-test-host: $*" >&2; failed=1; }
# Run a command; on failure keep going but remember it and show its error.
try()  { local e; if e=$("$@" 2>&1); then return 0; fi; warn "failed: $* -- ${e//$'\n'/ }"; return 1; }

have_prefix() { [[ $1 == "$PREFIX"* ]]; }

# --- libvirt objects (only when the daemon answers) ------------------------------------
if command -v virsh >/dev/null && timeout 10 virsh -q -c "$URI" version >/dev/null 2>&1; then
    v() { timeout 60 virsh -q -c "$URI" "$@" </dev/null; }   # keep the read loops' stdin

    # Domains first: they hold the networks' taps and the pools' volumes.
    while read -r d; do
        have_prefix "$d" || continue
        if [[ $(v domstate "$d" 2>/dev/null) != "shut off" ]]; then
            v destroy "$d" >/dev/null 2>&1 || true   # a transient domain is gone after this
        fi
        v dominfo "$d" >/dev/null 2>&1 || { say "domain $d (transient) destroyed"; continue; }
        # --nvram etc. are no-ops for domains without them; the plain form is a
        # fallback for a domain type that rejects a flag.
        if v undefine "$d" --managed-save --snapshots-metadata --checkpoints-metadata --nvram >/dev/null 2>&1 ||
           try v undefine "$d"; then
            say "domain $d removed"
        fi
    done < <(v list --all --name 2>/dev/null)

    while read -r n; do
        have_prefix "$n" || continue
        v net-destroy "$n" >/dev/null 2>&1 || true    # fails when inactive: fine
        if v net-info "$n" >/dev/null 2>&1; then try v net-undefine "$n" >/dev/null || continue; fi
        say "network $n removed"
    done < <(v net-list --all --name 2>/dev/null)

    while read -r p; do
        [[ -n $p ]] || continue
        if have_prefix "$p"; then
            # Volumes can only be listed/deleted in an active pool; a pool whose
            # source is gone (loop device detached) will not start: just undefine it.
            [[ $(v pool-info "$p" 2>/dev/null | awk '$1 == "State:" { print $2 }') == running ]] ||
                v pool-start "$p" >/dev/null 2>&1 || true
            # libvirt 9.0 cannot delete a `disk` pool volume on a loop device (it runs
            # `parted /dev/loopN rm pN`); the partitions go with the loop device and
            # its backing file below, so a failure there is not an error.
            ptype=$(v pool-dumpxml "$p" 2>/dev/null | sed -n "s/^<pool type='\([a-z]*\)'.*/\1/p")
            while read -r vol; do
                [[ -n $vol ]] || continue
                if [[ $ptype == disk ]]; then
                    if v vol-delete --pool "$p" "$vol" >/dev/null 2>&1; then say "volume $p/$vol removed"
                    else say "volume $p/$vol left to the loop device cleanup"; fi
                elif try v vol-delete --pool "$p" "$vol" >/dev/null; then
                    say "volume $p/$vol removed"
                fi
            done < <(v vol-list --pool "$p" 2>/dev/null | awk '{ print $1 }')
            v pool-destroy "$p" >/dev/null 2>&1 || true
            if v pool-info "$p" >/dev/null 2>&1; then try v pool-undefine "$p" >/dev/null || continue; fi
            say "pool $p removed"
        else
            # Somebody else's pool (e.g. `default`): only our volumes in it.
            while read -r vol; do
                if have_prefix "$vol" && try v vol-delete --pool "$p" "$vol" >/dev/null; then
                    say "volume $p/$vol removed"
                fi
            done < <(v vol-list --pool "$p" 2>/dev/null | awk '{ print $1 }')   # empty if inactive
        fi
    done < <(v pool-list --all --name 2>/dev/null)
else
    say "libvirtd not answering on $URI: skipping domains, networks, pools"
fi

# --- host links: bridges and taps named PREFIX* --------------------------------------
if command -v ip >/dev/null; then
    while read -r l; do
        l=${l%%@*}                       # "name@parent" for veth/macvlan
        have_prefix "$l" || continue
        try ip link del "$l" && say "link $l removed"
    done < <(ip -o link show | awk -F': ' '{ print $2 }')
    # Network namespaces the host networking tests make (the far end of a test uplink).
    while read -r n _; do
        [[ -n $n ]] && have_prefix "$n" || continue
        try ip netns del "$n" && say "netns $n removed"
    done < <(ip netns list 2>/dev/null)
fi

# --- mounts and loop devices -------------------------------------------------------
# Loop devices whose backing file path contains PREFIX (fs/disk pool tests).
declare -a loops=()
while read -r dev back; do
    [[ $back == *"$PREFIX"* ]] && loops+=("$dev")
done < <(losetup -n -l -O NAME,BACK-FILE 2>/dev/null || true)

# Unmount first (deepest first): a mounted loop device would only be
# lazily detached, and rm -rf below must not reach into a mounted filesystem.
while read -r target source; do
    hit=0
    [[ $target == *"$PREFIX"* ]] && hit=1
    for l in "${loops[@]}"; do [[ $source == "$l" || $source == "$l"p* ]] && hit=1; done
    (( hit )) && try umount "$target" && say "unmounted $target"
done < <(findmnt -rn -o TARGET,SOURCE 2>/dev/null | sort -r || true)

for l in "${loops[@]}"; do
    try losetup -d "$l" && say "loop device $l detached"
done

# --- files -----------------------------------------------------------------------------
while IFS= read -r -d '' f; do
    try rm -rf --one-file-system -- "$f" && say "removed $f"
done < <(find /tmp /var/lib/libvirt/images /var/log/libvirt/qemu -mindepth 1 -maxdepth 1 \
             -name "*$PREFIX*" -print0 2>/dev/null || true)

exit "$failed"
