"""The Python package in clients/python, installed the way a user installs
it (pip, offline: --no-build-isolation --no-index --no-deps), against real
agents: the demo host (libvirt's test driver) and qemu:///system when
libvirtd answers (VIRTHOST_QEMU=1 makes its absence a failure).

The package is imported from where pip put it, never from the source tree.
"""
import concurrent.futures
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import grpc
import pytest

from test_grpc_interop import DEMO_URI, ROOT, start_agent, stop_agent

PREFIX = f"vht-{os.getpid()}-py-"


@pytest.fixture(scope="module")
def virthost():
    """`pip install ./clients/python` into a fresh folder, imported from there."""
    target = tempfile.mkdtemp(prefix="vhu-pip-")
    build = tempfile.mkdtemp(prefix="vhu-pipbuild-")
    source = os.path.join(build, "python")
    shutil.copytree(ROOT / "clients" / "python", source)  # pip writes build files beside the source
    result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                             "--no-build-isolation", "--no-index", "--no-deps", "--target", target, source],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    # Other test modules import stubs generated at test time as `virthost.v1`:
    # set theirs aside while this module runs, and put them back after.
    def ours(name):
        return name == "virthost" or name.startswith("virthost.")
    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, target)
    try:
        import virthost as package
        assert package.__file__.startswith(target), package.__file__
        yield package
    finally:
        sys.path.remove(target)
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)
        shutil.rmtree(target, ignore_errors=True)
        shutil.rmtree(build, ignore_errors=True)


@pytest.fixture(scope="module")
def demo_agent():
    folder = tempfile.mkdtemp(prefix="vhu-pyc-")
    path = os.path.join(folder, "agent.sock")
    process = start_agent(path, "--socket-mode", "0600")
    try:
        yield path
    finally:
        stop_agent(process, path)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def client(virthost, demo_agent):
    with virthost.Client(demo_agent) as c:
        yield c


def qemu_answers():
    answers = subprocess.run(["virsh", "-q", "-c", "qemu:///system", "version"], capture_output=True).returncode == 0
    if not answers and os.environ.get("VIRTHOST_QEMU") == "1":
        pytest.fail("qemu:///system does not answer (VIRTHOST_QEMU=1)")
    return answers


def test_every_rpc_of_every_served_service_is_a_method(virthost, client):
    """The methods match what the agent's reflection (grpcio-reflection) says it serves."""
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
    from google.protobuf import descriptor_pool
    with grpc.insecure_channel(f"unix:{client.socket_path}") as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        pool = descriptor_pool.DescriptorPool(database)
        served = [pool.FindServiceByName(s) for s in database.get_services() if s.startswith("virthost.")]
    expected = {re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", m.name).lower()
                for s in served for m in s.methods}
    assert len(expected) >= 80
    assert set(client.rpc_names()) == expected
    assert client.list_networks is client.networks.list_networks
    assert client.get_network_xml.full_name == "/virthost.v1.NetworkService/GetNetworkXML"
    with pytest.raises(AttributeError, match="no method 'list_netwroks'"):
        client.list_netwroks


def test_list_get_and_typed_not_found(virthost, client):
    assert [n.name for n in client.list_networks().networks] == [
        "demo-bridged", "demo-isolated", "demo-nat", "demo-routed"]
    nat = client.get_network("demo-nat")
    assert nat.forward_mode == virthost.v1.network_pb2.FORWARD_MODE_NAT
    assert list(nat.addresses) == ["192.0.2.1/24"]
    # The same call three ways: a name, keyword fields, the message.
    assert client.get_network(name="demo-nat") == nat
    assert client.get_network(virthost.v1.network_pb2.NetworkRef(name="demo-nat")) == nat
    assert "<forward mode='nat'" in client.get_network_xml("demo-nat").xml
    assert client.list_networks(active_only=True).networks
    with pytest.raises(virthost.NotFoundError) as raised:
        client.get_network("no-such-net")
    error = raised.value
    assert isinstance(error, virthost.VirtHostError)
    assert error.code == grpc.StatusCode.NOT_FOUND and "no-such-net" in error.message
    assert error.libvirt.code == 43  # VIR_ERR_NO_NETWORK
    assert error.error_info.reason == "VIR_ERR_NO_NETWORK" and error.error_info.domain == "libvirt.org"
    assert error.method == "/virthost.v1.NetworkService/GetNetwork"
    with pytest.raises(virthost.InvalidArgumentError):
        client.get_domain()
    with pytest.raises(TypeError, match="has no field 'nam'"):
        client.get_network(nam="x")


def test_deadline_and_unavailable(virthost, client):
    with pytest.raises(virthost.DeadlineExceededError):
        client.list_networks(timeout=1e-6)
    with virthost.Client("/tmp/vhu-no-such-socket.sock", timeout=2) as nowhere:
        with pytest.raises(virthost.UnavailableError):
            nowhere.get_version()
    with pytest.raises(ValueError):
        virthost.Client(client.socket_path, transport="ttrpc")


def test_request_ids_reach_the_wire(virthost):
    """A stand-in grpcio server records the metadata each call brings."""
    seen = []

    def record(request, context):
        seen.append(dict(context.invocation_metadata()).get("virthost-request-id"))
        return virthost.v1.host_pb2.GetVersionResponse(agent_version="stand-in")

    handler = grpc.method_handlers_generic_handler("virthost.v1.HostService", {
        "GetVersion": grpc.unary_unary_rpc_method_handler(
            record, request_deserializer=virthost.v1.host_pb2.GetVersionRequest.FromString,
            response_serializer=virthost.v1.host_pb2.GetVersionResponse.SerializeToString)})
    folder = tempfile.mkdtemp(prefix="vhu-rid-")
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"unix:{folder}/stand-in.sock")
    server.start()
    try:
        counter = iter(range(1, 100))
        with virthost.Client(f"{folder}/stand-in.sock", request_ids=lambda: f"gen-{next(counter)}") as c:
            assert c.get_version().agent_version == "stand-in"
            c.get_version(request_id="mine")
        with virthost.Client(f"{folder}/stand-in.sock") as plain:
            plain.get_version()
        assert seen == ["gen-1", "mine", None]
    finally:
        server.stop(None)
        shutil.rmtree(folder, ignore_errors=True)


def network_lifecycle(virthost, c):
    """Defines, starts, stops and undefines an isolated network; removes it whatever happens."""
    name = PREFIX + "net"
    spec = virthost.v1.network_pb2.NetworkSpec(name=name, isolated=virthost.v1.network_pb2.IsolatedNetwork())
    try:
        defined = c.define_network(spec=spec)
        assert defined.name == name and not defined.active
        assert defined.forward_mode == virthost.v1.network_pb2.FORWARD_MODE_ISOLATED
        with pytest.raises(virthost.VirtHostError) as twice:
            c.define_network(spec=spec)
        assert twice.value.code in (grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.FAILED_PRECONDITION)
        assert c.start_network(name).active
        with pytest.raises(virthost.FailedPreconditionError):
            c.start_network(name)
        assert not c.stop_network(name).active
        c.undefine_network(name)
        with pytest.raises(virthost.NotFoundError):
            c.get_network(name)
    finally:
        for cleanup in (c.stop_network, c.undefine_network):
            try:
                cleanup(name)
            except virthost.VirtHostError:
                pass


def test_network_lifecycle_on_the_demo_host(virthost, client):
    network_lifecycle(virthost, client)


def test_qemu_system(virthost):
    if not qemu_answers():
        pytest.skip("qemu:///system does not answer (make libvirtd)")
    folder = tempfile.mkdtemp(prefix="vhu-pyq-")
    path = os.path.join(folder, "agent.sock")
    binary = pathlib.Path(os.environ.get("VIRTHOST_BIN_DIR", ROOT / ".build" / "debug")) / "virthostd"
    process = subprocess.Popen([str(binary), "--connect", "qemu:///system", "--socket", path, "--socket-mode",
                                "0600", "--log-level", "warning", "--config", "/dev/null"])
    try:
        from test_grpc_interop import wait_for_socket
        wait_for_socket(path, process)
        with virthost.Client(path) as c:
            names = [n.name for n in c.list_networks().networks]
            assert PREFIX + "net" not in names
            with pytest.raises(virthost.NotFoundError) as raised:
                c.get_network(PREFIX + "missing")
            assert raised.value.libvirt.code == 43
            network_lifecycle(virthost, c)
    finally:
        stop_agent(process, path)
        shutil.rmtree(folder, ignore_errors=True)


def test_watch_resumes_after_the_agent_restarts(virthost):
    folder = tempfile.mkdtemp(prefix="vhu-pyw-")
    path = os.path.join(folder, "agent.sock")
    first = start_agent(path, "--socket-mode", "0600")
    second = None
    seen = []
    arrived = threading.Condition()
    c = virthost.Client(path)
    events = c.watch(kinds=[virthost.v1.events_pb2.EVENT_KIND_NETWORK])

    def consume():
        try:
            for event in events:
                with arrived:
                    seen.append(event)
                    arrived.notify_all()
        except Exception as error:  # noqa: BLE001: reported by the waits below
            with arrived:
                seen.append(error)
                arrived.notify_all()

    def wait_for(what, match):
        with arrived:
            assert arrived.wait_for(lambda: any(not isinstance(e, Exception) and match(e) for e in seen)
                                    or any(isinstance(e, Exception) for e in seen), timeout=30), f"no {what}"
            errors = [e for e in seen if isinstance(e, Exception)]
            assert not errors, errors
            return next(e for e in seen if match(e))

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    spec = virthost.v1.network_pb2.NetworkSpec
    isolated = virthost.v1.network_pb2.IsolatedNetwork
    try:
        time.sleep(0.5)  # the stream subscribes
        c.define_network(spec=spec(name=PREFIX + "w1", isolated=isolated()))
        before = wait_for("event from the first agent", lambda e: e.name == PREFIX + "w1")
        stop_agent(first, path)
        second = start_agent(path, "--socket-mode", "0600")
        gap = wait_for("gap after the restart", lambda e: e.type == "gap")
        assert gap.kind == virthost.v1.events_pb2.EVENT_KIND_SYSTEM and gap.gap_from == 1
        assert gap.epoch != before.epoch
        c.define_network(spec=spec(name=PREFIX + "w2", isolated=isolated()))
        after = wait_for("event from the second agent", lambda e: e.name == PREFIX + "w2")
        assert after.epoch == gap.epoch
        names = [e.name for e in seen if not isinstance(e, Exception) and e.type != "gap"]
        assert names.count(PREFIX + "w1") == 1, names  # nothing replayed twice
    finally:
        try:
            events.cancel()
            reader.join(timeout=10)
            assert not reader.is_alive(), "the watch did not end on cancel()"
        finally:
            c.close()
            for agent in (first, second):
                if agent is not None and agent.poll() is None:
                    agent.send_signal(signal.SIGTERM)
                    agent.wait(timeout=20)
            shutil.rmtree(folder, ignore_errors=True)


def readme_block(heading, lang):
    """The first fenced block of `lang` after `heading` in README.md."""
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n{heading}\n")
    match = re.search(rf"\n```{lang}\n(.*?)\n```", text[start:], re.S)
    assert match, f"no ```{lang} block after {heading}"
    return match.group(1)


def test_readme_snippet(virthost, demo_agent):
    """README.md's "From Python" code, run as it is (but for the socket path)
    with the installed package, against the demo host."""
    snippet = readme_block("## From Python", "python")
    assert virthost.DEFAULT_SOCKET in snippet
    install = os.path.dirname(os.path.dirname(virthost.__file__))
    result = subprocess.run([sys.executable, "-c", snippet.replace(virthost.DEFAULT_SOCKET, demo_agent)],
                            capture_output=True, text=True, timeout=60, cwd="/",
                            env={**os.environ, "PYTHONPATH": install})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    with virthost.Client(demo_agent) as client:
        expected = [f"{n.name} {n.active}" for n in client.list_networks().networks]
    assert len(lines) == 5 and lines[:4] == expected and "demo-nat True" in expected, lines
    assert lines[4].startswith("43 NOT_FOUND:") and "(VIR_ERR_NO_NETWORK)" in lines[4], lines


def test_requests_from_names_and_keywords(virthost):
    build = virthost.client._build_request
    events_pb2, network_pb2 = virthost.v1.events_pb2, virthost.v1.network_pb2
    watch = build(events_pb2.WatchRequest, "watch", None, {"name": "web-1", "kinds": [events_pb2.EVENT_KIND_DOMAIN]})
    assert watch.name == "web-1" and list(watch.kinds) == [events_pb2.EVENT_KIND_DOMAIN]
    assert build(network_pb2.GetNetworkXMLRequest, "get_network_xml", "n1", {}).network.name == "n1"
    assert build(network_pb2.GetNetworkXMLRequest, "get_network_xml", None,
                 {"network": "n1", "inactive": True}).inactive
    assert build(network_pb2.NetworkRef, "get_network", {"uuid": "u"}, {}).uuid == "u"
    with pytest.raises(TypeError, match="not both"):
        build(network_pb2.NetworkRef, "get_network", "n1", {"uuid": "u"})
    with pytest.raises(TypeError, match="does not name one object"):
        build(network_pb2.ListNetworksRequest, "list_networks", "n1", {})
    with pytest.raises(TypeError, match="takes a virthost.v1.NetworkRef, not a virthost.v1.ListNetworksRequest"):
        build(network_pb2.NetworkRef, "get_network", network_pb2.ListNetworksRequest(), {})
