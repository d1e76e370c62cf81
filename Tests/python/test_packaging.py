"""The Debian package, for real, on this machine.

`make test` builds dist/virthost_VERSION_ARCH.deb (`make deb`) and passes it
in VIRTHOST_DEB. These tests read the package, install it with apt-get,
start the installed virthostd by hand from the installed configuration (PID 1
here is not systemd) with the capabilities its unit allows, call it with the
installed CLI through the installed socket, read its metrics, start it the
way virthostd.socket would (systemd-socket-activate), verify the units with
systemd-analyze, and purge the package, checking nothing is left. Whatever
happens, the package is purged and every daemon started here is stopped.

Without VIRTHOST_DEB (pytest run by hand) the module is skipped.
"""
import gzip
import grp
import os
import pathlib
import re
import secrets
import signal
import socket
import stat
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEB = os.environ.get("VIRTHOST_DEB")
SOCKET = "/run/virthost/virthost.sock"
TTRPC_SOCKET = "/run/virthost/virthost-ttrpc.sock"
# The capabilities virthostd.service keeps (CapabilityBoundingSet=).
UNIT_CAPABILITIES = "-all,+net_admin,+chown,+dac_read_search"

pytestmark = pytest.mark.skipif(not DEB, reason="VIRTHOST_DEB not set (make test builds the package and sets it)")


def run(*command, check=True, **kwargs):
    """Runs a command, returning its CompletedProcess with text output."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=kwargs.pop("timeout", 300), **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, command))} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def version():
    text = (ROOT / "Sources/VirtHostServer/Daemon/DaemonVersion.swift").read_text()
    return re.search(r'static let current = "([^"]+)"', text).group(1)


def libvirt_headers_version():
    return run("pkg-config", "--modversion", "libvirt").stdout.strip()


def installed():
    status = run("dpkg-query", "-W", "-f=${Status}", "virthost", check=False).stdout
    return status != ""


def purge():
    """Purges the package; returns apt-get's result (nothing to do is fine)."""
    return run("apt-get", "purge", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", "virthost", check=False,
               env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(path):
    probe = socket.socket(socket.AF_UNIX)
    try:
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


class Daemons:
    """Processes started by the tests; all stopped at the end. Their output
    goes to a file, so a child that outlives them cannot block a read."""

    def __init__(self):
        self.processes = []
        self.others = []

    def start(self, command, **kwargs):
        log = tempfile.TemporaryFile("w+")
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True, **kwargs)
        process.log = log
        self.processes.append(process)
        return process

    def adopt(self, pid):
        """Also stops `pid` at the end (a process one of ours started)."""
        self.others.append(pid)

    def stop(self, process, timeout=30, pid=None):
        """SIGTERM to `pid` (default: the process itself); returns its exit code and output."""
        if process.poll() is None:
            os.kill(pid or process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.log.seek(0)
        return process.returncode, process.log.read()

    def stop_all(self):
        for pid in self.others:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def daemons():
    tracker = Daemons()
    yield tracker
    tracker.stop_all()


@pytest.fixture(scope="module")
def package(daemons):
    """Installs the package once for the module; purges it afterwards, also on failure."""
    assert os.geteuid() == 0, "installing the package needs root"
    deb = pathlib.Path(DEB).resolve()
    assert deb.exists(), f"{deb} is missing: run make deb"
    assert not installed(), "virthost is installed already; purge it first (apt-get purge virthost)"
    assert not answers(SOCKET), f"an agent already serves {SOCKET}; stop it first"
    had_group = any(group.gr_name == "virthost" for group in grp.getgrall())
    assert not had_group, "a virthost group exists before installing; the purge check needs a host without one"
    try:
        result = run("apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", str(deb),
                     env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        yield result
    finally:
        daemons.stop_all()
        if installed():
            purge()
        if os.path.exists(SOCKET):
            os.unlink(SOCKET)


def output(process):
    """What a process started by Daemons printed so far."""
    process.log.seek(0)
    return process.log.read()


def wait_for_notify(listener, process, timeout=30):
    """Waits for sd_notify's READY=1 from the daemon; fails if it exits first."""
    deadline = time.monotonic() + timeout
    listener.settimeout(0.2)
    while time.monotonic() < deadline:
        assert process.poll() is None, f"virthostd exited {process.returncode}: {output(process)}"
        try:
            message = listener.recv(4096).decode()
        except socket.timeout:
            continue
        if "READY=1" in message.split("\n"):
            return message
    raise AssertionError("virthostd sent no READY=1")


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return response.read().decode()


def sample(text, name, **labels):
    """The value of one sample of a Prometheus exposition, or None."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, value = line.rsplit(" ", 1)
        found = dict(re.findall(r'(\w+)="([^"]*)"', series))
        if series.split("{")[0] == name and found == labels:
            return float(value)
    return None


# ---- the package file ------------------------------------------------------

def test_package_fields_and_dependencies():
    fields = {name: run("dpkg-deb", "-f", DEB, name).stdout.strip()
              for name in ("Package", "Version", "Architecture", "Depends", "Recommends", "Installed-Size")}
    assert fields["Package"] == "virthost"
    assert fields["Version"] == version()
    assert fields["Architecture"] == run("dpkg", "--print-architecture").stdout.strip()
    assert pathlib.Path(DEB).name == f"virthost_{version()}_{fields['Architecture']}.deb"
    depends = [d.strip().split(" ")[0] for d in fields["Depends"].split(",")]
    # Computed by dpkg-shlibdeps from the binaries: libvirt and the C/C++ runtime, no Swift.
    for needed in ("libvirt0", "libc6", "libstdc++6", "libgcc-s1"):
        assert needed in depends, f"{needed} missing from Depends: {fields['Depends']}"
    assert not [d for d in depends if "swift" in d], fields["Depends"]
    assert "libvirt-daemon-system" in fields["Recommends"]
    assert int(fields["Installed-Size"]) > 10_000


def test_package_contents():
    listing = run("dpkg-deb", "-c", DEB).stdout
    paths = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
    for path in ("/usr/bin/virthostd", "/usr/bin/virthost",
                 "/lib/systemd/system/virthostd.service", "/lib/systemd/system/virthostd.socket",
                 "/usr/lib/tmpfiles.d/virthost.conf", "/usr/lib/sysusers.d/virthost.conf",
                 "/etc/virthost/virthostd.toml",
                 "/usr/share/man/man1/virthost.1.gz", "/usr/share/man/man8/virthostd.8.gz",
                 "/usr/share/bash-completion/completions/virthost", "/usr/share/zsh/vendor-completions/_virthost",
                 "/usr/share/fish/vendor_completions.d/virthost.fish",
                 "/usr/share/doc/virthost/copyright", "/usr/share/doc/virthost/changelog.gz",
                 "/usr/share/doc/virthost/examples/kubernetes/virthostd.yaml"):
        assert path in paths, f"{path} is not in the package"
    # Everything root's, nothing writable by others.
    for line in listing.splitlines():
        mode, owner = line.split()[0], line.split()[1]
        assert owner == "root/root", line
        assert mode[8] != "w", line
    control = run("dpkg-deb", "-I", DEB, "conffiles").stdout.split()
    assert control == ["/etc/virthost/virthostd.toml"]


# ---- installed -------------------------------------------------------------

def test_install_creates_group_folder_and_configuration(package):
    assert installed()
    group = grp.getgrnam("virthost")
    assert group.gr_gid < 1000, "virthost is not a system group"
    run_folder = os.stat("/run/virthost")
    assert stat.S_IMODE(run_folder.st_mode) == 0o755
    assert pathlib.Path("/etc/virthost/virthostd.toml").read_text() == (ROOT / "packaging/virthostd.toml").read_text()
    # The installed daemon reads the installed configuration by default.
    checked = run("/usr/bin/virthostd", "--check-config")
    assert f"socket: {SOCKET} mode 660 group virthost" in checked.stdout
    assert "metrics: -" in checked.stdout
    # Operators stay inside libvirt's image folder unless the admin says otherwise.
    assert "storage roots: /var/lib/libvirt/images" in checked.stdout


def test_versions_name_the_libvirt_built_against(package):
    libvirt = libvirt_headers_version()
    assert run("/usr/bin/virthost", "--version").stdout.strip() == f"{version()} (built against libvirt {libvirt})"
    assert run("/usr/bin/virthostd", "--version").stdout.strip().startswith(f"{version()} (built against libvirt {libvirt}, running libvirt ")


def test_binaries_link_no_swift_runtime(package):
    for binary in ("/usr/bin/virthostd", "/usr/bin/virthost"):
        needed = run("readelf", "-d", binary).stdout
        assert "libswift" not in needed and "libFoundation" not in needed, needed
        assert run("ldd", binary).returncode == 0
    # The CLI, a process per command, exports none of its own symbols (each
    # costs the dynamic loader at every start): what it defines is at most
    # the few symbols the linker adds, against 56,000 exported by default.
    symbols = run("readelf", "--dyn-syms", "--wide", "/usr/bin/virthost").stdout.splitlines()
    defined = [line for line in symbols if re.match(r"\s*\d+:", line) and " UND " not in line and "GLOBAL" in line]
    assert len(defined) < 50, defined[:60]


def test_man_pages_and_completions(package):
    for page, words in (("/usr/share/man/man8/virthostd.8.gz", ["--metrics-address", "--check-config", "virthostd.toml"]),
                        ("/usr/share/man/man1/virthost.1.gz", ["--socket", "VIRTHOST_SOCKET", "domain"])):
        rendered = run("man", "--warnings", "-l", page, env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING=""))
        assert rendered.stderr == "", rendered.stderr
        text = re.sub(r".\x08", "", rendered.stdout)
        for word in words:
            assert word in text, f"{word} not in {page}"
    assert ".Dt VIRTHOSTD 8" in gzip.open("/usr/share/man/man8/virthostd.8.gz", "rt").read()
    # bash parses the completion and it completes subcommands.
    completion = "/usr/share/bash-completion/completions/virthost"
    run("bash", "-n", completion)
    probe = run("bash", "-c", f'source {completion}; COMP_WORDS=(virthost do); COMP_CWORD=1; '
                              '_virthost 2>/dev/null || complete -p virthost >/dev/null; '
                              'declare -F | grep -c virthost')
    assert int(probe.stdout.strip()) >= 1
    assert "virthost" in pathlib.Path("/usr/share/zsh/vendor-completions/_virthost").read_text()
    assert "complete -c 'virthost'" in pathlib.Path("/usr/share/fish/vendor_completions.d/virthost.fish").read_text()


def test_units_pass_systemd_analyze_verify(package):
    result = run("systemd-analyze", "verify", "/lib/systemd/system/virthostd.service",
                 "/lib/systemd/system/virthostd.socket", check=False)
    # Other units of this machine may draw remarks; ours must draw none.
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "virthost" in line]
    assert result.returncode == 0 and ours == [], result.stdout + result.stderr
    service = pathlib.Path("/lib/systemd/system/virthostd.service").read_text()
    assert "Type=notify" in service and "RuntimeDirectory=virthost" in service
    assert "After=network.target libvirtd.service" in service and "Restart=on-failure" in service
    socket_unit = pathlib.Path("/lib/systemd/system/virthostd.socket").read_text()
    assert f"ListenStream={SOCKET}" in socket_unit and "SocketGroup=virthost" in socket_unit


def test_installed_daemon_serves_the_installed_cli(package, daemons, tmp_path):
    """Starts /usr/bin/virthostd from /etc/virthost/virthostd.toml with the unit's
    capability bounding set and no new privileges, as systemd would, with metrics on."""
    port = free_port()
    notify_path = str(tmp_path / "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify_path)
    environment = dict(os.environ, NOTIFY_SOCKET=notify_path)
    environment.pop("VIRTHOST_SOCKET", None)
    daemon = daemons.start(["setpriv", f"--bounding-set={UNIT_CAPABILITIES}", "--no-new-privs",
                            "/usr/bin/virthostd", "--metrics-address", f"127.0.0.1:{port}"], env=environment)
    try:
        wait_for_notify(listener, daemon)
    finally:
        listener.close()
    info = os.stat(SOCKET)
    assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o660
    assert info.st_gid == grp.getgrnam("virthost").gr_gid

    # The package serves ttrpc too, with the same mode and group.
    info = os.stat(TTRPC_SOCKET)
    assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o660
    assert info.st_gid == grp.getgrnam("virthost").gr_gid

    # The first call: the installed CLI, its default socket.
    host = run("/usr/bin/virthost", "host", "info", env=environment)
    assert "qemu:///system" in host.stdout and version() in host.stdout
    # With nothing named the CLI speaks ttrpc: it answers with the gRPC
    # socket moved aside, and only gRPC, named, fails then.
    aside = SOCKET + ".aside"
    os.rename(SOCKET, aside)
    try:
        assert "qemu:///system" in run("/usr/bin/virthost", "host", "info", env=environment).stdout
        named = run("/usr/bin/virthost", "--transport", "grpc", "host", "info", env=environment, check=False)
        assert named.returncode != 0 and SOCKET in named.stderr, named.stderr
    finally:
        os.rename(aside, SOCKET)
    # --json prints the ListDomainsResponse: an object with the machines and the event position.
    listed = run("/usr/bin/virthost", "--json", "domain", "list", env=environment).stdout
    assert listed.lstrip().startswith("{") and '"event_epoch"' in listed

    # A member of the virthost group gets in, as a reader; anyone else does not.
    gid = grp.getgrnam("virthost").gr_gid
    as_member = run("setpriv", "--reuid=nobody", "--regid=nogroup", f"--groups={gid}",
                    "/usr/bin/virthost", "host", "info", env=environment, check=False)
    assert as_member.returncode == 0, as_member.stderr
    bridge = f"vht-{secrets.token_hex(3)}-b"
    denied = run("setpriv", "--reuid=nobody", "--regid=nogroup", f"--groups={gid}",
                 "/usr/bin/virthost", "bridge", "add", bridge, env=environment, check=False)
    assert denied.returncode != 0 and "PERMISSION_DENIED" in denied.stderr, denied.stderr
    outsider = run("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                   "/usr/bin/virthost", "host", "info", env=environment, check=False)
    assert outsider.returncode != 0

    # The unit's capabilities are enough for host links: a bridge with STP
    # (rtnetlink and a write to /sys/class/net), made and removed as root.
    try:
        run("/usr/bin/virthost", "bridge", "add", bridge, "--stp", env=environment)
        assert pathlib.Path(f"/sys/class/net/{bridge}/bridge/stp_state").read_text().strip() == "1"
    finally:
        run("/usr/bin/virthost", "bridge", "del", bridge, env=environment, check=False)
        run("ip", "link", "delete", bridge, check=False)

    # Metrics count the calls just made (host info: root twice, the member once;
    # the call to the moved-aside socket never reached the agent).
    text = metrics(port)
    assert sample(text, "virthost_calls_total", service="virthost.v1.HostService", method="GetNodeInfo") == 3
    assert sample(text, "virthost_call_errors_total", service="virthost.v1.HostNetworkService", method="CreateBridge",
                  code="PERMISSION_DENIED") == 1
    assert sample(text, "virthost_libvirt_connected") == 1
    assert sample(text, "virthost_build_info", version=version(), libvirt_library=libvirt_headers_version()) == 1
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
    assert missing.value.code == 404

    code, log = daemons.stop(daemon)
    assert code == 0, log
    assert not os.path.exists(SOCKET), "the socket file stayed after SIGTERM"


def unit_setting(name):
    """The values of a setting of the installed virthostd.service."""
    text = pathlib.Path("/lib/systemd/system/virthostd.service").read_text()
    return " ".join(re.findall(rf"^{name}=(.*)$", text, re.M)).split()


def syscall_groups():
    """systemd's system call groups, each expanded to plain names."""
    groups, current = {}, None
    for line in run("systemd-analyze", "syscall-filter").stdout.splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if line.startswith("@"):
            current = groups.setdefault(entry, [])
        elif current is not None:
            current.append(entry)

    def expand(name):
        names = set()
        for entry in groups.get(name, []):
            names |= expand(entry) if entry.startswith("@") else {entry}
        return names
    return expand


def test_the_unit_filters_allow_what_the_daemon_does(package, daemons, tmp_path):
    """PID 1 is not systemd here, so SystemCallFilter= and RestrictAddressFamilies=
    cannot be enforced: trace the installed daemon through its start, calls of
    each kind, a bridge, metrics, an event stream and SIGTERM, and check every
    system call and socket family it used is one the unit allows."""
    trace = tmp_path / "trace"
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k != "VIRTHOST_SOCKET"}
    daemon = daemons.start(["strace", "-f", "-qq", "-o", str(trace), "/usr/bin/virthostd",
                            "--metrics-address", f"127.0.0.1:{port}"], env=environment)
    deadline = time.monotonic() + 30
    while not answers(SOCKET) and time.monotonic() < deadline:
        assert daemon.poll() is None, output(daemon)
        time.sleep(0.1)
    # strace runs the daemon as its child: signals go to the daemon.
    children = pathlib.Path(f"/proc/{daemon.pid}/task/{daemon.pid}/children").read_text().split()
    assert len(children) == 1, children
    traced = int(children[0])
    daemons.adopt(traced)
    bridge = f"vht-{secrets.token_hex(3)}-b"
    try:
        for command in (["host", "info"], ["domain", "list"], ["net", "list"], ["pool", "list"], ["link", "list"],
                        ["bridge", "add", bridge, "--stp"], ["bridge", "del", bridge]):
            run("/usr/bin/virthost", *command, env=environment)
        run("timeout", "2", "/usr/bin/virthost", "events", env=environment, check=False)
        metrics(port)
    finally:
        run("ip", "link", "delete", bridge, check=False)
    code, log = daemons.stop(daemon, pid=traced)
    assert code == 0, log
    calls = re.findall(r"^\d+\s+([a-z_0-9]+)\(", trace.read_text(), re.M)
    assert len(calls) > 1000, "strace saw too little"
    expand = syscall_groups()
    allowed = set()
    for entry in unit_setting("SystemCallFilter"):
        allowed |= expand(entry) if entry.startswith("@") else {entry}
    assert sorted(set(calls) - allowed) == []
    families = set(re.findall(r"\bsocket\((AF_[A-Z0-9]+)", trace.read_text()))
    assert families and families <= set(unit_setting("RestrictAddressFamilies")), families


def test_socket_activation(package, daemons):
    """systemd-socket-activate holds the socket, as virthostd.socket does, and
    starts the daemon on the first connection; the daemon adopts the socket."""
    environment = {k: v for k, v in os.environ.items() if k != "VIRTHOST_SOCKET"}
    launcher = daemons.start(["systemd-socket-activate", "-l", SOCKET, "/usr/bin/virthostd"], env=environment)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(SOCKET) and time.monotonic() < deadline:
            time.sleep(0.05)
        made = os.stat(SOCKET)
        host = run("/usr/bin/virthost", "host", "info", env=environment)
        assert "qemu:///system" in host.stdout
        # Same socket file (not replaced), permissions from the configuration.
        adopted = os.stat(SOCKET)
        assert adopted.st_ino == made.st_ino
        assert stat.S_IMODE(adopted.st_mode) == 0o660 and adopted.st_gid == grp.getgrnam("virthost").gr_gid
        code, log = daemons.stop(launcher)
        assert code == 0, log
        assert "Execing /usr/bin/virthostd" in log
        # The socket belongs to the service manager: the daemon leaves it.
        assert os.path.exists(SOCKET) and os.stat(SOCKET).st_ino == made.st_ino
    finally:
        daemons.stop(launcher)
        if os.path.exists(SOCKET):
            os.unlink(SOCKET)


def test_socket_activation_on_another_path_is_a_configuration_error(package, daemons, tmp_path):
    path = str(tmp_path / "other.sock")
    launcher = daemons.start(["systemd-socket-activate", "-l", path, "/usr/bin/virthostd"])
    deadline = time.monotonic() + 10
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    answers(path)  # the first connection starts the daemon
    launcher.wait(30)
    _, log = daemons.stop(launcher)
    assert launcher.returncode == 78, log
    assert f"passed a socket bound to {path}" in log


def test_purge_leaves_nothing(package):
    result = purge()
    assert result.returncode == 0, result.stdout + result.stderr
    assert not installed()
    leftovers = [path for path in (
        "/etc/virthost", "/run/virthost", "/usr/bin/virthostd", "/usr/bin/virthost", "/usr/share/doc/virthost",
        "/lib/systemd/system/virthostd.service", "/lib/systemd/system/virthostd.socket",
        "/usr/lib/tmpfiles.d/virthost.conf", "/usr/lib/sysusers.d/virthost.conf",
        "/usr/share/man/man8/virthostd.8.gz", "/usr/share/man/man1/virthost.1.gz",
        "/usr/share/bash-completion/completions/virthost") if os.path.lexists(path)]
    assert leftovers == []
    # Nothing enabled, masked or remembered by deb-systemd-helper, nothing in dpkg's database.
    for folder in ("/etc/systemd/system", "/var/lib/systemd/deb-systemd-helper-enabled",
                   "/var/lib/systemd/deb-systemd-helper-masked", "/var/lib/dpkg/info"):
        if os.path.isdir(folder):
            found = [str(p) for p in pathlib.Path(folder).rglob("*") if re.search(r"virthost[d.]", p.name)]
            assert found == [], found
    assert "virthost" not in [group.gr_name for group in grp.getgrall()]
