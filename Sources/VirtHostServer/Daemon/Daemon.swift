import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import ServiceLifecycle
import TTRPC

/// What the agent serves, where, and for which libvirt.
public struct DaemonSettings: Sendable {
    /// libvirt URI, e.g. `qemu:///system` or `test:///default`.
    public var libvirtURI: String
    /// Path of the gRPC Unix socket.
    public var socketPath: String
    /// Mode of the socket file.
    public var socketMode: mode_t
    /// Group of the socket file (name or number); nil keeps the process's group.
    public var socketGroup: String?
    /// Threads that may block in libvirt at once.
    public var libvirtThreads: Int
    /// Who gets which role.
    public var access: AccessPolicy = AccessPolicy()
    /// Message size, concurrency and default deadline limits.
    public var limits: CallLimits = CallLimits()
    /// An optional second socket on which every caller is at most a reader.
    public var readOnlySocketPath: String?
    /// Mode of the read-only socket file.
    public var readOnlySocketMode: mode_t = 0o666
    /// An optional socket speaking containerd's ttrpc instead of HTTP/2
    /// gRPC: the same services, access control, limits and audit, with the
    /// main socket's mode and group.
    public var ttrpcSocketPath: String?
    /// How many past events are kept for watchers that resume.
    public var eventBuffer: Int = 10_000
    /// Which raw guest-agent commands are forwarded.
    public var guestAgentPolicy: GuestAgentPolicy = GuestAgentPolicy()
    /// Where calls are counted and timed (see MetricsInterceptor); nil counts nothing.
    public var metrics: DaemonMetrics?
    /// The folder of the state database (request ids, operations); nil keeps
    /// it in memory (lost when the agent stops: for tests and the demo).
    public var stateDirectory: String?
    /// How long a request id's outcome is kept for retries.
    public var requestTTL: Duration = .seconds(24 * 3600)
    /// Listening sockets passed by the service manager, by the path they are
    /// bound to (see SocketActivation): such a listener adopts the socket
    /// instead of binding one, and leaves the file in place when it stops.
    public var inheritedSockets: [String: Int32] = [:]

    public init(
        libvirtURI: String = "qemu:///system", socketPath: String = "/run/virthost/virthost.sock",
        socketMode: mode_t = 0o660, socketGroup: String? = nil, libvirtThreads: Int = 4
    ) {
        self.libvirtURI = libvirtURI
        self.socketPath = socketPath
        self.socketMode = socketMode
        self.socketGroup = socketGroup
        self.libvirtThreads = libvirtThreads
    }
}

/// The daemon: one libvirt connection served as gRPC on a Unix socket.
///
/// Run it under a ServiceGroup for graceful SIGTERM handling: on graceful
/// shutdown it stops accepting calls, lets in-flight calls finish, and removes
/// its socket file. Cancelling ``run()`` cancels in-flight calls.
public final class Daemon: Service, Sendable {
    public let configuration: DaemonSettings
    public let hypervisor: HypervisorConnection
    /// The state database and what lives in it.
    public let state: StateDatabase
    public let requests: RequestLedger
    public let operations: OperationLedger
    /// The agent's record of backups (volumes, checkpoints, parents).
    let backups: BackupLedger
    /// Bridges over uplinks waiting for a confirmation.
    let pendingBridges: PendingBridges
    private let logger: Logger
    private let onReady: @Sendable (String) -> Void
    /// Ends open health Watch streams when the agent stops.
    private let healthShutdown = HealthShutdown()

    /// - Parameter onReady: called with the socket path once it accepts connections.
    /// - Throws: ``StateDatabase/OpenError`` when the state database cannot
    ///   be used (damaged, newer schema, unwritable folder).
    public init(
        configuration: DaemonSettings, logger: Logger = Logger(label: "virthost"),
        onReady: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.onReady = onReady
        self.hypervisor = HypervisorConnection(
            uri: configuration.libvirtURI, threads: configuration.libvirtThreads,
            events: EventHub(capacity: configuration.eventBuffer), logger: logger)
        state = try StateDatabase(
            path: configuration.stateDirectory.map { ($0 as NSString).appendingPathComponent(StateDatabase.fileName) } ?? ":memory:")
        requests = RequestLedger(database: state, ttl: configuration.requestTTL)
        operations = OperationLedger(database: state, events: hypervisor.events)
        backups = BackupLedger(database: state)
        pendingBridges = PendingBridges(database: state, logger: logger)
    }

    /// The services this agent serves: one per area of the v1 contract,
    /// then the standard gRPC health and reflection services.
    public func services() -> [any RegistrableRPCService] {
        let reflection = ReflectionService(served: MethodRoles.services.union(HealthService.standardServices))
        return [
            HostService(hypervisor: hypervisor),
            DomainService(hypervisor: hypervisor),
            NetworkService(hypervisor: hypervisor),
            StorageService(hypervisor: hypervisor, operations: operations),
            OperationService(operations: operations),
            HostNetworkService(hypervisor: hypervisor, pending: pendingBridges),
            NodeDeviceService(hypervisor: hypervisor),
            GuestAgentService(
                hypervisor: hypervisor, policy: configuration.guestAgentPolicy,
                concurrentCalls: max(1, configuration.libvirtThreads - 1)),
            SnapshotService(hypervisor: hypervisor, policy: configuration.guestAgentPolicy),
            diskJobs,
            EventService(hub: hypervisor.events),
            HealthService(hypervisor: hypervisor, shutdown: healthShutdown),
            reflection,
            ReflectionServiceV1Alpha(v1: reflection),
        ]
    }

    public func run() async throws {
        // The main socket grants any role; the read-only one at most reader.
        var listeners = [(path: configuration.socketPath, mode: configuration.socketMode, cap: Role.admin)]
        if let readOnly = configuration.readOnlySocketPath {
            listeners.append((readOnly, configuration.readOnlySocketMode, .reader))
        }
        for listener in listeners where configuration.inheritedSockets[listener.path] == nil {
            try SocketFile.prepare(listener.path)
        }
        try await recoverState()
        let stamper = PeerCredentialStamper(maxMessageBytes: configuration.limits.maxMessageBytes)
        let gate = CallGate(limits: configuration.limits)
        let services = services()
        let deadline = configuration.limits.defaultDeadlineSeconds > 0
            ? Duration.milliseconds(Int64(configuration.limits.defaultDeadlineSeconds * 1000)) : nil
        var audit = logger
        audit[metadataKey: "log"] = "audit"
        let interceptors = { (cap: Role) -> [any ServerInterceptor] in
            (self.configuration.metrics.map { [MetricsInterceptor(metrics: $0)] as [any ServerInterceptor] } ?? []) + [
                AccessInterceptor(
                    policy: self.configuration.access, socketCap: cap, gate: gate, defaultDeadline: deadline, audit: audit,
                    idempotency: IdempotencyInterceptor(ledger: self.requests)),
            ]
        }
        var servers: [any Listener] = listeners.map { listener in
            GRPCServer(
                transport: configuration.inheritedSockets[listener.path].map {
                    HTTP2ServerTransport.Posix(
                        listeningSocketDescriptor: Int($0), transportSecurity: .plaintext,
                        config: transportConfiguration(stamper: stamper))
                } ?? .http2NIOPosix(
                    address: .unixDomainSocket(path: listener.path), transportSecurity: .plaintext,
                    config: transportConfiguration(stamper: stamper)),
                services: services,
                interceptors: interceptors(listener.cap))
        }
        if let path = configuration.ttrpcSocketPath {
            if configuration.inheritedSockets[path] == nil { try SocketFile.prepare(path) }
            var config = TTRPCServerTransport.Config()
            config.maxFrameBytes = min(TTRPCFrame.maxDataLength, configuration.limits.maxMessageBytes + 4096)
            config.reservedMetadataPrefix = PeerIdentity.prefix
            config.deadlineMetadataKey = PeerIdentity.timeoutKey
            config.connectionMetadata = { channel in stamper.identify(channel).map { $0.metadata } }
            let address: TTRPCServerTransport.Address = configuration.inheritedSockets[path].map {
                .listeningSocket($0, path: path)
            } ?? .unixDomainSocket(path: path)
            let transport = TTRPCServerTransport(address: address, config: config)
            servers.append(TTRPCListener(
                server: GRPCServer(transport: transport, services: services, interceptors: interceptors(.admin)),
                transport: transport))
            listeners.append((path, configuration.socketMode, .admin))
        }
        defer {
            for listener in listeners where configuration.inheritedSockets[listener.path] == nil && unlink(listener.path) == 0 {
                logger.info("removed socket", metadata: ["socket": "\(listener.path)"])
            }
        }
        let events = hypervisor.events
        let healthShutdown = healthShutdown
        try await withThrowingDiscardingTaskGroup { group in
            for server in servers {
                group.addTask {
                    try await withGracefulShutdownHandler {
                        try await server.serve()
                    } onGracefulShutdown: {
                        server.beginGracefulShutdown()
                        events.finishAll()
                        healthShutdown.begin()
                    }
                }
            }
            for (server, listener) in zip(servers, listeners) {
                guard try await server.listening() else { return }
                do {
                    try SocketFile.applyPermissions(listener.path, mode: listener.mode, group: configuration.socketGroup)
                } catch {
                    for server in servers { server.beginGracefulShutdown() }
                    throw error
                }
                logger.info(
                    "serving",
                    metadata: [
                        "socket": "\(listener.path)", "libvirt": "\(configuration.libvirtURI)", "protocol": "\(server.protocolName)",
                        "mode": "\(String(listener.mode, radix: 8))", "access": "\(listener.cap == .admin ? "full" : "read-only")",
                    ])
            }
            onReady(configuration.socketPath)
        }
        logger.info("stopped serving", metadata: ["socket": "\(configuration.socketPath)"])
    }

    /// Disk moves and backups.
    private var diskJobs: DiskJobService {
        DiskJobService(
            hypervisor: hypervisor, operations: operations, backups: backups, policy: configuration.guestAgentPolicy,
            logger: logger)
    }

    /// After a stop: request ids and operations that were running when the
    /// agent stopped are marked (indeterminate, interrupted), disk moves and
    /// backups libvirt still runs are taken over, and volumes interrupted
    /// uploads had created are removed, in the background once libvirt
    /// answers, each noted in its operation's cleanup.

    private func recoverState() async throws {
        // A bridge over an uplink that the last agent left unsettled: roll
        // it back (or keep waiting for its confirmation) before serving.
        let bridges = await pendingBridges.recover()
        if bridges > 0 { logger.notice("settled bridge changes over uplinks left by the last agent", metadata: ["count": "\(bridges)"]) }
        let unknown = try requests.markInterrupted()
        try diskJobs.recover()
        let volumes = try operations.markInterrupted()
        if unknown > 0 || !volumes.isEmpty {
            logger.notice(
                "calls were cut by the last stop", metadata: ["request-ids": "\(unknown)", "operations": "\(volumes.count)"])
        }
        guard !volumes.isEmpty else { return }
        let hypervisor = self.hypervisor
        let operations = self.operations
        let logger = self.logger
        Task {
            for item in volumes {
                let name = "\(item.pool)/\(item.volume)"
                for attempt in 1...60 {
                    do {
                        let removed = try await hypervisor.run { connection -> Bool in
                            let pool = try connection.pool(.name(item.pool))
                            try? pool.refresh()
                            guard let volume = try? pool.lookupVolume(name: item.volume) else { return false }
                            try volume.delete()
                            return true
                        }
                        operations.noteCleanup(
                            item.operation, removed ? "deleted volume \(name) that the interrupted upload had created"
                                : "volume \(name) that the interrupted upload had created was already gone")
                        logger.notice("interrupted upload cleaned up", metadata: ["volume": "\(name)", "removed": "\(removed)"])
                        break
                    } catch {
                        if attempt == 60 {
                            operations.noteCleanup(item.operation, "could not delete volume \(name) that the interrupted upload had created: \(error)")
                        }
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
            }
        }
    }

    /// The HTTP/2 transport's settings: the message size limit, a stream
    /// limit above the per-connection call limit (so the interceptor answers
    /// RESOURCE_EXHAUSTED rather than a client queueing streams), and the
    /// hooks that stamp each call with the caller's SO_PEERCRED identity.
    private func transportConfiguration(stamper: PeerCredentialStamper) -> HTTP2ServerTransport.Posix.Config {
        var config = HTTP2ServerTransport.Posix.Config.defaults
        // The stamper answers oversized messages with RESOURCE_EXHAUSTED; the
        // transport's own limit (a stream reset) stays as the backstop.
        config.rpc.maxRequestPayloadSize = configuration.limits.maxMessageBytes + 5
        config.http2.maxConcurrentStreams = configuration.limits.maxConcurrentCallsPerConnection * 2
        config.channelDebuggingCallbacks = stamper.callbacks
        // A local socket: each write is a cheap syscall, so delaying flushes
        // to batch them (100 us by default) only adds latency (BENCHMARKS.md).
        config.connection.flushCoalescing = nil
        return config
    }
}

/// One listening server of the agent, whatever its wire protocol.
protocol Listener: Sendable {
    func serve() async throws
    func beginGracefulShutdown()
    /// Waits until it accepts connections; false when it stopped before.
    func listening() async throws -> Bool
    var protocolName: String { get }
}

extension GRPCServer: Listener where Transport == HTTP2ServerTransport.Posix {
    func listening() async throws -> Bool { try await listeningAddress != nil }
    var protocolName: String { "grpc" }
}

/// The ttrpc socket: a GRPCServer over the ttrpc transport.
struct TTRPCListener: Listener {
    let server: GRPCServer<TTRPCServerTransport>
    let transport: TTRPCServerTransport

    func serve() async throws { try await server.serve() }
    func beginGracefulShutdown() { server.beginGracefulShutdown() }
    func listening() async throws -> Bool {
        try await transport.listening()
        return true
    }
    var protocolName: String { "ttrpc" }
}
