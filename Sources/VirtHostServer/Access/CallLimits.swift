import Foundation
import Synchronization

/// Limits on calls: how many may run at once in total and per connection,
/// how big a message may be, and the deadline of a call that sets none.
public struct CallLimits: Sendable, Equatable {
    /// Largest request message, in bytes.
    public var maxMessageBytes: Int
    /// Calls running at once, over all connections.
    public var maxConcurrentCalls: Int
    /// Calls running at once on one connection.
    public var maxConcurrentCallsPerConnection: Int
    /// Deadline for unary calls that bring none (seconds; 0 for none).
    public var defaultDeadlineSeconds: Double

    public init(
        maxMessageBytes: Int = 4 << 20, maxConcurrentCalls: Int = 256, maxConcurrentCallsPerConnection: Int = 64,
        defaultDeadlineSeconds: Double = 120
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.maxConcurrentCalls = maxConcurrentCalls
        self.maxConcurrentCallsPerConnection = maxConcurrentCallsPerConnection
        self.defaultDeadlineSeconds = defaultDeadlineSeconds
    }
}

/// Counts running calls against ``CallLimits``; over a limit the caller is
/// told at once (RESOURCE_EXHAUSTED), never queued.
final class CallGate: Sendable {
    private let limits: CallLimits
    private let counts = Mutex(Counts())

    private struct Counts {
        var total = 0
        var perConnection: [UInt64: Int] = [:]
    }

    init(limits: CallLimits) { self.limits = limits }

    /// Why the call may not start, or nil after counting it in.
    func enter(connection: UInt64) -> String? {
        counts.withLock { counts -> String? in
            if counts.total >= limits.maxConcurrentCalls {
                return "the agent is running its maximum of \(limits.maxConcurrentCalls) calls; retry later"
            }
            let mine = counts.perConnection[connection, default: 0]
            if mine >= limits.maxConcurrentCallsPerConnection {
                return "this connection is running its maximum of \(limits.maxConcurrentCallsPerConnection) calls; retry later"
            }
            counts.total += 1
            counts.perConnection[connection] = mine + 1
            return nil
        }
    }

    func leave(connection: UInt64) {
        counts.withLock { counts in
            counts.total -= 1
            let left = counts.perConnection[connection, default: 1] - 1
            counts.perConnection[connection] = left == 0 ? nil : left
        }
    }

    var running: Int { counts.withLock { $0.total } }
}
