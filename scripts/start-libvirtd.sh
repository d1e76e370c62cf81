#!/usr/bin/env bash
# Make sure virtlogd and libvirtd run and qemu:///system answers.
#
# PID 1 is not systemd on the test machines, so the daemons are started by
# hand. Idempotent: a daemon that already runs (a developer machine, a previous
# run, systemd) is left alone. Quiet on success; exits non-zero with a clear
# message when qemu:///system does not answer within VIRTHOST_LIBVIRTD_WAIT
# seconds (default 30).
#
# The libvirt `default` network is neither started nor needed: tests define
# their own isolated networks, so a missing/inactive `default` is fine.
set -euo pipefail

URI=qemu:///system
WAIT=${VIRTHOST_LIBVIRTD_WAIT:-30}
LOG=/var/log/libvirt/libvirtd.log

die() { echo "start-libvirtd: $*" >&2; exit 1; }

# `timeout` because a wedged daemon can accept the socket and never answer.
answers() { timeout 10 virsh -q -c "$URI" version >/dev/null 2>&1; }

# Starts a daemon with nothing inherited but stdin, stdout and stderr.
# `libvirtd -d` and `virtlogd -d` keep every descriptor they inherit for their
# whole life: a lock taken around this script (flock /tmp/vh-libvirtd.lock, a
# test run) would stay held by the daemon, and a test's sockets stay open.
daemon() {
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            (( fd > 2 )) && eval "exec $fd>&-" 2>/dev/null
        done
        exec "$@"
    )
}

# /dev/kvm as udev would leave it on Debian (root:kvm 0660). These machines
# have no udev, so it is root:root 0600: libvirtd probes QEMU as root (KVM
# usable), then finds KVM unusable for the libvirt-qemu user, throws its
# capabilities cache away and probes QEMU again (about 4 s a probe, several
# per call) at every define and start: `virsh define` of a trivial domain took
# 31 s, and 33 ms after this. Guests in the tests stay TCG (type='qemu').
# Done before libvirtd starts, and again for a daemon started earlier.
fix_kvm_node() {
    [[ -c /dev/kvm ]] && (( EUID == 0 )) || return 0
    getent group kvm >/dev/null || return 0
    [[ $(stat -c '%G %a' /dev/kvm) == "kvm 660" ]] && return 0
    chgrp kvm /dev/kvm && chmod 660 /dev/kvm
}
fix_kvm_node

for b in virsh libvirtd virtlogd; do
    command -v "$b" >/dev/null || die "$b not found; run: scripts/host-deps.sh --hypervisor"
done

# A storage backend installed after libvirtd started (host-deps.sh adds rbd
# and gluster) is only loaded at daemon start. Restart a libvirtd this script
# can manage (started by hand, not by systemd) when a backend module is on disk
# but the daemon reports its pool type unsupported. Guests keep running over a
# libvirtd restart; clients see their connection drop once and reconnect.
stale_storage_backends() {
    local dir=/usr/lib/x86_64-linux-gnu/libvirt/storage-backend caps t
    [[ -d $dir ]] || dir=$(dirname "$(find /usr/lib* -path '*libvirt/storage-backend/*.so' -print -quit 2>/dev/null)" 2>/dev/null) || return 1
    caps=$(timeout 10 virsh -q -c "$URI" pool-capabilities 2>/dev/null) || return 1
    for t in rbd gluster; do
        [[ -e $dir/libvirt_storage_backend_$t.so ]] || continue
        grep -q "<pool type='$t' supported='no'>" <<<"$caps" && return 0
    done
    return 1
}

if answers; then
    if (( EUID == 0 )) && [[ ! -d /run/systemd/system ]] && stale_storage_backends &&
       pid=$(cat /run/libvirtd.pid 2>/dev/null) && [[ $(ps -o comm= -p "$pid" 2>/dev/null) == libvirtd ]]; then
        echo "start-libvirtd: restarting libvirtd (pid $pid) to load newly installed storage backends" >&2
        kill -TERM "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && die "libvirtd (pid $pid) did not exit within 10 s after SIGTERM"
    else
        exit 0
    fi
fi

(( EUID == 0 )) || die "$URI does not answer and starting libvirtd needs root"

mkdir -p /run/libvirt /var/log/libvirt

# Without systemd/journald the daemons would log nowhere useful; send their
# errors to a file so a failed start can be diagnosed. Set per command (virsh
# would log there too) and only for daemons started here: an admin's
# libvirtd.conf is not touched.

# virtlogd first: libvirtd hands qemu's stdout/stderr (and <log> files) to it,
# and a domain start fails without it.
if ! pgrep -x virtlogd >/dev/null; then
    daemon env LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/virtlogd.log" virtlogd -d \
        || die "virtlogd -d failed (see /var/log/libvirt/virtlogd.log)"
fi

# A libvirtd that runs but does not answer yet is probably still starting:
# wait for it rather than start a second one (which would fail on its pidfile).
if ! pgrep -x libvirtd >/dev/null; then
    daemon env LIBVIRT_LOG_OUTPUTS="3:file:$LOG" libvirtd -d || die "libvirtd -d failed (see $LOG)"
fi

deadline=$((SECONDS + WAIT))
until answers; do
    if (( SECONDS >= deadline )); then
        err=$(timeout 10 virsh -q -c "$URI" version 2>&1 >/dev/null || true)
        pgrep -x libvirtd >/dev/null || err="libvirtd exited; ${err}"
        echo "start-libvirtd: $URI did not answer within ${WAIT}s: ${err:-no error text}" >&2
        [[ -f $LOG ]] && { echo "--- last lines of $LOG:" >&2; tail -n 15 "$LOG" >&2; }
        exit 1
    fi
    sleep 0.5
done
