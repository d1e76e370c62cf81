import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOPosix
import Synchronization

/// A grpc-swift `ServerTransport` that speaks containerd's ttrpc on a Unix
/// socket, so a `GRPCServer` serves the same services, interceptors and
/// all, to ttrpc clients (containerd shims, Kata agents, Go and Rust
/// programs using `github.com/containerd/ttrpc`).
///
/// Mapping onto gRPC's model:
/// - a Request frame opens a stream; service and method name the gRPC
///   method (`virthost.v1.HostService` + `GetVersion`); its metadata become
///   the request metadata, `timeout_nano` the `grpc-timeout` deadline;
/// - flags 0 (unary): exactly one Response frame, with the status and the
///   one reply message;
/// - flag remote-closed (server streaming): each reply message is a Data
///   frame; success ends with an empty Data frame flagged remote-closed and
///   no-data, failure with a Response frame carrying the status;
/// - flag remote-open (client streaming): request messages follow as Data
///   frames, the last one flagged remote-closed; one Response frame answers.
///
/// Statuses are `google.rpc.Status`; a handler's `grpc-status-details-bin`
/// trailer is passed on as the status itself, details and all.
/// Protocol errors follow containerd's server: a frame over 4 MiB is skipped
/// and answered RESOURCE_EXHAUSTED, a reused, decreasing or even stream id
/// or an undecodable Request INVALID_ARGUMENT; unknown message types are
/// ignored; the connection stays up.
public final class TTRPCServerTransport: ServerTransport, Sendable {
    public typealias Bytes = GRPCNIOTransportBytes

    /// Where to listen.
    public enum Address: Sendable {
        /// Bind a Unix socket at this path.
        case unixDomainSocket(path: String)
        /// Adopt a listening socket already bound (socket activation).
        case listeningSocket(Int32, path: String)

        var path: String {
            switch self {
            case .unixDomainSocket(let path), .listeningSocket(_, let path): return path
            }
        }
    }

    public struct Config: Sendable {
        /// The largest frame accepted; the protocol's limit is 4 MiB.
        public var maxFrameBytes: Int = TTRPCFrame.maxDataLength
        /// Metadata added to every request of a connection (e.g. the
        /// caller's kernel identity), computed once per accepted connection.
        public var connectionMetadata: (@Sendable (any Channel) -> EventLoopFuture<Metadata>)?
        /// Metadata keys with this prefix a client sends are dropped (the
        /// server's own, stamped by ``connectionMetadata``).
        public var reservedMetadataPrefix: String?
        /// The metadata key the request's `timeout_nano` is passed under, as
        /// a `grpc-timeout` value. Under `grpc-timeout` itself grpc-swift
        /// times the call too; the transport ends a call at its deadline
        /// either way.
        public var deadlineMetadataKey = "grpc-timeout"
        /// Run each call's task on its connection's event loop rather than
        /// the shared pool: fewer thread wake-ups per call (reads, the
        /// handler and the reply on one thread), less spread over cores.
        /// Handlers must not block.
        /// On by default: it took ~25% off p50 and ~35% off server CPU per call
        /// (BENCHMARKS.md).
        public var handlersOnEventLoop = true

        public init() {}
    }

    private let address: Address
    private let config: Config
    private let group: any EventLoopGroup
    private let state = ListenerState()
    private let ready: EventLoopPromise<Void>

    public init(address: Address, config: Config = Config(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.address = address
        self.config = config
        self.group = group
        ready = group.next().makePromise()
    }

    /// Returns once the socket accepts connections; throws when binding failed.
    public func listening() async throws {
        try await ready.futureResult.get()
    }

    public func listen(
        streamHandler: @escaping @Sendable (RPCStream<Inbound, Outbound>, ServerContext) async -> Void
    ) async throws {
        let config = self.config
        let state = self.state
        let localPeer = "unix:\(address.path)"
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                let stamp = config.connectionMetadata?(channel) ?? channel.eventLoop.makeSucceededFuture(Metadata())
                return stamp.flatMapThrowing { metadata in
                    let connection = TTRPCServerConnection(
                        channel: channel, localPeer: localPeer, stamped: metadata, config: config, listener: state,
                        streamHandler: streamHandler)
                    guard state.add(connection) else { throw ChannelError.ioOnClosedChannel }
                    // On the close future, not channelInactive: a channel closed
                    // before it became active (drained at once) never fires that.
                    channel.closeFuture.whenComplete { _ in state.remove(connection) }
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(TTRPCFrameDecoder(maxDataLength: config.maxFrameBytes)))
                    try channel.pipeline.syncOperations.addHandler(connection)
                }
            }
        let server: any Channel
        do {
            switch address {
            case .unixDomainSocket(let path):
                server = try await bootstrap.bind(unixDomainSocketPath: path).get()
            case .listeningSocket(let descriptor, _):
                server = try await bootstrap.withBoundSocket(descriptor).get()
            }
        } catch {
            ready.fail(error)
            throw error
        }
        state.listening(server)
        ready.succeed()
        try? await server.closeFuture.get()
        // Accepting stopped: let the connections finish what they run.
        await state.drained()
    }

    public func beginGracefulShutdown() {
        state.beginShutdown()
    }
}

/// The listening channel and the open connections, for graceful shutdown.
final class ListenerState: Sendable {
    private struct State {
        var server: (any Channel)?
        var connections: [ObjectIdentifier: TTRPCServerConnection] = [:]
        var shuttingDown = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    func listening(_ channel: any Channel) {
        let close = state.withLock {
            $0.server = channel
            return $0.shuttingDown
        }
        if close { channel.close(promise: nil) }
    }

    func add(_ connection: TTRPCServerConnection) -> Bool {
        state.withLock {
            guard !$0.shuttingDown else { return false }
            $0.connections[ObjectIdentifier(connection)] = connection
            return true
        }
    }

    func remove(_ connection: TTRPCServerConnection) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.connections.removeValue(forKey: ObjectIdentifier(connection))
            guard state.connections.isEmpty, state.shuttingDown else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func beginShutdown() {
        let (server, open) = state.withLock {
            $0.shuttingDown = true
            return ($0.server, Array($0.connections.values))
        }
        server?.close(promise: nil)
        for connection in open { connection.drain() }
    }

    /// Drains every connection and waits until all have closed.
    func drained() async {
        beginShutdown()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock {
                $0.shuttingDown = true
                if $0.connections.isEmpty { return true }
                $0.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }
}
