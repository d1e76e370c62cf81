"""Access control by SO_PEERCRED, and an agent that survives abuse.

A client running as `nobody` (through setpriv) may read but not change, and
cannot claim another identity with headers. Then 1,000+ malformed requests
(random bytes, truncated HTTP/2 frames, wrong protobuf, oversized messages)
leave the agent alive and serving.
"""
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap

import grpc
import pytest

from test_grpc_interop import ROOT, start_agent, stop_agent, stubs  # noqa: F401 (fixture)

NOBODY = 65534
PYTHON = sys.executable


@pytest.fixture(scope="module")
def open_agent():
    """An agent whose socket anyone may open (mode 0666); roles decide the rest."""
    folder = tempfile.mkdtemp(prefix="vhu-acl-")
    os.chmod(folder, 0o755)
    path = os.path.join(folder, "agent.sock")
    process = start_agent(path, "--socket-mode", "0666")
    try:
        yield path
    finally:
        stop_agent(process, path)
        shutil.rmtree(folder, ignore_errors=True)


def run_as_nobody(code, stubs_dir, socket_path):
    """Runs Python `code` as uid/gid 65534 with the generated stubs importable."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run a client as nobody")
    program = textwrap.dedent(f"""
        import sys, grpc
        sys.path.insert(0, {stubs_dir!r})
        from virthost.v1 import network_pb2, network_pb2_grpc, domain_pb2, domain_pb2_grpc
        channel = grpc.insecure_channel("unix:{socket_path}")
    """) + textwrap.dedent(code)
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", PYTHON, "-c", program],
                          capture_output=True, text=True, timeout=60)


def stubs_dir(stubs):
    return os.path.dirname(os.path.dirname(os.path.dirname(stubs["network_pb2"].__file__)))


def test_nobody_may_read(stubs, open_agent):
    os.chmod(stubs_dir(stubs), 0o755)
    result = run_as_nobody("""
        nets = network_pb2_grpc.NetworkServiceStub(channel).ListNetworks(network_pb2.ListNetworksRequest(), timeout=10)
        print(len(nets.networks))
    """, stubs_dir(stubs), open_agent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "4"


def test_nobody_is_denied_changes_and_cannot_spoof(stubs, open_agent):
    result = run_as_nobody("""
        stub = domain_pb2_grpc.DomainServiceStub(channel)
        for metadata in [(), (("virthost-peer-uid", "0"), ("virthost-peer-gid", "0"))]:
            try:
                stub.DestroyDomain(domain_pb2.DomainRef(name="web-1"), metadata=metadata, timeout=10)
                print("ALLOWED")
            except grpc.RpcError as error:
                print(error.code().name, "|", error.details())
    """, stubs_dir(stubs), open_agent)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        code, details = line.split(" | ", 1)
        assert code == "PERMISSION_DENIED"
        assert "needs the operator role" in details and f"uid {NOBODY} has reader" in details


def assert_serving(path, stubs):
    with grpc.insecure_channel(f"unix:{path}") as channel:
        host = stubs["host_pb2_grpc"].HostServiceStub(channel)
        assert host.GetVersion(stubs["host_pb2"].GetVersionRequest(), timeout=10).hypervisor_type == "TEST"


def send_raw(path, payload, read=True):
    client = socket.socket(socket.AF_UNIX)
    client.settimeout(2)
    try:
        client.connect(path)
        client.sendall(payload)
        if read:
            try:
                client.recv(65536)
            except (socket.timeout, ConnectionResetError):
                pass
    finally:
        client.close()


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def test_a_thousand_malformed_requests_leave_the_agent_serving(stubs, open_agent):
    rng = random.Random(20261129)
    sent = 0
    # 1. Random bytes, with and without a valid preface.
    for i in range(300):
        junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 512)))
        send_raw(open_agent, (PREFACE if i % 2 else b"") + junk, read=i % 10 == 0)
        sent += 1
    assert_serving(open_agent, stubs)
    # 2. Truncated and malformed HTTP/2 frames after a valid preface and SETTINGS.
    settings = frame(0x4, 0, 0, b"")
    for i in range(300):
        kind = rng.choice([0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x8, 0x9, 0xff])
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
        whole = frame(kind, rng.getrandbits(8), rng.choice([0, 1, 3, 2**31 - 1]), body)
        cut = whole[: rng.randint(1, len(whole))]
        if i % 3 == 0:  # a length that lies
            cut = struct.pack(">I", 0xFFFFFF)[1:] + whole[3:]
        send_raw(open_agent, PREFACE + settings + cut, read=i % 10 == 0)
        sent += 1
    assert_serving(open_agent, stubs)
    # 3. Well-framed gRPC calls whose payload is not the method's protobuf.
    with grpc.insecure_channel(f"unix:{open_agent}") as channel:
        for i in range(300):
            method = rng.choice(["/virthost.v1.HostService/GetVersion", "/virthost.v1.NetworkService/GetNetwork",
                                 "/virthost.v1.DomainService/GetDomain", "/virthost.v1.NoSuch/Method"])
            call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
            payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 256)))
            try:
                call(payload, timeout=5)
            except grpc.RpcError as error:
                assert error.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.INVALID_ARGUMENT,
                                        grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.NOT_FOUND,
                                        grpc.StatusCode.PERMISSION_DENIED), error
            sent += 1
    assert_serving(open_agent, stubs)
    # 4. Oversized messages (over the 4 MiB default limit).
    with grpc.insecure_channel(f"unix:{open_agent}", options=[("grpc.max_send_message_length", 64 << 20)]) as channel:
        call = channel.unary_unary("/virthost.v1.DomainService/DefineDomain", request_serializer=None,
                                   response_deserializer=None)
        big = b"\x0a" + b"\x80\x80\x80\x03" + b"x" * (6 << 20)  # field 1, 6 MiB
        for _ in range(100):
            with pytest.raises(grpc.RpcError) as raised:
                call(big, timeout=10)
            assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            sent += 1
    assert sent >= 1000
    assert_serving(open_agent, stubs)
