#!/usr/bin/env python3
"""Path (e) of virthost-bench: a Python grpcio client against a running virthostd.

    bench_grpcio.py --socket PATH [--calls N] [--concurrency 1,8,64] [--domain NAME]
                    [--agent-domain NAME] [--server-pids PID,PID] [--ops version,networks,...]

virthost-bench starts it (`--python PATH-TO-PYTHON`) against its own agent child
and reads the lines it prints; it can also be run by hand. The virthost.v1
stubs are generated from proto/ into a temporary folder with grpc_tools, the
same way Tests/python/test_grpc_interop.py does (the venv of `make test` has
grpcio and grpcio-tools). One channel is shared by all callers (threads), as
VirtHostClient shares one connection.

For each operation it makes a warm-up, then `--calls` calls with one caller
(latency of each call, CPU of this process and of `--server-pids` from
/proc/PID/stat), then `--calls` calls with each other concurrency level.
Output, one line per item, fields separated by single spaces:

    grpcio-row OP calls=N seconds=S cpu_ns=X srv_cpu_ns=Y rate@1=R rate@8=R ...
    grpcio-latencies OP NS NS NS ...        (the one-caller latencies in ns)
    grpcio-error OP MESSAGE                  (the operation failed or was skipped)

OP is one of version, networks, domains, domainXML, agentPing.
"""
import argparse
import importlib
import os
import pathlib
import shutil
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def generate_stubs():
    """Generates the virthost.v1 modules from proto/ into a temporary folder on sys.path."""
    from grpc_tools import protoc
    out = tempfile.mkdtemp(prefix="vhu-bench-py-")
    wkt = pathlib.Path(protoc.__file__).parent / "_proto"
    protos = sorted(str(p.relative_to(ROOT / "proto")) for p in (ROOT / "proto").rglob("*.proto"))
    if protoc.main(["protoc", f"-I{ROOT / 'proto'}", f"-I{wkt}", f"--python_out={out}",
                    f"--grpc_python_out={out}", *protos]) != 0:
        raise RuntimeError("protoc failed on proto/")
    sys.path.insert(0, out)
    names = ("host_pb2", "host_pb2_grpc", "network_pb2", "network_pb2_grpc",
             "domain_pb2", "domain_pb2_grpc", "guestagent_pb2", "guestagent_pb2_grpc")
    return out, {name: importlib.import_module(f"virthost.v1.{name}") for name in names}


def server_cpu_ns(pids):
    """utime+stime of the server processes in ns (clock-tick resolution), or None."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) * 1_000_000_000 // tick
    return total


def operations(m, channel, domain, agent_domain):
    """The calls VirtHostClient makes for each operation (None: not measurable here)."""
    host = m["host_pb2_grpc"].HostServiceStub(channel)
    networks = m["network_pb2_grpc"].NetworkServiceStub(channel)
    domains = m["domain_pb2_grpc"].DomainServiceStub(channel)
    agents = m["guestagent_pb2_grpc"].GuestAgentServiceStub(channel)
    version = m["host_pb2"].GetVersionRequest()
    list_networks = m["network_pb2"].ListNetworksRequest()
    list_domains = m["domain_pb2"].ListDomainsRequest()
    ops = {
        "version": lambda: host.GetVersion(version, timeout=60),
        "networks": lambda: networks.ListNetworks(list_networks, timeout=60),
        "domains": lambda: domains.ListDomains(list_domains, timeout=60),
        "domainXML": None,
        "agentPing": None,
        # Request-id rows are measured through VirtHostClient only.
        "change": None,
        "changeWithID": None,
        "readWithID": None,
    }
    if domain:
        xml = m["domain_pb2"].GetDomainXMLRequest(domain=m["domain_pb2"].DomainRef(name=domain))
        ops["domainXML"] = lambda: domains.GetDomainXML(xml, timeout=60)
    if agent_domain:
        ping = m["guestagent_pb2"].AgentRequest(domain=m["domain_pb2"].DomainRef(name=agent_domain))
        ops["agentPing"] = lambda: agents.Ping(ping, timeout=60)
    return ops


def run_callers(call, calls, workers, latencies=None):
    """Makes `calls` calls spread over `workers` threads; returns the seconds taken."""
    workers = max(1, min(workers, calls))
    lock = threading.Lock()
    left = [calls]
    failure = []

    def worker():
        clock = time.perf_counter_ns
        while True:
            with lock:
                if left[0] == 0 or failure:
                    return
                left[0] -= 1
            start = clock()
            try:
                call()
            except Exception as error:  # noqa: BLE001 - reported to the bench
                with lock:
                    failure.append(error)
                return
            if latencies is not None:
                latencies.append(clock() - start)

    t0 = time.perf_counter()
    if workers == 1:
        worker()
    else:
        threads = [threading.Thread(target=worker) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    seconds = time.perf_counter() - t0
    if failure:
        raise failure[0]
    return seconds


def describe(error):
    import grpc
    if isinstance(error, grpc.RpcError):
        return f"{error.code().name}: {error.details()}"
    return f"{type(error).__name__}: {error}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", default="1,8,64")
    parser.add_argument("--domain")
    parser.add_argument("--agent-domain")
    parser.add_argument("--server-pids", default="")
    parser.add_argument("--ops", default="version,networks,domains,domainXML,agentPing")
    args = parser.parse_args()
    levels = [int(k) for k in args.concurrency.split(",") if k]
    pids = [int(p) for p in args.server_pids.split(",") if p]

    import grpc
    folder, modules = generate_stubs()
    try:
        with grpc.insecure_channel(f"unix:{args.socket}") as channel:
            ops = operations(modules, channel, args.domain, args.agent_domain)
            for name in args.ops.split(","):
                call = ops.get(name)
                if call is None:
                    print(f"grpcio-error {name} skipped", flush=True)
                    continue
                try:
                    run_callers(call, max(1, min(50, args.calls // 10)), 1)
                    latencies = []
                    cpu0, srv0 = time.process_time_ns(), server_cpu_ns(pids)
                    seconds = run_callers(call, args.calls, 1, latencies)
                    cpu1, srv1 = time.process_time_ns(), server_cpu_ns(pids)
                    rates = {1: args.calls / seconds}
                    for k in levels:
                        if k != 1:
                            rates[k] = args.calls / run_callers(call, args.calls, k)
                except Exception as error:  # noqa: BLE001 - reported to the bench
                    print(f"grpcio-error {name} {describe(error)}".replace("\n", " "), flush=True)
                    continue
                fields = [f"calls={args.calls}", f"seconds={seconds:.6f}",
                          f"cpu_ns={(cpu1 - cpu0) // args.calls}"]
                if pids and srv0 is not None and srv1 is not None:
                    fields.append(f"srv_cpu_ns={(srv1 - srv0) // args.calls}")
                fields += [f"rate@{k}={rates[k]:.1f}" for k in sorted(rates)]
                print(f"grpcio-row {name} " + " ".join(fields), flush=True)
                print(f"grpcio-latencies {name} " + " ".join(map(str, latencies)), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
