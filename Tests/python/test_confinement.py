"""Least privilege against the real hypervisor: a client running as `nobody`
with the operator role tries every escape to host files, devices and
bridges, and each is refused with nothing changed on the host; the allowed
paths work, up to a machine created from a typed spec (kernel and initrd
uploaded as pool volumes) that boots and answers its guest agent.

Needs root (to run the client as nobody through setpriv) and libvirtd on
qemu:///system, which make test starts.
"""
import hashlib
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from test_grpc_interop import BIN_DIR, ROOT, stubs, wait_for_socket  # noqa: F401 (fixture)

NOBODY = 65534
PREFIX = f"vht-{os.getpid()}-"
BRIDGE = f"vht{os.getpid() % 100000}br"  # at most 15 characters
GUEST_DIR = pathlib.Path(os.environ.get("VIRTHOST_GUEST_DIR", ROOT / ".cache" / "guest"))


def virsh(*args, check=True):
    return subprocess.run(["virsh", "-q", "-c", "qemu:///system", *args], capture_output=True, text=True,
                          timeout=60, check=check)


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def leftovers():
    """Pools, networks and machines of this run that libvirt still has."""
    found = []
    for kind in ("pool-list --all --name", "net-list --all --name", "list --all --name"):
        out = virsh(*kind.split(), check=False).stdout
        found += [line.strip() for line in out.splitlines() if line.strip().startswith(PREFIX)]
    return found


def cleanup():
    for name in virsh("list", "--all", "--name", check=False).stdout.split():
        if name.startswith(PREFIX):
            virsh("destroy", name, check=False)
            virsh("undefine", name, "--nvram", check=False)
    for name in virsh("net-list", "--all", "--name", check=False).stdout.split():
        if name.startswith(PREFIX):
            virsh("net-destroy", name, check=False)
            virsh("net-undefine", name, check=False)
    for name in virsh("pool-list", "--all", "--name", check=False).stdout.split():
        if name.startswith(PREFIX):
            virsh("pool-destroy", name, check=False)
            virsh("pool-undefine", name, check=False)
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)


# What the nobody client does, in order; prints {case: [code, message]} as JSON.
NOBODY_SCRIPT = r'''
import grpc, json, sys, time
sys.path.insert(0, STUBS)
from virthost.v1 import (storage_pb2 as st, storage_pb2_grpc as stg, domain_pb2 as dm, domain_pb2_grpc as dmg,
                         network_pb2 as nw, network_pb2_grpc as nwg, guestagent_pb2 as ga, guestagent_pb2_grpc as gag,
                         common_pb2 as cm, diskjob_pb2 as djp, diskjob_pb2_grpc as djg)
channel = grpc.insecure_channel("unix:" + SOCKET)
jobs = djg.DiskJobServiceStub(channel)
storage, domains = stg.StorageServiceStub(channel), dmg.DomainServiceStub(channel)
networks, agent = nwg.NetworkServiceStub(channel), gag.GuestAgentServiceStub(channel)
results = {}

def attempt(case, call):
    try:
        reply = call()
        results[case] = ["OK", ""]
        return reply
    except grpc.RpcError as error:
        results[case] = [error.code().name, error.details()]

def dir_pool(name, target):
    return st.DefinePoolRequest(spec=st.PoolSpec(name=name, target_path=target, dir=st.DirPool()))

def vref(pool, name):
    return st.VolumeRef(pool=pool, name=name)

def upload(pool, name, data, create=False):
    def messages():
        yield st.UploadVolumeRequest(header=st.UploadHeader(volume=vref(pool, name), length=len(data), create=create))
        for i in range(0, len(data), 1 << 20):
            yield st.UploadVolumeRequest(chunk=data[i:i + (1 << 20)])
    return storage.UploadVolume(messages(), timeout=120)

def download(pool, name):
    return b"".join(m.chunk for m in storage.DownloadVolume(st.DownloadVolumeRequest(volume=vref(pool, name)), timeout=60))

def attach_disk(case, **source):
    attempt(case, lambda: domains.AttachDisk(dm.AttachDiskRequest(
        domain=dm.DomainRef(name=VM), target="vdz", scope=cm.DeviceScope(config=True), **source), timeout=30))

# --- escapes -------------------------------------------------------------
attempt("pool on /etc", lambda: storage.DefinePool(dir_pool(P + "etc", "/etc"), timeout=30))
attempt("pool on /", lambda: storage.DefinePool(dir_pool(P + "slash", "/"), timeout=30))
attempt("pool through ..", lambda: storage.DefinePool(dir_pool(P + "dots", ROOTDIR + "/../../../etc"), timeout=30))
attempt("pool through a symlink", lambda: storage.DefinePool(dir_pool(P + "link", ROOTDIR + "/etclink/sub"), timeout=30))
attempt("pool from raw XML", lambda: storage.DefinePool(st.DefinePoolRequest(
    xml="<pool type='dir'><name>" + P + "xml</name><target><path>/etc</path></target></pool>"), timeout=30))
attempt("download a symlink to /etc/shadow", lambda: download(ADMPOOL, "shadow"))
attempt("upload into a symlink to /etc/shadow", lambda: upload(ADMPOOL, "shadow", b"owned"))
attempt("wipe a symlink to /etc/shadow", lambda: storage.WipeVolume(vref(ADMPOOL, "shadow"), timeout=30))
attempt("download a hard link", lambda: download(ADMPOOL, "hard"))
attach_disk("disk by /etc path", path="/etc/shadow")
attach_disk("disk by block device", path=ROOTDIR + "/blockdev")
attach_disk("disk by symlink", path=ROOTDIR + "/passwd.img")
attach_disk("disk by a symlinked volume", volume=dm.VolumeSource(pool=ADMPOOL, volume="shadow"))
attach_disk("disk from a qcow2 with a backing file", path=ROOTDIR + "/backed.qcow2", format="qcow2")
attach_disk("volume from a qcow2 with a backing file", volume=dm.VolumeSource(pool=ADMPOOL, volume="backed.qcow2"))
attach_disk("disk of a format that names files", path=ROOTDIR + "/plain.img", format="vmdk")
attempt("bridged network", lambda: networks.DefineNetwork(nw.DefineNetworkRequest(
    spec=nw.NetworkSpec(name=P + "br", bridged=nw.BridgedNetwork(bridge=BRIDGE))), timeout=30))
attempt("network from raw XML", lambda: networks.DefineNetwork(nw.DefineNetworkRequest(
    xml="<network><name>" + P + "rawnet</name></network>"), timeout=30))
attempt("machine from raw XML", lambda: domains.DefineDomain(dm.DefineDomainRequest(
    xml="<domain type='qemu'><name>" + P + "raw</name><memory>65536</memory><os><type>hvm</type></os></domain>"), timeout=30))
attempt("machine with a host path disk", lambda: domains.DefineDomain(dm.DefineDomainRequest(spec=dm.DomainSpec(
    name=P + "esc", memory_bytes=64 << 20, disks=[dm.DiskSpec(path="/etc/shadow")])), timeout=30))
attempt("NIC on an unlisted bridge", lambda: domains.AttachInterface(dm.AttachInterfaceRequest(
    domain=dm.DomainRef(name=VM), type=dm.INTERFACE_SOURCE_TYPE_BRIDGE, source="virbr0",
    scope=cm.DeviceScope(config=True)), timeout=30))
attempt("move a disk outside the storage roots", lambda: jobs.MoveDisk(djp.MoveDiskRequest(
    domain=dm.DomainRef(name=VM), target="vdc", pool=ADMPOOL, volume="secret-copy.img"), timeout=30))

# --- allowed -------------------------------------------------------------
pool = P + "ok"
attempt("pool inside the storage root", lambda: storage.DefinePool(st.DefinePoolRequest(
    spec=st.PoolSpec(name=pool, target_path=ROOTDIR + "/pool", dir=st.DirPool()), build=True, start=True), timeout=30))
attempt("volume create", lambda: storage.CreateVolume(st.CreateVolumeRequest(pool=pool, name="data.img", capacity=1 << 20), timeout=30))
payload = bytes(range(256)) * 64
attempt("volume upload", lambda: upload(pool, "data.img", payload))
got = attempt("volume download", lambda: download(pool, "data.img"))
ok = got is not None and got[:len(payload)] == payload and got[len(payload):] == bytes((1 << 20) - len(payload))
results["download matches upload"] = ["OK" if ok else "MISMATCH", "%s bytes" % (len(got) if got is not None else None)]
attach_disk("disk by pool volume", volume=dm.VolumeSource(pool=pool, volume="data.img"))
attempt("detach disk", lambda: domains.DetachDisk(dm.DetachDiskRequest(
    domain=dm.DomainRef(name=VM), target="vdz", scope=cm.DeviceScope(config=True)), timeout=30))
attach_disk("disk by path inside the root", path=ROOTDIR + "/plain.img")
attempt("detach path disk", lambda: domains.DetachDisk(dm.DetachDiskRequest(
    domain=dm.DomainRef(name=VM), target="vdz", scope=cm.DeviceScope(config=True)), timeout=30))
nic = attempt("NIC on a listed bridge", lambda: domains.AttachInterface(dm.AttachInterfaceRequest(
    domain=dm.DomainRef(name=VM), type=dm.INTERFACE_SOURCE_TYPE_BRIDGE, source=BRIDGE,
    scope=cm.DeviceScope(config=True)), timeout=30))
if nic is not None:
    attempt("detach NIC", lambda: domains.DetachInterface(dm.DetachInterfaceRequest(
        domain=dm.DomainRef(name=VM), mac=nic.mac, scope=cm.DeviceScope(config=True)), timeout=30))
net = P + "iso"
attempt("isolated network", lambda: networks.DefineNetwork(nw.DefineNetworkRequest(
    spec=nw.NetworkSpec(name=net, isolated=nw.IsolatedNetwork()), start=True), timeout=30))

# --- a machine from a typed spec, booted ----------------------------------
for name in ("vmlinuz", "initramfs.img"):
    with open(GUEST + "/" + name, "rb") as f:
        attempt("upload " + name, lambda: upload(pool, name, f.read(), create=True))
machine = P + "typed"
spec = dm.DomainSpec(
    name=machine, vcpus=1, memory_bytes=256 << 20, virt_type="qemu", machine="pc",
    kernel=dm.KernelBoot(kernel=dm.VolumeSource(pool=pool, volume="vmlinuz"),
                         initrd=dm.VolumeSource(pool=pool, volume="initramfs.img"), cmdline="console=ttyS0 panic=-1"),
    nics=[dm.NICSpec(network=net)])
created = attempt("machine from a typed spec", lambda: domains.DefineDomain(dm.DefineDomainRequest(spec=spec, start=True), timeout=60))
if created is not None:
    deadline = time.monotonic() + 120
    while True:
        try:
            agent.Ping(ga.AgentRequest(domain=dm.DomainRef(name=machine), timeout_seconds=2), timeout=10)
            results["typed machine answers its guest agent"] = ["OK", "%.1f s" % (120 - (deadline - time.monotonic()))]
            break
        except grpc.RpcError as error:
            if time.monotonic() > deadline:
                results["typed machine answers its guest agent"] = [error.code().name, error.details()]
                break
            time.sleep(1)
    attempt("live disk by pool volume", lambda: domains.AttachDisk(dm.AttachDiskRequest(
        domain=dm.DomainRef(name=machine), target="vdb", volume=dm.VolumeSource(pool=pool, volume="data.img"),
        scope=cm.DeviceScope(live=True)), timeout=30))
    backup = attempt("backup by the operator", lambda: jobs.StartBackup(djp.StartBackupRequest(
        domain=dm.DomainRef(name=machine), pool=pool, disks=["vdb"]), timeout=120))
    attempt("restore by the operator", lambda: jobs.RestoreBackup(djp.RestoreBackupRequest(
        domain=dm.DomainRef(name=machine), disk="vdb", pool=pool, volume="restored.img", format="raw"), timeout=120))
    if backup is not None:
        attempt("delete backup by the operator", lambda: jobs.DeleteBackup(djp.DeleteBackupRequest(
            domain=dm.DomainRef(name=machine), id=backup.id), timeout=120))
    attempt("move by the operator", lambda: jobs.MoveDisk(djp.MoveDiskRequest(
        domain=dm.DomainRef(name=machine), target="vdb", pool=pool, volume="moved.qcow2"), timeout=120))
    attempt("suspend", lambda: domains.SuspendDomain(dm.DomainRef(name=machine), timeout=30))
    attempt("resume", lambda: domains.ResumeDomain(dm.DomainRef(name=machine), timeout=30))
    attempt("destroy", lambda: domains.DestroyDomain(dm.DomainRef(name=machine), timeout=30))
    attempt("undefine", lambda: domains.UndefineDomain(dm.UndefineDomainRequest(domain=dm.DomainRef(name=machine)), timeout=30))
attempt("network undefine", lambda: (networks.StopNetwork(nw.NetworkRef(name=net), timeout=30),
                                     networks.UndefineNetwork(nw.NetworkRef(name=net), timeout=30)))
print(json.dumps(results))
'''

ESCAPES = {
    "pool on /etc": "storage_roots",
    "pool on /": "storage_roots",
    "pool through a symlink": "resolves to /etc/sub",
    "pool from raw XML": "raw XML",
    "download a symlink to /etc/shadow": "symbolic link",
    "upload into a symlink to /etc/shadow": "symbolic link",
    "wipe a symlink to /etc/shadow": "symbolic link",
    "download a hard link": "hard links",
    "disk by /etc path": "storage_roots",
    "disk by block device": "block device",
    "disk by symlink": "symbolic link",
    "disk by a symlinked volume": "symbolic link",
    "disk from a qcow2 with a backing file": "backing file",
    "volume from a qcow2 with a backing file": "backing file",
    "disk of a format that names files": "raw and qcow2",
    "bridged network": "bridged network",
    "network from raw XML": "raw XML",
    "machine from raw XML": "typed spec",
    "machine with a host path disk": "storage_roots",
    "NIC on an unlisted bridge": "operator_bridges",
    "move a disk outside the storage roots": "storage_roots",
}


@pytest.fixture(scope="module")
def confined_run(stubs):
    """Sets the host up as an admin would, runs the nobody client once, and
    returns what it saw with what the host looked like before and after."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run a client as nobody")
    if virsh("version", check=False).returncode != 0:
        pytest.fail("qemu:///system does not answer: make test starts libvirtd (scripts/start-libvirtd.sh)")
    for name in ("vmlinuz", "initramfs.img"):
        assert (GUEST_DIR / name).exists(), f"{GUEST_DIR / name} missing: make guest builds it"
    base = pathlib.Path(tempfile.mkdtemp(prefix="vhu-conf-", dir="/var/tmp"))
    agent = None
    try:
        base.chmod(0o755)
        root = base / "root"
        admin_pool = base / "admin-pool"
        outside = base / "outside"
        for folder in (root, admin_pool, outside, base / "guest"):
            folder.mkdir()
            folder.chmod(0o755)
        (outside / "secret").write_text("not for operators\n")
        (outside / "disk.img").write_bytes(bytes(4096))  # the admin's machine's disk, outside the roots
        (admin_pool / "shadow").symlink_to("/etc/shadow")
        os.link(outside / "secret", admin_pool / "hard")
        (root / "etclink").symlink_to("/etc")
        (root / "passwd.img").symlink_to("/etc/passwd")
        (root / "plain.img").write_bytes(bytes(4096))
        for folder in (root, admin_pool):  # a guest reading /etc/shadow through a backing file
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/shadow", "-F", "raw",
                            str(folder / "backed.qcow2")], check=True)
        os.mknod(root / "blockdev", 0o600 | 0o060000, os.makedev(7, 200))  # a block device node (loop200)
        for name in ("vmlinuz", "initramfs.img"):
            shutil.copy(GUEST_DIR / name, base / "guest" / name)
            (base / "guest" / name).chmod(0o644)
        cli = base / "virthost"
        shutil.copy(BIN_DIR / "virthost", cli)
        cli.chmod(0o755)

        # What an admin set up: a pool outside the roots, a machine, a bridge.
        subprocess.run(["ip", "link", "add", BRIDGE, "type", "bridge"], check=True)
        virsh("pool-create-as", PREFIX + "adm", "dir", "--target", str(admin_pool))
        vm = PREFIX + "vm"
        virsh_define(base, vm)
        before = {"vm": virsh("dumpxml", "--inactive", vm).stdout, "shadow": sha256("/etc/shadow"),
                  "secret": sha256(outside / "secret"), "passwd": sha256("/etc/passwd")}

        sock = base / "agent.sock"
        config = base / "virthostd.toml"
        config.write_text(textwrap.dedent(f"""
            connect = "qemu:///system"
            log_level = "info"
            [socket]
            path = "{sock}"
            mode = "0666"
            [access]
            admin_uids = [0]
            operator_uids = [{NOBODY}]
            storage_roots = ["{root}"]
            operator_bridges = ["{BRIDGE}"]
            """))
        log = open(base / "agent.log", "w")
        agent = subprocess.Popen([str(BIN_DIR / "virthostd"), "--config", str(config)], stdout=log, stderr=log)
        wait_for_socket(str(sock), agent)

        stubs_dir = os.path.dirname(os.path.dirname(os.path.dirname(stubs["network_pb2"].__file__)))
        os.chmod(stubs_dir, 0o755)
        program = "\n".join([f"STUBS = {stubs_dir!r}", f"SOCKET = {str(sock)!r}", f"P = {PREFIX!r}",
                             f"ROOTDIR = {str(root)!r}", f"ADMPOOL = {PREFIX + 'adm'!r}", f"VM = {vm!r}",
                             f"BRIDGE = {BRIDGE!r}", f"GUEST = {str(base / 'guest')!r}"]) + NOBODY_SCRIPT
        ran = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", sys.executable,
                              "-c", program], capture_output=True, text=True, timeout=600, cwd="/")
        assert ran.returncode == 0, ran.stderr[-3000:]
        results = json.loads(ran.stdout.strip().splitlines()[-1])

        # The socket a user may not open: the CLI says so plainly.
        private = base / "private.sock"
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(private))
        listener.listen(1)
        os.chmod(private, 0o600)
        denied = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", str(cli),
                                 "--socket", str(private), "host", "info"], capture_output=True, text=True, timeout=60)
        missing = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", str(cli),
                                  "--socket", str(base / "none.sock"), "host", "info"],
                                 capture_output=True, text=True, timeout=60)
        listener.close()

        after = {"vm": virsh("dumpxml", "--inactive", vm).stdout, "shadow": sha256("/etc/shadow"),
                 "secret": sha256(outside / "secret"), "passwd": sha256("/etc/passwd")}
        pools = virsh("pool-list", "--all", "--name").stdout.split()
        agent.terminate()
        agent.wait(timeout=30)
        agent = None
        log.close()
        yield {"results": results, "before": before, "after": after, "pools": pools, "denied": denied,
               "missing": missing, "log": (base / "agent.log").read_text(), "root": root}
    finally:
        if agent is not None:
            agent.kill()
            agent.wait()
        cleanup()
        shutil.rmtree(base, ignore_errors=True)


def virsh_define(base, name):
    """A small shut-off TCG machine an admin defined, for config-scope attaches."""
    xml = base / "vm.xml"
    xml.write_text(f"""<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
        <os><type arch='x86_64' machine='pc'>hvm</type></os><features><acpi/><apic/></features>
        <devices><disk type='file' device='disk'><driver name='qemu' type='raw'/>
          <source file='{base}/outside/disk.img'/><target dev='vdc' bus='virtio'/></disk></devices></domain>""")
    virsh("define", str(xml))


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_each_escape_is_refused(confined_run, case):
    code, message = confined_run["results"][case]
    assert code == "PERMISSION_DENIED", f"{case}: {code} {message}"
    assert ESCAPES[case] in message, f"{case}: {message}"
    assert "operator role" in message


def test_dot_dot_in_a_pool_target_is_refused(confined_run):
    code, message = confined_run["results"]["pool through .."]
    assert code == "INVALID_ARGUMENT", message
    assert "'..'" in message


def test_nothing_changed_on_the_host(confined_run):
    assert confined_run["before"] == confined_run["after"], "a refused call changed a host file or the machine"
    made = [p for p in confined_run["pools"] if p.startswith(PREFIX)]
    assert sorted(made) == sorted([PREFIX + "adm", PREFIX + "ok"]), made
    assert not any((confined_run["root"] / name).exists() for name in ("sub",))


def test_refusals_are_audited(confined_run):
    audit = [line for line in confined_run["log"].splitlines()
             if "log=audit" in line and "outcome=permissionDenied" in line and f"uid={NOBODY}" in line]
    methods = " ".join(audit)
    for method in ("StorageService/DefinePool", "StorageService/DownloadVolume", "DomainService/AttachDisk",
                   "NetworkService/DefineNetwork", "DomainService/DefineDomain"):
        assert method in methods, f"no audit line for a refused {method}: " + "\n".join(l for l in confined_run["log"].splitlines() if "audit" in l)[:1500]
    # The object is named even when it sits in a spec.
    assert any(f"object={PREFIX}etc" in line for line in audit), "\n".join(audit)[:1500]


@pytest.mark.parametrize("case", [
    "pool inside the storage root", "volume create", "volume upload", "volume download", "download matches upload",
    "disk by pool volume", "detach disk", "disk by path inside the root", "detach path disk",
    "NIC on a listed bridge", "detach NIC", "isolated network", "network undefine"])
def test_allowed_paths_work(confined_run, case):
    code, message = confined_run["results"][case]
    assert code == "OK", f"{case}: {code} {message}"


def test_operator_machine_from_a_typed_spec_boots(confined_run):
    results = confined_run["results"]
    for case in ("upload vmlinuz", "upload initramfs.img", "machine from a typed spec",
                 "typed machine answers its guest agent", "live disk by pool volume", "backup by the operator",
                 "restore by the operator", "delete backup by the operator", "move by the operator",
                 "suspend", "resume", "destroy", "undefine"):
        code, message = results[case]
        assert code == "OK", f"{case}: {code} {message}"


def test_socket_errors_say_what_to_do(confined_run):
    denied = confined_run["denied"]
    assert denied.returncode != 0
    assert "permission denied on" in denied.stderr and "virthost group" in denied.stderr, denied.stderr
    missing = confined_run["missing"]
    assert missing.returncode != 0
    assert "no socket at" in missing.stderr and "is virthostd running" in missing.stderr, missing.stderr
