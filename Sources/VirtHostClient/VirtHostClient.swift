@_exported import VirtHostAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix

/// A connection to a `virthostd` agent over its Unix socket, with typed async calls.
///
/// ```swift
/// let client = try VirtHostClient()          // $VIRTHOST_SOCKET or /run/virthost/virthost.sock
/// defer { client.close() }
/// for network in try await client.listNetworks() { print(network.name) }
/// ```
///
/// Every call throws ``VirtHostError``. The generated per-service clients
/// (``hosts``, ``domains``, ``networks``, ``storage``...) stay available for
/// calls this wrapper does not cover.
public final class VirtHostClient: Sendable {
    /// The socket used when none is given: `$VIRTHOST_SOCKET`, else `/run/virthost/virthost.sock`.
    public static var defaultSocketPath: String {
        if let path = ProcessInfo.processInfo.environment["VIRTHOST_SOCKET"], !path.isEmpty { return path }
        return "/run/virthost/virthost.sock"
    }

    /// The socket this client talks to.
    public let socketPath: String
    let grpc: GRPCClient<HTTP2ClientTransport.Posix>
    private let connections: Task<Void, Never>

    public let hosts: Virthost_V1_HostService.Client<HTTP2ClientTransport.Posix>
    public let domains: Virthost_V1_DomainService.Client<HTTP2ClientTransport.Posix>
    public let networks: Virthost_V1_NetworkService.Client<HTTP2ClientTransport.Posix>
    public let hostNetworks: Virthost_V1_HostNetworkService.Client<HTTP2ClientTransport.Posix>
    public let storage: Virthost_V1_StorageService.Client<HTTP2ClientTransport.Posix>
    public let agents: Virthost_V1_GuestAgentService.Client<HTTP2ClientTransport.Posix>
    public let snapshots: Virthost_V1_SnapshotService.Client<HTTP2ClientTransport.Posix>
    public let events: Virthost_V1_EventService.Client<HTTP2ClientTransport.Posix>

    /// Creates a client for the agent at `socketPath`. Nothing is sent until the first call.
    public init(socketPath: String = VirtHostClient.defaultSocketPath) throws {
        self.socketPath = socketPath
        // No flush coalescing on a local socket: it delays each write up to
        // 100 us to batch them, which only adds latency here (BENCHMARKS.md).
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.connection.flushCoalescing = nil
        let transport = try HTTP2ClientTransport.Posix(
            target: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext, config: config)
        let grpc = GRPCClient(transport: transport)
        self.grpc = grpc
        connections = Task { try? await grpc.runConnections() }
        hosts = .init(wrapping: grpc)
        domains = .init(wrapping: grpc)
        networks = .init(wrapping: grpc)
        hostNetworks = .init(wrapping: grpc)
        storage = .init(wrapping: grpc)
        agents = .init(wrapping: grpc)
        snapshots = .init(wrapping: grpc)
        events = .init(wrapping: grpc)
    }

    deinit { grpc.beginGracefulShutdown() }

    /// Finishes in-flight calls and closes the connection, without waiting.
    public func close() {
        grpc.beginGracefulShutdown()
    }

    /// Finishes in-flight calls, closes the connection and waits until it is closed.
    public func shutdown() async {
        grpc.beginGracefulShutdown()
        await connections.value
    }

    /// Runs one call, turning any failure into a ``VirtHostError``.
    @inlinable
    public func call<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw VirtHostError.wrap(error)
        }
    }
}
