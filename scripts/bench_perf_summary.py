#!/usr/bin/env python3
"""Sorts the samples of one process in a `perf record -g` profile into where the time goes.

    perf record -F 2000 -g -o perf.data -- .build/release/virthost-bench --paths b --concurrency 1 --calls 3000
    perf script -i perf.data -F comm,pid,tid,ip,sym,dso | swift demangle | scripts/bench_perf_summary.py PID

PID is virthostd's process id (`perf script -F pid,comm | grep -m1 virthostd`).
Each sample is charged to the first category that matches: the kernel
scheduler (a thread going to sleep or being switched in), a wake-up of another
thread (sem_post from the Swift task pool's enqueue, eventfd of a NIO loop,
futex), else the innermost frame of a known module (NIOHTTP2, grpc-swift,
SwiftProtobuf, TTRPC, the agent's handlers, libvirt, NIO, the task runtime).
Runtime functions (retain/release, malloc) go to the module that called them.
Used for the profiles in BENCHMARKS.md.
"""
import sys, re, collections
pid = sys.argv[1]
cats = collections.Counter(); total = 0
MODS = [("NIOHTTP2", "HTTP/2 framing, HPACK, stream state (NIOHTTP2)"), ("NIOHPACK", "HTTP/2 framing, HPACK, stream state (NIOHTTP2)"),
        ("GRPCNIOTransport", "gRPC transport + core (grpc-swift-2)"), ("GRPCCore", "gRPC transport + core (grpc-swift-2)"),
        ("SwiftProtobuf", "protobuf encode/decode"), ("VirtHostAPI", "protobuf encode/decode"),
        ("TTRPC", "ttrpc framing/dispatch"), ("VirtHostServer", "agent handlers, interceptors, hypervisor.run"),
        ("Libvirt.", "libvirt (client library, RPC to libvirtd, XML)"), ("libvirt.so", "libvirt (client library, RPC to libvirtd, XML)"),
        ("libxml2", "libvirt (client library, RPC to libvirtd, XML)"), ("LibXML", "libvirt (client library, RPC to libvirtd, XML)"),
        ("NIOCore", "NIO event loop, channel pipeline"), ("NIOPosix", "NIO event loop, channel pipeline"),
        ("libswift_Concurrency", "Swift task runtime (enqueue, switch, alloc)"), ("libdispatch", "Swift task runtime (enqueue, switch, alloc)")]
def classify(frames):
    s = "\n".join(frames); leaf = frames[0] if frames else ""
    if "kernel.kallsyms" in leaf:
        if re.search(r"finish_task_switch|__schedule", leaf):
            return "thread sleeps / is woken (context switch)"
        if re.search(r"try_to_wake_up|wake_up|futex_wake|sem_post|eventfd", s):
            if "sem_post" in s: return "waking a thread: sem_post (task enqueue on the global pool)"
            if "eventfd" in s: return "waking a thread: eventfd (NIO loop)"
            if "sock" in s or "unix_stream" in s: return "waking a thread: socket write"
            return "waking a thread: futex (locks, condvars)"
    for f in frames:
        for key, cat in MODS:
            if key in f:
                return cat
    if "kernel.kallsyms" in leaf: return "kernel, other"
    return "other (" + (re.search(r"\(([^)]*)\)\s*$", leaf).group(1).split("/")[-1] if re.search(r"\(([^)]*)\)\s*$", leaf) else "?") + ")"
cur = None; frames = []
def flush():
    global total
    if cur: 
        total += 1; cats[classify(frames)] += 1
for line in sys.stdin:
    if not line.strip():
        flush(); cur = None; frames = []; continue
    if not line[0].isspace():
        m = re.search(r"\s(\d+)/(\d+)\s", line); cur = bool(m and m.group(1) == pid); frames = []; continue
    if cur: frames.append(line.strip())
flush()
for c, n in cats.most_common(): print(f"{100*n/total:5.1f}%  {c}")
print("samples", total)
