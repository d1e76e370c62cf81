# Sourced by scripts/boot-guest-smoke.sh and scripts/bench-guest.sh: the test
# guest's isolated network and TCG domain, the same as the end-to-end tests'
# (Tests/EndToEndTests/TestGuest.swift).
#
#   write_guest_xml DIR NAME BRIDGE MAC [TAP]
# writes DIR/network.xml (network NAME on bridge BRIDGE) and DIR/domain.xml
# (domain NAME booting DIR/vmlinuz and DIR/initramfs.img, serial log in
# DIR/console.log, the guest-agent channel, one virtio NIC with MAC on the
# network, named TAP on the host when given).
write_guest_xml() {
    local dir=$1 name=$2 bridge=$3 mac=$4 tap=${5:-}
    local target=""
    [[ -n $tap ]] && target="
      <target dev='$tap'/>"
    # Isolated: no <forward>, and no <ip> either, so libvirt runs no dnsmasq and
    # adds no firewall rules: a bare bridge.
    cat >"$dir/network.xml" <<XML
<network>
  <name>$name</name>
  <bridge name='$bridge' stp='off' delay='0'/>
</network>
XML
    # TCG (KVM hangs here), ACPI+APIC for PCI hotplug, direct kernel boot.
    # panic=-1 + on_reboot=destroy: a guest whose /init dies stops at once
    # instead of hanging until the agent wait times out.
    cat >"$dir/domain.xml" <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$dir/vmlinuz</kernel>
    <initrd>$dir/initramfs.img</initrd>
    <cmdline>console=ttyS0 panic=-1</cmdline>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='file'>
      <source path='$dir/console.log'/>
      <target port='0'/>
    </serial>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <interface type='network'>
      <source network='$name'/>
      <mac address='$mac'/>$target
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
XML
}
