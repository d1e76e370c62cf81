import Foundation
import GRPCCore
import Synchronization

/// Per-call options of ``VirtHostClient``, set around the calls they apply
/// to (a task-local, so every typed call picks them up):
///
/// ```swift
/// let volume = try await VirtHostCallOptions.with(requestID: "create-web-1-disk") {
///     try await client.createVolume(pool: "images", name: "web-1.qcow2", capacity: 20 << 30, format: "qcow2")
/// }
/// ```
///
/// A call that changes something and carries a request id is idempotent:
/// retried with the same id and the same request, it returns the first
/// call's outcome, even after an agent restart (see `operation.proto`).
public struct VirtHostCallOptions: Sendable {
    /// Sent as the metadata `virthost-request-id`; nil sends none.
    public var requestID: String?
    /// Sent as `virthost-async: 1`: calls that run as an operation (clone,
    /// wipe, pool build and delete) answer at once.
    public var async: Bool
    /// What the agent answered besides the message: filled in by the call.
    public let received: ResponseNotes

    public init(requestID: String? = nil, async: Bool = false, received: ResponseNotes = ResponseNotes()) {
        self.requestID = requestID
        self.async = async
        self.received = received
    }

    @TaskLocal public static var current = VirtHostCallOptions()

    /// Runs `body` with these options on every call it makes.
    public static func with<T>(
        requestID: String? = nil, async: Bool = false, received: ResponseNotes = ResponseNotes(),
        _ body: () async throws -> T
    ) async rethrows -> T {
        try await $current.withValue(VirtHostCallOptions(requestID: requestID, async: async, received: received), operation: body)
    }

    /// A fresh request id (a UUID), for callers that retry on their own.
    public static func newRequestID() -> String { UUID().uuidString.lowercased() }
}

/// The response metadata the agent adds: the operation a call started, and
/// whether the answer was a replay of a recorded outcome.
public final class ResponseNotes: Sendable {
    private let state = Mutex<(operationID: String?, replayed: Bool)>((nil, false))

    public init() {}

    /// The `virthost-operation-id` of the last call that started one.
    public var operationID: String? { state.withLock { $0.operationID } }
    /// Whether the last call's answer was recorded earlier (`virthost-request-replayed`).
    public var replayed: Bool { state.withLock { $0.replayed } }

    func note(_ metadata: Metadata) {
        let operation = metadata[stringValues: "virthost-operation-id"].first(where: { _ in true })
        let replayed = metadata[stringValues: "virthost-request-replayed"].contains("1")
        state.withLock { state in
            if let operation { state.operationID = operation }
            state.replayed = replayed
        }
    }
}

/// Adds the current ``VirtHostCallOptions`` to each call's metadata and
/// notes the agent's answer metadata.
struct CallOptionsInterceptor: ClientInterceptor {
    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>, context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        let options = VirtHostCallOptions.current
        var request = request
        if let id = options.requestID { request.metadata.addString(id, forKey: "virthost-request-id") }
        if options.async { request.metadata.addString("1", forKey: "virthost-async") }
        let response = try await next(request, context)
        switch response.accepted {
        case .success(let contents): options.received.note(contents.metadata)
        case .failure(let error): options.received.note(error.metadata)
        }
        return response
    }
}
