import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Logging
import ServiceLifecycle

/// What the agent serves, where, and for which libvirt.
public struct AgentConfiguration: Sendable {
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
    /// Which raw guest-agent commands are forwarded.
    public var agentPolicy: AgentCommandPolicy = AgentCommandPolicy()

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

/// The agent: one libvirt connection served as gRPC on a Unix socket.
///
/// Run it under a ServiceGroup for graceful SIGTERM handling: on graceful
/// shutdown it stops accepting calls, lets in-flight calls finish, and removes
/// its socket file. Cancelling ``run()`` cancels in-flight calls.
public final class Agent: Service, Sendable {
    public let configuration: AgentConfiguration
    public let hypervisor: HypervisorConnection
    private let logger: Logger
    private let onReady: @Sendable (String) -> Void

    /// - Parameter onReady: called with the socket path once it accepts connections.
    public init(
        configuration: AgentConfiguration, logger: Logger = Logger(label: "virthost"),
        onReady: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.onReady = onReady
        self.hypervisor = HypervisorConnection(
            uri: configuration.libvirtURI, threads: configuration.libvirtThreads, logger: logger)
    }

    /// The services this agent serves, one per area of the v1 contract.
    public func services() -> [any RegistrableRPCService] {
        [
            HostService(hypervisor: hypervisor),
            DomainService(hypervisor: hypervisor),
            NetworkService(hypervisor: hypervisor),
            StorageService(hypervisor: hypervisor),
            HostNetworkServiceStub(),
            GuestAgentService(
                hypervisor: hypervisor, policy: configuration.agentPolicy,
                concurrentCalls: max(1, configuration.libvirtThreads - 1)),
            SnapshotService(hypervisor: hypervisor, policy: configuration.agentPolicy),
            EventService(hub: hypervisor.events),
        ]
    }

    public func run() async throws {
        let path = configuration.socketPath
        try SocketFile.prepare(path)
        let server = GRPCServer(
            transport: .http2NIOPosix(
                address: .unixDomainSocket(path: path), transportSecurity: .plaintext,
                config: .defaults),
            services: services())
        defer {
            if unlink(path) == 0 { logger.info("removed socket", metadata: ["socket": "\(path)"]) }
        }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                try await withGracefulShutdownHandler {
                    try await server.serve()
                } onGracefulShutdown: { [events = self.hypervisor.events] in
                    server.beginGracefulShutdown()
                    events.finishAll()
                }
            }
            guard try await server.listeningAddress != nil else { return }
            do {
                try SocketFile.applyPermissions(path, mode: configuration.socketMode, group: configuration.socketGroup)
            } catch {
                server.beginGracefulShutdown()
                throw error
            }
            logger.info(
                "serving",
                metadata: [
                    "socket": "\(path)", "libvirt": "\(configuration.libvirtURI)",
                    "mode": "\(String(configuration.socketMode, radix: 8))",
                ])
            onReady(path)
        }
        logger.info("stopped serving", metadata: ["socket": "\(path)"])
    }
}
