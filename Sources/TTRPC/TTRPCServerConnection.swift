import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore

/// One accepted ttrpc connection: reads frames, opens a gRPC stream per
/// Request, feeds client-stream Data into it, and cancels every call when
/// the peer goes. Lives on the channel's event loop.
// @unchecked: its vars are touched only on the channel's event loop (drain() hops there).
final class TTRPCServerConnection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = TTRPCFrameEvent
    typealias Bytes = GRPCNIOTransportBytes
    typealias StreamHandler = @Sendable (
        RPCStream<TTRPCServerTransport.Inbound, TTRPCServerTransport.Outbound>, ServerContext
    ) async -> Void

    private let channel: any Channel
    private let localPeer: String
    private let remotePeer: String
    private let stamped: Metadata
    private let config: TTRPCServerTransport.Config
    private let listener: ListenerState
    private let streamHandler: StreamHandler

    // Event-loop state.
    private var lastStreamID: UInt32 = 0
    private var streams: [UInt32: TTRPCServerStream] = [:]
    private var draining = false
    /// Reading stops while the peer does not read our replies (the socket
    /// is not writable) or a client stream has too much buffered.
    private var notWritable = false
    private var pausedStreams: Set<UInt32> = []
    private var reading = true
    private lazy var executor: EventLoopTaskExecutor? = config.handlersOnEventLoop ? EventLoopTaskExecutor(channel.eventLoop) : nil

    init(
        channel: any Channel, localPeer: String, stamped: Metadata, config: TTRPCServerTransport.Config,
        listener: ListenerState, streamHandler: @escaping StreamHandler
    ) {
        self.channel = channel
        self.localPeer = localPeer
        // A Unix client's socket has no name; who it is lives in `stamped`.
        self.remotePeer = "unix:"

        self.stamped = stamped
        self.config = config
        self.listener = listener
        self.streamHandler = streamHandler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .oversized(let id, _, let length):
            respond(
                id, .resourceExhausted,
                "message length \(length) exceeds the maximum message size of \(config.maxFrameBytes) bytes")
        case .frame(let frame):
            switch frame.kind {
            case .request: request(frame)
            case .data: dataFrame(frame)
            // A client's Response and unknown types are ignored, as
            // containerd's server does, for later protocol versions.
            case .response, nil: break
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        for stream in streams.values { stream.peerGone() }
        streams.removeAll()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent {
            // The peer sent all it will; answer what runs, then close.
            for stream in streams.values { stream.inputClosed() }
            draining = true
            closeIfIdle()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        notWritable = !context.channel.isWritable
        updateReading()
        context.fireChannelWritabilityChanged()
    }

    /// A client stream's flow control (on the event loop).
    private func backpressure(stream id: UInt32, paused: Bool) {
        if paused { pausedStreams.insert(id) } else { pausedStreams.remove(id) }
        updateReading()
    }

    private func updateReading() {
        let read = !notWritable && pausedStreams.isEmpty
        guard read != reading else { return }
        reading = read
        channel.setOption(ChannelOptions.autoRead, value: read).whenFailure { _ in }
        if read { channel.read() }
    }

    /// Graceful shutdown: no new calls; close once the running ones end.
    func drain() {
        channel.eventLoop.execute { [self] in
            draining = true
            closeIfIdle()
        }
    }

    private func closeIfIdle() {
        if draining && streams.isEmpty { channel.close(promise: nil) }
    }

    // MARK: Frames

    private func request(_ frame: TTRPCFrame) {
        let id = frame.streamID
        guard id % 2 == 1 else {
            return respond(id, .invalidArgument, "stream id \(id) is even; client streams use odd ids")
        }
        guard id > lastStreamID else {
            return respond(id, .invalidArgument, "stream id \(id) cannot be re-used and must increment")
        }
        lastStreamID = id
        let request: TTRPCRequest
        do {
            request = try TTRPCRequest(decoding: frame.data)
        } catch {
            return respond(id, .invalidArgument, "unmarshal request error: \(error)")
        }
        guard !draining else {
            return respond(id, .unavailable, "the server is shutting down and takes no new calls")
        }
        guard !request.service.isEmpty, !request.method.isEmpty else {
            return respond(id, .invalidArgument, "the request names no service or method")
        }
        let mode: TTRPCServerStream.Mode =
            frame.flags.contains(.remoteOpen) ? .clientStreaming
            : frame.flags.contains(.remoteClosed) ? .serverStreaming : .unary
        var metadata = Metadata()
        for (key, value) in request.metadata {
            let key = key.lowercased()
            // ttrpc's deadline is timeout_nano; a grpc-timeout entry would be a second one.
            if key.isEmpty || key.hasPrefix(":") || key == "grpc-timeout" { continue }
            if let reserved = config.reservedMetadataPrefix, key.hasPrefix(reserved) { continue }
            metadata.addString(value, forKey: key)
        }
        metadata.add(contentsOf: stamped)
        if request.timeoutNano > 0 {
            metadata.replaceOrAddString(TTRPCTimeouts.grpcTimeout(nanoseconds: request.timeoutNano), forKey: config.deadlineMetadataKey)
        }
        let loop = channel.eventLoop
        let stream = TTRPCServerStream(
            id: id, mode: mode, channel: channel,
            onFinish: { [weak self] in
                loop.preconditionInEventLoop()
                self?.streams.removeValue(forKey: id)
                self?.backpressure(stream: id, paused: false)
            },
            backpressure: { [weak self] paused in self?.backpressure(stream: id, paused: paused) })
        streams[id] = stream
        if request.timeoutNano > 0 { stream.expire(after: request.timeoutNano) }
        let inbound: RPCAsyncSequence<RPCRequestPart<Bytes>, any Error>
        if mode == .clientStreaming {
            inbound = RPCAsyncSequence(wrapping: stream.openInbound(metadata: metadata))
        } else {
            inbound = RPCAsyncSequence(wrapping: FixedParts(parts: [
                .metadata(metadata), .message(Bytes(request.payload.readableBytesView)),
            ]))
        }
        let descriptor = MethodDescriptor(fullyQualifiedService: request.service, method: request.method)
        let rpc = RPCStream(
            descriptor: descriptor, inbound: inbound,
            outbound: RPCWriter<RPCResponsePart<Bytes>>.Closable(wrapping: TTRPCResponseWriter(stream: stream)))
        let (handler, localPeer, remotePeer) = (streamHandler, localPeer, remotePeer)
        stream.start(on: executor) {
            await withServerContextRPCCancellationHandle { handle in
                stream.attach(handle)
                let context = ServerContext(
                    descriptor: descriptor, remotePeer: remotePeer, localPeer: localPeer, cancellation: handle)
                await handler(rpc, context)
            }
            await stream.ensureFinished()
            loop.execute { [self] in
                if streams[id] === stream { streams.removeValue(forKey: id) }
                closeIfIdle()
            }
        }
    }

    private func dataFrame(_ frame: TTRPCFrame) {
        guard let stream = streams[frame.streamID] else {
            return respond(frame.streamID, .invalidArgument, "stream \(frame.streamID) is not open")
        }
        // Data on a unary stream, or after the client closed its side, is dropped.
        stream.receive(frame)
    }

    /// Answers a stream that never reached a handler.
    private func respond(_ id: UInt32, _ code: Status.Code, _ message: String) {
        channel.writeAndFlush(
            TTRPCServerStream.responseFrame(id: id, status: TTRPCStatus(code: Int32(code.rawValue), message: message)),
            promise: nil)
    }
}

/// The request parts of a unary or server-streaming call: all known at once.
struct FixedParts: AsyncSequence, Sendable {
    typealias Element = RPCRequestPart<GRPCNIOTransportBytes>
    typealias Failure = any Error
    let parts: [Element]

    struct AsyncIterator: AsyncIteratorProtocol {
        var parts: IndexingIterator<[Element]>
        mutating func next() async throws -> Element? { parts.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(parts: parts.makeIterator()) }
}
