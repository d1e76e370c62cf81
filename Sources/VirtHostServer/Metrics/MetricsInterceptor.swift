import GRPCCore

/// Counts every call per method, its status when it is not OK, and how long it
/// took, into ``DaemonMetrics``.
///
/// Put it first in the interceptor chain, so calls the access interceptor
/// refuses (PERMISSION_DENIED, RESOURCE_EXHAUSTED) are counted too. A
/// streaming call is timed until its last response message.
public struct MetricsInterceptor: ServerInterceptor {
    let metrics: DaemonMetrics

    public init(metrics: DaemonMetrics) {
        self.metrics = metrics
    }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let handle = metrics.begin(service: context.descriptor.service.fullyQualifiedService, method: context.descriptor.method)
        let started = ContinuousClock.now
        var response: StreamingServerResponse<Output>
        do {
            response = try await next(request, context)
        } catch {
            metrics.end(handle, after: ContinuousClock.now - started, code: Self.codeName(of: error))
            throw error
        }
        switch response.accepted {
        case .success(var contents):
            // The response body runs after this returns: time the call until it ends.
            let producer = contents.producer
            contents.producer = { [metrics] writer in
                do {
                    let trailers = try await producer(writer)
                    metrics.end(handle, after: ContinuousClock.now - started, code: nil)
                    return trailers
                } catch {
                    metrics.end(handle, after: ContinuousClock.now - started, code: Self.codeName(of: error))
                    throw error
                }
            }
            response.accepted = .success(contents)
        case .failure(let error):
            metrics.end(handle, after: ContinuousClock.now - started, code: Self.codeName(of: error))
        }
        return response
    }

    /// The canonical gRPC name of the status an error becomes (`NOT_FOUND`).
    static func codeName(of error: any Error) -> String {
        let code: RPCError.Code
        switch error {
        case let rpc as RPCError: code = rpc.code
        case let convertible as any RPCErrorConvertible: code = convertible.rpcErrorCode
        case is CancellationError: code = .cancelled
        default: code = .unknown
        }
        return codeNames.indices.contains(code.rawValue) ? codeNames[code.rawValue] : "UNKNOWN"
    }

    /// gRPC status codes by number, as the gRPC specification spells them.
    static let codeNames = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]
}
