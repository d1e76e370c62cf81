import GRPCCore
import VirtHostAPI

// Operations: long work any client can see, wait for and cancel.

extension VirtHostClient {
    /// Operations, newest first; empty `states` for all.
    public func listOperations(
        states: [Virthost_V1_OperationState] = [], kind: String = "", object: String = "", requestID: String = "",
        pageSize: UInt32 = 0, pageToken: String = ""
    ) async throws -> [Virthost_V1_Operation] {
        let request = Virthost_V1_ListOperationsRequest.with {
            $0.states = states
            $0.kind = kind
            $0.object = object
            $0.requestID = requestID
            $0.pageSize = pageSize
            $0.pageToken = pageToken
        }
        return try await call { try await operations.listOperations(request).operations }
    }

    public func operation(_ id: String) async throws -> Virthost_V1_Operation {
        try await call { try await operations.getOperation(.with { $0.id = id }) }
    }

    /// Waits until the operation ends, or `timeout` passes (then answers it still running).
    public func waitOperation(_ id: String, timeout: Duration? = nil) async throws -> Virthost_V1_Operation {
        var options = CallOptions.defaults
        options.timeout = timeout
        return try await call { try await operations.waitOperation(.with { $0.id = id }, options: options) }
    }

    /// Cancels a running upload or download (other operations cannot be stopped).
    public func cancelOperation(_ id: String) async throws -> Virthost_V1_Operation {
        try await call { try await operations.cancelOperation(.with { $0.id = id }) }
    }
}
