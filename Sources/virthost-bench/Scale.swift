import Foundation
import Libvirt
import VirtHostAPI
import VirtHostClient

// `virthost-bench --scale POOL`: list and statistics latency on a host with
// many objects (scripts/bench-scale.sh makes 1,000 machines, 1,000 volumes in
// POOL and 100 networks, and removes them). Six ways per operation, medians:
//   a  the bare bulk libvirt calls in-process, as the agent makes them
//   b  the agent over gRPC (VirtHostClient in this process)
//   t  the agent over ttrpc
//   p  the virthost CLI as a new process (gRPC), table output (walks every page)
//   q  the same over ttrpc: what the CLI picks on a packaged host, where the
//      agent serves /run/virthost/virthost-ttrpc.sock
//   c  virsh as a new process
// Then the libvirt round trips of one agent call of each, counted from
// libvirt's own client log (LIBVIRT_LOG_FILTERS=1:rpc) of a second agent.

/// One scale operation: its bodies per path.
struct ScaleOperation {
    let name: String
    let bare: @Sendable (Connection) throws -> Int
    let agent: @Sendable (VirtHostClient) async throws -> Int
    let cli: [String]
    let virsh: [String]
    /// Runs (untimed) before each agent, CLI and virsh measurement.
    var prepare: @Sendable () throws -> Void = {}
}

/// Sets the modification time of every volume file of `pool` to now: the
/// same files, changed (the agent derives their raw details from the stat).
func touchVolumes(_ connection: Connection, pool: String) throws {
    for volume in try connection.lookupStoragePool(name: pool).listVolumes() {
        let path = try volume.key()
        guard utimensat(AT_FDCWD, path, nil, 0) == 0 else { throw BenchError("touch \(path): errno \(errno)") }
    }
}

/// Replaces every volume file of `pool` by a new sparse file of the same
/// size (a new inode, renamed over it): files the agent has never seen, as
/// in its first list after a start, so each costs a libvirt round trip.
func replaceVolumes(_ connection: Connection, pool: String) throws {
    for volume in try connection.lookupStoragePool(name: pool).listVolumes() {
        let path = try volume.key()
        var info = stat()
        guard stat(path, &info) == 0 else { throw BenchError("stat \(path): errno \(errno)") }
        let fresh = path + ".vhs-new"
        let fd = open(fresh, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw BenchError("create \(fresh): errno \(errno)") }
        let sized = ftruncate(fd, info.st_size)
        close(fd)
        guard sized == 0, rename(fresh, path) == 0 else {
            unlink(fresh)
            throw BenchError("replace \(path): errno \(errno)")
        }
    }
}

func scaleOperations(pool: String, connection: Connection) -> [ScaleOperation] {
    let listVolumesBare: @Sendable (Connection) throws -> Int = { c in
        let p = try c.lookupStoragePool(name: pool)
        _ = try p.xml()
        let volumes = try p.listVolumes()
        for v in volumes { _ = try v.info() }
        return volumes.count
    }
    // As the agent: CPU time only for the running machines.
    let listDomainsBare: @Sendable (Connection) throws -> Int = { c in
        let records = try c.allDomainStats([.state, .balloon, .vcpu], flags: [.noWait])
        let shutOff = UInt64(Libvirt.Domain.State.shutoff.rawValue)
        let running = records.filter { $0.unsigned("state.state") != shutOff && $0.id != nil }.map(\.domain)
        if !running.isEmpty { _ = try c.domainStats(running, .cpuTotal, flags: [.noWait]) }
        _ = try c.domainUUIDs(.transient)
        _ = try c.domainUUIDs(.autostart)
        return records.count
    }
    return [
        ScaleOperation(
            name: "list domains",
            bare: listDomainsBare,
            agent: { try await $0.listDomains().count },
            cli: ["domain", "list"], virsh: ["list", "--all"]),
        // The same list printed as JSON (the response message, indented).
        ScaleOperation(
            name: "list domains json",
            bare: listDomainsBare,
            agent: { try await $0.listDomains().count },
            cli: ["--json", "domain", "list"], virsh: ["list", "--all"]),
        // libvirt has no bulk call: one info per volume. The agent reuses
        // what libvirt said of a file whose stat did not change, and derives
        // it for a raw or qcow2 file that changed; the second row changes
        // every file's mtime before each measured call, the third replaces
        // every file (all misses, as in an agent's first list).
        ScaleOperation(
            name: "list volumes",
            bare: listVolumesBare,
            agent: { try await $0.listVolumes(pool: pool, withFormat: false).count },
            cli: ["vol", "list", pool], virsh: ["vol-list", "--details", pool]),
        ScaleOperation(
            name: "volumes, touched",
            bare: listVolumesBare,
            agent: { try await $0.listVolumes(pool: pool, withFormat: false).count },
            cli: ["vol", "list", pool], virsh: ["vol-list", "--details", pool],
            prepare: { try touchVolumes(connection, pool: pool) }),
        ScaleOperation(
            name: "volumes, new files",
            bare: listVolumesBare,
            agent: { try await $0.listVolumes(pool: pool, withFormat: false).count },
            cli: ["vol", "list", pool], virsh: ["vol-list", "--details", pool],
            prepare: { try replaceVolumes(connection, pool: pool) }),
        ScaleOperation(
            name: "list networks",
            bare: { c in
                let networks = try c.listNetworks(flags: [])
                _ = try c.networkUUIDs(.active)
                _ = try c.networkUUIDs(.transient)
                _ = try c.networkUUIDs(.autostart)
                for n in networks { _ = try n.xml() }
                return networks.count
            },
            agent: { try await $0.listNetworks().count },
            cli: ["net", "list"], virsh: ["net-list", "--all"]),
        ScaleOperation(
            name: "stats (all)",
            bare: { c in
                let records = try c.allDomainStats([.state, .balloon, .vcpu, .interface, .block], flags: [.noWait])
                let running = records.filter { $0.unsigned("state.state") != UInt64(Libvirt.Domain.State.shutoff.rawValue) && $0.id != nil }.map(\.domain)
                if !running.isEmpty { _ = try c.domainStats(running, .cpuTotal, flags: [.noWait]) }
                return records.count
            },
            agent: { try await $0.domainStats().stats.count },
            cli: ["domain", "stats"], virsh: ["domstats"]),
    ]
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Wall time of `body`, in nanoseconds.
func timed(_ body: () async throws -> Void) async rethrows -> Double {
    let start = nowNanos()
    try await body()
    return Double(nowNanos() - start)
}

func runProcess(_ arguments: [String]) throws {
    let pid = try spawn(arguments, output: "/dev/null")
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    guard status == 0 else { throw BenchError("\(arguments.joined(separator: " ")) failed (status \(status))") }
}

func runScale(_ o: Options, pool: String) async throws {
    let connection = try Connection.open(o.uri)
    let runs = max(1, o.scaleRuns)
    let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    print("virthost-bench --scale: \(o.uri), pool \(pool); \(runs) runs per cell (medians); load \(load)")
    print("objects: \(try connection.listDomains().count) machines, \(try connection.lookupStoragePool(name: pool).listVolumes().count) volumes in \(pool), \(try connection.listNetworks().count) networks")

    let agent = try AgentProcess(binDir: o.binDir, uri: o.uri)
    defer { agent.stop() }
    let grpc = try VirtHostClient(socketPath: agent.socketPath, wire: .grpc)
    defer { grpc.close() }
    try await agent.waitReady(grpc)
    let ttrpc = try VirtHostClient(socketPath: agent.ttrpcSocketPath, wire: .ttrpc)
    defer { ttrpc.close() }
    try await agent.waitReady(ttrpc)
    let cli = o.binDir + "/virthost"
    guard FileManager.default.isExecutableFile(atPath: cli) else { throw BenchError("no virthost CLI in \(o.binDir)") }

    // A process that does nothing but start: the floor of any CLI row.
    var floor: [Double] = []
    for _ in 0..<runs { floor.append(try await timed { try runProcess([cli, "--version"]) }) }

    print("")
    print(pad("operation", 20, left: true) + pad("path", 22, left: true) + pad("items", 7) + pad("median", 11) + "   ratios (median)")
    print(String(repeating: "-", count: 102))
    for op in scaleOperations(pool: pool, connection: connection) {
        var cells: [String: (Double, Int)] = [:]
        // Warm every path once (the agent's first list reads the host's capabilities).
        _ = try op.bare(connection)
        _ = try await op.agent(grpc)
        _ = try await op.agent(ttrpc)
        var a: [Double] = [], b: [Double] = [], t: [Double] = [], p: [Double] = [], q: [Double] = [], c: [Double] = []
        var counts: [String: Int] = [:]
        for _ in 0..<runs {
            a.append(try await timed { counts["a"] = try op.bare(connection) })
            try op.prepare()
            b.append(try await timed { counts["b"] = try await op.agent(grpc) })
            try op.prepare()
            t.append(try await timed { counts["t"] = try await op.agent(ttrpc) })
            try op.prepare()
            p.append(try await timed { try runProcess([cli, "--socket", agent.socketPath] + op.cli) })
            try op.prepare()
            q.append(try await timed { try runProcess([cli, "--transport", "ttrpc", "--socket", agent.ttrpcSocketPath] + op.cli) })
            try op.prepare()
            c.append(try await timed { try runProcess(["/usr/bin/virsh", "-c", o.uri] + op.virsh) })
        }
        cells["a"] = (median(a), counts["a"] ?? 0)
        cells["b"] = (median(b), counts["b"] ?? 0)
        cells["t"] = (median(t), counts["t"] ?? 0)
        cells["p"] = (median(p), counts["b"] ?? 0)
        cells["q"] = (median(q), counts["t"] ?? 0)
        cells["c"] = (median(c), counts["a"] ?? 0)
        let names = [
            "a": "a bare libvirt", "b": "b agent gRPC", "t": "t agent ttrpc", "p": "p virthost process", "q": "q same over ttrpc",
            "c": "c virsh process",
        ]
        let (ma, mb, mt, mp, mq, mc) = (cells["a"]!.0, cells["b"]!.0, cells["t"]!.0, cells["p"]!.0, cells["q"]!.0, cells["c"]!.0)
        let ratios: [String: String] = [
            "b": String(format: "b/a %.2f", mb / ma),
            "t": String(format: "t/a %.2f", mt / ma),
            "p": String(format: "c/p %.1f (virsh / virthost)", mc / mp),
            "q": String(format: "c/q %.1f (virsh / virthost)", mc / mq),
        ]
        for key in ["a", "b", "t", "p", "q", "c"] {
            let (value, count) = cells[key]!
            print(pad(op.name, 20, left: true) + pad(names[key]!, 22, left: true) + pad(String(count), 7)
                + pad(formatNanos(value), 11) + "   " + (ratios[key] ?? ""))
        }
        print("")
    }
    print("a virthost process that only prints its version: median \(formatNanos(median(floor)))")
    agent.stop()

    // Round trips: one call of each through an agent that logs libvirt's RPC client.
    print("")
    print("libvirt round trips per agent call (libvirt client log, RPC_CLIENT_MSG_TX_QUEUE; the agent's liveness probe excluded):")
    let log = "/tmp/vhu-bench-\(getpid())-rpc.log"
    unlink(log)
    setenv("LIBVIRT_LOG_FILTERS", "1:rpc.netclient", 1)
    setenv("LIBVIRT_LOG_OUTPUTS", "1:file:\(log)", 1)
    let counting = try AgentProcess(binDir: o.binDir, uri: o.uri)
    unsetenv("LIBVIRT_LOG_FILTERS")
    unsetenv("LIBVIRT_LOG_OUTPUTS")
    defer { counting.stop(); unlink(log) }
    let client = try VirtHostClient(socketPath: counting.socketPath, wire: .grpc)
    defer { client.close() }
    try await counting.waitReady(client)
    for op in scaleOperations(pool: pool, connection: connection) {
        // Warm: every libvirt thread opens its own connection on its first call.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { _ = try await op.agent(client) } }
            try await group.waitForAll()
        }
        try op.prepare()
        let before = roundTrips(log)
        let items = try await op.agent(client)
        try await Task.sleep(for: .milliseconds(50))
        let after = roundTrips(log)
        print("  \(pad(op.name, 20, left: true)) \(after - before) round trips for \(items) items")
    }
}

/// Calls the agent's libvirt client has sent so far, the probe's
/// virConnectGetLibVersion (procedure 157) left out.
func roundTrips(_ log: String) -> Int {
    guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return 0 }
    return text.split(separator: "\n").filter {
        $0.contains("RPC_CLIENT_MSG_TX_QUEUE") && $0.contains("type=0") && !$0.contains("proc=157 ")
    }.count
}
