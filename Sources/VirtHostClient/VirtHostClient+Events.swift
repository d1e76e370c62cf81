import GRPCCore
import VirtHostAPI

// The event stream.

extension VirtHostClient {
    /// Streams events to `handler` until it throws, the task is cancelled, or
    /// the agent ends the stream (it stops).
    ///
    /// - Parameters:
    ///   - kinds: event kinds wanted; empty for all. System events (gaps,
    ///     libvirt connection changes) always come.
    ///   - name: only events about objects with this name; empty for all.
    ///   - since: the last sequence number seen; the agent replays what came
    ///     after it, or sends a "gap" event when that is no longer buffered.
    ///   - sinceEpoch: the epoch `since` belongs to (from any event); a
    ///     different epoch means the agent restarted.
    public func watchEvents(
        kinds: [Virthost_V1_EventKind] = [], name: String = "", since: UInt64 = 0, sinceEpoch: UInt64 = 0,
        _ handler: @escaping @Sendable (Virthost_V1_Event) async throws -> Void
    ) async throws {
        let request = Virthost_V1_WatchRequest.with {
            $0.kinds = kinds
            $0.name = name
            $0.sinceSequence = since
            $0.sinceEpoch = sinceEpoch
        }
        try await call {
            try await events.watch(request) { response in
                for try await event in response.messages { try await handler(event) }
            }
        }
    }
}
