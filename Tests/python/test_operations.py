"""Request ids and operations against qemu:///system, with kill -9 between
calls: retries make one object, a second client sees and cancels an upload,
an agent killed mid-upload reports it interrupted after its restart and
removes the half-written volume, and a damaged state file stops the start.

Needs root and libvirtd on qemu:///system (make test starts it).
"""
import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
import time

import grpc
import pytest

from test_grpc_interop import BIN_DIR, stubs, wait_for_socket  # noqa: F401 (fixture)

PREFIX = f"vht-{os.getpid()}-op-"


def virsh(*args, check=True):
    return subprocess.run(["virsh", "-q", "-c", "qemu:///system", *args], capture_output=True, text=True,
                          timeout=60, check=check)


class Agent:
    """virthostd on qemu:///system with a state folder that outlives it."""

    def __init__(self, base):
        self.base = base
        self.socket = str(base / "agent.sock")
        self.process = None

    def start(self):
        self.log = open(self.base / "agent.log", "a")
        self.process = subprocess.Popen(
            [str(BIN_DIR / "virthostd"), "--config", "/dev/null", "--connect", "qemu:///system", "--socket", self.socket,
             "--socket-mode", "0600", "--state-dir", str(self.base / "state"), "--log-level", "info"],
            stdout=self.log, stderr=self.log)
        wait_for_socket(self.socket, self.process)
        self.channel = grpc.insecure_channel(f"unix:{self.socket}")

    def kill(self):
        """kill -9: no graceful anything."""
        self.channel.close()
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.channel.close()
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def host(stubs):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if virsh("version", check=False).returncode != 0:
        pytest.fail("qemu:///system does not answer: make test starts libvirtd (scripts/start-libvirtd.sh)")
    base = pathlib.Path(tempfile.mkdtemp(prefix="vhu-ops-", dir="/var/tmp"))
    pool, vm = PREFIX + "pool", PREFIX + "vm"
    (base / "pool").mkdir()
    virsh("pool-create-as", pool, "dir", "--target", str(base / "pool"))
    (base / "vm.xml").write_text(f"""<domain type='qemu'><name>{vm}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
        <os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/><apic/></features><devices></devices></domain>""")
    virsh("define", str(base / "vm.xml"))
    agent = Agent(base)
    agent.start()
    try:
        yield {"base": base, "pool": pool, "vm": vm, "agent": agent, "stubs": stubs}
    finally:
        agent.stop()
        virsh("undefine", vm, check=False)
        for name in virsh("net-list", "--all", "--name", check=False).stdout.split():
            if name.startswith(PREFIX):
                virsh("net-destroy", name, check=False)
                virsh("net-undefine", name, check=False)
        virsh("pool-destroy", pool, check=False)
        shutil.rmtree(base, ignore_errors=True)


def modules():
    from virthost.v1 import (common_pb2, domain_pb2, domain_pb2_grpc, events_pb2, events_pb2_grpc, host_pb2,
                             host_pb2_grpc, network_pb2, network_pb2_grpc, operation_pb2, operation_pb2_grpc,
                             storage_pb2, storage_pb2_grpc)
    return locals()


def replayed(call_metadata):
    return dict(call_metadata).get("virthost-request-replayed") == "1"


def test_retries_across_kill_make_exactly_one_object(host):
    m = modules()
    st, dm, nw, cm = m["storage_pb2"], m["domain_pb2"], m["network_pb2"], m["common_pb2"]
    net = PREFIX + "net"

    def calls(channel):
        storage = m["storage_pb2_grpc"].StorageServiceStub(channel)
        networks = m["network_pb2_grpc"].NetworkServiceStub(channel)
        domains = m["domain_pb2_grpc"].DomainServiceStub(channel)
        volume, c1 = storage.CreateVolume.with_call(
            st.CreateVolumeRequest(pool=host["pool"], name="once.img", capacity=1 << 20),
            metadata=[("virthost-request-id", f"{PREFIX}vol")], timeout=30)
        network, c2 = networks.DefineNetwork.with_call(
            nw.DefineNetworkRequest(spec=nw.NetworkSpec(name=net, isolated=nw.IsolatedNetwork())),
            metadata=[("virthost-request-id", f"{PREFIX}net")], timeout=30)
        nic, c3 = domains.AttachInterface.with_call(
            dm.AttachInterfaceRequest(domain=dm.DomainRef(name=host["vm"]), type=dm.INTERFACE_SOURCE_TYPE_NETWORK,
                                      source=net, scope=cm.DeviceScope(config=True)),
            metadata=[("virthost-request-id", f"{PREFIX}nic")], timeout=30)
        return (volume, network, nic), [replayed(c.initial_metadata()) for c in (c1, c2, c3)]

    agent = host["agent"]
    first, replays = calls(agent.channel)
    assert replays == [False, False, False]
    agent.kill()
    agent.start()
    again, replays = calls(agent.channel)
    assert replays == [True, True, True], "the retries were answered from the state database"
    assert again == first
    virsh("pool-refresh", host["pool"])
    assert [line.split()[0] for line in virsh("vol-list", host["pool"]).stdout.splitlines()].count("once.img") == 1
    assert [n for n in virsh("net-list", "--all", "--name").stdout.split() if n == net] == [net]
    assert virsh("dumpxml", "--inactive", host["vm"]).stdout.count("<interface ") == 1

    storage = m["storage_pb2_grpc"].StorageServiceStub(agent.channel)
    with pytest.raises(grpc.RpcError) as raised:
        storage.CreateVolume(st.CreateVolumeRequest(pool=host["pool"], name="other.img", capacity=1 << 20),
                             metadata=[("virthost-request-id", f"{PREFIX}vol")], timeout=30)
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"'{PREFIX}vol'" in raised.value.details()


def slow_upload(stub, st, pool, name, chunks, pause, result):
    """Uploads `chunks` MiB of zeros into a new volume, pausing between chunks."""
    def messages():
        yield st.UploadVolumeRequest(header=st.UploadHeader(volume=st.VolumeRef(pool=pool, name=name),
                                                            length=chunks << 20, create=True))
        for _ in range(chunks):
            time.sleep(pause)
            yield st.UploadVolumeRequest(chunk=bytes(1 << 20))
    try:
        result["reply"] = stub.UploadVolume(messages(), timeout=120)
    except grpc.RpcError as error:
        result["error"] = error


def running_upload(operations, op_pb2, name, host):
    """The running upload operation of `name`, once it has moved some bytes."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listed = operations.ListOperations(op_pb2.ListOperationsRequest(
            kind="volume.upload", object=f"{host['pool']}/{name}", states=[op_pb2.OPERATION_STATE_RUNNING]), timeout=10)
        if listed.operations and listed.operations[0].done > 0:
            return listed.operations[0]
        time.sleep(0.2)
    pytest.fail(f"no running upload of {name} with progress within 30 s")


def test_a_second_client_sees_and_cancels_an_upload(host):
    m = modules()
    st, op = m["storage_pb2"], m["operation_pb2"]
    agent = host["agent"]
    health = m["host_pb2_grpc"].HostServiceStub(agent.channel).GetHealth(m["host_pb2"].GetHealthRequest(), timeout=10)
    uploader = grpc.insecure_channel(f"unix:{agent.socket}")  # the first client
    result = {}
    thread = threading.Thread(target=slow_upload, args=(m["storage_pb2_grpc"].StorageServiceStub(uploader), st,
                                                        host["pool"], "big.img", 64, 0.1, result))
    thread.start()
    try:
        operations = m["operation_pb2_grpc"].OperationServiceStub(agent.channel)  # the second client
        seen = running_upload(operations, op, "big.img", host)
        assert seen.total == 64 << 20 and seen.cancellable and seen.uid == 0
        time.sleep(1.2)
        later = operations.GetOperation(op.OperationRef(id=seen.id), timeout=10)
        assert later.done > seen.done, "progress grows"
        operations.CancelOperation(op.OperationRef(id=seen.id), timeout=10)
    finally:
        thread.join(timeout=60)
        uploader.close()
    assert "error" in result and result["error"].code() == grpc.StatusCode.CANCELLED, result
    ended = operations.WaitOperation(op.OperationRef(id=seen.id), timeout=20)
    assert ended.state == op.OPERATION_STATE_CANCELLED, ended
    assert "deleted" in ended.cleanup, ended.cleanup
    virsh("pool-refresh", host["pool"])
    assert "big.img" not in virsh("vol-list", host["pool"]).stdout
    # The event stream told the story: started, progress, finished.
    events = m["events_pb2_grpc"].EventServiceStub(agent.channel)
    types = []
    try:
        for event in events.Watch(m["events_pb2"].WatchRequest(
                kinds=[m["events_pb2"].EVENT_KIND_OPERATION], since_sequence=health.last_event_sequence,
                since_epoch=health.event_epoch), timeout=3):
            if event.name == seen.id:
                types.append(event.type)
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert types[0] == "operation-started" and types[-1] == "operation-finished", types
    assert "operation-progress" in types and len(types) < 40, types


def test_an_agent_killed_mid_upload_reports_it_interrupted(host):
    m = modules()
    st, op = m["storage_pb2"], m["operation_pb2"]
    agent = host["agent"]
    result = {}
    thread = threading.Thread(target=slow_upload, args=(m["storage_pb2_grpc"].StorageServiceStub(agent.channel), st,
                                                        host["pool"], "cut.img", 64, 0.1, result))
    thread.start()
    operations = m["operation_pb2_grpc"].OperationServiceStub(agent.channel)
    seen = running_upload(operations, op, "cut.img", host)
    agent.kill()
    thread.join(timeout=60)
    assert "error" in result, "the upload could not succeed"
    agent.start()
    operations = m["operation_pb2_grpc"].OperationServiceStub(agent.channel)
    deadline = time.monotonic() + 30
    while True:
        after = operations.GetOperation(op.OperationRef(id=seen.id), timeout=10)
        if after.cleanup or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert after.state == op.OPERATION_STATE_INTERRUPTED, after
    assert f"deleted volume {host['pool']}/cut.img" in after.cleanup, after.cleanup
    virsh("pool-refresh", host["pool"])
    assert "cut.img" not in virsh("vol-list", host["pool"]).stdout


def test_cli_lists_waits_and_starts_async_work(host):
    agent = host["agent"]
    cli = [str(BIN_DIR / "virthost"), "--socket", agent.socket]
    listed = subprocess.run(cli + ["op", "list", "--all"], capture_output=True, text=True, timeout=30)
    assert listed.returncode == 0, listed.stderr
    assert "volume.upload" in listed.stdout and "cancelled" in listed.stdout and "interrupted" in listed.stdout
    started = subprocess.run(cli + ["vol", "clone", host["pool"], "once.img", "copy.img", "--async"],
                             capture_output=True, text=True, timeout=30)
    assert started.returncode == 0, started.stderr
    operation = started.stdout.split("operation ")[1].split()[0]
    waited = subprocess.run(cli + ["op", "wait", operation], capture_output=True, text=True, timeout=60)
    assert waited.returncode == 0, waited.stdout + waited.stderr
    assert "succeeded" in waited.stdout and "volume.clone" in waited.stdout
    again = subprocess.run(cli + ["--request-id", f"{PREFIX}wipe", "vol", "wipe", host["pool"], "copy.img"],
                           capture_output=True, text=True, timeout=60)
    retry = subprocess.run(cli + ["vol", "wipe", host["pool"], "copy.img"], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "VIRTHOST_REQUEST_ID": f"{PREFIX}wipe"})
    assert again.returncode == 0 and retry.returncode == 0, again.stderr + retry.stderr
    wipes = subprocess.run(cli + ["--json", "op", "list", "--all", "--kind", "volume.wipe"], capture_output=True, text=True,
                           timeout=30)
    assert wipes.stdout.count('"volume.wipe"') == 1, "the retry did not wipe again"


def test_a_damaged_state_file_stops_the_start(host):
    folder = host["base"] / "damaged"
    folder.mkdir()
    state = folder / "state.sqlite3"
    state.write_bytes(os.urandom(16384))
    before = hashlib.sha256(state.read_bytes()).hexdigest()
    ran = subprocess.run([str(BIN_DIR / "virthostd"), "--config", "/dev/null", "--connect", "qemu:///system",
                          "--socket", str(folder / "a.sock"), "--state-dir", str(folder)],
                         capture_output=True, text=True, timeout=30)
    assert ran.returncode == 78, ran.stderr
    assert "damaged or is not a database" in ran.stderr and str(state) in ran.stderr, ran.stderr
    assert hashlib.sha256(state.read_bytes()).hexdigest() == before, "the file was changed"
    assert not (folder / "a.sock").exists()
