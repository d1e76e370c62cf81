"""A non-Swift client against the agent: Python grpcio stubs generated from
proto/ at test time, talking to a real virthostd over its Unix socket.

Run by `make test` (scripts/python-tests.sh): the agent binary is taken from
VIRTHOST_BIN_DIR (default .build/debug) and serves the demo host through
libvirt's test driver.
"""
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import grpc
import pytest
from grpc_status import rpc_status
from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(os.environ.get("VIRTHOST_BIN_DIR", ROOT / ".build" / "debug"))
DEMO_URI = "test://" + str(ROOT / "packaging" / "demo" / "host.xml")


@pytest.fixture(scope="session")
def stubs():
    """Generates the Python modules from proto/ into a temporary folder."""
    out = tempfile.mkdtemp(prefix="vhu-py-")
    wkt = pathlib.Path(protoc.__file__).parent / "_proto"
    protos = sorted(str(p.relative_to(ROOT / "proto")) for p in (ROOT / "proto").rglob("*.proto"))
    code = protoc.main(["protoc", f"-I{ROOT / 'proto'}", f"-I{wkt}", f"--python_out={out}",
                        f"--grpc_python_out={out}", *protos])
    assert code == 0, "protoc failed on proto/"
    sys.path.insert(0, out)
    import importlib
    modules = {name: importlib.import_module(f"virthost.v1.{name}") for name in
               ("host_pb2", "host_pb2_grpc", "network_pb2", "network_pb2_grpc",
                "domain_pb2", "domain_pb2_grpc", "common_pb2")}
    yield modules
    shutil.rmtree(out, ignore_errors=True)


def start_agent(path, *extra):
    """Starts virthostd on the demo host at `path`; returns the process once it answers."""
    binary = BIN_DIR / "virthostd"
    assert binary.exists(), f"{binary} is missing: run swift build first"
    process = subprocess.Popen([str(binary), "--connect", DEMO_URI, "--socket", path, "--log-level", "warning",
                                "--config", "/dev/null", *extra])
    try:
        wait_for_socket(path, process)
    except BaseException:
        process.kill()
        raise
    return process


def wait_for_socket(path, process, seconds=30):
    """Returns once `path` accepts a connection; fails when virthostd exits or takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.connect(path)
            return
        except OSError:
            pass
        finally:
            probe.close()
        assert process.poll() is None, "virthostd exited early"
        time.sleep(0.05)
    pytest.fail(f"virthostd did not open {path} within {seconds} s")


def stop_agent(process, path):
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0, "virthostd did not exit cleanly on SIGTERM"
    assert not os.path.exists(path), "virthostd left its socket behind"


@pytest.fixture(scope="session")
def agent_socket():
    """Starts virthostd on the demo host and stops it with SIGTERM afterwards."""
    folder = tempfile.mkdtemp(prefix="vhu-py-")
    path = os.path.join(folder, "agent.sock")
    process = start_agent(path, "--socket-mode", "0600")
    try:
        yield path
    finally:
        stop_agent(process, path)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def channel(agent_socket):
    with grpc.insecure_channel(f"unix:{agent_socket}") as ch:
        yield ch


def test_host_service_version_and_node_info(stubs, channel):
    host = stubs["host_pb2_grpc"].HostServiceStub(channel)
    version = host.GetVersion(stubs["host_pb2"].GetVersionRequest(), timeout=10)
    assert version.hypervisor_type == "TEST"
    assert version.agent_version
    assert version.uri == DEMO_URI
    node = host.GetNodeInfo(stubs["host_pb2"].GetNodeInfoRequest(), timeout=10)
    assert node.cpus == 8
    health = host.GetHealth(stubs["host_pb2"].GetHealthRequest(), timeout=10)
    assert health.status == stubs["host_pb2"].GetHealthResponse.STATUS_SERVING


def test_network_service_lists_and_gets(stubs, channel):
    networks = stubs["network_pb2_grpc"].NetworkServiceStub(channel)
    listed = networks.ListNetworks(stubs["network_pb2"].ListNetworksRequest(), timeout=10)
    assert [n.name for n in listed.networks] == ["demo-bridged", "demo-isolated", "demo-nat", "demo-routed"]
    nat = networks.GetNetwork(stubs["network_pb2"].NetworkRef(name="demo-nat"), timeout=10)
    assert nat.forward_mode == stubs["network_pb2"].FORWARD_MODE_NAT
    assert list(nat.addresses) == ["192.0.2.1/24"]
    xml = networks.GetNetworkXML(stubs["network_pb2"].GetNetworkXMLRequest(
        network=stubs["network_pb2"].NetworkRef(name="demo-nat")), timeout=10)
    assert "<forward mode='nat'" in xml.xml


def test_not_found_carries_libvirt_details(stubs, channel):
    networks = stubs["network_pb2_grpc"].NetworkServiceStub(channel)
    with pytest.raises(grpc.RpcError) as raised:
        networks.GetNetwork(stubs["network_pb2"].NetworkRef(name="no-such-net"), timeout=10)
    error = raised.value
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "no-such-net" in error.details()
    trailers = dict(error.trailing_metadata())
    assert trailers["virthost-libvirt-code"] == "43"
    status = rpc_status.from_call(error)
    assert status is not None and status.code == grpc.StatusCode.NOT_FOUND.value[0]
    from google.rpc import error_details_pb2
    infos = []
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            infos.append(info)
    assert infos and infos[0].domain == "libvirt.org" and infos[0].reason == "VIR_ERR_NO_NETWORK"
    assert infos[0].metadata["code"] == "43"


def test_invalid_argument_and_unimplemented(stubs, channel):
    domains = stubs["domain_pb2_grpc"].DomainServiceStub(channel)
    with pytest.raises(grpc.RpcError) as raised:
        domains.GetDomain(stubs["domain_pb2"].GetDomainRequest(), timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as raised:
        domains.AttachDisk(stubs["domain_pb2"].AttachDiskRequest(), timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_second_agent_refuses_the_socket(agent_socket):
    """Another virthostd on a socket that answers exits non-zero; the first keeps serving."""
    binary = BIN_DIR / "virthostd"
    second = subprocess.run([str(binary), "--connect", DEMO_URI, "--socket", agent_socket, "--config", "/dev/null"],
                            capture_output=True, text=True, timeout=30)
    assert second.returncode != 0
    assert "already serving" in second.stderr
    assert os.path.exists(agent_socket)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_calls_with_deadlines_hold_no_memory(stubs):
    """grpcio sends grpc-timeout on every call given a timeout. grpc-swift
    would time each with a Task.sleep whose memory stays held until the
    deadline passes (~1.7 KB a call with 60 s deadlines, measured); the agent
    times client deadlines itself. 6,000 calls with a 60 s deadline must not
    grow the agent by more than 3 MB (unfixed: ~10 MB)."""
    folder = tempfile.mkdtemp(prefix="vhu-py-")
    path = os.path.join(folder, "agent.sock")
    process = start_agent(path, "--socket-mode", "0600")
    try:
        with grpc.insecure_channel(f"unix:{path}") as ch:
            host = stubs["host_pb2_grpc"].HostServiceStub(ch)
            request = stubs["host_pb2"].GetVersionRequest()
            for _ in range(1500):  # warm-up: buffers and pools reach their size
                host.GetVersion(request, timeout=60)
            before = rss_kib(process.pid)
            for _ in range(6000):
                host.GetVersion(request, timeout=60)
            after = rss_kib(process.pid)
        print(f"6000 calls with 60 s deadlines: RSS {before} KiB -> {after} KiB")
        assert after - before < 3 * 1024, f"RSS grew from {before} KiB to {after} KiB"
    finally:
        stop_agent(process, path)
        shutil.rmtree(folder, ignore_errors=True)
