import GRPCCore
import VirtHostAPI

/// EventService: one ordered stream of machine, network, pool and agent events.
struct EventService: Virthost_V1_EventService.SimpleServiceProtocol {
    let hub: EventHub

    func watch(
        request: Virthost_V1_WatchRequest, response: RPCWriter<Virthost_V1_Event>, context: ServerContext
    ) async throws {
        for kind in request.kinds {
            switch kind {
            case .domain, .network, .pool, .agent, .system, .operation: continue
            default: throw Refusal.invalid("kinds holds an unknown event kind (\(kind.rawValue))")
            }
        }
        if !request.name.isEmpty { try Validate.lookupName(request.name, field: "name") }
        let subscription = hub.subscribe(
            filter: EventHub.Filter(kinds: Set(request.kinds), name: request.name),
            since: request.sinceSequence, sinceEpoch: request.sinceEpoch)
        defer { subscription.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            // grpc-swift signals a client's cancel (or a dropped connection)
            // through the context, not by cancelling this task: end the stream then.
            group.addTask {
                try? await context.cancellation.cancelled
                subscription.cancel()
            }
            for event in subscription.replay { try await response.write(event) }
            for await event in subscription.events {
                if let gap = subscription.gap(before: event) { try await response.write(gap) }
                try await response.write(event)
            }
            group.cancelAll()
        }
    }
}
