import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOPosix
import Synchronization

/// A grpc-swift `ClientTransport` speaking containerd's ttrpc over a Unix
/// socket, so generated gRPC clients call a ttrpc server unchanged.
///
/// ttrpc's Request frame must say up front whether the call streams (its
/// flags), which grpc-swift's transports are not told; the transport takes
/// that from ``methodKinds`` (every method not listed is unary).
///
/// Unary calls share one connection. Each streaming call gets a connection
/// of its own: ttrpc has no way to cancel a stream, so a stream the caller
/// leaves early is ended by closing its connection, which the server sees
/// as a cancellation, without disturbing other calls. A client stream that
/// fails is ended the same way, so the server never takes a half-sent
/// upload as complete.
public final class TTRPCClientTransport: ClientTransport, Sendable {
    public typealias Bytes = GRPCNIOTransportBytes

    /// How a method streams.
    public enum MethodKind: Sendable {
        case unary, serverStreaming, clientStreaming
    }

    /// The socket.
    public let path: String
    /// Streaming methods by `service/method` (e.g. `virthost.v1.EventService/Watch`).
    public let methodKinds: [String: MethodKind]
    private let group: any EventLoopGroup
    private let shared: SharedConnection
    private let shutdown = ShutdownSignal()

    public init(
        path: String, methodKinds: [String: MethodKind] = [:],
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.path = path
        self.methodKinds = methodKinds
        self.group = group
        shared = SharedConnection(path: path, group: group)
    }

    public var retryThrottle: RetryThrottle? { nil }

    /// A connect failure in a few words ("No such file or directory").
    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        return "\(error)"
    }

    public func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? { nil }

    /// Connections are made on demand; this returns once shutdown begins.
    public func connect() async throws {
        await shutdown.wait()
    }

    public func beginGracefulShutdown() {
        shutdown.signal()
        shared.closeWhenIdle()
    }

    public func withStream<T: Sendable>(
        descriptor: MethodDescriptor, options: CallOptions,
        _ closure: (RPCStream<Inbound, Outbound>, ClientContext) async throws -> T
    ) async throws -> T {
        guard !shutdown.isSignalled else {
            throw RPCError(code: .unavailable, message: "the client is shutting down")
        }
        let kind = methodKinds["\(descriptor.service.fullyQualifiedService)/\(descriptor.method)"] ?? .unary
        let connection: TTRPCClientConnection
        do {
            connection = kind == .unary
                ? try await shared.get()
                : try await TTRPCClientConnection.connect(path: path, group: group)
        } catch {
            throw RPCError(code: .unavailable, message: "cannot reach the ttrpc socket \(path): \(Self.describe(error))", cause: error)
        }
        let (parts, continuation) = AsyncThrowingStream<RPCResponsePart<Bytes>, any Error>.makeStream()
        guard let call = connection.register(continuation) else {
            throw RPCError(code: .unavailable, message: "the connection to \(path) closed")
        }
        let writer = TTRPCRequestWriter(connection: connection, call: call, descriptor: descriptor, kind: kind)
        let stream = RPCStream(
            descriptor: descriptor, inbound: RPCAsyncSequence<RPCResponsePart<Bytes>, any Error>(wrapping: parts),
            outbound: RPCWriter<RPCRequestPart<Bytes>>.Closable(wrapping: writer))
        let context = ClientContext(descriptor: descriptor, remotePeer: "unix:\(path)", localPeer: "unix:")
        defer {
            connection.forget(call)
            // A stream's own connection goes with it: for the server, that
            // cancels a stream the caller left early.
            if kind != .unary { connection.channel.close(promise: nil) }
        }
        return try await closure(stream, context)
    }
}

/// Writes a call's request parts as ttrpc frames.
final class TTRPCRequestWriter: ClosableRPCWriterProtocol, Sendable {
    typealias Element = RPCRequestPart<GRPCNIOTransportBytes>
    private let connection: TTRPCClientConnection
    private let call: TTRPCClientCall
    private let descriptor: MethodDescriptor
    private let kind: TTRPCClientTransport.MethodKind
    private struct State {
        var metadata: [(key: String, value: String)] = []
        var timeoutNano: Int64 = 0
        var requestSent = false
        var closed = false
    }
    private let state = Mutex(State())

    init(
        connection: TTRPCClientConnection, call: TTRPCClientCall, descriptor: MethodDescriptor,
        kind: TTRPCClientTransport.MethodKind
    ) {
        self.connection = connection
        self.call = call
        self.descriptor = descriptor
        self.kind = kind
    }

    func write(_ element: Element) async throws {
        switch element {
        case .metadata(let metadata):
            var pairs: [(key: String, value: String)] = []
            var timeout: Int64 = 0
            for (key, value) in metadata {
                guard case .string(let text) = value else { continue }  // ttrpc metadata is text
                if key == "grpc-timeout" {
                    timeout = TTRPCTimeouts.nanoseconds(grpcTimeout: text) ?? 0
                } else {
                    pairs.append((key, text))
                }
            }
            state.withLock {
                $0.metadata = pairs
                $0.timeoutNano = timeout
            }
        case .message(let bytes):
            if kind == .clientStreaming {
                try sendRequestIfNeeded(payload: nil)
                // Waiting for the write gives backpressure to a fast sender.
                try await connection.send(call) { id, out in
                    TTRPCFrame.encode(streamID: id, kind: .data, into: &out) { out in
                        bytes.withUnsafeBytes { _ = out.writeBytes($0) }
                    }
                }.get()
            } else {
                guard state.withLock({ !$0.requestSent }) else {
                    throw RPCError(code: .internalError, message: "\(descriptor) takes one request message over ttrpc")
                }
                try sendRequestIfNeeded(payload: bytes)
            }
        }
    }

    func write(contentsOf elements: some Sequence<Element>) async throws {
        for element in elements { try await write(element) }
    }

    func finish() async {
        try? sendRequestIfNeeded(payload: nil)
        let kind = self.kind
        let close = state.withLock { state in
            defer { state.closed = true }
            return kind == .clientStreaming && !state.closed
        }
        if close {
            _ = connection.send(call) { id, out in
                TTRPCFrame(streamID: id, kind: .data, flags: [.remoteClosed, .noData]).encode(into: &out)
            }
        }
    }

    func finish(throwing error: any Error) async {
        // ttrpc cannot reset one stream: a client stream cut off is ended
        // by closing its connection (see TTRPCClientTransport).
        state.withLock { $0.closed = true }
        if kind == .clientStreaming { connection.channel.close(promise: nil) }
    }

    private func sendRequestIfNeeded(payload: GRPCNIOTransportBytes?) throws {
        let (send, metadata, timeout) = state.withLock { state in
            defer { state.requestSent = true }
            return (!state.requestSent, state.metadata, state.timeoutNano)
        }
        guard send else { return }
        var request = TTRPCRequest()
        request.service = descriptor.service.fullyQualifiedService
        request.method = descriptor.method
        request.timeoutNano = timeout
        request.metadata = metadata
        if let payload {
            request.payload = payload.withUnsafeBytes { ByteBuffer(bytes: $0) }
        }
        let flags: TTRPCFrame.Flags
        switch kind {
        case .unary: flags = []
        case .serverStreaming: flags = .remoteClosed
        case .clientStreaming: flags = .remoteOpen
        }
        var data = ByteBuffer()
        data.reserveCapacity(64 + request.payload.readableBytes)
        request.encode(into: &data)
        guard data.readableBytes <= TTRPCFrame.maxDataLength else {
            throw RPCError(
                code: .resourceExhausted,
                message: "the request of \(data.readableBytes) bytes is over ttrpc's limit of \(TTRPCFrame.maxDataLength) bytes")
        }
        // The stream id is taken on the event loop as the frame is written,
        // so ids reach the server in increasing order, as ttrpc requires.
        let requestData = data
        _ = connection.send(call, opening: true) { id, out in
            TTRPCFrame(streamID: id, kind: .request, flags: flags, data: requestData).encode(into: &out)
        }
    }
}

/// The connection unary calls share, made on first use and again after it closes.
final class SharedConnection: Sendable {
    private let path: String
    private let group: any EventLoopGroup
    private let current = Mutex<EventLoopFuture<TTRPCClientConnection>?>(nil)

    init(path: String, group: any EventLoopGroup) {
        self.path = path
        self.group = group
    }

    func get() async throws -> TTRPCClientConnection {
        let (path, group) = (self.path, self.group)
        let future: EventLoopFuture<TTRPCClientConnection> = current.withLock { current in
            if let current { return current }
            let made = TTRPCClientConnection.connectFuture(path: path, group: group)
            current = made
            return made
        }
        do {
            let connection = try await future.get()
            if connection.channel.isActive { return connection }
        } catch {
            current.withLock { if $0 === future { $0 = nil } }
            throw error
        }
        // It closed since: make a new one.
        current.withLock { if $0 === future { $0 = nil } }
        return try await get()
    }

    func closeWhenIdle() {
        let future = current.withLock { $0 }
        future?.whenSuccess { $0.closeWhenIdle() }
    }
}

/// One call on a client connection: where its response parts go, and the
/// stream id it gets when its request is written.
final class TTRPCClientCall: Sendable {
    let continuation: AsyncThrowingStream<RPCResponsePart<GRPCNIOTransportBytes>, any Error>.Continuation
    struct State {
        var id: UInt32 = 0
        var sawMetadata = false
        var forgotten = false
    }
    /// Kept on the connection's event loop.
    let state: NIOLoopBoundBox<State>

    init(
        _ continuation: AsyncThrowingStream<RPCResponsePart<GRPCNIOTransportBytes>, any Error>.Continuation,
        eventLoop: any EventLoop
    ) {
        self.continuation = continuation
        state = .makeBoxSendingValue(State(), eventLoop: eventLoop)
    }
}

/// One ttrpc connection of a client: numbers the streams as their requests
/// are written and routes the server's frames to the calls. Its state lives
/// on the channel's event loop, except which calls callers hold.
final class TTRPCClientConnection: ChannelInboundHandler, Sendable {
    typealias InboundIn = TTRPCFrameEvent

    let channel: any Channel
    /// Event-loop state.
    private struct Loop {
        var nextID: UInt32 = 1
        var calls: [UInt32: TTRPCClientCall] = [:]
        /// Whether the server ever sent a frame (to tell a wrong socket from a dropped one).
        var answered = false
    }
    private let loop: NIOLoopBoundBox<Loop>
    /// The calls the callers hold, from any thread.
    private struct Shared {
        var open = true
        var registered = 0
        var closeWhenDone = false
        var waiting: [ObjectIdentifier: TTRPCClientCall] = [:]
    }
    private let shared = Mutex(Shared())

    init(channel: any Channel) {
        self.channel = channel
        loop = .makeBoxSendingValue(Loop(), eventLoop: channel.eventLoop)
    }

    static func connectFuture(path: String, group: any EventLoopGroup) -> EventLoopFuture<TTRPCClientConnection> {
        ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(TTRPCFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(TTRPCClientConnection(channel: channel))
                }
            }
            .connect(unixDomainSocketPath: path)
            .flatMap { channel in channel.pipeline.handler(type: TTRPCClientConnection.self) }
    }

    static func connect(path: String, group: any EventLoopGroup) async throws -> TTRPCClientConnection {
        try await connectFuture(path: path, group: group).get()
    }

    /// A new call; nil when the connection is gone.
    func register(_ continuation: AsyncThrowingStream<RPCResponsePart<GRPCNIOTransportBytes>, any Error>.Continuation)
        -> TTRPCClientCall?
    {
        let call = TTRPCClientCall(continuation, eventLoop: channel.eventLoop)
        return shared.withLock {
            guard $0.open else { return nil }
            $0.registered += 1
            $0.waiting[ObjectIdentifier(call)] = call
            return call
        }
    }

    /// Writes a frame of `call`, built with its stream id on the event loop;
    /// `opening` gives the call its id first (its Request frame).
    func send(
        _ call: TTRPCClientCall, opening: Bool = false, _ build: @escaping @Sendable (UInt32, inout ByteBuffer) -> Void
    ) -> EventLoopFuture<Void> {
        let eventLoop = channel.eventLoop
        return eventLoop.flatSubmit { [self] in
            if opening {
                guard !call.state.value.forgotten, loop.value.nextID < UInt32.max - 2 else {
                    return eventLoop.makeFailedFuture(RPCError(code: .unavailable, message: "the ttrpc connection is out of stream ids"))
                }
                let id = loop.value.nextID
                call.state.value.id = id
                loop.value.nextID += 2
                loop.value.calls[id] = call
            }
            let id = call.state.value.id
            guard id != 0 else { return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
            var buffer = channel.allocator.buffer(capacity: 256)
            build(id, &buffer)
            return channel.writeAndFlush(buffer)
        }
    }

    /// The caller is done with a call: late frames for it are dropped.
    func forget(_ call: TTRPCClientCall) {
        let idle = shared.withLock {
            if $0.waiting.removeValue(forKey: ObjectIdentifier(call)) != nil { $0.registered -= 1 }
            return $0.closeWhenDone && $0.registered == 0
        }
        channel.eventLoop.execute { [self] in
            call.state.value.forgotten = true
            let id = call.state.value.id
            if id != 0, loop.value.calls[id] === call { loop.value.calls.removeValue(forKey: id) }
        }
        call.continuation.finish(throwing: RPCError(code: .cancelled, message: "the call ended"))
        if idle { channel.close(promise: nil) }
    }

    func closeWhenIdle() {
        let idle = shared.withLock {
            $0.closeWhenDone = true
            return $0.registered == 0
        }
        if idle { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .frame(let frame) = unwrapInboundIn(data) else { return }
        loop.value.answered = true
        guard let call = loop.value.calls[frame.streamID] else { return }
        switch frame.kind {
        case .response:
            loop.value.calls.removeValue(forKey: frame.streamID)
            do {
                let response = try TTRPCResponse(decoding: frame.data)
                if response.status.code == 0 {
                    if !call.state.value.sawMetadata { call.continuation.yield(.metadata([:])) }
                    call.continuation.yield(.message(GRPCNIOTransportBytes(response.payload.readableBytesView)))
                    call.continuation.yield(.status(Status(code: .ok, message: ""), [:]))
                } else {
                    var trailers = Metadata()
                    if let encoded = response.status.encoded {
                        trailers.addBinary(Array(encoded.readableBytesView), forKey: "grpc-status-details-bin")
                    }
                    call.continuation.yield(
                        .status(Status(code: Status.Code(ttrpc: response.status.code), message: response.status.message), trailers))
                }
                call.continuation.finish()
            } catch {
                call.continuation.finish(
                    throwing: RPCError(code: .internalError, message: "the server's ttrpc response is not valid: \(error)"))
            }
        case .data:
            if !call.state.value.sawMetadata {
                call.state.value.sawMetadata = true
                call.continuation.yield(.metadata([:]))
            }
            if !frame.flags.contains(.noData) {
                call.continuation.yield(.message(GRPCNIOTransportBytes(frame.data.readableBytesView)))
            }
            if frame.flags.contains(.remoteClosed) {
                loop.value.calls.removeValue(forKey: frame.streamID)
                call.continuation.yield(.status(Status(code: .ok, message: ""), [:]))
                call.continuation.finish()
            }
        case .request, nil:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let waiting = shared.withLock {
            $0.open = false
            return Array($0.waiting.values)
        }
        loop.value.calls.removeAll()
        let message = loop.value.answered
            ? "the server closed the ttrpc connection"
            : "the server closed the connection without a ttrpc answer (is this a ttrpc socket? virthostd's main socket speaks gRPC)"
        for call in waiting {
            call.continuation.finish(throwing: RPCError(code: .unavailable, message: message))
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Set once, awaited by ``TTRPCClientTransport/connect()``.
final class ShutdownSignal: Sendable {
    private struct State {
        var signalled = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    var isSignalled: Bool { state.withLock { $0.signalled } }

    func signal() {
        let waiters = state.withLock { state in
            state.signalled = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock {
                if $0.signalled { return true }
                $0.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
