"""`make run`'s demo (scripts/run-demo.sh): it serves the demo host on
./.run/virthost.sock and ./.run/virthost-ttrpc.sock, shows the CLI talking to
it over both, and on SIGTERM stops the agent and removes both sockets."""
import os
import pathlib
import signal
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(os.environ.get("VIRTHOST_BIN_DIR", ROOT / ".build" / "debug"))


def test_the_demo_serves_both_wires_and_cleans_up():
    if (ROOT / ".run" / "virthost.sock").exists():
        pytest.skip("a demo agent already serves ./.run/virthost.sock (make run in another terminal?)")
    demo = subprocess.Popen([str(ROOT / "scripts" / "run-demo.sh"), str(BIN_DIR)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 60
        for line in demo.stdout:
            lines.append(line)
            if "Ctrl-C stops the agent" in line or time.monotonic() > deadline:
                break
        output = "".join(lines)
        assert "Ctrl-C stops the agent" in output, output
        assert "demo-isolated" in output and "web-1" in output  # net list, domain list over gRPC
        assert "--transport ttrpc" in output and "Hypervisor:      TEST" in output, output  # host info over ttrpc
        assert (ROOT / ".run" / "virthost-ttrpc.sock").is_socket()
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=30)
    assert not (ROOT / ".run" / "virthost.sock").exists()
    assert not (ROOT / ".run" / "virthost-ttrpc.sock").exists()
