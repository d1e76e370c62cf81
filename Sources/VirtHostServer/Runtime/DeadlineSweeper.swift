import Foundation

/// Cancels tasks whose deadline has passed, from one thread that looks every
/// 50 ms while any are registered and sleeps otherwise.
///
/// The agent's default deadline covers every call that brings none, so its
/// timer must cost next to nothing: registering is a locked dictionary insert
/// and removal, with no timer to schedule and cancel (a NIO scheduled task
/// from a caller's thread wakes the event loop twice per call; a cancelled
/// `Task.sleep` stays queued in dispatch until its deadline). Deadlines fire
/// up to 50 ms late.
final class DeadlineSweeper: @unchecked Sendable {
    static let shared = DeadlineSweeper()

    /// How often registered deadlines are checked.
    static let tick: Duration = .milliseconds(50)

    private let condition = NSCondition()
    private var entries: [UInt64: Entry] = [:]
    private var nextID: UInt64 = 0
    private var started = false

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let expire: @Sendable () -> Void
    }

    /// Calls `expire` once `deadline` has passed, unless ``cancel(_:)`` came first.
    func register(deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        nextID += 1
        entries[nextID] = Entry(deadline: deadline, expire: expire)
        if !started {
            started = true
            let thread = Thread { [self] in loop() }
            thread.name = "virthost-deadlines"
            thread.start()
        }
        if entries.count == 1 { condition.signal() }
        return nextID
    }

    func cancel(_ id: UInt64) {
        condition.lock()
        entries.removeValue(forKey: id)
        condition.unlock()
    }

    private func loop() {
        Thread.current.name = "virthost-deadlines"
        while true {
            condition.lock()
            while entries.isEmpty { condition.wait() }
            let now = ContinuousClock.now
            var expired: [@Sendable () -> Void] = []
            for (id, entry) in entries where entry.deadline <= now {
                expired.append(entry.expire)
                entries.removeValue(forKey: id)
            }
            condition.unlock()
            for expire in expired { expire() }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}

/// Lets another thread cancel the task that registered itself here, while
/// it is registered (the task is alive for as long as it waits in it).
final class TaskCanceller: @unchecked Sendable {
    private let lock = NSLock()
    private var task: UnsafeCurrentTask?
    private var fired = false

    /// Runs `body` with the current task open to ``cancel()``.
    func running<T>(_ body: () async throws -> T) async throws -> T {
        withUnsafeCurrentTask { task in lock.withLock { self.task = task } }
        defer { lock.withLock { task = nil } }
        if lock.withLock({ fired }) { withUnsafeCurrentTask { $0?.cancel() } }
        return try await body()
    }

    /// Cancels the task if it still runs ``running(_:)``; marks this as fired.
    func cancel() {
        lock.withLock {
            fired = true
            task?.cancel()
        }
    }

    var hasFired: Bool { lock.withLock { fired } }
}
