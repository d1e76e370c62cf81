import Foundation

/// Command-line options of `virthost-bench` (parsed by hand: the tool takes few).
struct Options: Sendable {
    var uri = "test:///default"
    /// Calls per measurement (each operation, each concurrency level).
    var calls = 2000
    /// Calls per measurement for `virsh` (a new process each, ~30 ms).
    var virshCalls = 20
    var concurrency = [1, 8, 64]
    /// Domain whose XML is fetched (default: the first listed).
    var domain: String?
    /// Domain with a responding qemu-guest-agent for the ping rows.
    var agentDomain: String?
    /// Extra host-version calls to the agent before the last RSS reading.
    var soak = 0
    /// Folder holding `virthostd` (default: this executable's folder).
    var binDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().path
    /// Which paths to measure: a (libvirt in-process), b (agent, gRPC), t (agent, ttrpc), c (virsh), d (raw echo),
    /// e (Python grpcio; only with --python).
    var paths: Set<Character> = ["a", "b", "t", "c", "d"]
    /// Run this process's Swift tasks on NIO's event loops (a client-side tuning lever).
    var nioExecutor = false
    /// A Python with grpcio and grpcio-tools: enables path e (scripts/bench_grpcio.py against the agent).
    var python: String?
    /// The grpcio client script (default: scripts/bench_grpcio.py found above --bin-dir or in the current folder).
    var grpcioScript: String?
    /// Only compare BlockingExecutor with NIOThreadPool (see Executors.swift).
    var executorsOnly = false
    /// With a pool name: the scale benchmark (Scale.swift) instead of the latency table.
    var scalePool: String?
    /// Runs per cell of the scale benchmark (medians).
    var scaleRuns = 5

    static let usage = """
        usage: virthost-bench [--connect URI] [--calls N] [--virsh-calls N] [--concurrency 1,8,64]
                              [--domain NAME] [--agent-domain NAME] [--soak N] [--bin-dir DIR] [--paths abtcd]
                              [--nio-executor] [--python PATH-TO-PYTHON [--grpcio-script PATH]] [--executors]
                              [--scale POOL [--scale-runs N]]

        Measures one libvirt URI five ways, side by side: (a) libvirt's C API in-process,
        (b) virthostd through VirtHostClient over gRPC on a Unix socket (a virthostd child is
        started from --bin-dir), (t) the same agent and client over its ttrpc socket, (c) virsh
        as a new process per call, (d) a raw Unix-socket echo, and with --python (e) a Python
        grpcio client (scripts/bench_grpcio.py) against the same agent. Prints p50/p99/max
        latency of one caller, throughput per concurrency level, CPU per call, the ratios b/a,
        b/d, c/b, t/a, b/t, c/t, e/b at p50, and virthostd's RSS. It ends with the hop to a
        libvirt thread and back through the agent's BlockingExecutor and NIO's NIOThreadPool;
        --executors prints only that. --scale POOL measures list and statistics calls on a host with
        many objects instead (scripts/bench-scale.sh, make bench-scale): bare bulk libvirt calls,
        the agent over gRPC and ttrpc, the virthost CLI and virsh as processes, medians of
        --scale-runs runs, and the libvirt round trips of each agent call.
        """

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let v = rest.popFirst() else { throw BenchError("\(flag) needs a value") }
            return v
        }
        func int(_ flag: String) throws -> Int {
            let v = try value(flag)
            guard let n = Int(v.replacingOccurrences(of: "_", with: "")), n >= 0 else {
                throw BenchError("\(flag): not a count: \(v)")
            }
            return n
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--connect", "-c": options.uri = try value(flag)
            case "--calls": options.calls = max(1, try int(flag))
            case "--virsh-calls": options.virshCalls = try int(flag)
            case "--concurrency":
                let list = try value(flag).split(separator: ",").map { Int($0) }
                guard !list.isEmpty, list.allSatisfy({ ($0 ?? 0) > 0 }) else { throw BenchError("--concurrency: e.g. 1,8,64") }
                options.concurrency = list.map { $0! }
            case "--domain": options.domain = try value(flag)
            case "--agent-domain": options.agentDomain = try value(flag)
            case "--soak": options.soak = try int(flag)
            case "--bin-dir": options.binDir = try value(flag)
            case "--paths": options.paths = Set(try value(flag))
            case "--nio-executor": options.nioExecutor = true
            case "--python": options.python = try value(flag)
            case "--grpcio-script": options.grpcioScript = try value(flag)
            case "--executors": options.executorsOnly = true
            case "--scale": options.scalePool = try value(flag)
            case "--scale-runs": options.scaleRuns = max(1, try int(flag))
            case "-h", "--help": print(usage); exit(0)
            default: throw BenchError("unknown option \(flag)\n\(usage)")
            }
        }
        if options.python == nil { options.paths.remove("e") } else if !arguments.contains("--paths") { options.paths.insert("e") }
        return options
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
