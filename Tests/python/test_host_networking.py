"""Host networking II against a real agent: links, addresses and routes
checked against `ip -j`; a bridge put over an uplink with a passing check,
a failing check, a confirmation window that expires, one that is confirmed,
and an agent killed with kill -9 while a change waits for its confirmation;
PCI passthrough in a machine's definition; node device errors.

The uplink is one end of a veth pair whose other end lives in a network
namespace this test makes (198.18.N.1/24, with 198.19.N.1 behind a route):
no traffic leaves the machine. Names start with vht- (scripts/clean-test-host.sh).

Needs root and libvirtd on qemu:///system (make test starts it).
"""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import grpc
import pytest

from test_grpc_interop import BIN_DIR, stubs, wait_for_socket  # noqa: F401 (fixture)
from test_operations import Agent, virsh

N = os.getpid() % 250
TAG = f"vht-{os.getpid() % 10000:04d}"
UPLINK, PEER, BRIDGE, NS = TAG + "u", TAG + "p", TAG + "b", TAG + "ns"
NET, BEHIND = f"198.18.{N}", f"198.19.{N}"
V6 = f"fd00:18:{N:x}"


def ip(*args, ns=None, check=True):
    command = ["ip", *(["-n", ns] if ns else []), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=check)


def ipj(*args):
    return json.loads(ip("-j", *args).stdout or "[]")


def uplink_state():
    """What must come back exactly: the uplink's addresses and link settings, and its routes."""
    [link] = ipj("addr", "show", "dev", UPLINK)

    def lifetime(value):
        # Finite lifetimes count down: compare them to the nearest minute.
        return value if value is None or value == 4294967295 else round(value / 60)

    addresses = sorted((a["family"], a["local"], a["prefixlen"], a.get("scope"), lifetime(a.get("valid_life_time")),
                        lifetime(a.get("preferred_life_time")), a.get("nodad", False), a.get("noprefixroute", False))
                       for a in link.get("addr_info", []))
    routes = sorted(json.dumps(r, sort_keys=True) for r in ipj("route", "show", "dev", UPLINK) + ipj("-6", "route", "show", "dev", UPLINK))
    return {"mtu": link["mtu"], "up": "UP" in link["flags"], "master": link.get("master"), "addresses": addresses, "routes": routes}


def make_uplink():
    ip("netns", "add", NS)
    ip("link", "add", UPLINK, "type", "veth", "peer", "name", PEER)
    ip("link", "set", PEER, "netns", NS)
    ip("addr", "add", f"{NET}.1/24", "dev", PEER, ns=NS)
    ip("addr", "add", f"{BEHIND}.1/32", "dev", "lo", ns=NS)
    ip("addr", "add", f"{V6}::1/64", "dev", PEER, "nodad", ns=NS)
    ip("link", "set", "lo", "up", ns=NS)
    ip("link", "set", PEER, "up", ns=NS)
    ip("link", "set", UPLINK, "mtu", "1400")
    ip("addr", "add", f"{NET}.2/24", "dev", UPLINK)
    ip("addr", "add", f"{V6}::2/64", "dev", UPLINK, "nodad")
    # An address with lifetimes and flags that must come back as they were.
    ip("addr", "add", f"{V6}::5/64", "dev", UPLINK, "nodad", "noprefixroute", "valid_lft", "3600", "preferred_lft", "1800")
    ip("link", "set", UPLINK, "up")
    ip("route", "add", f"{BEHIND}.0/24", "via", f"{NET}.1", "dev", UPLINK, "metric", "77")


def remove_uplink():
    ip("link", "del", BRIDGE, check=False)
    ip("link", "del", UPLINK, check=False)
    ip("netns", "del", NS, check=False)


@pytest.fixture(scope="module")
def net(stubs):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if virsh("version", check=False).returncode != 0:
        pytest.fail("qemu:///system does not answer: make test starts libvirtd (scripts/start-libvirtd.sh)")
    import importlib
    hostnet = importlib.import_module("virthost.v1.hostnet_pb2")
    hostnet_grpc = importlib.import_module("virthost.v1.hostnet_pb2_grpc")
    nodedev = importlib.import_module("virthost.v1.nodedev_pb2")
    nodedev_grpc = importlib.import_module("virthost.v1.nodedev_pb2_grpc")
    base = pathlib.Path(tempfile.mkdtemp(prefix="vhu-hostnet-", dir="/var/tmp"))
    remove_uplink()
    make_uplink()
    agent = Agent(base)
    agent.start()
    try:
        yield {"agent": agent, "pb": hostnet, "grpc": hostnet_grpc, "nd": nodedev, "nd_grpc": nodedev_grpc, "stubs": stubs, "base": base}
    finally:
        agent.stop()
        remove_uplink()
        shutil.rmtree(base, ignore_errors=True)


def client(net):
    return net["grpc"].HostNetworkServiceStub(net["agent"].channel)


def cli(net, *args, check=True):
    result = subprocess.run([str(BIN_DIR / "virthost"), "--socket", net["agent"].socket, *args],
                            capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_bridge_over_uplink_with_a_passing_check_then_restore(net):
    before = uplink_state()
    started = time.monotonic()
    reply = client(net).BridgeUplink(net["pb"].BridgeUplinkRequest(
        bridge=BRIDGE, uplink=UPLINK, checks=[f"{NET}.1", f"{BEHIND}.1", f"{V6}::1"], check_timeout_seconds=5))
    print(f"\nbridge over uplink with 3 checks (IPv4, behind a route, IPv6): {reply.elapsed_ms} ms"
          f" (call {1000 * (time.monotonic() - started):.0f} ms)")
    assert not reply.pending
    [bridge] = ipj("addr", "show", "dev", BRIDGE)
    assert bridge["mtu"] == 1400
    locals_ = {(a["local"], a["prefixlen"]) for a in bridge["addr_info"]}
    assert (f"{NET}.2", 24) in locals_ and (f"{V6}::2", 64) in locals_
    [timed] = [a for a in bridge["addr_info"] if a["local"] == f"{V6}::5"]
    assert timed.get("noprefixroute") and 3500 < timed["valid_life_time"] <= 3600 and 1700 < timed["preferred_life_time"] <= 1800, timed
    assert not [a for a in ipj("addr", "show", "dev", UPLINK)[0].get("addr_info", []) if a["family"] == "inet"]
    routes = ipj("route", "show", "dev", BRIDGE)
    assert any(r["dst"] == f"{BEHIND}.0/24" and r.get("gateway") == f"{NET}.1" and r.get("metric") == 77 for r in routes), routes
    assert ipj("link", "show", "dev", UPLINK)[0].get("master") == BRIDGE
    # The checks above reached the namespace through the bridge; nothing waits for a confirmation.
    assert client(net).ListPendingBridges(net["pb"].ListPendingBridgesRequest()).pending == []
    # The reverse: bridge del --restore-uplink through the CLI.
    cli(net, "bridge", "del", BRIDGE, "--restore-uplink")
    assert not ip("link", "show", "dev", BRIDGE, check=False).returncode == 0
    assert uplink_state() == before


def test_a_failing_check_changes_nothing(net):
    before = uplink_state()
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as failure:
        client(net).BridgeUplink(net["pb"].BridgeUplinkRequest(
            bridge=BRIDGE, uplink=UPLINK, checks=[f"{NET}.99"], check_timeout_seconds=2))
    print(f"\nfailing check (2 s budget) and rollback: call {1000 * (time.monotonic() - started):.0f} ms")
    assert failure.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"{NET}.99" in failure.value.details() and "rolled back" in failure.value.details()
    assert ip("link", "show", "dev", BRIDGE, check=False).returncode != 0
    assert uplink_state() == before


def test_an_unconfirmed_change_rolls_back_by_itself(net):
    before = uplink_state()
    reply = client(net).BridgeUplink(net["pb"].BridgeUplinkRequest(
        bridge=BRIDGE, uplink=UPLINK, checks=[f"{NET}.1"], confirm_within_seconds=2))
    assert reply.pending
    assert [p.bridge for p in client(net).ListPendingBridges(net["pb"].ListPendingBridgesRequest()).pending] == [BRIDGE]
    assert ip("link", "show", "dev", BRIDGE, check=False).returncode == 0
    deadline = time.monotonic() + 10
    while ip("link", "show", "dev", BRIDGE, check=False).returncode == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ip("link", "show", "dev", BRIDGE, check=False).returncode != 0, "not rolled back after its deadline"
    print(f"\nunconfirmed change rolled back {reply.deadline_unix and time.time() - reply.deadline_unix:.2f} s after its deadline")
    time.sleep(0.3)
    assert uplink_state() == before
    with pytest.raises(grpc.RpcError) as late:
        client(net).ConfirmBridge(net["pb"].ConfirmBridgeRequest(bridge=BRIDGE))
    assert late.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_confirmed_change_stays(net):
    before = uplink_state()
    cli(net, "bridge", "add", BRIDGE, "--uplink", UPLINK, "--check", f"{NET}.1", "--confirm-within", "3")
    cli(net, "bridge", "confirm", BRIDGE)
    time.sleep(4)
    assert ipj("link", "show", "dev", UPLINK)[0].get("master") == BRIDGE
    assert any(a["local"] == f"{NET}.2" for a in ipj("addr", "show", "dev", BRIDGE)[0]["addr_info"])
    cli(net, "bridge", "del", BRIDGE, "--restore-uplink")
    assert uplink_state() == before


def test_an_agent_killed_during_the_window_rolls_back_after_its_restart(net):
    before = uplink_state()
    agent = net["agent"]
    client(net).BridgeUplink(net["pb"].BridgeUplinkRequest(bridge=BRIDGE, uplink=UPLINK, confirm_within_seconds=3))
    assert ipj("link", "show", "dev", UPLINK)[0].get("master") == BRIDGE
    agent.kill()
    time.sleep(3.5)  # the deadline passes while no agent runs
    assert ip("link", "show", "dev", BRIDGE, check=False).returncode == 0, "nothing rolls back without an agent"
    started = time.monotonic()
    agent.start()  # settles the change before it serves
    print(f"\nagent restarted after kill -9 and rolled back within {1000 * (time.monotonic() - started):.0f} ms")
    assert ip("link", "show", "dev", BRIDGE, check=False).returncode != 0
    assert uplink_state() == before
    assert client(net).ListPendingBridges(net["pb"].ListPendingBridgesRequest()).pending == []


def test_bad_bridge_requests_are_refused_before_the_kernel(net):
    pb = net["pb"]
    for request in [pb.BridgeUplinkRequest(bridge="a/b", uplink=UPLINK),
                    pb.BridgeUplinkRequest(bridge=BRIDGE, uplink=UPLINK, checks=["999.1.1.1"]),
                    pb.BridgeUplinkRequest(bridge=BRIDGE, uplink=UPLINK, checks=["224.0.0.1"]),
                    pb.BridgeUplinkRequest(bridge=BRIDGE, uplink=UPLINK, confirm_within_seconds=99999),
                    pb.BridgeUplinkRequest(bridge=UPLINK, uplink=UPLINK)]:
        with pytest.raises(grpc.RpcError) as refused:
            client(net).BridgeUplink(request)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
    # An uplink already enslaved elsewhere.
    other = TAG + "x"
    ip("link", "add", other, "type", "bridge")
    try:
        ip("link", "set", UPLINK, "master", other)
        with pytest.raises(grpc.RpcError) as enslaved:
            client(net).BridgeUplink(pb.BridgeUplinkRequest(bridge=BRIDGE, uplink=UPLINK))
        assert enslaved.value.code() == grpc.StatusCode.FAILED_PRECONDITION and other in enslaved.value.details()
    finally:
        ip("link", "set", UPLINK, "nomaster", check=False)
        ip("link", "del", other, check=False)


def test_link_addr_route_verbs_match_ip(net):
    dummy = TAG + "d"  # a veth end: this kernel has no dummy links
    ip("link", "add", dummy, "type", "veth", "peer", "name", TAG + "e")
    try:
        cli(net, "link", "set", dummy, "--up", "--mtu", "1300")
        [link] = ipj("link", "show", "dev", dummy)
        assert link["mtu"] == 1300 and "UP" in link["flags"]
        cli(net, "addr", "add", dummy, "198.51.100.7/28")
        cli(net, "addr", "add", dummy, "2001:db8:7::7/64")
        got = {(a["local"], a["prefixlen"]) for a in ipj("addr", "show", "dev", dummy)[0]["addr_info"]}
        assert {("198.51.100.7", 28), ("2001:db8:7::7", 64)} <= got
        listed = json.loads(cli(net, "--json", "addr", "list", dummy).stdout)
        assert {a["address"] for a in listed} >= {"198.51.100.7/28", "2001:db8:7::7/64"}
        cli(net, "route", "add", "203.0.113.0/24", "--via", "198.51.100.1", "--dev", dummy, "--metric", "55")
        cli(net, "route", "add", "2001:db8:99::/48", "--via", "2001:db8:7::1", "--metric", "56")
        r4 = [r for r in ipj("route", "show", "dev", dummy) if r["dst"] == "203.0.113.0/24"]
        r6 = [r for r in ipj("-6", "route", "show", "dev", dummy) if r["dst"] == "2001:db8:99::/48"]
        assert r4 and r4[0]["gateway"] == "198.51.100.1" and r4[0]["metric"] == 55, r4
        assert r6 and r6[0]["gateway"] == "2001:db8:7::1" and r6[0]["metric"] == 56, r6
        routes = json.loads(cli(net, "--json", "route", "list").stdout)
        assert any(r["destination"] == "203.0.113.0/24" and r["metric"] == 55 for r in routes)
        cli(net, "route", "del", "203.0.113.0/24")
        cli(net, "route", "del", "2001:db8:99::/48")
        assert not [r for r in ipj("route", "show", "dev", dummy) if r["dst"] == "203.0.113.0/24"]
        cli(net, "addr", "del", dummy, "198.51.100.7/28")
        assert ("198.51.100.7", 28) not in {(a["local"], a["prefixlen"]) for a in ipj("addr", "show", "dev", dummy)[0]["addr_info"]}
        bridge = TAG + "y"
        ip("link", "add", bridge, "type", "bridge")
        cli(net, "link", "set", dummy, "--master", bridge)
        assert ipj("link", "show", "dev", dummy)[0].get("master") == bridge
        cli(net, "link", "set", dummy, "--nomaster", "--down")
        assert ipj("link", "show", "dev", dummy)[0].get("master") is None
        ip("link", "del", bridge)
        # Bad input: refused with INVALID_ARGUMENT before the kernel sees it.
        for args in (["addr", "add", dummy, "198.51.100.7"], ["addr", "add", dummy, "198.51.100.7/33"],
                     ["addr", "add", dummy, "2001:db8::zz/64"], ["addr", "add", "bad/name", "198.51.100.7/24"],
                     ["route", "add", "203.0.113.0/24", "--via", "2001:db8::1"], ["link", "set", dummy, "--mtu", "20"]):
            result = cli(net, *args, check=False)
            assert result.returncode != 0 and "INVALID_ARGUMENT" in result.stderr, (args, result.stderr)
        missing = cli(net, "addr", "add", TAG + "zz", "198.51.100.9/24", check=False)
        assert missing.returncode != 0 and "NOT_FOUND" in missing.stderr
    finally:
        ip("link", "del", dummy, check=False)
        ip("link", "del", TAG + "y", check=False)


def test_hostdev_in_a_definition_and_node_device_errors(net):
    nd, stub = net["nd"], net["nd_grpc"].NodeDeviceServiceStub(net["agent"].channel)
    devices = stub.ListNodeDevices(nd.ListNodeDevicesRequest(capability="pci")).devices
    assert devices and all(d.pci_address for d in devices)
    assignable = stub.ListAssignableDevices(nd.ListAssignableDevicesRequest()).devices
    assert assignable, "no assignable PCI device on this host"
    device = assignable[0]
    info = stub.GetNodeDevice(nd.GetNodeDeviceRequest(name=device.pci_address))
    assert info.name == device.name and info.vendor_id and info.product_id
    vm = TAG + "vm"
    xml = net["base"] / "vm.xml"
    xml.write_text(f"""<domain type='qemu'><name>{vm}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
        <os><type arch='x86_64' machine='pc'>hvm</type></os><devices></devices></domain>""")
    virsh("define", str(xml))
    domain_pb2 = net["stubs"]["domain_pb2"]
    common = net["stubs"]["common_pb2"]
    ref = domain_pb2.DomainRef(name=vm)
    config = common.DeviceScope(config=True)
    try:
        attached = stub.AttachHostdev(nd.HostdevRequest(domain=ref, pci_address=device.pci_address, scope=config))
        assert attached.pci_address == device.pci_address
        defined = virsh("dumpxml", "--inactive", vm).stdout
        domain, bus, rest = device.pci_address.split(":")
        slot, function = rest.split(".")
        assert "<hostdev mode='subsystem' type='pci' managed='no'>" in defined
        assert f"bus='0x{bus}' slot='0x{slot}' function='0x{function}'" in defined
        with pytest.raises(grpc.RpcError) as twice:
            stub.AttachHostdev(nd.HostdevRequest(domain=ref, pci_address=device.pci_address, scope=config))
        assert twice.value.code() == grpc.StatusCode.ALREADY_EXISTS
        listed = stub.ListHostdevs(nd.ListHostdevsRequest(domain=ref, inactive=True)).hostdevs
        assert [h.pci_address for h in listed] == [device.pci_address]
        detached = stub.DetachHostdev(nd.HostdevRequest(domain=ref, pci_address=device.pci_address, scope=config))
        assert detached.completed
        assert "<hostdev" not in virsh("dumpxml", "--inactive", vm).stdout
        with pytest.raises(grpc.RpcError) as bad:
            stub.AttachHostdev(nd.HostdevRequest(domain=ref, pci_address="0000:00:1f.9", scope=config))
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.RpcError) as absent:
            stub.AttachHostdev(nd.HostdevRequest(domain=ref, pci_address="00ff:ee:1f.7", scope=config))
        assert absent.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        virsh("undefine", vm, check=False)
    # No SR-IOV on this machine's devices: a clear refusal, nothing written.
    with pytest.raises(grpc.RpcError) as sriov:
        stub.SetSriovVfs(nd.SetSriovVfsRequest(device=device.pci_address, vfs=2))
    assert sriov.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "SR-IOV" in sriov.value.details()
    # No FC HBA: a vHBA on a SCSI host without vports is refused; one that does not exist is NOT_FOUND.
    with pytest.raises(grpc.RpcError) as vhba:
        stub.CreateVhba(nd.CreateVhbaRequest(parent="scsi_host9999", wwnn="5001a4a93526d0a1", wwpn="5001a4a93526d0a2"))
    assert vhba.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as badwwn:
        stub.CreateVhba(nd.CreateVhbaRequest(parent="scsi_host0", wwnn="xyz", wwpn="5001a4a93526d0a2"))
    assert badwwn.value.code() == grpc.StatusCode.INVALID_ARGUMENT
