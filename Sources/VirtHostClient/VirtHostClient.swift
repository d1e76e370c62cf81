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
    public static var defaultSocketPath: String { defaultSocketPath(for: .grpc) }

    /// The socket used when none is given for a wire: `$VIRTHOST_SOCKET`,
    /// else `/run/virthost/virthost.sock` for gRPC and
    /// `/run/virthost/virthost-ttrpc.sock` for ttrpc.
    public static func defaultSocketPath(for wire: VirtHostWire) -> String {
        if let path = ProcessInfo.processInfo.environment["VIRTHOST_SOCKET"], !path.isEmpty { return path }
        return packagedSocketPath(for: wire)
    }

    /// The socket and wire for what a caller named, as the `virthost` CLI
    /// picks them:
    /// - a wire named (`wire`, else a valid `$VIRTHOST_TRANSPORT`): that wire on
    ///   `socketPath`, else `$VIRTHOST_SOCKET`, else the wire's default socket;
    /// - a socket named (`socketPath`, else `$VIRTHOST_SOCKET`) but no wire:
    ///   gRPC on it;
    /// - nothing named: ttrpc on `/run/virthost/virthost-ttrpc.sock` when a
    ///   connection to it succeeds (the packaged configuration serves it; a
    ///   call costs about a third of the gRPC path), else gRPC on
    ///   `/run/virthost/virthost.sock` (no such socket, a file left behind
    ///   by a killed agent, or no permission: the gRPC socket then says why).
    ///
    /// `answers` tells whether a socket accepts a connection (injectable for
    /// tests).
    public static func endpoint(
        socketPath: String?, wire: VirtHostWire?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        answers: (String) -> Bool = VirtHostClient.answers
    ) -> (socketPath: String, wire: VirtHostWire) {
        let namedWire = wire ?? VirtHostWire.named(in: environment)
        let namedSocket = socketPath ?? environment["VIRTHOST_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        switch (namedSocket, namedWire) {
        case (let path?, let wire): return (path, wire ?? .grpc)
        case (nil, let wire?): return (packagedSocketPath(for: wire), wire)
        case (nil, nil):
            let ttrpc = packagedSocketPath(for: .ttrpc)
            return answers(ttrpc) ? (ttrpc, .ttrpc) : (packagedSocketPath(for: .grpc), .grpc)
        }
    }

    /// The packaged agent's socket for `wire` (`[socket] path` and `ttrpc_path`).
    static func packagedSocketPath(for wire: VirtHostWire) -> String {
        wire == .ttrpc ? "/run/virthost/virthost-ttrpc.sock" : "/run/virthost/virthost.sock"
    }

    /// Whether a connection to the Unix socket at `path` succeeds at once
    /// (it is closed again). The connect does not wait: an agent whose
    /// listen queue is full does not answer.
    public static func answers(_ path: String) -> Bool {
        SocketDiagnosis.problem(connecting: path, waiting: false) == nil
    }

    /// The socket this client talks to.
    public let socketPath: String
    /// The wire it speaks on that socket.
    public let wire: VirtHostWire
    let grpc: GRPCClient<VirtHostTransport>
    private let connections: Task<Void, Never>

    public let hosts: Virthost_V1_HostService.Client<VirtHostTransport>
    public let domains: Virthost_V1_DomainService.Client<VirtHostTransport>
    public let networks: Virthost_V1_NetworkService.Client<VirtHostTransport>
    public let hostNetworks: Virthost_V1_HostNetworkService.Client<VirtHostTransport>
    public let storage: Virthost_V1_StorageService.Client<VirtHostTransport>
    public let agents: Virthost_V1_GuestAgentService.Client<VirtHostTransport>
    public let snapshots: Virthost_V1_SnapshotService.Client<VirtHostTransport>
    public let events: Virthost_V1_EventService.Client<VirtHostTransport>
    public let operations: Virthost_V1_OperationService.Client<VirtHostTransport>
    public let nodeDevices: Virthost_V1_NodeDeviceService.Client<VirtHostTransport>
    public let diskJobs: Virthost_V1_DiskJobService.Client<VirtHostTransport>
    /// The standard `grpc.health.v1.Health` service (served over both wires).
    public let grpcHealth: Grpc_Health_V1_Health.Client<VirtHostTransport>

    /// Creates a client for the agent at `socketPath`, speaking `wire`
    /// (gRPC unless `$VIRTHOST_TRANSPORT` says `ttrpc`): the main socket
    /// speaks gRPC, the agent's `--ttrpc-socket` ttrpc. Nothing is sent
    /// until the first call.
    public init(socketPath: String? = nil, wire: VirtHostWire = .default) throws {
        let socketPath = socketPath ?? Self.defaultSocketPath(for: wire)
        self.socketPath = socketPath
        self.wire = wire
        let grpc = GRPCClient(transport: try VirtHostTransport(path: socketPath, wire: wire), interceptors: [CallOptionsInterceptor()])
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
        operations = .init(wrapping: grpc)
        nodeDevices = .init(wrapping: grpc)
        diskJobs = .init(wrapping: grpc)
        grpcHealth = .init(wrapping: grpc)
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
            throw VirtHostError.wrap(error, socketPath: socketPath)
        }
    }
}
