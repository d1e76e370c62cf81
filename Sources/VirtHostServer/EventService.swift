import GRPCCore
import VirtHostAPI

// Declared in the v1 contract, not built yet: every call answers UNIMPLEMENTED.
/// EventService: the event stream (not built yet).
struct EventServiceStub: Virthost_V1_EventService.SimpleServiceProtocol {
    func watch(request: Virthost_V1_WatchRequest, response: RPCWriter<Virthost_V1_Event>, context: ServerContext) async throws {
        throw RPCError.notBuilt("EventService.Watch")
    }
}
