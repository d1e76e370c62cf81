"""The agent's ttrpc socket (containerd's protocol) against two clients:
containerd's own Go ttrpc client (Debian's 1.1.1, built by
Tests/ttrpc-go/build.sh) and ttrpc_wire.py for what 1.1.1 cannot do
(server and client streams). The same services answer as on the gRPC socket:
the same results, the same error statuses, the same access control.

Run by `make test`; as root under make a missing Go toolchain fails the test
(CI must run it), elsewhere it skips.
"""
import contextlib
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

import ttrpc_wire
from ttrpc_wire import CODES, TTRPCError
from test_grpc_interop import DEMO_URI, ROOT, start_agent, stop_agent, stubs, wait_for_socket  # noqa: F401 (fixture)

NOBODY = 65534
DEMO_NETWORKS = ["demo-bridged", "demo-isolated", "demo-nat", "demo-routed"]
HOST = "virthost.v1.HostService"
NETWORKS = "virthost.v1.NetworkService"
DOMAINS = "virthost.v1.DomainService"
STORAGE = "virthost.v1.StorageService"
EVENTS = "virthost.v1.EventService"


def start_ttrpc_agent(folder):
    """virthostd on the demo host with a gRPC and a ttrpc socket anyone may open."""
    os.chmod(folder, 0o755)
    grpc_path = os.path.join(folder, "agent.sock")
    ttrpc_path = os.path.join(folder, "agent.ttrpc")
    process = start_agent(grpc_path, "--socket-mode", "0666", "--ttrpc-socket", ttrpc_path)
    wait_for_socket(ttrpc_path, process)
    os.chmod(ttrpc_path, 0o666)  # the roles decide, not the file mode
    return process, grpc_path, ttrpc_path


def stop_ttrpc_agent(process, grpc_path, ttrpc_path):
    stop_agent(process, grpc_path)
    assert not os.path.exists(ttrpc_path), "virthostd left its ttrpc socket behind"


@contextlib.contextmanager
def running_ttrpc_agent(prefix):
    """A ttrpc-serving agent in a fresh folder; stopped, checked and removed afterwards, also when it died."""
    folder = tempfile.mkdtemp(prefix=prefix)
    process, grpc_path, ttrpc_path = start_ttrpc_agent(folder)
    try:
        yield {"process": process, "grpc": grpc_path, "ttrpc": ttrpc_path, "folder": folder}
    finally:
        try:
            stop_ttrpc_agent(process, grpc_path, ttrpc_path)
        finally:
            if process.poll() is None:
                process.kill()
            shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def agent():
    with running_ttrpc_agent("vhu-ttrpc-") as running:
        yield running


@pytest.fixture(scope="module")
def pb(stubs):
    """The generated virthost.v1 modules (the stubs fixture put them on sys.path)."""
    names = ["host_pb2", "network_pb2", "network_pb2_grpc", "domain_pb2", "domain_pb2_grpc", "storage_pb2",
             "storage_pb2_grpc", "events_pb2", "events_pb2_grpc", "common_pb2"]
    return {name: importlib.import_module(f"virthost.v1.{name}") for name in names}


def prefix():
    return f"vhu-{uuid.uuid4().hex[:6]}-"


# --- the Go client ---------------------------------------------------------------

def under_make_as_root():
    return os.geteuid() == 0 and "MAKELEVEL" in os.environ


@pytest.fixture(scope="module")
def go_client():
    missing = [tool for tool in ("go", "protoc", "protoc-gen-gogofast") if shutil.which(tool) is None]
    if not os.path.isdir("/usr/share/gocode/src/github.com/containerd/ttrpc"):
        missing.append("golang-github-containerd-ttrpc-dev")
    if missing:
        message = f"the Go ttrpc client cannot be built, missing: {', '.join(missing)} (scripts/host-deps.sh)"
        if under_make_as_root():
            pytest.fail(message)
        pytest.skip(message)
    out = tempfile.mkdtemp(prefix="vhu-ttrpc-go-")
    try:
        built = subprocess.run([str(ROOT / "Tests" / "ttrpc-go" / "build.sh"), out], capture_output=True, text=True,
                               timeout=300)
        assert built.returncode == 0, built.stderr
        yield built.stdout.strip().splitlines()[-1]
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_go_ttrpc_client(go_client, agent):
    net_prefix = prefix()
    ran = subprocess.run([go_client, "--socket", agent["ttrpc"], "--prefix", net_prefix], capture_output=True,
                         text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    results = json.loads(ran.stdout)

    def ok(name):
        result = results[name]
        assert result["code_name"] == "OK", (name, result)
        return result.get("fields", {})

    version = ok("GetVersion")
    assert version["hypervisor_type"] == "TEST" and version["uri"] == DEMO_URI and version["agent_version"]
    health = ok("GetHealth")
    assert health["status"] == "STATUS_SERVING" and health["libvirt_connected"] and health["uri"] == DEMO_URI
    names = ok("ListNetworks")["names"]
    assert set(DEMO_NETWORKS) <= set(names) and not [n for n in names if n.startswith(net_prefix)]

    defined = ok("DefineNetwork")
    assert defined["name"] == net_prefix + "net" and defined["persistent"] and not defined["active"]
    assert defined["forward_mode"] == "FORWARD_MODE_ISOLATED" and defined["spec_isolated"]
    assert defined["addresses"] == ["10.213.1.1/24"] and defined["uuid"]
    got = ok("GetNetwork")
    assert got["uuid"] == defined["uuid"] and got["spec_name"] == net_prefix + "net"
    # The test driver starts and stops networks (no bridge is made).
    assert ok("StartNetwork")["active"] is True
    assert ok("StopNetwork")["active"] is False
    ok("UndefineNetwork")
    assert results["GetNetworkAfterUndefine"]["code_name"] == "NOT_FOUND"

    not_found = results["NotFound"]
    assert not_found["code_name"] == "NOT_FOUND" and net_prefix + "no-such-net" in not_found["message"]
    infos = [d for d in not_found["details"] if d["type"].endswith("google.rpc.ErrorInfo")]
    assert infos and infos[0]["domain"] == "libvirt.org" and infos[0]["reason"] == "VIR_ERR_NO_NETWORK"
    assert infos[0]["metadata"]["code"] == "43"
    assert results["BadName"]["code_name"] == "INVALID_ARGUMENT"
    assert "bad/name" in results["BadName"]["message"]
    assert results["EmptyRef"]["code_name"] == "INVALID_ARGUMENT"
    assert results["UnknownMethod"]["code_name"] == "UNIMPLEMENTED"
    assert results["UnknownService"]["code_name"] == "UNIMPLEMENTED"

    # Deadlines: a short one that suffices, one already over (the client
    # gives up at once and the connection stays usable), and a timeout_nano of
    # 1 ns: the agent answers at once, OK or DEADLINE_EXCEEDED (like Go's
    # server, it does not cut a call that needs no waiting).
    assert results["ShortDeadline"]["code_name"] == "OK"
    expired = results["ExpiredDeadline"]
    assert expired["code_name"] == "DEADLINE_EXCEEDED" and expired["elapsed_ms"] < 1000, expired
    assert results["AfterExpired"]["code_name"] == "OK"
    server_deadline = results["ServerDeadline"]
    assert server_deadline["code_name"] in ("OK", "DEADLINE_EXCEEDED"), server_deadline
    assert server_deadline["elapsed_ms"] < 1000, server_deadline
    assert results["WithMetadata"]["code_name"] == "OK"

    with ttrpc_wire.Connection(agent["ttrpc"]) as conn:
        status, _ = conn.unary_raw(NETWORKS, "GetNetwork", ttrpc_wire.field_bytes(1, net_prefix + "net"))
        assert ttrpc_wire.code_name(status.code) == "NOT_FOUND", "the Go client left its network behind"


# --- ttrpc_wire: unary, streams ----------------------------------------------------

def test_unary_matches_grpc(pb, agent):
    with ttrpc_wire.Connection(agent["ttrpc"]) as conn, grpc.insecure_channel(f"unix:{agent['grpc']}") as channel:
        via_ttrpc = conn.call(NETWORKS, "ListNetworks", pb["network_pb2"].ListNetworksRequest(),
                              pb["network_pb2"].ListNetworksResponse)
        via_grpc = pb["network_pb2_grpc"].NetworkServiceStub(channel).ListNetworks(
            pb["network_pb2"].ListNetworksRequest(), timeout=10)
        assert via_ttrpc == via_grpc
        version = conn.call(HOST, "GetVersion", pb["host_pb2"].GetVersionRequest(), pb["host_pb2"].GetVersionResponse)
        assert version.hypervisor_type == "TEST" and version.uri == DEMO_URI


def grpc_status_of(channel, method, payload):
    """(code, message, details) of a failing gRPC call sent as raw bytes."""
    call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
    with pytest.raises(grpc.RpcError) as raised:
        call(payload, timeout=10)
    status = rpc_status.from_call(raised.value)
    if status is None:
        return raised.value.code().value[0], raised.value.details(), []
    return status.code, status.message, comparable_details(status)


def comparable_details(status):
    """A status's details, ErrorInfo decoded (its metadata map has no fixed byte order)."""
    out = []
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            out.append((detail.type_url, info.reason, info.domain, dict(info.metadata)))
        else:
            out.append((detail.type_url, detail.value))
    return out


def test_error_statuses_match_grpc(pb, agent):
    n, d, s = pb["network_pb2"], pb["domain_pb2"], pb["storage_pb2"]
    cases = [
        (NETWORKS, "GetNetwork", n.NetworkRef(name="no-such-net").SerializeToString(), "NOT_FOUND"),
        (NETWORKS, "GetNetwork", n.NetworkRef().SerializeToString(), "INVALID_ARGUMENT"),
        (NETWORKS, "DefineNetwork", n.DefineNetworkRequest(spec=n.NetworkSpec(
            name="bad/name", isolated=n.IsolatedNetwork())).SerializeToString(), "INVALID_ARGUMENT"),
        (DOMAINS, "GetDomain", d.GetDomainRequest().SerializeToString(), "INVALID_ARGUMENT"),
        (DOMAINS, "AttachDisk", d.AttachDiskRequest().SerializeToString(), "INVALID_ARGUMENT"),
        (DOMAINS, "StartDomain", d.DomainRef(name="no-such-vm").SerializeToString(), "NOT_FOUND"),
        (STORAGE, "ListVolumes", s.ListVolumesRequest(pool="no-such-pool").SerializeToString(),
         "NOT_FOUND"),
        # Not the method's protobuf: the decoding error, as gRPC reports it.
        (NETWORKS, "GetNetwork", b"\x0a\xff\xff", None),
    ]
    with ttrpc_wire.Connection(agent["ttrpc"]) as conn, grpc.insecure_channel(f"unix:{agent['grpc']}") as channel:
        for service, method, payload, expected in cases:
            status, _ = conn.unary_raw(service, method, payload)
            code, message, details = grpc_status_of(channel, f"/{service}/{method}", payload)
            where = f"{service}/{method} {payload!r}"
            assert status.code != 0, where
            if expected:
                assert ttrpc_wire.code_name(status.code) == expected, (where, status)
            assert (status.code, status.message) == (code, message), where
            assert comparable_details(status) == details, where
        # Unknown methods and services: the same code (the wording is the transport's).
        for service, method in [(NETWORKS, "NoSuchMethod"), ("virthost.v1.NoSuch", "GetVersion")]:
            status, _ = conn.unary_raw(service, method, b"")
            code, _, _ = grpc_status_of(channel, f"/{service}/{method}", b"")
            assert status.code == code == CODES["UNIMPLEMENTED"], (service, method, status)


def test_watch_streams_network_events(pb, agent):
    """EventService/Watch over a server stream: a network's lifecycle arrives
    as Data frames, in order, on a connection that also serves unary calls."""
    n, e = pb["network_pb2"], pb["events_pb2"]
    name = prefix() + "watched"
    spec = n.NetworkSpec(name=name, isolated=n.IsolatedNetwork(),
                         ips=[n.NetworkIP(address="10.213.2.1", prefix=24)])
    with ttrpc_wire.Connection(agent["ttrpc"]) as watch, ttrpc_wire.Connection(agent["ttrpc"]) as calls:
        health = calls.call(HOST, "GetHealth", pb["host_pb2"].GetHealthRequest(), pb["host_pb2"].GetHealthResponse)
        events = watch.server_stream(EVENTS, "Watch", e.WatchRequest(
            kinds=[e.EVENT_KIND_NETWORK], name=name, since_sequence=health.last_event_sequence,
            since_epoch=health.event_epoch), e.Event)
        try:
            calls.call(NETWORKS, "DefineNetwork", n.DefineNetworkRequest(spec=spec), n.Network)
            calls.call(NETWORKS, "StartNetwork", n.NetworkRef(name=name), n.Network)
            calls.call(NETWORKS, "StopNetwork", n.NetworkRef(name=name), n.Network)
            calls.call(NETWORKS, "UndefineNetwork", n.NetworkRef(name=name), pb["common_pb2"].Empty)
            seen = []
            for event in events:
                seen.append(event)
                if event.type == "undefined":
                    break
        finally:
            status, _ = calls.unary_raw(NETWORKS, "UndefineNetwork", n.NetworkRef(name=name).SerializeToString())
    assert [ev.type for ev in seen] == ["defined", "started", "stopped", "undefined"]
    assert all(ev.kind == e.EVENT_KIND_NETWORK and ev.name == name for ev in seen)
    assert [ev.sequence for ev in seen] == sorted(ev.sequence for ev in seen)
    assert all(ev.epoch == health.event_epoch for ev in seen)

    # A bad request ends the stream with a Response carrying the error, like gRPC's status.
    with ttrpc_wire.Connection(agent["ttrpc"]) as conn:
        with pytest.raises(TTRPCError) as raised:
            list(conn.server_stream(EVENTS, "Watch", e.WatchRequest(kinds=[e.EVENT_KIND_UNSPECIFIED]), e.Event))
        assert raised.value.code_name == "INVALID_ARGUMENT"
        # The connection goes on serving after a stream.
        assert conn.call(HOST, "GetVersion", pb["host_pb2"].GetVersionRequest(),
                         pb["host_pb2"].GetVersionResponse).hypervisor_type == "TEST"
    with grpc.insecure_channel(f"unix:{agent['grpc']}") as channel:
        stream = pb["events_pb2_grpc"].EventServiceStub(channel).Watch(
            e.WatchRequest(kinds=[e.EVENT_KIND_UNSPECIFIED]), timeout=10)
        with pytest.raises(grpc.RpcError) as via_grpc:
            list(stream)
        assert via_grpc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert via_grpc.value.details() == raised.value.message


def test_upload_client_stream(pb, agent):
    """StorageService/UploadVolume over a client stream. libvirt's test driver
    has no volume streams, so no bytes can land (the Swift suite's
    anUploadThatCannotRunLeavesNoVolume): the round trip is checked as far as
    the driver goes, with the same statuses as gRPC and nothing left behind."""
    s = pb["storage_pb2"]
    payload = bytes(range(256)) * 64
    name = prefix() + "upload.raw"
    ref = s.VolumeRef(pool="demo-images", name=name)
    uploads = {
        "create": [s.UploadVolumeRequest(header=s.UploadHeader(volume=ref, length=len(payload), create=True,
                                                                sha256=hashlib.sha256(payload).hexdigest())),
                   s.UploadVolumeRequest(chunk=payload[:8192]), s.UploadVolumeRequest(chunk=payload[8192:])],
        "chunk first": [s.UploadVolumeRequest(chunk=b"abc")],
        "no length": [s.UploadVolumeRequest(header=s.UploadHeader(volume=ref))],
        "bad sha": [s.UploadVolumeRequest(header=s.UploadHeader(volume=ref, length=3, sha256="abc"))],
        "empty": [],
    }
    with ttrpc_wire.Connection(agent["ttrpc"]) as conn, grpc.insecure_channel(f"unix:{agent['grpc']}") as channel:
        stub = pb["storage_pb2_grpc"].StorageServiceStub(channel)
        for label, messages in uploads.items():
            status, _ = conn.client_stream_raw(STORAGE, "UploadVolume", [m.SerializeToString() for m in messages])
            with pytest.raises(grpc.RpcError) as raised:
                stub.UploadVolume(iter(messages), timeout=10)
            assert status.code != 0, label
            assert (ttrpc_wire.code_name(status.code), status.message) == \
                (raised.value.code().name, raised.value.details()), label
            if label in ("chunk first", "no length", "bad sha"):
                assert ttrpc_wire.code_name(status.code) == "INVALID_ARGUMENT", (label, status)
        volumes = conn.call(STORAGE, "ListVolumes", s.ListVolumesRequest(pool="demo-images"),
                            s.ListVolumesResponse)
        assert name not in [v.name for v in volumes.volumes]
        # The download side is a server stream; the driver fails it the same way on both sockets.
        request = s.DownloadVolumeRequest(volume=s.VolumeRef(pool="demo-images", name="web-1.qcow2"))
        try:
            chunks = list(conn.server_stream(STORAGE, "DownloadVolume", request, s.DownloadVolumeResponse))
            ttrpc_result = ("OK", len(chunks))
        except TTRPCError as error:
            ttrpc_result = (error.code_name, error.message)
        try:
            chunks = list(stub.DownloadVolume(request, timeout=10))
            grpc_result = ("OK", len(chunks))
        except grpc.RpcError as error:
            grpc_result = (error.code().name, error.details())
        assert ttrpc_result == grpc_result
        # A client that opens an upload and goes away: the agent cleans up and serves on.
    with ttrpc_wire.Connection(agent["ttrpc"]) as conn:
        conn.client_stream_raw(STORAGE, "UploadVolume", [uploads["create"][0].SerializeToString()], close=False)
    with ttrpc_wire.Connection(agent["ttrpc"]) as conn:
        deadline = time.monotonic() + 5
        while True:
            volumes = conn.call(STORAGE, "ListVolumes", s.ListVolumesRequest(pool="demo-images"),
                                s.ListVolumesResponse)
            if name not in [v.name for v in volumes.volumes] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert name not in [v.name for v in volumes.volumes]


# --- access control ------------------------------------------------------------------

def test_root_is_admin_and_peer_metadata_is_ignored(pb, agent):
    """Metadata claiming another peer is dropped: root claiming to be nobody
    still may change things (and the next test: nobody claiming root may not)."""
    n = pb["network_pb2"]
    name = prefix() + "spoof"
    spoof = [("virthost-peer-uid", str(NOBODY)), ("virthost-peer-gid", str(NOBODY)),
             ("virthost-peer-groups", ""), ("Virthost-Peer-Pid", "1")]
    with ttrpc_wire.Connection(agent["ttrpc"]) as conn:
        spec = n.NetworkSpec(name=name, isolated=n.IsolatedNetwork())
        defined = conn.call(NETWORKS, "DefineNetwork", n.DefineNetworkRequest(spec=spec), n.Network, metadata=spoof)
        assert defined.name == name
        conn.call(NETWORKS, "UndefineNetwork", n.NetworkRef(name=name), pb["common_pb2"].Empty, metadata=spoof)


NOBODY_PROGRAM = """
import json, sys
sys.path[:0] = [{stubs!r}, {wire!r}]
import grpc, ttrpc_wire
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from virthost.v1 import domain_pb2, domain_pb2_grpc, network_pb2
results = {{}}
conn = ttrpc_wire.Connection({ttrpc!r})
status, payload = conn.unary_raw("virthost.v1.NetworkService", "ListNetworks", b"")
results["list"] = [status.code, len(network_pb2.ListNetworksResponse.FromString(payload).networks)]
ref = domain_pb2.DomainRef(name="web-1").SerializeToString()
spoof = [("virthost-peer-uid", "0"), ("virthost-peer-gid", "0"), ("virthost-peer-groups", "0")]
for label, metadata in [("plain", []), ("spoofed", spoof)]:
    status, _ = conn.unary_raw("virthost.v1.DomainService", "DestroyDomain", ref, metadata=metadata)
    results["ttrpc-" + label] = [status.code, status.message]
with grpc.insecure_channel("unix:" + {grpc_path!r}) as channel:
    try:
        domain_pb2_grpc.DomainServiceStub(channel).DestroyDomain(domain_pb2.DomainRef(name="web-1"), timeout=10)
        results["grpc"] = [0, ""]
    except grpc.RpcError as error:
        results["grpc"] = [error.code().value[0], error.details()]
print(json.dumps(results))
"""


def test_nobody_is_refused_like_on_grpc(pb, agent):
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run a client as nobody")
    stubs_dir = os.path.dirname(os.path.dirname(os.path.dirname(pb["network_pb2"].__file__)))
    os.chmod(stubs_dir, 0o755)
    wire_dir = tempfile.mkdtemp(prefix="vhu-ttrpc-wire-")
    try:
        os.chmod(wire_dir, 0o755)
        shutil.copy(ROOT / "Tests" / "python" / "ttrpc_wire.py", wire_dir)
        os.chmod(os.path.join(wire_dir, "ttrpc_wire.py"), 0o644)
        program = NOBODY_PROGRAM.format(stubs=stubs_dir, wire=wire_dir, ttrpc=agent["ttrpc"], grpc_path=agent["grpc"])
        ran = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", sys.executable,
                              "-c", textwrap.dedent(program)], capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(wire_dir, ignore_errors=True)
    assert ran.returncode == 0, ran.stderr
    results = json.loads(ran.stdout)
    assert results["list"] == [0, 4]  # a reader may read
    assert results["grpc"][0] == CODES["PERMISSION_DENIED"]
    assert "needs the operator role" in results["grpc"][1] and f"uid {NOBODY} has reader" in results["grpc"][1]
    for label in ("ttrpc-plain", "ttrpc-spoofed"):
        assert results[label] == results["grpc"], (label, results)
