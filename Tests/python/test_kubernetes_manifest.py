"""packaging/kubernetes/virthostd.yaml, parsed and checked: a DaemonSet that runs
virthostd on libvirt nodes with the host's /run/libvirt and /run/virthost, and
its configuration from a ConfigMap that virthostd itself accepts."""
import os
import pathlib
import re
import subprocess
import tempfile

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "packaging" / "kubernetes" / "virthostd.yaml"
BIN_DIR = pathlib.Path(os.environ.get("VIRTHOST_BIN_DIR", ROOT / ".build" / "debug"))


@pytest.fixture(scope="module")
def documents():
    with MANIFEST.open() as stream:
        loaded = [d for d in yaml.safe_load_all(stream) if d is not None]
    return {d["kind"]: d for d in loaded}


@pytest.fixture(scope="module")
def daemonset(documents):
    return documents["DaemonSet"]


def version():
    text = (ROOT / "Sources/VirtHostServer/Daemon/DaemonVersion.swift").read_text()
    return re.search(r'static let current = "([^"]+)"', text).group(1)


def test_kinds_and_namespace(documents):
    assert set(documents) == {"Namespace", "ConfigMap", "DaemonSet"}
    namespace = documents["Namespace"]["metadata"]["name"]
    for kind in ("ConfigMap", "DaemonSet"):
        assert documents[kind]["metadata"]["namespace"] == namespace
    assert documents["DaemonSet"]["apiVersion"] == "apps/v1"
    assert documents["ConfigMap"]["apiVersion"] == "v1"


def test_selector_matches_the_pods(daemonset):
    selector = daemonset["spec"]["selector"]["matchLabels"]
    labels = daemonset["spec"]["template"]["metadata"]["labels"]
    assert selector and all(labels.get(k) == v for k, v in selector.items())


def test_runs_on_libvirt_nodes_in_the_host_network(daemonset):
    pod = daemonset["spec"]["template"]["spec"]
    assert pod["nodeSelector"], "the DaemonSet must be limited to libvirt nodes"
    # Host links live in the node's network namespace.
    assert pod["hostNetwork"] is True
    assert pod["dnsPolicy"] == "ClusterFirstWithHostNet"
    assert pod["terminationGracePeriodSeconds"] >= 15


def container(daemonset):
    containers = daemonset["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def test_host_paths_for_libvirt_and_the_socket(daemonset):
    pod = daemonset["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in container(daemonset)["volumeMounts"]}
    for path in ("/run/libvirt", "/run/virthost"):
        assert path in mounts, f"{path} is not mounted"
        volume = volumes[mounts[path]["name"]]
        assert volume["hostPath"]["path"] == path, f"{path} must be the node's own"
        assert not mounts[path].get("readOnly", False), f"{path} must be writable (sockets)"
    assert volumes[mounts["/run/libvirt"]["name"]]["hostPath"]["type"] == "Directory"
    assert volumes[mounts["/run/virthost"]["name"]]["hostPath"]["type"] == "DirectoryOrCreate"


def configuration(documents, daemonset):
    """The TOML the pod reads, found through its command, mount and ConfigMap."""
    command = container(daemonset)["command"]
    assert command[0] == "/usr/bin/virthostd"
    path = pathlib.PurePosixPath(command[command.index("--config") + 1])
    mounts = {m["mountPath"]: m for m in container(daemonset)["volumeMounts"]}
    mount = mounts[str(path.parent)]
    assert mount["readOnly"] is True
    volume = {v["name"]: v for v in daemonset["spec"]["template"]["spec"]["volumes"]}[mount["name"]]
    config_map = documents["ConfigMap"]
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    return config_map["data"][path.name]


def test_configuration_is_accepted_by_virthostd(documents, daemonset):
    text = configuration(documents, daemonset)
    binary = BIN_DIR / "virthostd"
    assert binary.exists(), f"{binary} is missing: run swift build first"
    with tempfile.NamedTemporaryFile("w", prefix="vhu-k8s-", suffix=".toml") as file:
        file.write(text)
        file.flush()
        checked = subprocess.run([str(binary), "--check-config", "--config", file.name],
                                 capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    # The socket on the shared host path, and a group by number (names differ between image and node).
    assert "socket: /run/virthost/virthost.sock mode 660 group 0" in checked.stdout
    assert "connect: qemu:///system" in checked.stdout
    assert "metrics: http://127.0.0.1:9479/metrics" in checked.stdout


def test_probes_use_the_configured_metrics_address_and_socket(documents, daemonset):
    text = configuration(documents, daemonset)
    address = re.search(r'^address = "([^"]+)"', text, re.M).group(1)
    host, port = address.rsplit(":", 1)
    live = container(daemonset)["livenessProbe"]["httpGet"]
    assert (live["host"], str(live["port"]), live["path"]) == (host, port, "/metrics")
    ready = container(daemonset)["readinessProbe"]["exec"]["command"]
    assert ready[0] == "/usr/bin/virthost" and ready[ready.index("--socket") + 1] == "/run/virthost/virthost.sock"


def test_image_is_the_packaged_version(daemonset):
    image = container(daemonset)["image"]
    assert image.endswith(f":{version()}"), f"{image} is not tagged {version()}"
    containerfile = (ROOT / "packaging/kubernetes/Containerfile").read_text()
    assert "virthost_*_amd64.deb" in containerfile and 'ENTRYPOINT ["/usr/bin/virthostd"]' in containerfile


def test_guide_covers_node_agents():
    guide = (ROOT / "packaging/kubernetes/README.md").read_text()
    for words in ("unix:///run/virthost/virthost.sock", "SO_PEERCRED", "PERMISSION_DENIED", "hostPath", "sequence number"):
        assert words.lower() in guide.lower(), words
