import Foundation
import Libvirt
import VirtHostClient

/// The operations every path measures, in table order.
enum Operation: String, CaseIterable, Sendable {
    case version = "host version"
    case networks = "list networks"
    case domains = "list domains"
    case domainXML = "domain XML"
    case agentPing = "agent ping"
    /// A call that changes something (a network's autostart flag, toggled),
    /// without and with a request id: the cost of recording its outcome.
    case change = "net autostart"
    case changeWithID = "net autostart +id"
    /// A read with a request id: reads ignore ids, so it should cost nothing.
    case readWithID = "list networks +id"

    /// The operation's name in scripts/bench_grpcio.py's lines.
    var key: String {
        switch self {
        case .version: "version"
        case .networks: "networks"
        case .domains: "domains"
        case .domainXML: "domainXML"
        case .agentPing: "agentPing"
        case .change: "change"
        case .changeWithID: "changeWithID"
        case .readWithID: "readWithID"
        }
    }
}

// MARK: (a) libvirt's C API in-process

/// The libvirt calls the agent's handler makes for each operation: `host version`
/// the four of GetVersion; `list networks` ListNetworks' list plus, per network,
/// its UUID, active, persistent and autostart flags and its XML (the same
/// information the agent returns).
func directBody(_ op: Operation, _ connection: Connection, domain: String?, agentDomain: String?) -> Body? {
    switch op {
    case .version:
        return .sync {
            _ = try connection.libVersion()
            _ = try connection.hypervisorType()
            _ = try connection.hypervisorVersion()
            _ = try? connection.hostname()
        }
    case .networks:
        return .sync {
            for network in try connection.listNetworks() {
                _ = try network.uuid()
                _ = try network.isActive()
                _ = try network.isPersistent()
                _ = try? network.autostart()
                _ = try network.xml()
            }
        }
    case .domains: return .sync { _ = try connection.listDomains() }
    case .domainXML:
        guard let domain else { return nil }
        return .sync { _ = try connection.lookupDomain(name: domain).xml() }
    case .agentPing:
        guard let agentDomain else { return nil }
        return .sync { _ = try connection.lookupDomain(name: agentDomain).agentCommand(#"{"execute":"guest-ping"}"#) }
    case .change:
        guard let name = try? connection.listNetworks().first?.name else { return nil }
        let flip = Flip()
        return .sync { try connection.lookupNetwork(name: name).setAutostart(flip.next()) }
    case .changeWithID, .readWithID:
        return nil
    }
}

/// Alternates true and false, for changes that must change something.
final class Flip: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func next() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        value.toggle()
        return value
    }
}

/// The first network's name, looked up once (by the warm-up call).
final class NetworkName: @unchecked Sendable {
    private let lock = NSLock()
    private var name: String?
    func get(_ client: VirtHostClient) async throws -> String {
        if let known = lock.withLock({ name }) { return known }
        guard let first = try await client.listNetworks().first?.name else { throw BenchError("no network to change") }
        lock.withLock { name = first }
        return first
    }
}

// MARK: (b) the agent through VirtHostClient

func agentBody(_ op: Operation, _ client: VirtHostClient, domain: String?, agentDomain: String?) -> Body? {
    switch op {
    case .version: return .async { _ = try await client.version() }
    case .networks: return .async { _ = try await client.listNetworks() }
    case .domains: return .async { _ = try await client.listDomains() }
    case .domainXML:
        guard let domain else { return nil }
        return .async { _ = try await client.domainXML(domain) }
    case .agentPing:
        guard let agentDomain else { return nil }
        return .async { _ = try await client.pingAgent(domain: agentDomain) }
    case .change:
        let (flip, network) = (Flip(), NetworkName())
        return .async { _ = try await client.setNetworkAutostart(try await network.get(client), flip.next()) }
    case .changeWithID:
        let (flip, network) = (Flip(), NetworkName())
        return .async {
            let name = try await network.get(client)
            _ = try await VirtHostCallOptions.with(requestID: VirtHostCallOptions.newRequestID()) {
                try await client.setNetworkAutostart(name, flip.next())
            }
        }
    case .readWithID:
        return .async {
            _ = try await VirtHostCallOptions.with(requestID: VirtHostCallOptions.newRequestID()) { try await client.listNetworks() }
        }
    }
}

/// A `virthostd` child process serving `uri` on a private socket.
final class AgentProcess: @unchecked Sendable {
    let pid: pid_t
    let socketPath: String
    /// The same agent's ttrpc socket.
    let ttrpcSocketPath: String
    let logPath: String

    init(binDir: String, uri: String) throws {
        let me = getpid()
        socketPath = "/tmp/vhu-bench-\(me).sock"
        ttrpcSocketPath = "/tmp/vhu-bench-\(me)-ttrpc.sock"
        logPath = "/tmp/vhu-bench-\(me).log"
        let binary = binDir + "/virthostd"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchError("no virthostd in \(binDir) (build it: swift build -c release --product virthostd)")
        }
        pid = try spawn(
            [binary, "--config", "/dev/null", "--connect", uri, "--socket", socketPath, "--socket-mode", "0600",
             "--ttrpc-socket", ttrpcSocketPath, "--state-dir", "/tmp/vhu-bench-\(me)-state"],
            output: logPath)
    }

    /// Waits until the agent answers a call.
    func waitReady(_ client: VirtHostClient) async throws {
        let deadline = nowNanos() + 20_000_000_000
        while true {
            do {
                _ = try await client.version()
                return
            } catch {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    throw BenchError("virthostd exited; its log: \(logPath)")
                }
                if nowNanos() > deadline { throw BenchError("virthostd did not answer in 20 s: \(error)") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// SIGTERM, then waits for the process.
    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        unlink(socketPath)
        unlink(ttrpcSocketPath)
        unlink(logPath)
        try? FileManager.default.removeItem(atPath: "/tmp/vhu-bench-\(getpid())-state")
    }
}

// MARK: (c) virsh, a new process per call

func virshArguments(_ op: Operation, uri: String, domain: String?, agentDomain: String?) -> [String]? {
    let base = ["/usr/bin/virsh", "-c", uri]
    switch op {
    case .version: return base + ["version"]
    case .networks: return base + ["net-list", "--all"]
    case .domains: return base + ["list", "--all"]
    case .domainXML: return domain.map { base + ["dumpxml", $0] }
    case .agentPing: return agentDomain.map { base + ["qemu-agent-command", $0, #"{"execute":"guest-ping"}"#] }
    case .change, .changeWithID, .readWithID: return nil
    }
}

func virshBody(_ arguments: [String]) -> Body {
    .sync {
        let pid = try spawn(arguments, output: "/dev/null")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw BenchError("\(arguments.joined(separator: " ")) failed (status \(status))") }
    }
}

/// posix_spawn with stdout and stderr sent to `output`.
func spawn(_ arguments: [String], output: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, arguments[0], &actions, nil, &argv, environ)
    guard rc == 0 else { throw BenchError("cannot start \(arguments[0]): \(String(cString: strerror(rc)))") }
    return pid
}

// MARK: (d) a raw Unix-socket echo round trip

/// An echo server thread per connection; each caller gets its own socket pair.
final class EchoClient: @unchecked Sendable {
    static let size = 64
    private let fd: Int32
    private var buffer = [UInt8](repeating: 7, count: EchoClient.size)

    init() throws {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw BenchError("socketpair failed") }
        fd = fds[0]
        let server = fds[1]
        let thread = Thread {
            var buf = [UInt8](repeating: 0, count: EchoClient.size)
            while true {
                let n = buf.withUnsafeMutableBytes { read(server, $0.baseAddress, EchoClient.size) }
                if n <= 0 { break }
                var sent = 0
                while sent < n {
                    let w = buf.withUnsafeBytes { write(server, $0.baseAddress! + sent, n - sent) }
                    if w <= 0 { break }
                    sent += w
                }
            }
            close(server)
        }
        thread.start()
    }

    deinit { close(fd) }

    func roundTrip() throws {
        let w = buffer.withUnsafeBytes { write(fd, $0.baseAddress, EchoClient.size) }
        guard w == EchoClient.size else { throw BenchError("echo write failed") }
        var got = 0
        while got < EchoClient.size {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, EchoClient.size - got) }
            guard n > 0 else { throw BenchError("echo read failed") }
            got += n
        }
    }
}

/// Each calling thread uses its own echo pair (created on first use).
final class EchoPool: @unchecked Sendable {
    private let lock = NSLock()
    private var byThread: [ObjectIdentifier: EchoClient] = [:]
    func client() throws -> EchoClient {
        let key = ObjectIdentifier(Thread.current)
        if let c = lock.withLock({ byThread[key] }) { return c }
        let c = try EchoClient()
        lock.withLock { byThread[key] = c }
        return c
    }
    func body() -> Body { .sync { try self.client().roundTrip() } }
}
