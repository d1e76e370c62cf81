import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import Synchronization

/// The server side of one ttrpc stream: what the handler writes becomes
/// frames, what the client sends on a client stream becomes request parts.
final class TTRPCServerStream: Sendable {
    typealias Bytes = GRPCNIOTransportBytes
    typealias Part = RPCRequestPart<Bytes>

    enum Mode { case unary, serverStreaming, clientStreaming }

    let id: UInt32
    let mode: Mode
    private let channel: any Channel
    /// Run on the event loop right before the final frame is written, so
    /// that a frame the client sends after seeing it finds the stream closed.
    private let onFinish: @Sendable () -> Void
    /// Tells the connection (on the event loop) this stream wants reading
    /// paused (true) or no longer (false).
    private let backpressure: @Sendable (Bool) -> Void

    private struct State {
        var handle: ServerContext.RPCCancellationHandle?
        var task: Task<Void, Never>?
        var cancelled = false
        /// Ends the call when the client's timeout_nano runs out.
        var deadline: Scheduled<Void>?
        /// The final frame (Response, or Data flagged remote-closed) is written.
        var finished = false
        /// A unary call's one reply message.
        var reply: Bytes?
        /// Client streaming: the request parts.
        var inbound: AsyncThrowingStream<Part, any Error>.Continuation?
    }
    private let state = Mutex(State())

    /// Client streaming's flow control, kept on the event loop.
    private struct Flow {
        var buffered = 0
        var readingPaused = false
    }
    private let flow: NIOLoopBoundBox<Flow>

    /// Client-stream messages buffered before reading from the connection pauses.
    static let highWater = 16
    static let lowWater = 4

    init(
        id: UInt32, mode: Mode, channel: any Channel, onFinish: @escaping @Sendable () -> Void,
        backpressure: @escaping @Sendable (Bool) -> Void
    ) {
        self.backpressure = backpressure
        self.id = id
        self.mode = mode
        self.channel = channel
        self.onFinish = onFinish
        flow = .makeBoxSendingValue(Flow(), eventLoop: channel.eventLoop)
    }

    // MARK: Life cycle

    func start(on executor: EventLoopTaskExecutor?, _ body: @escaping @Sendable () async -> Void) {
        let task = executor.map { Task(executorPreference: $0) { await body() } } ?? Task { await body() }
        let cancel = state.withLock {
            $0.task = task
            return $0.cancelled
        }
        if cancel { task.cancel() }
    }

    func attach(_ handle: ServerContext.RPCCancellationHandle) {
        let cancel = state.withLock {
            $0.handle = handle
            return $0.cancelled
        }
        if cancel { handle.cancel() }
    }

    /// Answers DEADLINE_EXCEEDED after `nanoseconds` unless the call ended
    /// first, and stops the handler: the client's deadline, kept by the
    /// server since ttrpc clients cannot cancel a stream.
    func expire(after nanoseconds: Int64) {
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) { [self] in
            finish(
                Self.responseFrame(
                    id: id,
                    status: TTRPCStatus(
                        code: Int32(Status.Code.deadlineExceeded.rawValue),
                        message: "the call's deadline (timeout_nano \(nanoseconds)) passed")))
            let (handle, task) = state.withLock { ($0.handle, $0.task) }
            handle?.cancel()
            task?.cancel()
        }
        state.withLock { $0.deadline = timer }
    }

    /// The connection closed: nothing can be answered; stop the handler.
    func peerGone() {
        let (handle, task, inbound, deadline) = state.withLock { state in
            state.cancelled = true
            state.finished = true
            defer { state.inbound = nil }
            return (state.handle, state.task, state.inbound, state.deadline)
        }
        deadline?.cancel()
        inbound?.finish(throwing: RPCError(code: .cancelled, message: "the client closed the connection"))
        handle?.cancel()
        task?.cancel()
    }

    /// The client closed its side of the connection.
    func inputClosed() {
        let inbound = state.withLock { state in
            defer { state.inbound = nil }
            return state.inbound
        }
        inbound?.finish(
            throwing: RPCError(code: .cancelled, message: "the client closed the connection before ending its stream"))
    }

    // MARK: Client stream

    func openInbound(metadata: Metadata) -> FlowControlledParts {
        let (parts, continuation) = AsyncThrowingStream<Part, any Error>.makeStream()
        continuation.yield(.metadata(metadata))
        state.withLock { $0.inbound = continuation }
        return FlowControlledParts(parts: parts, stream: self)
    }

    /// A Data frame from the client (on the event loop).
    func receive(_ frame: TTRPCFrame) {
        guard mode == .clientStreaming else { return }
        let inbound = state.withLock { state in
            defer { if frame.flags.contains(.remoteClosed) { state.inbound = nil } }
            return state.inbound
        }
        guard let inbound else { return }
        if !frame.flags.contains(.noData) {
            inbound.yield(.message(Bytes(frame.data.readableBytesView)))
            flow.value.buffered += 1
            if flow.value.buffered >= Self.highWater && !flow.value.readingPaused {
                flow.value.readingPaused = true
                backpressure(true)
            }
        }
        if frame.flags.contains(.remoteClosed) { inbound.finish() }
    }

    /// The handler took a message off the client stream.
    func consumed() {
        channel.eventLoop.execute { [self] in
            flow.value.buffered -= 1
            if flow.value.readingPaused && flow.value.buffered <= Self.lowWater {
                flow.value.readingPaused = false
                backpressure(false)
            }
        }
    }

    // MARK: Replies

    func write(_ part: RPCResponsePart<Bytes>) async throws {
        switch part {
        case .metadata:
            return
        case .message(let bytes):
            if mode == .unary {
                let first = state.withLock {
                    if $0.reply == nil && !$0.finished {
                        $0.reply = bytes
                        return true
                    }
                    return false
                }
                if !first {
                    finish(
                        Self.responseFrame(
                            id: id,
                            status: TTRPCStatus(
                                code: Int32(Status.Code.unimplemented.rawValue),
                                message: "this method streams its reply: call it as a stream (request flag remote-closed)")))
                    state.withLock { $0.handle }?.cancel()
                    throw RPCError(code: .cancelled, message: "a unary ttrpc call got a second reply message")
                }
                return
            }
            guard !state.withLock({ $0.finished }) else {
                throw RPCError(code: .cancelled, message: "the stream is closed")
            }
            var buffer = channel.allocator.buffer(capacity: TTRPCFrame.headerSize + bytes.count)
            TTRPCFrame.encode(streamID: id, kind: .data, into: &buffer) { out in
                bytes.withUnsafeBytes { _ = out.writeBytes($0) }
            }
            // Waiting for the write gives a slow reader backpressure.
            try await channel.writeAndFlush(buffer).get()
        case .status(let status, let trailers):
            let final: ByteBuffer
            if mode != .unary && status.code == .ok {
                final = Self.frame(id: id, kind: .data, flags: [.remoteClosed, .noData])
            } else {
                let reply = status.code == .ok ? state.withLock { $0.reply } : nil
                final = Self.responseFrame(id: id, status: Self.status(status, trailers), payload: reply)
            }
            finish(final)
        }
    }

    /// The handler failed without writing a status.
    func fail(_ error: any Error) {
        let status: TTRPCStatus
        if let rpc = error as? RPCError {
            status = Self.status(Status(code: Status.Code(rpc.code), message: rpc.message), rpc.metadata)
        } else {
            status = TTRPCStatus(code: Int32(Status.Code.unknown.rawValue), message: "\(error)")
        }
        finish(Self.responseFrame(id: id, status: status))
    }

    /// Makes sure the client gets a final frame.
    func ensureFinished() async {
        finish(
            Self.responseFrame(
                id: id, status: TTRPCStatus(code: Int32(Status.Code.unknown.rawValue), message: "the call ended without a status")))
    }

    /// Writes the final frame, once.
    private func finish(_ frame: ByteBuffer) {
        let (first, deadline) = state.withLock { state in
            defer { state.finished = true }
            return (!state.finished, state.deadline)
        }
        guard first else { return }
        deadline?.cancel()
        let (channel, onFinish) = (self.channel, self.onFinish)
        if channel.eventLoop.inEventLoop {
            onFinish()
            channel.writeAndFlush(frame, promise: nil)
        } else {
            channel.eventLoop.execute {
                onFinish()
                channel.writeAndFlush(frame, promise: nil)
            }
        }
    }

    // MARK: Frames

    static func frame(id: UInt32, kind: TTRPCFrame.Kind, flags: TTRPCFrame.Flags = []) -> ByteBuffer {
        var buffer = ByteBuffer()
        TTRPCFrame(streamID: id, kind: kind, flags: flags).encode(into: &buffer)
        return buffer
    }

    /// A Response frame, the reply written straight into it.
    static func responseFrame(id: UInt32, status: TTRPCStatus, payload: Bytes? = nil) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(TTRPCFrame.headerSize + 16 + (payload?.count ?? 0) + (status.encoded?.readableBytes ?? status.message.utf8.count))
        TTRPCFrame.encode(streamID: id, kind: .response, into: &buffer) { out in
            var encoded = ByteBuffer()
            status.encode(into: &encoded)
            ProtobufWriter.bytes(1, encoded.readableBytesView, into: &out, always: true)
            if let payload, payload.count > 0 {
                ProtobufWriter.varint(2 << 3 | 2, into: &out)
                ProtobufWriter.varint(UInt64(payload.count), into: &out)
                payload.withUnsafeBytes { _ = out.writeBytes($0) }
            }
        }
        return buffer
    }

    /// The ttrpc status for a gRPC one: the handler's google.rpc.Status
    /// (from `grpc-status-details-bin`) when it sent one, else code and message.
    static func status(_ status: Status, _ trailers: Metadata) -> TTRPCStatus {
        if let details = trailers[binaryValues: "grpc-status-details-bin"].first(where: { _ in true }) {
            var encoded = ByteBuffer()
            encoded.writeBytes(details)
            if let decoded = try? TTRPCStatus(decoding: encoded), decoded.code == Int32(status.code.rawValue) {
                return decoded
            }
        }
        return TTRPCStatus(code: Int32(status.code.rawValue), message: status.message)
    }
}

/// The parts of a client stream; each message taken lets the connection
/// read again once few are left buffered.
struct FlowControlledParts: AsyncSequence, Sendable {
    typealias Element = RPCRequestPart<GRPCNIOTransportBytes>
    typealias Failure = any Error
    let parts: AsyncThrowingStream<Element, any Error>
    let stream: TTRPCServerStream

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Element, any Error>.AsyncIterator
        let stream: TTRPCServerStream
        mutating func next() async throws -> Element? {
            let part = try await base.next()
            if case .message = part { stream.consumed() }
            return part
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: parts.makeAsyncIterator(), stream: stream) }
}

/// What the gRPC server writes, passed to the stream.
struct TTRPCResponseWriter: ClosableRPCWriterProtocol {
    typealias Element = RPCResponsePart<GRPCNIOTransportBytes>
    let stream: TTRPCServerStream

    func write(_ element: Element) async throws { try await stream.write(element) }

    func write(contentsOf elements: some Sequence<Element>) async throws {
        for element in elements { try await stream.write(element) }
    }

    func finish() async {}

    func finish(throwing error: any Error) async { stream.fail(error) }
}

/// Runs tasks' jobs on a NIO event loop (see TTRPCServerTransport.Config.handlersOnEventLoop).
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
