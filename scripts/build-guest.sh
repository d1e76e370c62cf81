#!/usr/bin/env bash
# Build the tiny test guest used by the real-hypervisor tests:
#
#   OUTDIR/vmlinuz         the current Debian 6.1 amd64 kernel (apt-get download)
#   OUTDIR/initramfs.img   busybox + qemu-ga + virtio (and a few other) modules
#   OUTDIR/build-info.txt  kernel release, package versions, module order
#   OUTDIR/inputs.sha256   cache key: this script + package versions + host binaries
#
# usage: scripts/build-guest.sh [OUTDIR]     (default: <repo>/.cache/guest)
#
# The guest boots straight into /init (no udev, no systemd), loads the modules,
# creates /dev/virtio-ports/* links, starts qemu-ga once on
# org.qemu.guest_agent.0 and idles. It never configures a NIC: no traffic.
# Boot it with <kernel>/<initrd> and `console=ttyS0` under TCG (see
# scripts/boot-guest-smoke.sh for a domain that works).
#
# Needs (scripts/host-deps.sh --hypervisor): apt-get, dpkg-deb, kmod
# (depmod/modprobe), cpio, zstd or gzip, busybox-static, qemu-guest-agent.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
out=${1:-$repo/.cache/guest}
self="$here/$(basename "${BASH_SOURCE[0]}")"

die() { echo "build-guest: $*" >&2; exit 1; }

for t in apt-get apt-cache dpkg-deb dpkg-query depmod modprobe cpio ldd sha256sum flock; do
    command -v "$t" >/dev/null || die "$t not found; run: scripts/host-deps.sh --hypervisor"
done
[[ -x /bin/busybox ]]      || die "/bin/busybox missing; run: scripts/host-deps.sh --hypervisor (busybox-static)"
[[ -x /usr/sbin/qemu-ga ]] || die "/usr/sbin/qemu-ga missing; run: scripts/host-deps.sh --hypervisor (qemu-guest-agent)"

pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || die "package $1 is not installed"; }

# --- choose the kernel -------------------------------------------------------
# The linux-image-amd64 metapackage names the current ABI package
# (linux-image-6.1.0-NN-amd64); older ABI packages vanish from the mirror, so
# never hard-code NN. Fall back to the highest 6.1.0-NN-amd64 if the meta
# package points elsewhere (e.g. a backports kernel).
kpkg=${VIRTHOST_GUEST_KERNEL_PKG:-}
if [[ -z $kpkg ]]; then
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
           awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1\.0-[0-9]+-amd64$/ { print $2; exit }')
fi
if [[ -z $kpkg ]]; then
    kpkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
           awk '{ print $1 }' | sort -V | tail -n 1)
fi
[[ -n $kpkg ]] || die "no linux-image-6.1.0-*-amd64 package known to apt (run apt-get update?)"
kver=$(apt-cache policy "$kpkg" | awk '$1 == "Candidate:" { print $2 }')
[[ -n $kver && $kver != "(none)" ]] || die "apt has no candidate version of $kpkg (run apt-get update?)"
krel=${kpkg#linux-image-}

# --- cache key ------------------------------------------------------------------
# qemu-ga, busybox and their libraries are copied from this host, so their
# bytes are inputs too (a libc update must rebuild the image).
host_files() {  # the host files that end up in the image
    local f
    for f in /bin/busybox /usr/sbin/qemu-ga; do
        echo "$f"
        ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' || true
    done
    # glibc dlopens libgcc_s for pthread_cancel/exit; without it such a call aborts.
    ldconfig -p 2>/dev/null | awk '$1 == "libgcc_s.so.1" && /x86-64/ { print $NF; exit }' || true
}
mapfile -t hostfiles < <(host_files | awk '!seen[$0]++')

inputs_hash=$(
    {
        sha256sum "$self" | cut -d' ' -f1
        echo "kernel $kpkg $kver"
        echo "busybox-static $(pkg_version busybox-static)"
        echo "qemu-guest-agent $(pkg_version qemu-guest-agent)"
        for f in "${hostfiles[@]}"; do echo "$f $(sha256sum < "$f" | cut -d' ' -f1)"; done
    } | sha256sum | cut -d' ' -f1
)

mkdir -p "$out"
# Two test runs may build at once: serialize on the output directory.
exec 9>"$out/.lock"
flock 9

print_paths() { echo "$out/vmlinuz"; echo "$out/initramfs.img"; }

if [[ -s $out/vmlinuz && -s $out/initramfs.img && -f $out/inputs.sha256 &&
      $(<"$out/inputs.sha256") == "$inputs_hash" ]]; then
    print_paths
    exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/virthost-guest-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
log="$work/log"

# Show the captured output of a failed step, not the noise of a good one.
run() { "$@" >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "failed: $*"; }; }

# --- kernel ------------------------------------------------------------------
# The Sandbox::User override avoids apt's "_apt cannot access the directory"
# warning for a download into a root-only temp directory.
(cd "$work" && run apt-get -q -o APT::Sandbox::User=root download "$kpkg=$kver")
run dpkg-deb -x "$work"/"$kpkg"_*.deb "$work/k"
kdir="$work/k/lib/modules/$krel"
config="$work/k/boot/config-$krel"
[[ -f $work/k/boot/vmlinuz-$krel && -f $config && -d $kdir ]] || die "unexpected layout in $kpkg"
# The package ships no modules.dep (its postinst runs depmod): make one.
run depmod -b "$work/k" "$krel"

# --- rootfs ------------------------------------------------------------------
root="$work/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root,mnt,var/log,var/lib,etc/acpi/PWRF}
ln -s ../run "$root/var/run"   # qemu-ga's pidfile and glibc's utmp live under /var/run
chmod 1777 "$root/tmp"

copy_host_file() {  # same path inside the image, symlinks resolved
    mkdir -p "$root$(dirname "$1")"
    cp -L "$1" "$root$1"
}
for f in "${hostfiles[@]}"; do copy_host_file "$f"; done

# busybox applets as symlinks (made here, not with --install at boot, so the
# image is complete before /init runs).
while read -r applet; do
    [[ -e $root/$applet || -L $root/$applet ]] || ln -s /bin/busybox "$root/$applet"
done < <(/bin/busybox --list-full | grep -v -e '^linuxrc$' -e '^bin/busybox$')

# --- modules -----------------------------------------------------------------
# Wanted drivers; modprobe --show-depends over the modules.dep made above gives
# the insmod order (busybox insmod does not resolve dependencies).
required=(virtio_pci virtio_console virtio_net virtio_blk)
optional=(
    virtio_scsi sd_mod ahci virtio_balloon virtio_rng   # other disk buses, balloon stats
    8139cp e1000                # libvirt's default NIC model (rtl8139), qemu's (e1000)
    button evdev                # ACPI power button -> acpid -> poweroff (virsh shutdown)
    ext4                        # a real filesystem for guest-get-fsinfo / fsfreeze tests
)
modlist=()
for m in "${required[@]}" "${optional[@]}"; do
    if ! deps=$(modprobe -d "$work/k" -S "$krel" --show-depends "$m" 2>&1); then
        if [[ " ${required[*]} " == *" $m "* ]]; then die "required module $m not in $kpkg: $deps"; fi
        continue
    fi
    # "builtin NAME" lines need nothing; CPU-accelerated crypto (arch/x86/crypto)
    # arrives through softdeps, has a generic twin in the list, and fails to
    # load on TCG's CPU model, so leave it out.
    while read -r verb path _; do
        if [[ $verb == insmod && $path != */arch/x86/crypto/* ]]; then
            modlist+=("${path#"$work/k"}")
        fi
    done <<<"$deps"
done
mapfile -t modlist < <(printf '%s\n' "${modlist[@]}" | awk '!seen[$0]++')
for ko in "${modlist[@]}"; do
    mkdir -p "$root$(dirname "$ko")"
    cp "$work/k$ko" "$root$ko"
done
printf '%s\n' "${modlist[@]}" >"$root/etc/modules.list"

# --- /etc ----------------------------------------------------------------------
# What qemu-ga reads: os-release (guest-get-osinfo), the hostname
# (guest-get-host-name), utmp (guest-get-users).
cat >"$root/etc/os-release" <<EOF
NAME="virthost test guest"
ID=virthost-testguest
ID_LIKE=debian
PRETTY_NAME="virthost test guest (Debian kernel $krel)"
VERSION="1"
VERSION_ID=1
VARIANT="initramfs"
VARIANT_ID=initramfs
EOF
echo virthost-testguest >"$root/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost\n127.0.1.1 virthost-testguest\n' >"$root/etc/hosts"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
printf 'root:x:0:\ntty:x:5:\n' >"$root/etc/group"

# One USER_PROCESS utmp record (glibc x86_64 struct utmp, 384 bytes) so
# guest-get-users reports user "root" on ttyS0 with a fixed login time
# (1700000000 = 2023-11-14T22:13:20Z) that tests can compare against.
le32() { local i; for i in 0 8 16 24; do printf "\\x$(printf %02x $(($1 >> i & 255)))"; done; }
field() { printf '%s' "$1"; head -c $(($2 - ${#1})) /dev/zero; }  # NUL-padded char[N]
{
    printf '\x07\x00\x00\x00'          # ut_type USER_PROCESS (short) + padding
    le32 1                             # ut_pid
    field ttyS0 32                     # ut_line
    field S0 4                         # ut_id
    field root 32                      # ut_user
    field "" 256                       # ut_host
    head -c 8 /dev/zero                # ut_exit, ut_session
    le32 1700000000; le32 0            # ut_tv
    head -c 36 /dev/zero               # ut_addr_v6, reserved
} >"$root/etc/utmp.seed"
[[ $(stat -c %s "$root/etc/utmp.seed") == 384 ]] || die "bad utmp record size"

# virsh shutdown (ACPI power button): busybox acpid runs /etc/acpi/PWRF/00000080.
cat >"$root/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
echo "virthost-guest: power button, powering off" >/dev/console
exec poweroff -f
EOF
# virsh shutdown/reboot --mode agent: qemu-ga execs /sbin/shutdown -h -P|-H|-r +0 MSG.
# Reply first (qemu-ga waits for this to exit), then power off / reboot.
cat >"$root/sbin/shutdown" <<'EOF'
#!/bin/sh
action=poweroff
for a in "$@"; do [ "$a" = -r ] && action=reboot; [ "$a" = -H ] && action=halt; done
echo "virthost-guest: shutdown requested by agent ($action)" >/dev/console
( sleep 1; $action -f ) </dev/null >/dev/null 2>&1 &
exit 0
EOF
chmod 755 "$root/etc/acpi/PWRF/00000080" "$root/sbin/shutdown"

cat >"$root/init" <<'EOF'
#!/bin/sh
# PID 1 of the virthost test guest (generated by scripts/build-guest.sh).
# No udev, no systemd: mount the API filesystems, load the drivers, make the
# /dev/virtio-ports links udev would make, start qemu-ga once, then idle.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
umask 022

mount -t devtmpfs -o mode=0755 devtmpfs /dev
exec </dev/console >/dev/console 2>&1
log() { echo "virthost-guest: $*"; }

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=0620 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
cp /etc/utmp.seed /run/utmp
log "init started, kernel $(uname -r)"

# Never send traffic: no DHCP client runs, and IPv6 (router solicitation, DAD)
# stays off even if a test sets a NIC up. Only lo keeps ::1.
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
echo 0 >/proc/sys/net/ipv6/conf/lo/disable_ipv6

# In dependency order (computed from the kernel's modules.dep at build time).
n=0
while read -r ko; do
    if insmod "$ko" 2>/dev/null; then n=$((n + 1)); else log "insmod ${ko##*/} failed (continuing)"; fi
done </etc/modules.list
log "$n modules loaded"

hostname -F /etc/hostname
ip link set lo up

# udev would create /dev/virtio-ports/NAME; the port name arrives from the host
# shortly after virtio_console binds, so poll (bounded: a domain may have no channel).
mkdir -p /dev/virtio-ports
i=0
while :; do
    for p in /sys/class/virtio-ports/*; do
        [ -r "$p/name" ] || continue
        name=$(cat "$p/name")
        [ -n "$name" ] && [ ! -e "/dev/virtio-ports/$name" ] && ln -s "../${p##*/}" "/dev/virtio-ports/$name"
    done
    [ -e /dev/virtio-ports/org.qemu.guest_agent.0 ] && break
    i=$((i + 1))
    [ $i -ge 100 ] && { log "no org.qemu.guest_agent.0 port after 10 s"; break; }
    usleep 100000
done

# ACPI power button (virsh shutdown) -> /etc/acpi/PWRF/00000080.
[ -e /dev/input/event0 ] && acpid -l /run/acpid.log

# Started once, not respawned: tests kill or SIGSTOP it on purpose to see
# "agent not connected" / timeouts.
if [ -e /dev/virtio-ports/org.qemu.guest_agent.0 ]; then
    (
        qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0
        log "agent exited (status $?)"
    ) &
    log "agent started"
fi

# Idle as PID 1; ash's wait also reaps orphaned children.
while :; do sleep 3600; done
EOF
chmod 755 "$root/init"

# The kernel opens /dev/console for /init before devtmpfs is mounted.
if (( EUID == 0 )); then mknod -m 600 "$root/dev/console" c 5 1; fi

# --- pack --------------------------------------------------------------------
if grep -q '^CONFIG_RD_ZSTD=y' "$config" && command -v zstd >/dev/null; then
    compress=(zstd -q -19 -T0 -c)
elif grep -q '^CONFIG_RD_GZIP=y' "$config"; then
    compress=(gzip -9 -n -c)
else
    die "$krel supports neither zstd nor gzip initramfs (or zstd is not installed)"
fi
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 --reproducible) | "${compress[@]}" >"$work/initramfs.img" ||
    die "packing the initramfs failed"

# Publish atomically: the key last, so an interrupted build is never "cached".
rm -f "$out/inputs.sha256"
install -m 0644 "$work/k/boot/vmlinuz-$krel" "$out/vmlinuz.new"
install -m 0644 "$work/initramfs.img" "$out/initramfs.img.new"
mv -f "$out/vmlinuz.new" "$out/vmlinuz"
mv -f "$out/initramfs.img.new" "$out/initramfs.img"
{
    echo "kernel_package=$kpkg"
    echo "kernel_package_version=$kver"
    echo "kernel_release=$krel"
    echo "busybox_static=$(pkg_version busybox-static)"
    echo "qemu_guest_agent=$(pkg_version qemu-guest-agent)"
    echo "compression=${compress[0]}"
    echo "hostname=virthost-testguest"
    echo "os_release_id=virthost-testguest"
    echo "utmp_user=root utmp_login_time=1700000000"
    echo "modules (insmod order):"
    printf '  %s\n' "${modlist[@]##*/}"
} >"$out/build-info.txt"
echo "$inputs_hash" >"$out/inputs.sha256"
print_paths
