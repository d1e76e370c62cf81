import Crypto
import Foundation
import GRPCCore
import SwiftProtobuf
import Synchronization

/// Request ids on calls that change something (``RequestLedger``): runs the
/// first call with an id and records its outcome before it is answered;
/// answers a retry from the record. Calls without an id, and reads, pass
/// through untouched (a read with an id pays one metadata lookup).
///
/// The request is identified by a SHA-256 of the method and the first
/// request message in deterministic protobuf encoding: the whole request of
/// a unary call, the header of an upload (whose bytes are checked by their
/// own sha256).
struct IdempotencyInterceptor: ServerInterceptor {
    let ledger: RequestLedger

    /// Calls that stream their response and so cannot be replayed.
    static let streamingResponses: Set<String> = ["virthost.v1.GuestAgentService/ExecStream"]

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard let id = request.metadata[stringValues: RequestLedger.metadataKey].first(where: { _ in true }) else {
            return try await next(request, context)
        }
        let service = context.descriptor.service.fullyQualifiedService
        let full = "\(service)/\(context.descriptor.method)"
        guard MethodRoles.requirement(service: service, method: context.descriptor.method).changes else {
            return try await next(request, context)
        }
        if let problem = RequestLedger.problem(with: id) {
            throw Refusal.invalid("request id '\(id.prefix(64))' \(problem)")
        }
        guard !Self.streamingResponses.contains(full) else {
            throw Refusal(.failedPrecondition, "\(context.descriptor.method) streams its response, which cannot be replayed: call it without a request id")
        }
        var iterator = request.messages.makeAsyncIterator()
        guard let first = try await iterator.next() else {
            return try await next(request, context)
        }
        let hash = try Self.hash(method: full, message: first)
        switch try await ledger.start(id: id, method: full, hash: hash, uid: CallerAccess.current.uid) {
        case .replay(let outcome):
            return try Self.replay(outcome, as: Output.self)
        case .indeterminate(let reason):
            throw Refusal(
                .aborted,
                "request id '\(id)': \(reason), so its outcome is unknown; check the object, then retry with a new request id")
        case .run:
            break
        }
        var forwarded = request
        forwarded.messages = RPCAsyncSequence(wrapping: PrefixedMessages(first: first, rest: IteratorBox(iterator)))
        let ledger = self.ledger
        do {
            var response = try await next(forwarded, context)
            switch response.accepted {
            case .success(var contents):
                let producer = contents.producer
                contents.producer = { writer in
                    // Hold the response back until its record is written:
                    // a client that sees an answer can retry and get it again.
                    let collected = CollectingWriter<Output>()
                    do {
                        let trailers = try await producer(RPCWriter(wrapping: collected))
                        let messages = collected.messages
                        let data = try (messages.first as? any SwiftProtobuf.Message)?.serializedData()
                        ledger.finish(id: id, .init(response: data, code: 0, message: "", metadata: []))
                        try await writer.write(contentsOf: messages)
                        return trailers
                    } catch {
                        Self.record(error, id: id, in: ledger)
                        throw error
                    }
                }
                response.accepted = .success(contents)
            case .failure(let error):
                Self.record(error, id: id, in: ledger)
            }
            return response
        } catch {
            Self.record(error, id: id, in: ledger)
            throw error
        }
    }

    static func hash(method: String, message: Any) throws -> String {
        var hasher = SHA256()
        hasher.update(data: Data(method.utf8))
        hasher.update(data: Data([0]))
        if let message = message as? any SwiftProtobuf.Message {
            var options = BinaryEncodingOptions()
            options.useDeterministicOrdering = true
            let bytes: [UInt8] = try message.serializedBytes(partial: true, options: options)
            hasher.update(data: bytes)
        }
        return StorageService.hex(hasher.finalize())
    }

    /// Records how a call ended: transient refusals free the id (nothing was
    /// done); a deadline or cancellation leaves the outcome unknown (libvirt
    /// may still finish the work); anything else is the outcome.
    static func record(_ error: any Error, id: String, in ledger: RequestLedger) {
        let rpc: RPCError
        if let error = error as? RPCError {
            rpc = error
        } else if let convertible = error as? any RPCErrorConvertible {
            rpc = RPCError(convertible)
        } else if error is CancellationError {
            rpc = RPCError(code: .cancelled, message: "cancelled")
        } else {
            rpc = RPCError(code: .unknown, message: "\(error)")
        }
        switch rpc.code {
        case .unavailable, .resourceExhausted:
            ledger.release(id: id)
        case .deadlineExceeded, .cancelled:
            ledger.finishIndeterminate(id: id, reason: "the first call with this id ended with \(rpc.code) (\(rpc.message))")
        default:
            let metadata = rpc.metadata.map { key, value -> (key: String, value: String, binary: Bool) in
                switch value {
                case .string(let text): (key, text, false)
                case .binary(let bytes): (key, Data(bytes).base64EncodedString(), true)
                }
            }
            ledger.finish(id: id, .init(response: nil, code: Int(rpc.code.rawValue), message: rpc.message, metadata: metadata))
        }
    }

    /// The recorded outcome as this call's answer, marked as a replay.
    static func replay<Output: Sendable>(_ outcome: RequestLedger.Outcome, as _: Output.Type) throws -> StreamingServerResponse<Output> {
        var metadata: Metadata = ["virthost-request-replayed": "1"]
        guard let data = outcome.response else {
            for item in outcome.metadata {
                if item.binary, let bytes = Data(base64Encoded: item.value) {
                    metadata.addBinary(Array(bytes), forKey: item.key)
                } else {
                    metadata.addString(item.value, forKey: item.key)
                }
            }
            let code = Status.Code(rawValue: outcome.code).flatMap { RPCError.Code($0) } ?? .unknown
            return StreamingServerResponse(error: RPCError(code: code, message: outcome.message, metadata: metadata))
        }
        guard let type = Output.self as? any SwiftProtobuf.Message.Type,
              let message = try type.init(serializedBytes: [UInt8](data), extensions: nil, partial: true, options: BinaryDecodingOptions()) as? Output
        else {
            throw Refusal(.internalError, "the recorded response cannot be read back")
        }
        return StreamingServerResponse(single: ServerResponse(message: message, metadata: metadata))
    }
}

/// Takes the messages a response writes, to write them later.
private final class CollectingWriter<Element: Sendable>: RPCWriterProtocol, Sendable {
    private let stored = Mutex<[Element]>([])
    var messages: [Element] { stored.withLock { $0 } }
    func write(_ element: Element) async throws { stored.withLock { $0.append(element) } }
    func write(contentsOf elements: some Sequence<Element>) async throws {
        stored.withLock { $0.append(contentsOf: elements) }
    }
}

/// The request's messages with the first (already read) put back in front.
private struct PrefixedMessages<Element: Sendable>: AsyncSequence, Sendable {
    let first: Element
    let rest: IteratorBox<Element>

    struct AsyncIterator: AsyncIteratorProtocol {
        var first: Element?
        let rest: IteratorBox<Element>
        mutating func next() async throws -> Element? {
            if let element = first {
                first = nil
                return element
            }
            return try await rest.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(first: first, rest: rest) }
}

/// The request stream's iterator, read by one consumer at a time (the handler).
private final class IteratorBox<Element: Sendable>: @unchecked Sendable {
    private var iterator: RPCAsyncSequence<Element, any Error>.AsyncIterator

    init(_ iterator: RPCAsyncSequence<Element, any Error>.AsyncIterator) { self.iterator = iterator }

    func next() async throws -> Element? { try await iterator.next() }
}
