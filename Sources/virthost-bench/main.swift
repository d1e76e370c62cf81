import Foundation
import Libvirt
import NIOCore
import NIOPosix
import VirtHostClient

// virthost-bench: see Options.usage. Everything runs against this machine's own sockets.

let options: Options
do {
    options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("virthost-bench: \(error)\n".utf8))
    exit(2)
}
if options.nioExecutor && !NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() {
    FileHandle.standardError.write(Data("virthost-bench: could not install NIO as the global executor\n".utf8))
}

func libvirtdPID(_ uri: String) -> Int32? {
    guard !uri.hasPrefix("test:") else { return nil }
    guard let text = try? String(contentsOfFile: "/run/libvirtd.pid", encoding: .utf8) else { return nil }
    return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
}

func run() async throws {
    let o = options
    let connection = try Connection.open(o.uri)
    if o.executorsOnly {
        try await measureExecutors(connection, calls: o.calls)
        return
    }
    let domain = try o.domain ?? connection.listDomains().first.map { $0.name }
    let libvirtd = libvirtdPID(o.uri).map { [$0] } ?? []

    let kernel = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?
        .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
    let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    print("virthost-bench: \(o.uri), \(o.calls) calls per measurement (virsh \(o.virshCalls)), callers \(o.concurrency.map(String.init).joined(separator: ","))\(o.nioExecutor ? ", client tasks on NIO" : "")")
    print("machine: \(ProcessInfo.processInfo.activeProcessorCount) CPUs, Linux \(kernel), load \(load)")
    print("domain for XML: \(domain ?? "none"); agent ping: \(o.agentDomain ?? "no --agent-domain")")

    var agent: AgentProcess?
    var client: VirtHostClient?
    var ttrpcClient: VirtHostClient?
    if o.paths.contains("b") || o.paths.contains("t") || o.paths.contains("e") {
        let a = try AgentProcess(binDir: o.binDir, uri: o.uri)
        agent = a
        let c = try VirtHostClient(socketPath: a.socketPath, wire: .grpc)
        try await a.waitReady(c)
        if o.paths.contains("b") { client = c } else { c.close() }
        if o.paths.contains("t") {
            let t = try VirtHostClient(socketPath: a.ttrpcSocketPath, wire: .ttrpc)
            ttrpcClient = t
            try await a.waitReady(t)
        }
    }
    defer {
        client?.close()
        ttrpcClient?.close()
        agent?.stop()
    }
    let agentServers = (agent.map { [$0.pid] } ?? []) + libvirtd
    var agentCalls = 0
    let idleRSS = agent.flatMap { residentKiB($0.pid) }
    let peakRSS = PeakSampler(pid: agent?.pid)

    // (e) runs first, in one Python process for all operations (it generates its stubs once).
    var grpcio: [String: GrpcioResult] = [:]
    var grpcioNote = "skipped"
    if o.paths.contains("e"), let python = o.python, let agent {
        if let script = o.grpcioScript ?? findGrpcioScript(binDir: o.binDir) {
            do {
                grpcio = try runGrpcio(
                    python: python, script: script, socket: agent.socketPath, calls: o.calls,
                    concurrency: o.concurrency, domain: domain, agentDomain: o.agentDomain, servers: agentServers)
                for case .sample(let s, let rates) in grpcio.values {
                    agentCalls += s.calls + (rates.count - 1) * o.calls + max(1, min(50, o.calls / 10))
                }
            } catch {
                grpcioNote = "failed: \(error)"
                FileHandle.standardError.write(Data("virthost-bench: grpcio: \(error)\n".utf8))
            }
        } else {
            grpcioNote = "skipped: scripts/bench_grpcio.py not found (--grpcio-script)"
        }
    }

    func measureRow(_ op: Operation, _ path: String, _ body: Body?, calls: Int, servers: [Int32], note: String) async -> Row {
        guard let body else { return Row(operation: op.rawValue, path: path, note: note) }
        var row = Row(operation: op.rawValue, path: path)
        do {
            // Warm up, then one caller for latency and CPU, then each concurrency level.
            _ = try await measure(body, calls: max(1, min(50, calls / 10)), workers: 1, servers: [])
            let sample = try await measure(body, calls: calls, workers: 1, servers: servers)
            row.sample = sample
            for k in o.concurrency {
                row.throughput[k] = k == 1 ? sample.throughput
                    : try await measure(body, calls: calls, workers: k, servers: []).throughput
            }
        } catch {
            row.note = "failed: \(error)"
            FileHandle.standardError.write(Data("virthost-bench: \(op.rawValue), \(path): \(error)\n".utf8))
        }
        return row
    }

    var rows: [Row] = []
    var echoRow: Row?
    if o.paths.contains("d") {
        let pool = EchoPool()
        echoRow = await measureRow(.version, "d raw echo", pool.body(), calls: o.calls * 5, servers: [], note: "")
        echoRow?.operation = "(any)"
        echoRow?.path = "d raw echo"
    }
    for op in Operation.allCases {
        let skip = switch op {
        case .agentPing: "skipped: no guest (--agent-domain)"
        case .change, .changeWithID, .readWithID: "n/a (agent paths only; a: no network)"
        default: "skipped: no domain"
        }
        var block: [String: Row] = [:]
        if o.paths.contains("a") {
            block["a"] = await measureRow(op, "a libvirt", directBody(op, connection, domain: domain, agentDomain: o.agentDomain),
                                          calls: o.calls, servers: libvirtd, note: skip)
        }
        if let client {
            block["b"] = await measureRow(op, "b agent", agentBody(op, client, domain: domain, agentDomain: o.agentDomain),
                                          calls: o.calls, servers: agentServers, note: skip)
            if block["b"]?.sample != nil {
                agentCalls += o.calls * (1 + o.concurrency.filter { $0 != 1 }.count) + max(1, min(50, o.calls / 10))
            }
        }
        if let ttrpcClient {
            block["t"] = await measureRow(op, "t agent ttrpc", agentBody(op, ttrpcClient, domain: domain, agentDomain: o.agentDomain),
                                          calls: o.calls, servers: agentServers, note: skip)
            if block["t"]?.sample != nil {
                agentCalls += o.calls * (1 + o.concurrency.filter { $0 != 1 }.count) + max(1, min(50, o.calls / 10))
            }
        }
        if o.paths.contains("e") {
            var row = Row(operation: op.rawValue, path: "e grpcio")
            switch grpcio[op.key] {
            case .sample(let sample, let rates)?:
                row.sample = sample
                row.throughput = rates
            case .note(let note)?:
                row.note = note == "skipped" ? skip : note
            case nil:
                row.note = grpcioNote
            }
            block["e"] = row
        }
        if o.paths.contains("c") {
            let args = virshArguments(op, uri: o.uri, domain: domain, agentDomain: o.agentDomain)
            block["c"] = o.virshCalls == 0
                ? Row(operation: op.rawValue, path: "c virsh", note: "skipped: --virsh-calls 0")
                : await measureRow(op, "c virsh", args.map(virshBody), calls: o.virshCalls, servers: libvirtd, note: skip)
        }
        func p50(_ r: Row?) -> Double? { r?.sample.map { Double($0.histogram.valueAtPercentile(50)) } }
        var ratios: [String] = []
        if let b = p50(block["b"]) {
            if let a = p50(block["a"]) { ratios.append(String(format: "b/a %.1f", b / a)) }
            if let d = p50(echoRow) { ratios.append(String(format: "b/d %.0f", b / d)) }
            if let c = p50(block["c"]) { ratios.append(String(format: "c/b %.0f", c / b)) }
        }
        block["b"]?.ratios = ratios.joined(separator: ", ")
        if let t = p50(block["t"]) {
            var tRatios: [String] = []
            if let a = p50(block["a"]) { tRatios.append(String(format: "t/a %.2f", t / a)) }
            if let b = p50(block["b"]) { tRatios.append(String(format: "b/t %.1f", b / t)) }
            if let c = p50(block["c"]) { tRatios.append(String(format: "c/t %.0f", c / t)) }
            block["t"]?.ratios = tRatios.joined(separator: ", ")
        }
        if let e = p50(block["e"]) {
            var eRatios: [String] = []
            if let b = p50(block["b"]) { eRatios.append(String(format: "e/b %.2f", e / b)) }
            if let a = p50(block["a"]) { eRatios.append(String(format: "e/a %.1f", e / a)) }
            block["e"]?.ratios = eRatios.joined(separator: ", ")
        }
        rows += ["a", "b", "t", "e", "c"].compactMap { block[$0] }
    }
    if let client, o.soak > 0 {
        print("soak: \(o.soak) host-version calls to the agent with 8 callers...")
        let s = try await measure(agentBody(.version, client, domain: nil, agentDomain: nil)!, calls: o.soak, workers: 8, servers: [])
        agentCalls += o.soak
        print(String(format: "soak: %.0f calls/s, p50 %@, p99 %@", s.throughput,
                     formatNanos(Double(s.histogram.valueAtPercentile(50))), formatNanos(Double(s.histogram.valueAtPercentile(99)))))
    }
    peakRSS.stop()
    print("")
    printTable((echoRow.map { [$0] } ?? []) + rows, concurrency: o.concurrency)
    print("")
    print("cpu/call: this process (+ virsh children; the Python process for e); srv cpu: virthostd + libvirtd for b, t and e, libvirtd for a and c (10 ms ticks)")
    if o.paths.contains("a") {
        // What a bare virConnectListAllNetworks costs, next to the full listing of row a.
        let bare = try await measure(.sync { _ = try connection.listNetworks() }, calls: o.calls, workers: 1, servers: [])
        print("list networks, bare virConnectListAllNetworks (names only): p50 \(formatNanos(Double(bare.histogram.valueAtPercentile(50))))")
    }
    print("")
    try await measureExecutors(connection, calls: o.calls)
    if let agent {
        func mb(_ k: Int?) -> String { k.map { String(format: "%.1f MB", Double($0) / 1024) } ?? "?" }
        print("virthostd RSS: idle \(mb(idleRSS)), under load (peak) \(mb(peakRSS.peak)), after \(agentCalls) calls \(mb(residentKiB(agent.pid)))")
    }
}

/// Samples a process's RSS every 100 ms and keeps the highest.
final class PeakSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var highest: Int?
    private var running = true
    init(pid: Int32?) {
        guard let pid else { running = false; return }
        Thread { [self] in
            while lock.withLock({ running }) {
                if let k = residentKiB(pid) { lock.withLock { highest = max(highest ?? 0, k) } }
                usleep(100_000)
            }
        }.start()
    }
    var peak: Int? { lock.withLock { highest } }
    func stop() { lock.withLock { running = false } }
}

do {
    try await run()
} catch {
    FileHandle.standardError.write(Data("virthost-bench: \(error)\n".utf8))
    exit(1)
}
