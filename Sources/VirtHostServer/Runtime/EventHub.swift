import Foundation
import Libvirt
import Synchronization
import SwiftProtobuf
import VirtHostAPI

/// The agent's one ordered event log: numbers every event, keeps the last
/// ``capacity`` for clients that reconnect, and fans events out to watchers.
///
/// Publishing never waits for a watcher: each watcher has its own bounded
/// queue, and a watcher that falls behind loses the overflow and is told so
/// with a "gap" event, so a slow reader slows neither the agent nor other readers.
public final class EventHub: Sendable {
    /// What a watcher wants to see.
    public struct Filter: Sendable {
        public var kinds: Set<Virthost_V1_EventKind>
        public var name: String

        public init(kinds: Set<Virthost_V1_EventKind> = [], name: String = "") {
            self.kinds = kinds
            self.name = name
        }

        /// System events (gaps, libvirt connection changes) always pass:
        /// they tell a watcher that it may have missed something.
        func matches(_ event: Virthost_V1_Event) -> Bool {
            if event.kind == .system { return true }
            if !kinds.isEmpty && !kinds.contains(event.kind) { return false }
            return name.isEmpty || event.name == name
        }
    }

    /// A watcher's view: what was missed (replayed first), then the live stream.
    public struct Subscription: Sendable {
        public let replay: [Virthost_V1_Event]
        public let events: AsyncStream<Virthost_V1_Event>
        let watcher: Watcher
        let hub: EventHub

        /// Call before writing each live event: a gap event to write first when
        /// this watcher's queue overflowed before `event`.
        public func gap(before event: Virthost_V1_Event) -> Virthost_V1_Event? {
            guard let (from, count) = watcher.takeDrop(before: event.sequence) else { return nil }
            return hub.makeGap(
                from: from, sequence: event.sequence - 1,
                detail: "\(count) events dropped: this watcher read too slowly; resume with since_sequence")
        }

        public func cancel() { hub.remove(watcher) }
    }

    final class Watcher: Sendable {
        let id = UUID()
        let filter: Filter
        let continuation: AsyncStream<Virthost_V1_Event>.Continuation
        /// The first event dropped since the last gap was told, and how many.
        private let dropped = Mutex<(from: UInt64, count: Int)?>(nil)

        init(filter: Filter, continuation: AsyncStream<Virthost_V1_Event>.Continuation) {
            self.filter = filter
            self.continuation = continuation
        }

        func offer(_ event: Virthost_V1_Event) {
            guard filter.matches(event) else { return }
            if case .dropped = continuation.yield(event) {
                dropped.withLock { $0 = ($0?.from ?? event.sequence, ($0?.count ?? 0) + 1) }
            }
        }

        func takeDrop(before sequence: UInt64) -> (UInt64, Int)? {
            dropped.withLock { dropped in
                guard let taken = dropped, sequence > taken.from else { return nil }
                dropped = nil
                return (taken.from, taken.count)
            }
        }
    }

    /// How many past events are kept for replay.
    public let capacity: Int
    /// How many events a watcher's queue holds before it overflows.
    public let watcherQueue: Int
    /// This run of the agent, in nanoseconds since the Unix epoch.
    public let epoch: UInt64

    /// The numbered log, the watchers, and whether the agent is stopping.
    private struct Log {
        var buffer: [Virthost_V1_Event] = []
        var start = 0  // index of the oldest event in `buffer` once it is full
        var nextSequence: UInt64 = 1
        var watchers: [UUID: Watcher] = [:]
        /// Set by ``finishAll()``: the agent is stopping, later watchers end at once.
        var finished = false
    }

    private let log = Mutex(Log())

    public init(capacity: Int = 10_000, watcherQueue: Int = 1_000) {
        self.capacity = max(capacity, 1)
        self.watcherQueue = max(watcherQueue, 1)
        epoch = UInt64(Date().timeIntervalSince1970 * 1e9)
    }

    /// The number of watchers right now.
    public var watcherCount: Int { log.withLock { $0.watchers.count } }

    /// The sequence number the next event will get.
    public var upcomingSequence: UInt64 { log.withLock { $0.nextSequence } }

    /// Numbers an event, keeps it, and offers it to every watcher.
    @discardableResult
    public func publish(
        kind: Virthost_V1_EventKind, type: String, name: String = "", uuid: String = "", detail: String = "",
        device: String = "", operation: Virthost_V1_Operation? = nil
    ) -> Virthost_V1_Event {
        var event = Virthost_V1_Event()
        if let operation { event.operation = operation }
        event.kind = kind
        event.type = type
        event.name = name
        event.uuid = uuid
        event.detail = detail
        event.device = device
        event.epoch = epoch
        let current: [Watcher] = log.withLock { log in
            event.sequence = log.nextSequence
            log.nextSequence += 1
            event.time = Google_Protobuf_Timestamp(date: Date())
            if log.buffer.count < capacity {
                log.buffer.append(event)
            } else {
                log.buffer[log.start] = event
                log.start = (log.start + 1) % capacity
            }
            return Array(log.watchers.values)
        }
        for watcher in current { watcher.offer(event) }
        return event
    }

    /// Registers a watcher. With `since` (and the epoch it belongs to), the
    /// buffered events after it come first, preceded by a gap event when some
    /// are no longer buffered or the agent restarted since.
    public func subscribe(filter: Filter, since: UInt64 = 0, sinceEpoch: UInt64 = 0) -> Subscription {
        let (stream, continuation) = AsyncStream<Virthost_V1_Event>.makeStream(
            bufferingPolicy: .bufferingOldest(watcherQueue))
        let watcher = Watcher(filter: filter, continuation: continuation)
        let (closed, replay) = log.withLock { log -> (Bool, [Virthost_V1_Event]) in
            let closed = log.finished
            if !closed { log.watchers[watcher.id] = watcher }
            guard since > 0 || sinceEpoch != 0 else { return (closed, []) }
            let ordered = Array(log.buffer[log.start...] + log.buffer[..<log.start])
            let nextSequence = log.nextSequence
            let oldest = ordered.first?.sequence ?? nextSequence
            // A gap carries the sequence just before what follows it, so the
            // numbers a watcher sees never go down.
            if (sinceEpoch != 0 && sinceEpoch != epoch) || since >= nextSequence {
                let why = sinceEpoch != 0 && sinceEpoch != epoch
                    ? "the agent restarted; sequence numbers began again at 1"
                    : "since_sequence \(since) is ahead of this agent's events; it probably restarted"
                return (closed, [makeGap(from: 1, sequence: oldest - 1, detail: why)] + ordered.filter(filter.matches))
            }
            var replay: [Virthost_V1_Event] = []
            if since + 1 < oldest {
                replay.append(makeGap(
                    from: since + 1, sequence: oldest - 1, detail: "events \(since + 1)...\(oldest - 1) are no longer buffered"))
            }
            return (closed, replay + ordered.filter { $0.sequence > since && filter.matches($0) })
        }
        let subscription = Subscription(replay: replay, events: stream, watcher: watcher, hub: self)
        continuation.onTermination = { [weak self] _ in self?.remove(watcher) }
        // A watch that starts while the agent stops gets the replay and ends.
        if closed { continuation.finish() }
        return subscription
    }

    /// Ends every watcher's stream (agent shutdown), so Watch calls finish
    /// instead of holding a graceful shutdown open.
    public func finishAll() {
        let all = log.withLock { log in
            log.finished = true
            defer { log.watchers.removeAll() }
            return Array(log.watchers.values)
        }
        for watcher in all { watcher.continuation.finish() }
    }

    func remove(_ watcher: Watcher) {
        log.withLock { _ = $0.watchers.removeValue(forKey: watcher.id) }
        watcher.continuation.finish()
    }

    /// A gap notice for one watcher. It is about the watcher, not the host, so
    /// it is not numbered into the log: it carries the sequence of the last
    /// event before what follows it.
    func makeGap(from: UInt64, sequence: UInt64, detail: String) -> Virthost_V1_Event {
        var gap = Virthost_V1_Event()
        gap.kind = .system
        gap.type = "gap"
        gap.gapFrom = from
        gap.detail = detail
        gap.sequence = sequence
        gap.time = Google_Protobuf_Timestamp(date: Date())
        gap.epoch = epoch
        return gap
    }
}

extension EventHub {
    /// Records a libvirt event in the log, in the proto's words.
    public func publish(_ event: LibvirtEvent) {
        switch event {
        case let .domainLifecycle(name, uuid, type, detail):
            let (word, reason) = LifecycleWords.domain(type, detail)
            publish(kind: .domain, type: word, name: name, uuid: uuid, detail: reason)
        case let .domainDeviceAdded(name, uuid, alias):
            publish(kind: .domain, type: "device-added", name: name, uuid: uuid, device: alias)
        case let .domainDeviceRemoved(name, uuid, alias):
            publish(kind: .domain, type: "device-removed", name: name, uuid: uuid, device: alias)
        case let .domainDeviceRemovalFailed(name, uuid, alias):
            publish(kind: .domain, type: "device-removal-failed", name: name, uuid: uuid, device: alias)
        case let .agentLifecycle(name, uuid, state, reason):
            let reasons = [0: "unknown", 1: "domain-started", 2: "channel"]
            publish(
                kind: .agent, type: state == 1 ? "agent-connected" : "agent-disconnected", name: name, uuid: uuid,
                detail: reasons[Int(reason)] ?? "")
        case let .networkLifecycle(name, uuid, type, _):
            publish(kind: .network, type: LifecycleWords.network(type), name: name, uuid: uuid)
        case let .poolLifecycle(name, uuid, type, _):
            publish(kind: .pool, type: LifecycleWords.pool(type), name: name, uuid: uuid)
        case .poolRefresh:
            // Not in the log: a refresh changes no object's lifecycle. The
            // agent's volume cache listens for it (ListCaches.note).
            break
        }
    }
}

/// libvirt's lifecycle enums in words.
enum LifecycleWords {
    static func domain(_ event: Int32, _ detail: Int32) -> (String, String) {
        // virDomainEventType and the detail enums of each.
        let details: [Int32: [String]] = [
            0: ["added", "updated", "renamed", "from-snapshot"],
            1: ["removed", "renamed"],
            2: ["booted", "migrated", "restored", "from-snapshot", "wakeup"],
            3: ["paused", "migrated", "ioerror", "watchdog", "restored", "from-snapshot", "api-error", "postcopy", "postcopy-failed"],
            4: ["unpaused", "migrated", "from-snapshot", "postcopy", "postcopy-failed"],
            5: ["shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from-snapshot"],
            6: ["finished", "guest", "host"],
            7: ["memory", "disk"],
            8: ["panicked", "crashloaded"],
        ]
        let words = ["defined", "undefined", "started", "suspended", "resumed", "stopped", "shutdown", "pmsuspended", "crashed"]
        let word = words.indices.contains(Int(event)) ? words[Int(event)] : "event-\(event)"
        let reasons = details[event] ?? []
        let reason = reasons.indices.contains(Int(detail)) ? reasons[Int(detail)] : String(detail)
        return (word, reason)
    }

    static func network(_ event: Int32) -> String {
        let words = ["defined", "undefined", "started", "stopped"]
        return words.indices.contains(Int(event)) ? words[Int(event)] : "event-\(event)"
    }

    static func pool(_ event: Int32) -> String {
        let words = ["defined", "undefined", "started", "stopped", "created", "deleted"]
        return words.indices.contains(Int(event)) ? words[Int(event)] : "event-\(event)"
    }
}
