import GRPCCore
import VirtHostAPI

/// OperationService: see, wait for and cancel long work (``OperationLedger``).
struct OperationService: Virthost_V1_OperationService.SimpleServiceProtocol {
    let operations: OperationLedger

    func getOperation(request: Virthost_V1_OperationRef, context: ServerContext) async throws -> Virthost_V1_Operation {
        try operations.operation(request.id)
    }

    func listOperations(
        request: Virthost_V1_ListOperationsRequest, context: ServerContext
    ) async throws -> Virthost_V1_ListOperationsResponse {
        try operations.list(request)
    }

    func waitOperation(request: Virthost_V1_OperationRef, context: ServerContext) async throws -> Virthost_V1_Operation {
        try await operations.wait(request.id)
    }

    func cancelOperation(request: Virthost_V1_OperationRef, context: ServerContext) async throws -> Virthost_V1_Operation {
        try operations.cancel(request.id)
    }
}
