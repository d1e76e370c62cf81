"""Smoke test of virthost-bench: a few hundred calls against libvirt's test
driver, checking that it prints a complete table. No timing is asserted:
benchmarks are not tests (see BENCHMARKS.md and `make bench`).
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN_DIR = pathlib.Path(os.environ.get("VIRTHOST_BIN_DIR", ROOT / ".build" / "debug"))
OPERATIONS = ["host version", "list networks", "list domains", "domain XML", "agent ping"]


def test_bench_prints_a_complete_table():
    bench = BIN_DIR / "virthost-bench"
    if not bench.exists():
        pytest.skip(f"{bench} is missing: run swift build first")
    paths = "abcd" if shutil.which("virsh") else "abd"
    # Path e (grpcio) when this Python can generate the stubs (the venv of make test can).
    try:
        import grpc_tools  # noqa: F401
        paths += "e"
        python = ["--python", sys.executable, "--grpcio-script", str(ROOT / "scripts" / "bench_grpcio.py")]
    except ImportError:
        python = []
    result = subprocess.run(
        [str(bench), "--connect", "test:///default", "--calls", "200", "--virsh-calls", "2",
         "--concurrency", "1,8,64", "--paths", paths, "--bin-dir", str(BIN_DIR), *python],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr + result.stdout
    out = result.stdout
    header = next(line for line in out.splitlines() if line.startswith("operation"))
    for column in ("p50", "p99", "max", "/s @1", "/s @8", "/s @64", "cpu/call", "srv cpu", "p50 ratios"):
        assert column in header, out
    assert re.search(r"^\(any\)\s+d raw echo\s+1000\s", out, re.M), out
    for op in OPERATIONS[:4]:
        agent = re.search(rf"^{op}\s+b agent\s+200\s+\S+s\s.*b/a [\d.]+, b/d \d+.*$", out, re.M)
        assert agent, f"no agent row with ratios for {op}:\n{out}"
        assert re.search(rf"^{op}\s+a libvirt\s+200\s", out, re.M), out
        if "c" in paths:
            assert re.search(rf"^{op}\s+c virsh\s+2\s", out, re.M), out
            assert "c/b" in agent.group(0), out
        if "e" in paths:
            assert re.search(rf"^{op}\s+e grpcio\s+200\s+\S+s\s.*e/b [\d.]+, e/a [\d.]+$", out, re.M), out
    assert re.search(r"^agent ping\s+b agent\s+skipped: no guest", out, re.M), out
    if "e" in paths:
        assert re.search(r"^agent ping\s+e grpcio\s+skipped: no guest", out, re.M), out
    assert "failed" not in out, out
    assert re.search(r"virthostd RSS: idle [\d.]+ MB, under load \(peak\) [\d.]+ MB, after \d+ calls [\d.]+ MB", out), out
